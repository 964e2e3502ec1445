package vector

import (
	"math/rand/v2"
	"testing"

	"github.com/viterin/vek/vek32"
)

func randomRows(r *rand.Rand, n, stride int) ([]int16, []int8) {
	q := make([]int16, stride)
	for i := range q {
		q[i] = int16(r.IntN(65535) - 32767)
	}
	slab := make([]int8, n*stride)
	for i := range slab {
		slab[i] = int8(r.IntN(255) - 127)
	}
	return q, slab
}

// TestDots checks the kernel in use against the portable one, extremes
// included.
func TestDots(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, stride := range []int{32, 64, 256, 384} {
		q, slab := randomRows(r, 37, stride)
		// Row 0 at the extremes: every product is 32767 × 127 or its negation.
		for j := range stride {
			q[j] = 32767 * int16(1-2*(j%2))
			slab[j] = 127 * int8(1-2*(j%2))
		}
		got := make([]int32, 37)
		want := make([]int32, 37)
		dots(hasAVX2(), q, slab, stride, got)
		dotsGo(q, slab, stride, want)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("stride %d row %d: %d, want %d", stride, i, got[i], want[i])
			}
		}
		var naive int64
		for j := range stride {
			naive += int64(q[j]) * int64(slab[j])
		}
		if int64(want[0]) != naive {
			t.Fatalf("stride %d: portable kernel %d, want %d", stride, want[0], naive)
		}
	}
	if !hasAVX2() {
		t.Log("no AVX2: only the portable kernel was tested")
	}
}

// BenchmarkKernel compares ways to score 100k vectors of dimension 256:
// the int8 kernels, and float32 rows with vek32.Dot (SIMD).
func BenchmarkKernel(b *testing.B) {
	const n, stride = 100_000, 256
	r := rand.New(rand.NewPCG(2, 2))
	q, slab := randomRows(r, n, stride)
	out := make([]int32, scanBlock)
	int8Scan := func(avx2 bool) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				for start := 0; start < n; start += scanBlock {
					end := min(start+scanBlock, n)
					dots(avx2, q, slab[start*stride:end*stride], stride, out[:end-start])
				}
			}
		}
	}
	if hasAVX2() {
		b.Run("int8-avx2", int8Scan(true))
	}
	b.Run("int8-go-unrolled", int8Scan(false))
	b.Run("float32-vek32", func(b *testing.B) {
		fq := make([]float32, stride)
		for i := range fq {
			fq[i] = float32(q[i])
		}
		rows := make([]float32, n*stride)
		for i := range rows {
			rows[i] = float32(slab[i])
		}
		scores := make([]float32, n)
		for b.Loop() {
			for i := range n {
				scores[i] = vek32.Dot(fq, rows[i*stride:(i+1)*stride])
			}
		}
	})
}
