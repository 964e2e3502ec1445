package htmltext_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// corpusPath is the shared evaluation corpus; benchmarks and tests that
// need it skip when it is absent.
const corpusPath = "../../../shared/eval/rijksoverheid/corpus.jsonl"

// corpusHTML returns the html field of every corpus line.
func corpusHTML(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(corpusPath)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("corpus %s not present", corpusPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pages []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			HTML string `json:"html"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("corpus line: %v", err)
		}
		if line.HTML != "" {
			pages = append(pages, line.HTML)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return pages
}

func BenchmarkExtract(b *testing.B) {
	b.Run("fixture", func(b *testing.B) {
		page := readFixture(b, "paspoort.html")
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := htmltext.ExtractString(page); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("corpus", func(b *testing.B) {
		pages := corpusHTML(b)
		var n int64
		for _, p := range pages {
			n += int64(len(p))
		}
		b.SetBytes(n / int64(len(pages)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := htmltext.ExtractString(pages[i%len(pages)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}

// TestExtract_corpus checks invariants over every page of the corpus: no
// empty or untrimmed block, no invisible character, no markup left over.
func TestExtract_corpus(t *testing.T) {
	for _, html := range corpusHTML(t) {
		p := extract(t, html)
		if len(p.Blocks) == 0 {
			t.Errorf("no blocks from %.80q", html)
		}
		for _, b := range p.Blocks {
			if b.Text == "" || b.Text[0] == ' ' || b.Text[len(b.Text)-1] == ' ' {
				t.Errorf("untrimmed block %q", b.Text)
			}
			for _, r := range b.Text {
				if htmltext.Invisible(r) || r == '\u00a0' || r == '\t' {
					t.Errorf("block %q holds %U", b.Text, r)
				}
			}
		}
	}
}
