package bleve

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// The lexical search walks the index's posting lists itself, term at a
// time, into a dense score array, instead of running a bleve query. A bleve
// disjunction merges the posting lists document at a time through a heap,
// with a scorer, a document-match object and a collector step per posting;
// at 100k chunks that bookkeeping was three quarters of the search time.
// Scores are bleve's own BM25 as its term and disjunction searchers compute
// it: BM25 (k1 1.2, b 0.75, average field length as bleve rounds it) times
// the query weight (boost · idf · query norm), summed over the matching
// terms and scaled by the share of clauses that match (coord).

// term is one posting list to score: an analysed query term in a field.
type term struct {
	text  string
	field string
	boost float64
	// df, when not zero, replaces the term's document frequency in its
	// IDF: the terms that stand in for one misspelt word share the IDF of
	// the likeliest, so a rare term that is a poor guess does not outscore
	// a common one that is a good guess.
	df uint64
}

// clause is a unit of the coord factor: one query term, or the index terms
// within an edit distance of a misspelt one.
type clause []term

// accumulator holds per-chunk scores of one search, indexed by bleve's
// internal document number; touched lists the numbers that scored, so a
// reset costs only what the search used.
type accumulator struct {
	score      []float64
	matched    []uint16 // clauses matched
	last       []uint16 // 1 + index of the last clause that counted
	touched    []uint32
	allowed    []uint64 // bit set of documents in the query's scopes
	restricted bool     // whether allowed applies
	tfd        index.TermFieldDoc
}

var accumulators = sync.Pool{New: func() any { return new(accumulator) }}

func (a *accumulator) grow(n uint64) {
	if n < uint64(len(a.score)) {
		return
	}
	size := max(int(n)+1, 2*len(a.score), 1024)
	extra := size - len(a.score)
	a.score = append(a.score, make([]float64, extra)...)
	a.matched = append(a.matched, make([]uint16, extra)...)
	a.last = append(a.last, make([]uint16, extra)...)
}

func (a *accumulator) reset() {
	for _, d := range a.touched {
		a.score[d], a.matched[d], a.last[d] = 0, 0, 0
	}
	a.touched = a.touched[:0]
	a.allowed = a.allowed[:0]
	a.restricted = false
}

// fieldStats are bleve's BM25 collection statistics for a field.
type fieldStats struct {
	docs uint64
	avg  float64
}

func statsFor(r index.IndexReader, field string) (fieldStats, error) {
	docs, err := r.DocCount()
	if err != nil {
		return fieldStats{}, fmt.Errorf("count documents: %w", err)
	}
	br, ok := r.(index.BM25Reader)
	if !ok || docs == 0 {
		return fieldStats{docs: docs}, nil
	}
	card, err := br.FieldCardinality(field)
	if err != nil {
		return fieldStats{}, fmt.Errorf("field %s length: %w", field, err)
	}
	return fieldStats{docs: docs, avg: math.Ceil(float64(card) / float64(docs))}, nil
}

// bm25IDF is bleve's BM25 inverse document frequency.
func bm25IDF(docs, df uint64) float64 {
	return math.Log(1 + (float64(docs)-float64(df)+0.5)/(float64(df)+0.5))
}

// scoreClauses scores every chunk that matches a clause and returns the k
// best in the allowed scopes (all when scopes is nil), best first.
// With local set, up to localK best chunks of that scope that are not
// among the k follow them.
func scoreClauses(ctx context.Context, r index.IndexReader, clauses []clause, scopes []string, k int, local string, localK int) ([]scored, error) {
	stats := map[string]fieldStats{}
	type list struct {
		tfr    index.TermFieldReader
		clause int
		idf    float64
		weight float64 // boost · idf, before the query norm
		stats  fieldStats
	}
	var lists []list
	defer func() {
		for _, l := range lists {
			l.tfr.Close()
		}
	}()
	sumSq := 0.0
	for ci, c := range clauses {
		for _, t := range c {
			st, ok := stats[t.field]
			if !ok {
				var err error
				if st, err = statsFor(r, t.field); err != nil {
					return nil, err
				}
				stats[t.field] = st
			}
			tfr, err := r.TermFieldReader(ctx, []byte(t.text), t.field, true, true, false)
			if err != nil {
				return nil, fmt.Errorf("read postings of %q: %w", t.text, err)
			}
			df := tfr.Count()
			if t.df > 0 {
				df = t.df
			}
			idf := bm25IDF(st.docs, df)
			lists = append(lists, list{tfr: tfr, clause: ci, idf: idf, weight: t.boost * idf, stats: st})
			sumSq += (t.boost * idf) * (t.boost * idf)
		}
	}
	if len(lists) == 0 || sumSq == 0 {
		return nil, nil
	}
	norm := 1 / math.Sqrt(sumSq)

	a := accumulators.Get().(*accumulator)
	defer func() {
		a.reset()
		accumulators.Put(a)
	}()
	if scopes != nil {
		if err := a.allow(ctx, r, scopes); err != nil {
			return nil, err
		}
	}
	for _, l := range lists {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		qw := l.weight * norm
		k1, b, avg := search.BM25_k1, search.BM25_b, l.stats.avg
		mark := uint16(l.clause + 1)
		for {
			d, err := l.tfr.Next(&a.tfd)
			if err != nil {
				return nil, fmt.Errorf("read postings: %w", err)
			}
			if d == nil {
				break
			}
			n := d.ID.Value()
			a.grow(n)
			tf := math.Sqrt(float64(d.Freq))
			s := l.idf * tf * k1 / (tf + k1*(1-b+b*(1/(d.Norm*d.Norm))/avg)) * qw
			if avg == 0 {
				s = l.idf * tf * qw
			}
			if a.matched[n] == 0 {
				a.touched = append(a.touched, uint32(n))
			}
			a.score[n] += s
			if a.last[n] != mark {
				a.last[n] = mark
				a.matched[n]++
			}
		}
	}
	best, err := a.top(r, len(clauses), k, nil)
	if err != nil || local == "" || localK <= 0 {
		return best, err
	}
	in, err := a.scopeBits(ctx, r, []string{local}, nil)
	if err != nil {
		return nil, err
	}
	taken := make(map[uint32]bool, len(best))
	for _, s := range best {
		taken[s.doc] = true
	}
	more, err := a.top(r, len(clauses), localK, func(d uint32) bool { return hasBit(in, d) && !taken[d] })
	if err != nil {
		return nil, err
	}
	return append(best, more...), nil
}

// allow restricts the search to the documents in scopes.
func (a *accumulator) allow(ctx context.Context, r index.IndexReader, scopes []string) error {
	var err error
	a.allowed, err = a.scopeBits(ctx, r, scopes, a.allowed[:0])
	a.restricted = true
	return err
}

// scopeBits appends to dst (a bit set by document number) the documents
// of scopes.
func (a *accumulator) scopeBits(ctx context.Context, r index.IndexReader, scopes []string, dst []uint64) ([]uint64, error) {
	for _, s := range scopes {
		tfr, err := r.TermFieldReader(ctx, []byte(s), "scope", false, false, false)
		if err != nil {
			return dst, fmt.Errorf("read scope %s: %w", s, err)
		}
		for {
			d, err := tfr.Next(&a.tfd)
			if err != nil {
				tfr.Close()
				return dst, fmt.Errorf("read scope %s: %w", s, err)
			}
			if d == nil {
				break
			}
			n := d.ID.Value()
			for uint64(len(dst)) <= n/64 {
				dst = append(dst, 0)
			}
			dst[n/64] |= 1 << (n % 64)
		}
		tfr.Close()
	}
	return dst, nil
}

// hasBit reports whether bit n is set in bits.
func hasBit(bits []uint64, n uint32) bool {
	w := int(n / 64)
	return w < len(bits) && bits[w]&(1<<(n%64)) != 0
}

func (a *accumulator) isAllowed(n uint32) bool {
	return !a.restricted || hasBit(a.allowed, n)
}

// scored is a chunk's internal number and final score.
type scored struct {
	doc   uint32
	score float64
	id    string
}

// worse orders results: lower score first, then the later document.
func (s scored) worse(o scored) bool {
	if s.score != o.score {
		return s.score < o.score
	}
	return s.doc > o.doc
}

type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i].worse(h[j]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// top returns the k best allowed documents (that keep passes, when not
// nil) with their external ids.
func (a *accumulator) top(r index.IndexReader, clauses, k int, keep func(uint32) bool) ([]scored, error) {
	h := make(minHeap, 0, k+1)
	for _, d := range a.touched {
		if !a.isAllowed(d) || keep != nil && !keep(d) {
			continue
		}
		s := scored{doc: d, score: a.score[d] * float64(a.matched[d]) / float64(clauses)}
		if len(h) < k {
			heap.Push(&h, s)
		} else if h[0].worse(s) {
			h[0] = s
			heap.Fix(&h, 0)
		}
	}
	out := make([]scored, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(scored)
	}
	id := make(index.IndexInternalID, 8)
	for i := range out {
		id.SetValue(uint64(out[i].doc))
		ext, err := r.ExternalID(id)
		if err != nil {
			return nil, fmt.Errorf("chunk id of document %d: %w", out[i].doc, err)
		}
		out[i].id = ext
	}
	return out, nil
}
