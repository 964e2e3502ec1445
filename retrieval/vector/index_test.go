package vector_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/retrievaltest"
	"github.com/assistent-nl/assistent/retrieval/vector"
)

func TestIndex_Conformance(t *testing.T) {
	retrievaltest.Run(t, func(tb testing.TB) retrieval.Index {
		x := vector.New(retrievaltest.Dim)
		tb.Cleanup(func() { x.Close() })
		return x
	})
}

func TestIndex_Conformance_DimFromFirstVector(t *testing.T) {
	retrievaltest.Run(t, func(tb testing.TB) retrieval.Index {
		x := vector.New(0)
		tb.Cleanup(func() { x.Close() })
		return x
	})
}

func chunk(id, scope string, v []float32) retrieval.Chunk {
	return retrieval.Chunk{ID: id, Scope: scope, Vector: v}
}

func TestIndex_Vectors(t *testing.T) {
	ctx := context.Background()
	const s = "t:a"

	t.Run("wrong dimension adds nothing", func(t *testing.T) {
		x := vector.New(3)
		err := x.Index(ctx, []retrieval.Chunk{chunk("a", s, []float32{1, 0, 0}), chunk("b", s, []float32{1, 0})})
		if err == nil {
			t.Fatal("no error for a vector of dimension 2")
		}
		if n, _ := x.Count(); n != 0 {
			t.Fatalf("Count = %d after a rejected batch", n)
		}
		if _, err := x.Search(ctx, retrieval.Query{Vector: []float32{1, 0}, Scopes: []string{s}}); err == nil {
			t.Fatal("no error for a query of dimension 2")
		}
	})

	t.Run("dimension from first vector", func(t *testing.T) {
		x := vector.New(0)
		if x.Dim() != 0 {
			t.Fatalf("Dim = %d", x.Dim())
		}
		if err := x.Index(ctx, []retrieval.Chunk{chunk("a", s, []float32{0, 1, 0, 0, 0})}); err != nil {
			t.Fatal(err)
		}
		if x.Dim() != 5 {
			t.Fatalf("Dim = %d, want 5", x.Dim())
		}
		if err := x.Index(ctx, []retrieval.Chunk{chunk("b", s, []float32{1})}); err == nil {
			t.Fatal("no error for a vector of dimension 1")
		}
	})

	t.Run("cosine order, unnormalised input", func(t *testing.T) {
		x := vector.New(3)
		err := x.Index(ctx, []retrieval.Chunk{
			chunk("exact", s, []float32{10, 0, 0}),          // same direction, long
			chunk("near", s, []float32{0.9, 0.1, 0}),        // close
			chunk("far", s, []float32{0.1, 1, 0}),           // far but positive
			chunk("orthogonal", s, []float32{0, 0, 1}),      // cosine 0: left out
			chunk("opposite", s, []float32{-1, 0.2, 0}),     // negative: left out
			chunk("zero", s, []float32{0, 0, 0}),            // scores 0: left out
			chunk("other-scope", "t:b", []float32{1, 0, 0}), // filtered
		})
		if err != nil {
			t.Fatal(err)
		}
		hits, err := x.Search(ctx, retrieval.Query{Vector: []float32{2, 0, 0}, Scopes: []string{s}})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(hits))
		for i, h := range hits {
			got[i] = h.ChunkID
		}
		if !slices.Equal(got, []string{"exact", "near", "far"}) {
			t.Fatalf("hits %v", hits)
		}
		want := []float64{1, 0.9 / math.Sqrt(0.82), 0.1 / math.Sqrt(1.01)}
		for i, h := range hits {
			if math.Abs(h.Score-want[i]) > 0.02 {
				t.Errorf("%s scores %.4f, want cosine %.4f", h.ChunkID, h.Score, want[i])
			}
		}
	})

	t.Run("text-only query finds nothing", func(t *testing.T) {
		x := vector.New(2)
		if err := x.Index(ctx, []retrieval.Chunk{chunk("a", s, []float32{1, 0})}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []retrieval.Query{
			{Text: "paspoort", Scopes: []string{s}},
			{Vector: []float32{0, 0}, Scopes: []string{s}},
		} {
			if hits, err := x.Search(ctx, q); err != nil || len(hits) != 0 {
				t.Fatalf("Search(%+v) = %v, %v", q, hits, err)
			}
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		x := vector.New(2)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := x.Index(cctx, []retrieval.Chunk{chunk("a", s, []float32{1, 0})}); err == nil {
			t.Fatal("Index with a cancelled context: no error")
		}
		if _, err := x.Search(cctx, retrieval.Query{Vector: []float32{1, 0}, Scopes: []string{s}}); err == nil {
			t.Fatal("Search with a cancelled context: no error")
		}
	})
}

// TestIndex_DeleteMany checks the swap-remove bookkeeping against a plain
// map over many random inserts and deletes.
func TestIndex_DeleteMany(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const dim = 40 // not a multiple of the kernel's block
	x := vector.New(dim)
	live := map[string][]float32{}
	for round := range 30 {
		var batch []retrieval.Chunk
		for range 200 {
			id := fmt.Sprintf("c%d", r.IntN(3000))
			v := randomUnit(r, dim)
			batch = append(batch, chunk(id, "t:a", v))
			live[id] = v
		}
		if err := x.Index(ctx, batch); err != nil {
			t.Fatal(err)
		}
		var del []string
		for id := range live {
			if r.IntN(3) == 0 {
				del = append(del, id)
			}
		}
		for _, id := range del {
			delete(live, id)
		}
		if err := x.Delete(ctx, del); err != nil {
			t.Fatal(err)
		}
		if n, _ := x.Count(); n != len(live) {
			t.Fatalf("round %d: Count %d, want %d", round, n, len(live))
		}
	}
	// Every live vector finds itself first.
	for id, v := range live {
		hits, err := x.Search(ctx, retrieval.Query{Vector: v, Scopes: []string{"t:a"}, K: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].ChunkID != id {
			t.Fatalf("query with %s's vector found %v", id, hits)
		}
	}
}

func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var sum float64
	for i := range v {
		f := r.NormFloat64()
		v[i] = float32(f)
		sum += f * f
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// clustered returns n unit vectors around a few hundred random centres, as
// embeddings of related pages are.
func clustered(r *rand.Rand, n, dim int) [][]float32 {
	centres := make([][]float32, 300)
	for i := range centres {
		centres[i] = randomUnit(r, dim)
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		noise := randomUnit(r, dim)
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + 0.6*noise[j]
		}
		out[i] = v
	}
	return out
}

// exactTop returns the ids of the k nearest rows by float64 cosine.
func exactTop(vs [][]float32, q []float32, k int) []int {
	type sc struct {
		i int
		s float64
	}
	all := make([]sc, len(vs))
	for i, v := range vs {
		var dot, nv, nq float64
		for j := range v {
			dot += float64(v[j]) * float64(q[j])
			nv += float64(v[j]) * float64(v[j])
			nq += float64(q[j]) * float64(q[j])
		}
		all[i] = sc{i, dot / math.Sqrt(nv*nq)}
	}
	slices.SortFunc(all, func(a, b sc) int { return cmp.Compare(b.s, a.s) })
	out := make([]int, k)
	for i := range out {
		out[i] = all[i].i
	}
	return out
}

// TestIndex_Recall measures recall@10 of the quantised scan against a
// float64 brute force, on clustered and on uniformly random vectors.
func TestIndex_Recall(t *testing.T) {
	if testing.Short() {
		t.Skip("brute force over 10k vectors")
	}
	ctx := context.Background()
	const n, dim, queries, k = 10000, 256, 200, 10
	for _, tt := range []struct {
		name string
		gen  func(r *rand.Rand) [][]float32
		min  float64
	}{
		{"clustered", func(r *rand.Rand) [][]float32 { return clustered(r, n+queries, dim) }, 0.95},
		{"random", func(r *rand.Rand) [][]float32 {
			vs := make([][]float32, n+queries)
			for i := range vs {
				vs[i] = randomUnit(r, dim)
			}
			return vs
		}, 0.90},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			all := tt.gen(r)
			vs, qs := all[:n], all[n:]
			x := vector.New(dim)
			chunks := make([]retrieval.Chunk, n)
			for i, v := range vs {
				chunks[i] = chunk(fmt.Sprint(i), "t:a", v)
			}
			if err := x.Index(ctx, chunks); err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, q := range qs {
				hits, err := x.Search(ctx, retrieval.Query{Vector: q, Scopes: []string{"t:a"}, K: k})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]bool{}
				for _, h := range hits {
					got[h.ChunkID] = true
				}
				for _, i := range exactTop(vs, q, k) {
					if got[fmt.Sprint(i)] {
						found++
					}
				}
			}
			recall := float64(found) / float64(queries*k)
			t.Logf("recall@%d on %d %s vectors of dim %d: %.4f", k, n, tt.name, dim, recall)
			if recall < tt.min {
				t.Fatalf("recall@%d = %.4f, want >= %.2f", k, recall, tt.min)
			}
		})
	}
}

// BenchmarkSearch100k is one search over 100,000 vectors of dimension 256
// in two scopes of equal size, with K = 60 (the candidates hybrid search
// asks for).
func BenchmarkSearch100k(b *testing.B) {
	ctx := context.Background()
	const n, dim = 100_000, 256
	r := rand.New(rand.NewPCG(3, 4))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := vector.New(dim)
	chunks := make([]retrieval.Chunk, 0, 1000)
	for i := range n {
		scope := "t:a"
		if i%2 == 1 {
			scope = "n:rijksoverheid"
		}
		chunks = append(chunks, chunk(fmt.Sprintf("t:a/page-%d#%d", i/8, i%8), scope, randomUnit(r, dim)))
		if len(chunks) == cap(chunks) {
			if err := x.Index(ctx, chunks); err != nil {
				b.Fatal(err)
			}
			chunks = chunks[:0]
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = randomUnit(r, dim)
	}
	for _, sc := range []struct {
		name   string
		scopes []string
	}{
		{"both-scopes", []string{"t:a", "n:rijksoverheid"}},
		{"one-scope", []string{"t:a"}},
	} {
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				hits, err := x.Search(ctx, retrieval.Query{Vector: queries[i%len(queries)], Scopes: sc.scopes, K: 60})
				if err != nil || len(hits) != 60 {
					b.Fatalf("%d hits, %v", len(hits), err)
				}
				i++
			}
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/vector")
		})
	}
	runtime.KeepAlive(x)
}
