//go:build amd64 && !purego

#include "textflag.h"

// func dotsAVX2(q *int16, slab *int8, n, stride int, out *int32)
//
// For each of n vectors of stride int8 values: sign-extend 16 values to
// int16 (VPMOVSXBW), multiply by the int16 query and add pairs to int32
// (VPMADDWD), accumulate in two registers, then sum the lanes.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ slab+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ stride+24(FP), DX
	MOVQ out+32(FP), R8
	TESTQ CX, CX
	JZ done

vecloop:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ AX, AX
	MOVQ SI, R9

inner:
	VPMOVSXBW (DI)(AX*1), Y2
	VPMADDWD (R9), Y2, Y2
	VPADDD Y2, Y0, Y0
	VPMOVSXBW 16(DI)(AX*1), Y3
	VPMADDWD 32(R9), Y3, Y3
	VPADDD Y3, Y1, Y1
	ADDQ $32, AX
	ADDQ $64, R9
	CMPQ AX, DX
	JB inner

	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4E, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xB1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, (R8)
	ADDQ DX, DI
	ADDQ $4, R8
	DECQ CX
	JNZ vecloop
	VZEROUPPER

done:
	RET
