package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func load(tb testing.TB) *lemmatizer {
	tb.Helper()
	af, err := os.Open("testdata/mini.aff")
	if err != nil {
		tb.Fatal(err)
	}
	defer af.Close()
	aff, err := parseAffixes(af)
	if err != nil {
		tb.Fatal(err)
	}
	df, err := os.Open("testdata/mini.dic")
	if err != nil {
		tb.Fatal(err)
	}
	defer df.Close()
	entries, err := parseDic(df, aff)
	if err != nil {
		tb.Fatal(err)
	}
	return newLemmatizer(aff, entries)
}

func TestLemmatizer_table(t *testing.T) {
	got := map[string]string{}
	for _, f := range load(t).table(nil) {
		got[f.form] = f.lemma
	}
	want := map[string]string{
		// Verb stem, infinitive and participle lines meet at the infinitive.
		"bouwt": "bouwen", "bouwde": "bouwen", "bouwden": "bouwen", "gebouwd": "bouwen", "bouwend": "bouwen",
		// The noun "vraag" and the verb "vragen" share two forms: one
		// group, named by the shorter lemma.
		"vragen": "vraag", "vraagt": "vraag", "gevraagd": "vraag", "vraagje": "vraag", "vraagjes": "vraag",
		// A prefix class prefixes the lemma too.
		"aanvraagt": "aanvragen", "aangevraagd": "aanvragen", "aanvragend": "aanvragen",
		"huizen": "huis", "huisje": "huis", "kinderen": "kind", "kindje": "kind", "zeeen": "zee",
	}
	for form, lemma := range want {
		if got[form] != lemma {
			t.Errorf("%s → %q, want %q", form, got[form], lemma)
		}
	}
	for _, w := range []string{"bouwen", "vraag", "huis", "foutwoord", "gevraagden"} {
		if l, ok := got[w]; ok {
			t.Errorf("%s → %q, want no entry", w, l)
		}
	}
}

func TestInfinitiveCandidates(t *testing.T) {
	for stem, want := range map[string]string{"vraag": "vragen", "leef": "leven", "zet": "zetten", "bouw": "bouwen", "lees": "lezen"} {
		if c := infinitiveCandidates(stem); !strings.Contains(" "+strings.Join(c, " ")+" ", " "+want+" ") {
			t.Errorf("infinitiveCandidates(%q) = %v, want %q among them", stem, c, want)
		}
	}
}

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lemmas.tsv.gz")
	var log strings.Builder
	if err := run([]string{"-aff", "testdata/mini.aff", "-dic", "testdata/mini.dic", "-out", out}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "forms that differ") {
		t.Errorf("run printed %q", log.String())
	}
	// The retrieval package reads what lexgen writes.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := retrieval.ReadLemmas(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Lemma("aangevraagd"); !ok || got != "aanvragen" {
		t.Errorf("Lemma(aangevraagd) = %q, %v; want aanvragen", got, ok)
	}
	if err := run([]string{"-aff", "testdata/mini.aff"}, &log); err == nil {
		t.Error("run without -out: no error")
	}
}
