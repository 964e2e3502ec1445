//go:build !amd64 || purego

package vector

func hasAVX2() bool { return false }

// dots computes out[i] = q · slab[i*stride:(i+1)*stride] for every i <
// len(out).
func dots(_ bool, q []int16, slab []int8, stride int, out []int32) {
	dotsGo(q, slab, stride, out)
}
