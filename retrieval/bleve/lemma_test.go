package bleve_test

import (
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"

	"github.com/assistent-nl/assistent/retrieval/bleve"
)

// Word forms Snowball leaves apart meet through their lemma.
func TestAnalyzer_Lemmas(t *testing.T) {
	m, err := bleve.NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	// The default chain with the lemma filter before Snowball.
	if err := m.AddCustomAnalyzer("nl_lemma_test", map[string]interface{}{
		"type":          custom.Name,
		"char_filters":  []interface{}{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []interface{}{lowercase.Name, "nl_municipal_compound", nl.StopName, bleve.LemmaName, nl.SnowballStemmerName, bleve.VerbTName},
	}); err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed("nl_lemma_test")
	if a == nil {
		t.Fatal("no analyzer nl_lemma_test")
	}
	// terms returns the distinct terms of s in order: the compound filter
	// adds a known part after its word, which may be the word's lemma.
	terms := func(s string) string {
		var out []string
		for _, tk := range a.Analyze([]byte(s)) {
			if t := string(tk.Term); len(out) == 0 || out[len(out)-1] != t {
				out = append(out, t)
			}
		}
		return strings.Join(out, " ")
	}
	for _, group := range [][]string{
		{"gebouwd", "bouwt", "bouwen"},
		{"verloopt", "verlopen"},
		{"huizen", "huis"},
		{"kinderen", "kind"},
		{"aangevraagd", "aanvraagt", "aanvragen"},
		{"gewoond", "woont", "wonen"},
		{"brieven", "briefje", "brief"},
	} {
		want := terms(group[len(group)-1])
		for _, w := range group {
			if got := terms(w); got != want {
				t.Errorf("%q → %q, %q → %q; want the same term", w, got, group[len(group)-1], want)
			}
		}
	}
	// A lemma longer than its form must not overwrite the words after it.
	if got, want := terms("gebouwd huis verloopt"), terms("gebouwd")+" "+terms("huis")+" "+terms("verloopt"); got != want {
		t.Errorf("terms of a sentence = %q, want %q", got, want)
	}
	// Words the table does not know go to Snowball as before.
	if got := terms("holtewaard"); got != "holtewaard" {
		t.Errorf("unknown word → %q, want it unchanged", got)
	}
}
