package embed_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/assistent-nl/assistent/retrieval/embed"
)

func embedOne(tb testing.TB, e *embed.Lexical, text string) []float32 {
	tb.Helper()
	vs, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		tb.Fatal(err)
	}
	if len(vs) != 1 || len(vs[0]) != e.Dim() {
		tb.Fatalf("Embed(%q): got %d vectors, want 1 of dim %d", text, len(vs), e.Dim())
	}
	return vs[0]
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNewLexical(t *testing.T) {
	tests := []struct {
		dim, want int
		name      string
	}{
		{0, 256, "lexical-v1-256"},
		{-3, 256, "lexical-v1-256"},
		{64, 64, "lexical-v1-64"},
		{384, 384, "lexical-v1-384"},
	}
	for _, tt := range tests {
		e := embed.NewLexical(tt.dim)
		if e.Dim() != tt.want || e.Name() != tt.name {
			t.Errorf("NewLexical(%d): Dim %d Name %q, want %d %q", tt.dim, e.Dim(), e.Name(), tt.want, tt.name)
		}
	}
}

func TestLexical_Embed(t *testing.T) {
	e := embed.NewLexical(256)
	t.Run("normalised and deterministic", func(t *testing.T) {
		a := embedOne(t, e, "Paspoort aanvragen bij de gemeente")
		b := embedOne(t, embed.NewLexical(256), "Paspoort aanvragen bij de gemeente")
		if !equal(a, b) {
			t.Fatal("same text gave different vectors")
		}
		var sum float64
		for _, x := range a {
			sum += float64(x) * float64(x)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("squared norm %v, want 1", sum)
		}
	})
	t.Run("no words gives the zero vector", func(t *testing.T) {
		for _, text := range []string{"", "  ,.!? -- ", "de het een"} {
			for _, x := range embedOne(t, e, text) {
				if x != 0 {
					t.Fatalf("Embed(%q) is not zero", text)
				}
			}
		}
	})
	t.Run("case, diacritics and punctuation fold", func(t *testing.T) {
		pairs := [][2]string{
			{"Café CAFÉ", "cafe cafe"},
			{"ĲSSEL Œuvre straße", "ijssel oeuvre strasse"},
			{"cafe\u0301 reünie", "café reunie"}, // decomposed accent
			{"financiële  hulp!", "financiele hulp"},
		}
		for _, p := range pairs {
			if !equal(embedOne(t, e, p[0]), embedOne(t, e, p[1])) {
				t.Errorf("%q and %q differ", p[0], p[1])
			}
		}
	})
	t.Run("stop words are ignored", func(t *testing.T) {
		a := embedOne(t, e, "Hoe kan ik mijn paspoort aanvragen?")
		b := embedOne(t, e, "paspoort aanvragen")
		if !equal(a, b) {
			t.Fatal("stop words changed the vector")
		}
	})
	t.Run("shared words and pieces score higher", func(t *testing.T) {
		q := embedOne(t, e, "parkeervergunnig aanvragen") // typo on purpose
		good := embedOne(t, e, "Een parkeervergunning vraagt u online aan. Met de vergunning parkeert u in uw wijk.")
		bad := embedOne(t, e, "Grofvuil wordt op afspraak opgehaald aan de straat.")
		if cg, cb := cosine(q, good), cosine(q, bad); cg <= cb+0.1 {
			t.Fatalf("cos(typo query, matching) = %.3f, cos(unrelated) = %.3f", cg, cb)
		}
		compound := cosine(embedOne(t, e, "vergunning"), embedOne(t, e, "omgevingsvergunning"))
		other := cosine(embedOne(t, e, "vergunning"), embedOne(t, e, "verhuizing"))
		if compound <= other {
			t.Fatalf("cos(vergunning, omgevingsvergunning) = %.3f <= cos(vergunning, verhuizing) = %.3f", compound, other)
		}
	})
	t.Run("non-Latin words are kept", func(t *testing.T) {
		a := embedOne(t, e, "Паспорт")
		b := embedOne(t, e, "паспорт")
		if !equal(a, b) || cosine(a, embedOne(t, e, "paspoort")) > 0.5 {
			t.Fatal("Cyrillic word not lower-cased or confused with Latin")
		}
	})
	t.Run("batch equals one by one", func(t *testing.T) {
		texts := []string{"grofvuil ophalen", "verhuizing doorgeven", ""}
		vs, err := e.Embed(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range texts {
			if !equal(vs[i], embedOne(t, e, text)) {
				t.Fatalf("text %d differs in a batch", i)
			}
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestLexical_FoldTable checks the diacritic table against Unicode
// decomposition: every Latin-1 and Latin Extended-A letter that decomposes
// into an ASCII letter plus marks embeds like that letter.
func TestLexical_FoldTable(t *testing.T) {
	e := embed.NewLexical(256)
	checked := 0
	for r := rune(0xC0); r <= 0x17F; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		d := norm.NFD.String(string(r))
		base := strings.ToLower(d[:1])
		if d[0] >= 0x80 || len(d) == 1 || !unicode.IsLetter(rune(d[0])) {
			continue // no ASCII decomposition (æ, ß, ø, ł, ...): covered above or left alone
		}
		got := embedOne(t, e, "x"+string(r)+"yz")
		want := embedOne(t, e, "x"+base+"yz")
		if !equal(got, want) {
			t.Errorf("%q (U+%04X) does not fold to %q", r, r, base)
		}
		checked++
	}
	if checked < 150 {
		t.Fatalf("checked only %d letters", checked)
	}
}

// dutchText is a ~600 character passage, the size of a chunk.
const dutchText = `Een paspoort of identiteitskaart vraagt u aan bij de gemeente waar u
staat ingeschreven. Maak eerst een afspraak via de website. Neem een goedgekeurde pasfoto
mee die niet ouder is dan zes maanden, en uw oude paspoort of identiteitskaart. Bent u uw
document kwijt of is het gestolen? Doe dan eerst aangifte bij de politie. De kosten voor
volwassenen zijn € 84,95 voor een paspoort. Na ongeveer vijf werkdagen kunt u het nieuwe
document ophalen aan de balie in het stadhuis. Vergeet niet uw afspraakbevestiging mee te
nemen. Kinderen onder de 12 jaar moeten bij de aanvraag aanwezig zijn voor de foto.`

func BenchmarkLexical_Embed(b *testing.B) {
	e := embed.NewLexical(256)
	ctx := context.Background()
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = dutchText
	}
	b.SetBytes(int64(len(dutchText) * len(texts)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
