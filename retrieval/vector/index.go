// Package vector is an exact in-memory vector index: every search scans all
// vectors of the query's scopes and returns the nearest by cosine
// similarity.
//
// Vectors are stored quantised to int8 with one scale per vector, in one
// contiguous slab; the query is quantised to int16, so a score is an integer
// dot product times two scales. On amd64 with AVX2 the dot products run in
// assembly. Quantisation costs little ranking accuracy (see the recall test)
// and makes the scan four times smaller than float32.
package vector

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/assistent-nl/assistent/retrieval"
)

var _ retrieval.Index = (*Index)(nil)

// blockDims is the granularity of the stored rows: vectors are padded with
// zeros to a multiple of it, as the kernel needs.
const blockDims = 32

// scanBlock is the number of vectors scored per kernel call.
const scanBlock = 1024

// Index is an exact in-memory vector index over int8-quantised vectors. It
// is safe for concurrent use: searches share a read lock, changes take the
// write lock.
type Index struct {
	avx2 bool

	mu     sync.RWMutex
	closed bool
	dim    int // 0 until the first vector when New was given 0
	stride int // dim rounded up to blockDims

	// Each scope has its own segment, so a search scans only contiguous
	// rows of its scopes and never tests a row's scope.
	segments map[string]*segment
	rows     map[string]location // by chunk ID
	count    int
}

// segment holds the rows of one scope. Row i is slab[i*stride:(i+1)*stride],
// scales[i] and ids[i]; deleting moves the last row into the hole.
type segment struct {
	scope  string
	slab   []int8
	scales []float32 // unit vector ≈ slab row × scale
	ids    []string
}

// location is where a chunk's row is.
type location struct {
	seg *segment
	row int
}

// New returns an empty index for vectors of dimension dim. When dim is 0 the
// index takes the dimension of the first vector it is given.
func New(dim int) *Index {
	x := &Index{avx2: hasAVX2(), segments: map[string]*segment{}, rows: map[string]location{}}
	if dim > 0 {
		x.setDim(dim)
	}
	return x
}

func (x *Index) setDim(dim int) {
	x.dim = dim
	x.stride = (dim + blockDims - 1) / blockDims * blockDims
}

// Dim returns the vector dimension, 0 while unknown.
func (x *Index) Dim() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.dim
}

// Index adds the chunks' vectors, replacing rows with the same chunk ID (in
// whatever scope). Only ID, Scope and Vector are kept. Every vector must have
// the index's dimension; otherwise nothing is added and an error names the
// chunk. Vectors need not be normalised. A zero vector is stored but never
// found.
func (x *Index) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("vector index: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return retrieval.ErrClosed
	}
	dim := x.dim
	for _, c := range chunks {
		if c.ID == "" {
			return fmt.Errorf("vector index: chunk without id")
		}
		if dim == 0 {
			dim = len(c.Vector)
		}
		if len(c.Vector) != dim || dim == 0 {
			return fmt.Errorf("vector index: chunk %s has dimension %d, want %d", c.ID, len(c.Vector), dim)
		}
	}
	if len(chunks) == 0 {
		return nil
	}
	if x.dim == 0 {
		x.setDim(dim)
	}
	for _, c := range chunks {
		loc, ok := x.rows[c.ID]
		if ok && loc.seg.scope != c.Scope {
			x.remove(c.ID, loc)
			ok = false
		}
		if !ok {
			seg := x.segments[c.Scope]
			if seg == nil {
				seg = &segment{scope: c.Scope}
				x.segments[c.Scope] = seg
			}
			loc = location{seg, len(seg.ids)}
			seg.ids = append(seg.ids, c.ID)
			seg.scales = append(seg.scales, 0)
			seg.slab = append(seg.slab, make([]int8, x.stride)...)
			x.rows[c.ID] = loc
			x.count++
		}
		loc.seg.scales[loc.row] = quantize(loc.seg.slab[loc.row*x.stride:(loc.row+1)*x.stride], c.Vector)
	}
	return nil
}

// quantize stores v, normalised, as int8 in dst (whose tail beyond len(v) is
// zeroed) and returns the scale: v/|v| ≈ dst × scale.
func quantize(dst []int8, v []float32) float32 {
	clear(dst)
	var sum, maxAbs float64
	for _, f := range v {
		a := math.Abs(float64(f))
		sum += a * a
		maxAbs = max(maxAbs, a)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0
	}
	norm := math.Sqrt(sum)
	k := 127 / maxAbs
	for i, f := range v {
		dst[i] = int8(math.Round(float64(f) * k))
	}
	return float32(maxAbs / (127 * norm))
}

// Delete removes the chunks with the given IDs; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, chunkIDs []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("vector index: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return retrieval.ErrClosed
	}
	for _, id := range chunkIDs {
		if loc, ok := x.rows[id]; ok {
			x.remove(id, loc)
		}
	}
	return nil
}

// remove deletes the row of chunk id at loc by moving the segment's last
// row into its place.
func (x *Index) remove(id string, loc location) {
	seg, row := loc.seg, loc.row
	delete(x.rows, id)
	x.count--
	last := len(seg.ids) - 1
	if row != last {
		copy(seg.slab[row*x.stride:(row+1)*x.stride], seg.slab[last*x.stride:])
		seg.ids[row] = seg.ids[last]
		seg.scales[row] = seg.scales[last]
		x.rows[seg.ids[row]] = location{seg, row}
	}
	seg.ids[last] = ""
	seg.ids = seg.ids[:last]
	seg.scales = seg.scales[:last]
	seg.slab = seg.slab[:last*x.stride]
	switch {
	case last == 0:
		delete(x.segments, seg.scope)
	case cap(seg.ids) > 1024 && cap(seg.ids) > 4*len(seg.ids):
		// Give memory back after large deletions.
		seg.slab = slices.Clone(seg.slab)
		seg.scales = slices.Clone(seg.scales)
		seg.ids = slices.Clone(seg.ids)
	}
}

// Search returns the q.Limit() rows of q.Scopes most similar to q.Vector by
// cosine, best first; ties go to the smaller chunk ID. Score is the cosine
// similarity, exact up to quantisation (about ±0.01). Rows with a similarity
// of 0 or less are left out: they share nothing with the query. A query
// without a vector, or without scopes, finds nothing. A vector of the wrong
// dimension is an error.
func (x *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, retrieval.ErrClosed
	}
	if len(q.Vector) == 0 {
		return nil, nil
	}
	if x.dim != 0 && len(q.Vector) != x.dim {
		return nil, fmt.Errorf("vector search: query has dimension %d, want %d", len(q.Vector), x.dim)
	}
	if len(q.Scopes) == 0 || x.count == 0 {
		return nil, nil
	}
	qv := make([]int16, x.stride)
	qscale := quantizeQuery(qv, q.Vector)
	if qscale == 0 {
		return nil, nil
	}

	top := newTopK(q.Limit())
	buf := make([]int32, scanBlock)
	var segs []*segment
	for _, scope := range q.Scopes {
		if seg := x.segments[scope]; seg != nil && !slices.Contains(segs, seg) {
			segs = append(segs, seg)
		}
	}
	for si, seg := range segs {
		n := len(seg.ids)
		for start := 0; start < n; start += scanBlock {
			end := min(start+scanBlock, n)
			out := buf[:end-start]
			dots(x.avx2, qv, seg.slab[start*x.stride:end*x.stride], x.stride, out)
			scales := seg.scales[start:end]
			scales = scales[:len(out)]
			// Rows at or below the threshold cannot enter: at first 0, as
			// a row sharing nothing with the query is no hit, then the
			// worst kept score.
			threshold := top.threshold()
			for i, d := range out {
				s := float32(d) * scales[i]
				if s <= threshold {
					continue
				}
				top.offer(s, int32(si), int32(start+i))
				threshold = top.threshold()
			}
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("vector search: %w", err)
			}
		}
	}

	items := top.items
	id := func(it scored) string { return segs[it.seg].ids[it.row] }
	slices.SortFunc(items, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(id(a), id(b))
	})
	hits := make([]retrieval.Hit, len(items))
	for i, it := range items {
		hits[i] = retrieval.Hit{ChunkID: id(it), Score: float64(it.score) * qscale}
	}
	return hits, nil
}

// quantizeQuery stores v as int16 in dst and returns the scale that turns
// dst · row × row scale into a cosine similarity; 0 for a zero vector.
func quantizeQuery(dst []int16, v []float32) float64 {
	var sum, maxAbs float64
	for _, f := range v {
		a := math.Abs(float64(f))
		sum += a * a
		maxAbs = max(maxAbs, a)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0
	}
	// The int32 dot product must not overflow: |dot| ≤ len × qmax × 127.
	qmax := min(32767, float64(math.MaxInt32)/float64(len(dst)*127))
	k := qmax / maxAbs
	for i, f := range v {
		dst[i] = int16(math.Round(float64(f) * k))
	}
	return 1 / (k * math.Sqrt(sum))
}

// Count returns the number of vectors.
func (x *Index) Count() (int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, retrieval.ErrClosed
	}
	return x.count, nil
}

// Close releases the vectors; later calls return retrieval.ErrClosed.
// Closing twice is not an error.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	x.segments, x.rows, x.count = nil, nil, 0
	return nil
}

// scored is a candidate row with its score before the query scale.
type scored struct {
	score float32
	seg   int32 // index into the searched segments
	row   int32
}

// topK keeps the k best candidates in a min-heap on score, so the worst
// kept one is items[0].
type topK struct {
	k     int
	items []scored
}

func newTopK(k int) *topK { return &topK{k: k, items: make([]scored, 0, k)} }

// threshold is the score a candidate must beat: 0 until k are kept, then
// the worst kept score.
func (t *topK) threshold() float32 {
	if len(t.items) < t.k {
		return 0
	}
	return t.items[0].score
}

// offer keeps a candidate that beats the threshold, dropping the worst kept
// one when k are kept.
func (t *topK) offer(score float32, seg, row int32) {
	it := scored{score, seg, row}
	if len(t.items) < t.k {
		t.items = append(t.items, it)
		t.up(len(t.items) - 1)
		return
	}
	t.items[0] = it
	t.down(0)
}

func (t *topK) up(i int) {
	h := t.items
	for i > 0 {
		p := (i - 1) / 2
		if h[p].score <= h[i].score {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *topK) down(i int) {
	h := t.items
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].score < h[l].score {
			m = r
		}
		if h[i].score <= h[m].score {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
