//go:build amd64 && !purego

package vector

import "golang.org/x/sys/cpu"

// dotsAVX2 is dotsGo in AVX2 assembly, for n vectors; stride is a positive
// multiple of 32.
//
//go:noescape
func dotsAVX2(q *int16, slab *int8, n, stride int, out *int32)

// hasAVX2 is read once per index, not per search.
func hasAVX2() bool { return cpu.X86.HasAVX2 }

// dots computes out[i] = q · slab[i*stride:(i+1)*stride] for every i <
// len(out), with AVX2 when the CPU has it.
func dots(avx2 bool, q []int16, slab []int8, stride int, out []int32) {
	if len(out) == 0 {
		return
	}
	if avx2 {
		_ = q[stride-1]
		_ = slab[len(out)*stride-1]
		dotsAVX2(&q[0], &slab[0], len(out), stride, &out[0])
		return
	}
	dotsGo(q, slab, stride, out)
}
