package chunk_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

func fixturePage(tb testing.TB, name string) htmltext.Page {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := htmltext.ExtractString(string(b))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// checkInvariants asserts what Split promises for every page: pieces fit
// (unless one word is too long), no piece is empty, and the words of all
// body blocks come out in order, none lost, none twice.
func checkInvariants(tb testing.TB, p htmltext.Page, opt chunk.Options, pieces []chunk.Piece) {
	tb.Helper()
	max := opt.MaxChars
	if max <= 0 {
		max = chunk.DefaultOptions().MaxChars
	}
	var got []string
	for _, pc := range pieces {
		if strings.TrimSpace(pc.Text) == "" {
			tb.Errorf("empty piece under %q", pc.Headings)
		}
		if n := utf8.RuneCountInString(pc.Text); n > max && len(strings.Fields(pc.Text)) > 1 {
			tb.Errorf("piece of %d > %d characters: %q", n, max, pc.Text)
		}
		got = append(got, strings.Fields(pc.Text)...)
	}
	// Inlined headings are extra words in the pieces; the body words must
	// be a subsequence, and no body word may be missing.
	i := 0
	for _, b := range p.Blocks {
		if b.Kind == htmltext.Heading {
			continue
		}
		for _, w := range strings.Fields(b.Text) {
			for i < len(got) && got[i] != w {
				i++
			}
			if i == len(got) {
				tb.Fatalf("word %q of block %q missing or out of order", w, b.Text)
			}
			i++
		}
	}
}

func find(pieces []chunk.Piece, s string) (chunk.Piece, bool) {
	for _, pc := range pieces {
		if strings.Contains(pc.Text, s) {
			return pc, true
		}
	}
	return chunk.Piece{}, false
}

func TestSplit_municipalPage(t *testing.T) {
	p := fixturePage(t, "omgevingsvergunning.html")
	pieces := chunk.Split(p, chunk.Options{})
	checkInvariants(t, p, chunk.Options{}, pieces)
	const h1 = "Omgevingsvergunning aanvragen"
	tests := []struct {
		text     string
		headings []string
	}{
		// The short intro and the short first section share the h1; the
		// section's heading moves into the text, marked with its level.
		{"Wilt u bouwen, verbouwen", []string{h1}},
		{"Vergunningcheck\nMet de vergunningcheck", []string{h1}},
		{"U heeft een omgevingsvergunning nodig", []string{h1, "Voorwaarden"}},
		{"Foto's van de huidige situatie", []string{h1, "Voorwaarden"}},
		{"tot € 10.000 | € 250,00", []string{h1, "Kosten"}},
		// Korting is tiny; with Terugbetaling it is still small, so the next
		// h2 section joins too, under the h1 they share. All three headings
		// move into the text.
		{"## Kosten\n### Korting\nGeen.\n### Terugbetaling\nTrekt u uw aanvraag in", []string{h1}},
		{"50% van de leges terug.\n## Hoe lang duurt het?\nDe gemeente beslist binnen 8 weken", []string{h1}},
		{"Het college beslist binnen 12 weken", []string{h1, "Bezwaar maken"}},
	}
	for _, tt := range tests {
		pc, ok := find(pieces, tt.text)
		if !ok {
			t.Errorf("no piece holds %q", tt.text)
			continue
		}
		if !slices.Equal(pc.Headings, tt.headings) {
			t.Errorf("piece with %q has headings %q, want %q", tt.text, pc.Headings, tt.headings)
		}
	}
	for _, pc := range pieces {
		all := strings.Join(pc.Headings, " ") + " " + pc.Text
		for _, bad := range []string{"negeer", "Negeer", "cookies", "Bouwen en verbouwen", "Meer informatie", "Bel 14 0522"} {
			if strings.Contains(all, bad) {
				t.Errorf("piece holds hidden or boilerplate text %q: %q", bad, pc.Text)
			}
		}
		if len(pc.Headings) > 0 && strings.HasPrefix(pc.Text, pc.Headings[len(pc.Headings)-1]+"\n") {
			t.Errorf("piece repeats its heading in the text: %q", pc.Text)
		}
	}
	// The long Voorwaarden paragraph is split at sentence ends.
	for _, pc := range pieces {
		if slices.Equal(pc.Headings, []string{h1, "Voorwaarden"}) && !strings.ContainsAny(pc.Text[len(pc.Text)-1:], ".?!") {
			t.Errorf("Voorwaarden piece does not end a sentence: %q", pc.Text)
		}
	}
	// The long Bezwaar section is split at the block boundary first.
	if pc, _ := find(pieces, "Bent u het niet eens"); pc.Text != "Bent u het niet eens met het besluit? Dan kunt u binnen 6 weken bezwaar maken." && len(pc.Text) > 700 {
		t.Errorf("Bezwaar section not split: %q", pc.Text)
	}
}

func TestSplit_sizes(t *testing.T) {
	p := fixturePage(t, "omgevingsvergunning.html")
	for _, opt := range []chunk.Options{{MaxChars: 80, MinChars: 20}, {MaxChars: 200, MinChars: 60}, {MaxChars: 5000}, {MaxChars: 30, MinChars: 500}} {
		pieces := chunk.Split(p, opt)
		checkInvariants(t, p, opt, pieces)
	}
}

func TestSplit_rules(t *testing.T) {
	long := strings.Repeat("Dit is een zin over de milieustraat. ", 30) // 1110 characters
	tests := []struct {
		name string
		page htmltext.Page
		opt  chunk.Options
		want []string // "h1 > h2: text"
	}{
		{"empty page", htmltext.Page{}, chunk.Options{}, nil},
		{"intro before first heading", htmltext.FromMarkdown("Inleiding die lang genoeg is om niet samengevoegd te worden met wat volgt.\n\n## Kop\n\nTekst onder de kop die ook lang genoeg is voor een eigen stuk, ja echt."),
			chunk.Options{MinChars: 40},
			[]string{": Inleiding die lang genoeg is om niet samengevoegd te worden met wat volgt.",
				"Kop: Tekst onder de kop die ook lang genoeg is voor een eigen stuk, ja echt."}},
		{"intro under the h1", htmltext.FromMarkdown("# Titel\n\nInleiding.\n\n## Kop\n\nTekst."), chunk.Options{MinChars: 5},
			[]string{"Titel: Inleiding.", "Titel > Kop: Tekst."}},
		{"small sections merge under their parent", htmltext.FromMarkdown("# T\n\n## A\n\nkort a\n\n### A1\n\nkort a1\n\n## B\n\nkort b"), chunk.Options{},
			[]string{"T: ## A\nkort a\n### A1\nkort a1\n## B\nkort b"}},
		{"merge stops at MaxChars", htmltext.FromMarkdown("## A\n\naaaa\n\n## B\n\nbbbbbbbbbb\n\n## C\n\ncccccccccc"), chunk.Options{MaxChars: 23, MinChars: 10},
			[]string{": # A\naaaa\n# B\nbbbbbbbbbb", "C: cccccccccc"}},
		{"tiny last section joins the one before", htmltext.FromMarkdown("## A\n\n" + strings.Repeat("a", 30) + "\n\n## B\n\nb"), chunk.Options{MaxChars: 100, MinChars: 10},
			[]string{": # A\n" + strings.Repeat("a", 30) + "\n# B\nb"}},
		{"empty heading above a subsection disappears", htmltext.FromMarkdown("## A\n\n### A1\n\n" + strings.Repeat("x ", 20)), chunk.Options{MinChars: 10},
			[]string{"A > A1: " + strings.TrimSpace(strings.Repeat("x ", 20))}},
		{"long block splits evenly at sentences", htmltext.FromMarkdown("## Lang\n\n" + long), chunk.Options{},
			[]string{"Lang: " + strings.TrimSpace(strings.Repeat("Dit is een zin over de milieustraat. ", 15)),
				"Lang: " + strings.TrimSpace(strings.Repeat("Dit is een zin over de milieustraat. ", 15))}},
		{"blocks are packed whole and evenly", htmltext.FromText("een twee drie\n\nvier vijf zes\n\nzeven acht"), chunk.Options{MaxChars: 27, MinChars: 1},
			[]string{": een twee drie", ": vier vijf zes\nzeven acht"}},
		{"tiny tail is evened out", htmltext.FromText("aaaa aaaa\n\nbbbb bbbb\n\ncc"), chunk.Options{MaxChars: 20, MinChars: 8},
			[]string{": aaaa aaaa", ": bbbb bbbb\ncc"}},
		{"sentence longer than MaxChars splits at spaces", htmltext.FromText("een twee drie vier vijf zes zeven"), chunk.Options{MaxChars: 10, MinChars: 1},
			[]string{": een twee", ": drie vier", ": vijf zes", ": zeven"}},
		{"a word longer than MaxChars stays whole", htmltext.FromText("kort https://www.holtewaard.nl/heel/lange/link kort"), chunk.Options{MaxChars: 10, MinChars: 1},
			[]string{": kort", ": https://www.holtewaard.nl/heel/lange/link", ": kort"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pieces := chunk.Split(tt.page, tt.opt)
			var got []string
			for _, pc := range pieces {
				got = append(got, strings.Join(pc.Headings, " > ")+": "+pc.Text)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("pieces:\n got %q\nwant %q", got, tt.want)
			}
			checkInvariants(t, tt.page, tt.opt, pieces)
		})
	}
}

func TestSplit_defaults(t *testing.T) {
	p := fixturePage(t, "omgevingsvergunning.html")
	if a, b := chunk.Split(p, chunk.Options{}), chunk.Split(p, chunk.DefaultOptions()); !slices.EqualFunc(a, b, func(x, y chunk.Piece) bool {
		return x.Text == y.Text && slices.Equal(x.Headings, y.Headings)
	}) {
		t.Error("zero Options and DefaultOptions split differently")
	}
}

func TestSplit_headingsAreSafe(t *testing.T) {
	p := htmltext.FromMarkdown("# T\n\n## A\n\na\n\n## B\n\n" + strings.Repeat("b ", 100))
	pieces := chunk.Split(p, chunk.Options{MaxChars: 300, MinChars: 2})
	for _, pc := range pieces {
		_ = append(pc.Headings, "X")
	}
	for _, pc := range chunk.Split(p, chunk.Options{MaxChars: 300, MinChars: 2}) {
		if slices.Contains(pc.Headings, "X") {
			t.Fatalf("appending to a piece's headings changed the page: %q", pc.Headings)
		}
	}
}
