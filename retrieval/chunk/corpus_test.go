package chunk_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// corpusPath is the shared evaluation corpus; tests and benchmarks that
// need it skip when it is absent.
const corpusPath = "../../../shared/eval/rijksoverheid/corpus.jsonl"

func corpusPages(tb testing.TB) []htmltext.Page {
	tb.Helper()
	f, err := os.Open(corpusPath)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("corpus %s not present", corpusPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pages []htmltext.Page
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			HTML string `json:"html"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("corpus line: %v", err)
		}
		p, err := htmltext.ExtractString(line.HTML)
		if err != nil {
			tb.Fatal(err)
		}
		pages = append(pages, p)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return pages
}

// TestSplit_corpus checks Split's and Sentences' promises on every page of
// the corpus, with the defaults and with small pieces.
func TestSplit_corpus(t *testing.T) {
	pages := corpusPages(t)
	for _, p := range pages {
		for _, opt := range []chunk.Options{{}, {MaxChars: 250, MinChars: 60}} {
			checkInvariants(t, p, opt, chunk.Split(p, opt))
		}
		for _, b := range p.Blocks {
			s := chunk.Sentences(b.Text)
			if !slices.Equal(strings.Fields(strings.Join(s, " ")), strings.Fields(b.Text)) {
				t.Fatalf("Sentences lost text of %q: %q", b.Text, s)
			}
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	b.Run("fixture", func(b *testing.B) {
		p := fixturePage(b, "omgevingsvergunning.html")
		b.ReportAllocs()
		for b.Loop() {
			chunk.Split(p, chunk.Options{})
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("corpus", func(b *testing.B) {
		pages := corpusPages(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			chunk.Split(pages[i%len(pages)], chunk.Options{})
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}

func BenchmarkSentences(b *testing.B) {
	p := fixturePage(b, "omgevingsvergunning.html")
	text := p.Text()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		chunk.Sentences(text)
	}
}
