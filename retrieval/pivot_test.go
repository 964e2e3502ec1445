package retrieval_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

// A made-up Dutch-English and English-Dutch pair, in FreeDict's layout.
var (
	testNldEng = map[string]string{
		"kroeg":      "kroeg /x/\nbar, pub\n",
		"café":       "café /x/\n1. café, coffee‐house\n2. bar, pub\n",
		"baas":       "baas /x/\n1. boss, chief\n2. master\n",
		"chef":       "chef /x/\nboss, chief, head\n",
		"school":     "school /x/\n1. bevy, group, herd, set\n2. school\n",
		"kudde":      "kudde /x/\nherd, flock\n",
		"stelen":     "stelen /x/\nsteal\n",
		"gappen":     "gappen /x/\nsteal\n",
		"graag":      "graag /x/\ngladly\n",
		"gaarne":     "gaarne /x/\ngladly\n",
		"krijgen":    "krijgen /x/\nget, obtain\n",
		"verkrijgen": "verkrijgen /x/\nget, obtain\n",
	}
	testEngNld = map[string]string{
		"pub":    "pub /x/\n1. kroeg, café\n2. tapperĳ\n",
		"bar":    "bar /x/\nbar, kroeg, café\n",
		"boss":   "boss /x/\nbaas, chef\n",
		"steal":  "steal /x/\ngappen, stelen\n",
		"herd":   "herd /x/\nkudde, school\n",
		"gladly": "gladly /x/\ngraag, gaarne\n",
	}
)

func loadTestPivot(tb testing.TB, nldEng map[string]string) *retrieval.Pivot {
	tb.Helper()
	p, err := retrieval.LoadPivot(writeDictd(tb, nldEng), writeDictd(tb, testEngNld))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestLoadPivot(t *testing.T) {
	// Thirteen more Dutch words for "get": it then says too little to
	// connect krijgen and verkrijgen, which share only "obtain" besides.
	crowded := maps.Clone(testNldEng)
	for i := range 13 {
		w := fmt.Sprintf("woord%c", 'a'+i)
		crowded[w] = w + " /x/\nget\n"
	}
	tests := []struct {
		name   string
		nldEng map[string]string
		want   map[string]string
	}{
		{"pair", testNldEng, map[string]string{
			"kroeg":  "cafe", // bar and pub; tapperij has one pivot and no way back
			"cafe":   "kroeg",
			"baas":   "chef",   // boss and chief
			"stelen": "gappen", // one pivot, but mutual
			"gappen": "stelen",
			"school": "", // kudde shares one of school's five English words
			"graag":  "", // a stop word
			"gaarne": "", // has none but the stop word
			"bar":    "", // too short
			"huis":   "", // unknown
			// Two pivots; "get" reaches no other Dutch word here.
			"krijgen": "verkrijgen",
		}},
		{"crowded pivot", crowded, map[string]string{
			"krijgen": "", // "get" reaches 15 Dutch words: only "obtain" is left
			"kroeg":   "cafe",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadTestPivot(t, tt.nldEng)
			for w, want := range tt.want {
				if got := strings.Join(p.Synonyms(w), " "); got != want {
					t.Errorf("Synonyms(%q) = %q, want %q", w, got, want)
				}
			}
		})
	}
	if _, err := retrieval.LoadPivot(filepath.Join(t.TempDir(), "none"), writeDictd(t, testEngNld)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadPivot(missing) error = %v, want os.ErrNotExist", err)
	}
}

// writeLemmas returns a lemma table in the format ReadLemmas reads.
func writeLemmas(tb testing.TB, lines ...string) *retrieval.Lemmas {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintf(zw, "# test\n%s\n", strings.Join(lines, "\n"))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	l, err := retrieval.ReadLemmas(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func TestPivot_WithLemmas(t *testing.T) {
	p := loadTestPivot(t, testNldEng).WithLemmas(writeLemmas(t,
		"stelen\tsteel steelt stal stalen gestolen",
		"gappen\tgap gapt gapte gegapt",
		"baas\tbazen",
	))
	tests := map[string]string{
		"gestolen": "gappen", // through its lemma
		"stelen":   "gappen",
		"gegapt":   "stelen",
		"bazen":    "chef",
		"kroeg":    "cafe", // not in the table, but in the dictionaries
		"kroegen":  "",     // in neither
	}
	for w, want := range tests {
		if got := strings.Join(p.Synonyms(w), " "); got != want {
			t.Errorf("Synonyms(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestExpander_Pivot(t *testing.T) {
	e, err := retrieval.NewExpander([]string{"id-kaart, identiteitskaart"})
	if err != nil {
		t.Fatal(err)
	}
	e = e.WithPivot(loadTestPivot(t, testNldEng))
	tests := []struct{ in, want string }{
		// Groups first, then the synonyms of the longest words, at most
		// three of them: "baas" is the fourth.
		{"mijn baas heeft mijn id-kaart in de kroeg gestolen", "identiteitskaart cafe chef"},
		{"baas krijgen stelen kroeg", "verkrijgen gappen cafe"},
		{"wie kan de baas van het cafe zijn", "chef kroeg"},
		// A word the query has is not added again.
		{"kroeg of café", ""},
		// English questions get translations, not Dutch synonyms.
		{"can my boss get the pub", ""},
	}
	for _, tt := range tests {
		if got := e.Expand(tt.in); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := e.WithPivot(nil).Expand("baas kroeg"); got != "" {
		t.Errorf("WithPivot(nil).Expand = %q, want nothing", got)
	}
}

// The installed FreeDict pair, when there is one, gives synonyms of
// common words, and the default expander uses them.
func TestLoadPivot_installed(t *testing.T) {
	p := installedPivot(t)
	if p.Len() < 1000 {
		t.Errorf("Len() = %d, want the whole dictionaries", p.Len())
	}
	if got := p.Synonyms("dokter"); !slices.Contains(got, "arts") {
		t.Errorf("Synonyms(dokter) = %q, want arts among them", got)
	}
	if got := retrieval.DefaultExpander().Pivot(); got.Len() != p.Len() {
		t.Errorf("DefaultExpander().Pivot().Len() = %d, want %d, the installed table", got.Len(), p.Len())
	}
}

// installedPivot returns the table of the installed FreeDict pair, or
// skips.
func installedPivot(tb testing.TB) *retrieval.Pivot {
	tb.Helper()
	p, err := retrieval.LoadPivot(retrieval.FreeDictReversePath, retrieval.FreeDictPath)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skip("dict-freedict-nld-eng or dict-freedict-eng-nld is not installed")
	}
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkLoadPivot measures what the first Dutch question waits for.
func BenchmarkLoadPivot(b *testing.B) {
	installedPivot(b)
	for b.Loop() {
		installedPivot(b)
	}
}

// BenchmarkExpander_Pivot measures Expand on a Dutch question with the
// pivot table built.
func BenchmarkExpander_Pivot(b *testing.B) {
	e, err := retrieval.NewExpander([]string{"id-kaart, identiteitskaart"})
	if err != nil {
		b.Fatal(err)
	}
	e = e.WithPivot(installedPivot(b).WithLemmas(retrieval.DefaultLemmas()))
	for b.Loop() {
		e.Expand("mag mijn werkgever een kopie van mijn id-kaart bewaren als ik ontslagen word")
	}
}
