package retrieval_test

import (
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

// writeDictd writes a small dictionary in the dictd format (index with
// base64 offsets, gzip'd body) and returns its base path.
func writeDictd(tb testing.TB, entries map[string]string) string {
	tb.Helper()
	base := filepath.Join(tb.TempDir(), "eng-nld")
	var body, index strings.Builder
	index.WriteString("00databaseinfo\tA\tA\n")
	heads := make([]string, 0, len(entries))
	for h := range entries {
		heads = append(heads, h)
	}
	sort.Strings(heads)
	for _, head := range heads {
		e, ok := entries[head]
		if !ok {
			continue
		}
		fmt.Fprintf(&index, "%s\t%s\t%s\n", head, b64(body.Len()), b64(len(e)))
		body.WriteString(e)
	}
	if err := os.WriteFile(base+".index", []byte(index.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(base + ".dict.dz")
	if err != nil {
		tb.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(body.String()))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return base
}

func b64(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if n == 0 {
		return "A"
	}
	var s []byte
	for ; n > 0; n /= 64 {
		s = append([]byte{digits[n%64]}, s...)
	}
	return string(s)
}

var testEntries = map[string]string{
	"move": "move /muːv/\n1. bewegen, verroeren\n2. verhuizen\n3. verhuizing\n",
	"tax":  "tax /tæks/\n1. belasten, aanslaan, belasting heffen op\n2. belasting, recht\n",
	"tyre": "tyre /taiər/\nband, luchtband\n",
	"the":  "the /ðə/\nde, het\n",
}

func TestLoadFreeDict(t *testing.T) {
	g, err := retrieval.LoadFreeDict(writeDictd(t, testEntries))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"tax":   "belasten belasting", // the first word of the first two senses
		"taxes": "belasten belasting",
		"tyres": "band",
		"move":  "bewegen verhuizen",
		"dog":   "",
	}
	for w, want := range tests {
		if got := strings.Join(g.Translate(w), " "); got != want {
			t.Errorf("Translate(%q) = %q, want %q", w, got, want)
		}
	}
	if _, err := retrieval.LoadFreeDict(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFreeDict(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestLoadFreeDictReverse(t *testing.T) {
	r, err := retrieval.LoadFreeDictReverse(writeDictd(t, map[string]string{
		"verkiezing": "verkiezing /x/\nchoice, election\n",
		"keuze":      "keuze /x/\n1. choice\n2. election\n",
		"arts":       "arts /x/\ndoctor, physician\n",
		"dokter":     "dokter /x/\ndoctor\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The Dutch word whose first sense has the English word comes first;
	// then the earlier place in the sense; then the shorter word.
	for en, want := range map[string]string{"election": "verkiezing", "doctor": "arts", "choice": "keuze", "physician": "arts"} {
		if got := strings.Join(r.Translate(en), " "); got != want {
			t.Errorf("Translate(%q) = %q, want %q", en, got, want)
		}
	}
	g, err := retrieval.LoadFreeDict(writeDictd(t, testEntries))
	if err != nil {
		t.Fatal(err)
	}
	g.AddMissing(r)
	if got := strings.Join(g.Translate("election"), " "); got != "verkiezing" {
		t.Errorf("after AddMissing, Translate(election) = %q, want verkiezing", got)
	}
	if got := strings.Join(g.Translate("tax"), " "); got != "belasten belasting" {
		t.Errorf("after AddMissing, Translate(tax) = %q: a word g had changed", got)
	}
}

func TestExpander_Glossary(t *testing.T) {
	g, err := retrieval.LoadFreeDict(writeDictd(t, testEntries))
	if err != nil {
		t.Fatal(err)
	}
	e, err := retrieval.NewExpander([]string{"driving licence, rijbewijs"})
	if err != nil {
		t.Fatal(err)
	}
	e = e.WithGlossary(g)
	tests := []struct{ in, want string }{
		// English: groups first, then the other words translated.
		{"do I pay tax on my driving licence", "rijbewijs belasten belasting"},
		{"when do we have to move out", "bewegen verhuizen"},
		// Dutch: only the groups; the glossary stays out (it knows "tax").
		{"wat kost de tax van mijn rijbewijs", "driving licence"},
	}
	for _, tt := range tests {
		if got := e.Expand(tt.in); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLooksEnglish(t *testing.T) {
	tests := map[string]bool{
		"how do I switch to a different doctor": true,
		"is it a zero or the letter O":          true,
		"hoe vraag ik een paspoort aan":         false,
		"is er in mijn gemeente een stort":      false,
		"paspoort":                              false,
	}
	for q, want := range tests {
		if got := retrieval.LooksEnglish(strings.Fields(q)); got != want {
			t.Errorf("LooksEnglish(%q) = %v, want %v", q, got, want)
		}
	}
}

// The installed FreeDict, when there is one, loads and knows common words.
func TestLoadFreeDict_installed(t *testing.T) {
	g, err := retrieval.LoadFreeDict(retrieval.FreeDictPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("dict-freedict-eng-nld is not installed")
	}
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() < 5000 {
		t.Errorf("Len() = %d, want the whole dictionary", g.Len())
	}
	if got := g.Translate("passport"); len(got) == 0 {
		t.Error("Translate(passport) = nothing")
	}
}
