package retrieval_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

// evalDir holds the shared eval sets, beside the repository.
const evalDir = "../../shared/eval"

// sourceKinds are the kinds of source lexicon/README.md allows.
var sourceKinds = []string{"corpus:", "in:", "reviewed:", "reviewed", "translation:"}

func TestLexicon_Sources(t *testing.T) {
	entries := retrieval.Lexicon()
	if len(entries) < 100 {
		t.Fatalf("Lexicon() = %d entries, want the embedded lists", len(entries))
	}
	for _, e := range entries {
		if e.Source == "" {
			t.Errorf("%s:%d %q: no source (see retrieval/lexicon/README.md)", e.File, e.Line, e.Terms)
			continue
		}
		for _, item := range strings.Split(e.Source, ";") {
			item = strings.TrimSpace(item)
			known := false
			for _, k := range sourceKinds {
				known = known || strings.HasPrefix(item, k)
			}
			if !known {
				t.Errorf("%s:%d %q: source item %q is of no known kind", e.File, e.Line, e.Terms, item)
			}
		}
	}
}

// TestLexicon_NotTunedOnVisibleQueries fails when a lexicon term occurs in
// a visible eval question and on no page of the eval corpora: such a term
// can only be there for that question.
func TestLexicon_NotTunedOnVisibleQueries(t *testing.T) {
	sets, _ := filepath.Glob(filepath.Join(evalDir, "*", "queries.jsonl"))
	if len(sets) == 0 {
		t.Skipf("no eval sets in %s", evalDir)
	}
	var queries, pages strings.Builder
	for _, set := range sets {
		readJSONL(t, set, func(m map[string]any) {
			q, _ := m["question"].(string)
			queries.WriteString(" " + normalise(q) + " ")
		})
		corpus := filepath.Join(filepath.Dir(set), "corpus.jsonl")
		readJSONL(t, corpus, func(m map[string]any) {
			for _, k := range []string{"title", "html", "text"} {
				s, _ := m[k].(string)
				pages.WriteString(" " + normalise(tags.ReplaceAllString(s, " ")) + " ")
			}
		})
	}
	q, c := queries.String(), pages.String()
	for _, e := range retrieval.Lexicon() {
		for _, term := range strings.Split(e.Terms+","+e.To, ",") {
			n := " " + normalise(term) + " "
			if strings.TrimSpace(n) == "" {
				continue
			}
			if strings.Contains(q, n) && !strings.Contains(c, n) {
				t.Errorf("%s:%d: %q occurs in a visible eval question and on no corpus page", e.File, e.Line, strings.TrimSpace(term))
			}
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>|&[a-z]+;`)

// normalise folds s to words of letters and digits separated by one space.
func normalise(s string) string {
	return strings.Join(strings.FieldsFunc(retrieval.Fold(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}), " ")
}

func readJSONL(tb testing.TB, path string, fn func(map[string]any)) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		fn(m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
}

func TestExpander_AddOneWay(t *testing.T) {
	e, err := retrieval.NewExpander([]string{"id-kaart, identiteitskaart"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddOneWay("driving licence, driver's license", "rijbewijs"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"renew my driving licence", "rijbewijs"},
		{"drivers license", ""}, // "driver s license" is the term: no partial match
		{"driver's license expired", "rijbewijs"},
		{"rijbewijs verlengen", ""}, // one way: no English for a Dutch question
		{"id-kaart kwijt", "identiteitskaart"},
	}
	for _, tt := range tests {
		if got := e.Expand(tt.in); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if err := e.AddOneWay("passport", " , "); err == nil {
		t.Error("AddOneWay without to terms: no error")
	}
}

// Every English entry says which Dutch terms its English ones expand to.
func TestLexicon_EnglishOneWay(t *testing.T) {
	n := 0
	for _, e := range retrieval.Lexicon() {
		if e.File != "lexicon/english.tsv" {
			continue
		}
		n++
		if e.Terms == "" || e.To == "" {
			t.Errorf("%s:%d: want english<TAB>dutch<TAB>source, got terms %q, to %q", e.File, e.Line, e.Terms, e.To)
		}
	}
	if n < 50 {
		t.Errorf("%d English entries, want the embedded list", n)
	}
	if got := retrieval.DefaultExpander().Expand("rijbewijs verlengen"); strings.Contains(got, "licence") {
		t.Errorf("Expand(rijbewijs verlengen) = %q: English words for a Dutch question", got)
	}
}

// The Dutch terms of an English entry still expand to each other.
func TestDefaultExpander_DutchOfEnglishEntries(t *testing.T) {
	got := retrieval.DefaultExpander().Expand("bezwaar maken")
	if !strings.Contains(got, "beroep") {
		t.Errorf("Expand(bezwaar maken) = %q, want beroep among it", got)
	}
}
