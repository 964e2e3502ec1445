package vector

// dotsGo is the portable kernel: out[i] = q · slab[i*stride:(i+1)*stride]
// for every i < len(out). len(q) is stride, a multiple of blockDims.
func dotsGo(q []int16, slab []int8, stride int, out []int32) {
	q = q[:stride]
	for i := range out {
		v := slab[i*stride : (i+1)*stride]
		var s0, s1, s2, s3 int32
		for j := 0; j+4 <= len(v) && j+4 <= len(q); j += 4 {
			s0 += int32(q[j]) * int32(v[j])
			s1 += int32(q[j+1]) * int32(v[j+1])
			s2 += int32(q[j+2]) * int32(v[j+2])
			s3 += int32(q[j+3]) * int32(v[j+3])
		}
		out[i] = s0 + s1 + s2 + s3
	}
}
