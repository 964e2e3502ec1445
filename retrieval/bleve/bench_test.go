package bleve_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
)

// benchVocabulary returns the municipal word parts followed by Dutch-like
// made-up words, 30,000 in all, in the order of their frequency rank
// (the municipal words scattered among the first 5,000).
func benchVocabulary() []string {
	rng := rand.New(rand.NewPCG(7, 7))
	var real []string
	for _, p := range retrieval.CompoundParts() {
		if !strings.HasPrefix(p, "#") && len(p) >= 4 {
			real = append(real, p)
		}
	}
	onsets := strings.Fields("b d f g h k l m n p r s t v w z st sch gr br kr pl tr sl sp")
	vowels := strings.Fields("a e i o u aa ee oo ui ij ei ou ie oe eu")
	codas := strings.Fields("_ _ n r l s t k m ng rd nd st ft ld")
	seen := map[string]bool{}
	for _, w := range real {
		seen[w] = true
	}
	var made []string
	for len(made)+len(real) < 30000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(onsets[rng.IntN(len(onsets))])
			b.WriteString(vowels[rng.IntN(len(vowels))])
			if c := codas[rng.IntN(len(codas))]; c != "_" {
				b.WriteString(c)
			}
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			made = append(made, w)
		}
	}
	vocab := make([]string, 0, len(made)+len(real))
	vocab = append(vocab, made...)
	for _, w := range real {
		i := rng.IntN(5000)
		vocab = append(vocab, "")
		copy(vocab[i+1:], vocab[i:])
		vocab[i] = w
	}
	return vocab
}

var big struct {
	once  sync.Once
	dir   string
	x     *bleve.Index
	vocab []string
	err   error
}

// bigIndex returns an index of 100,000 chunks of 80 words drawn from
// benchVocabulary by a Zipf law, built once per process.
func bigIndex(b *testing.B) (*bleve.Index, []string) {
	b.Helper()
	big.once.Do(func() {
		big.vocab = benchVocabulary()
		if big.dir, big.err = os.MkdirTemp("", "assistent-bleve-bench-"); big.err != nil {
			return
		}
		if big.x, big.err = bleve.Open(filepath.Join(big.dir, "bleve")); big.err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(1, 1))
		z := rand.NewZipf(rand.New(rand.NewPCG(2, 2)), 1.1, 2, uint64(len(big.vocab)-1))
		words := func(n int) string {
			var s strings.Builder
			for range n {
				s.WriteString(big.vocab[z.Uint64()])
				s.WriteByte(' ')
			}
			return s.String()
		}
		scope := retrieval.NationalScope("bench")
		for batch := range 100 {
			cs := make([]retrieval.Chunk, 0, 1000)
			for i := range 1000 {
				id := fmt.Sprintf("c%d-%d", batch, i)
				cs = append(cs, retrieval.Chunk{ID: id, Scope: scope, Title: words(3 + rng.IntN(4)), Text: words(80)})
			}
			if big.err = big.x.Index(context.Background(), cs); big.err != nil {
				return
			}
		}
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.x, big.vocab
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.x != nil {
		big.x.Close()
	}
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

// BenchmarkSearch100k is one lexical search at 100k chunks for three kinds
// of question: a few words; the same with one word misspelt (typo search
// in the term dictionary); a long question of 16 words.
func BenchmarkSearch100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	queries := map[string][]string{}
	vocab := benchVocabulary()[:5000]
	for range 32 {
		var ws []string
		for range 3 {
			ws = append(ws, vocab[rng.IntN(len(vocab))])
		}
		queries["short"] = append(queries["short"], strings.Join(ws, " "))
		// One word of at least 7 letters misspelt: a letter dropped.
		long := vocab[rng.IntN(len(vocab))]
		for len(long) < 7 {
			long = vocab[rng.IntN(len(vocab))]
		}
		i := 1 + rng.IntN(len(long)-1)
		queries["typo"] = append(queries["typo"], ws[0]+" "+long[:i]+long[i+1:]+" "+ws[1])
		var lw []string
		for range 16 {
			lw = append(lw, vocab[rng.IntN(len(vocab))])
		}
		queries["long"] = append(queries["long"], strings.Join(lw, " "))
	}
	for _, kind := range []string{"short", "typo", "long"} {
		b.Run(kind, func(b *testing.B) {
			x, _ := bigIndex(b)
			ctx := context.Background()
			qs := queries[kind]
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				q := retrieval.Query{Text: qs[i%len(qs)], Scopes: []string{retrieval.NationalScope("bench")}, K: 40}
				if _, err := x.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			}
		})
	}
}
