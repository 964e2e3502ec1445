package bleve_test

import (
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/bleve"
)

// A verb in the resident's form meets the page's infinitive and noun.
func TestAnalyzer_VerbForms(t *testing.T) {
	m, err := bleve.NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(bleve.AnalyzerName)
	terms := func(s string) string {
		var out []string
		for _, tk := range a.Analyze([]byte(s)) {
			out = append(out, string(tk.Term))
		}
		return strings.Join(out, " ")
	}
	for _, group := range [][]string{{"bouwt", "bouwen"}, {"woont", "wonen"}, {"vraagt", "vragen"}, {"meldt", "melden"}, {"paspoort", "paspoorten"}} {
		want := terms(group[1])
		for _, w := range group {
			if got := terms(w); got != want {
				t.Errorf("%q → %q, %q → %q; want the same term", w, got, group[1], want)
			}
		}
	}
	// Short words and words ending in a vowel + t keep their t.
	for _, w := range []string{"wet", "fiets", "gaat"} {
		if got := terms(w); !strings.HasSuffix(got, "t") {
			t.Errorf("%q → %q, want the t kept", w, got)
		}
	}
}
