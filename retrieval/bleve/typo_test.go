package bleve_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

// A misspelt word is searched as the index terms near it, the likeliest
// (closest, then most common) weighted most: "rijbeweis" must find the
// driving-licence pages, not the one page that happens to hold a rare word
// that lies as near ("rijbeweeg"), however high that word's IDF.
func TestIndex_TypoPrefersCommonTerm(t *testing.T) {
	ctx := context.Background()
	x := openMem(t)
	s := retrieval.TenantScope("a")
	var cs []retrieval.Chunk
	for i := range 8 {
		cs = append(cs, chunk(fmt.Sprintf("rijbewijs%d", i), s, "Rijbewijs", "Uw rijbewijs verlengt u bij de gemeente."))
	}
	for i := range 40 {
		cs = append(cs, chunk(fmt.Sprintf("ander%d", i), s, "Afval", "Het grofvuil halen wij op afspraak op."))
	}
	cs = append(cs, chunk("voorschot", s, "Voorschot AOW", "Een voorschot op de AOW; rijbeweeg."))
	if err := x.Index(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"rijbeweis", "rijbeweis kwijt"} {
		hits, err := x.Search(ctx, retrieval.Query{Text: q, Scopes: []string{s}, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ChunkID == "voorschot" {
			t.Errorf("%q: got %v, want a rijbewijs chunk first", q, hits)
		}
	}
}

func TestIndex_UnknownWords(t *testing.T) {
	ctx := context.Background()
	x := openMem(t)
	s := retrieval.TenantScope("a")
	if err := x.Index(ctx, []retrieval.Chunk{
		chunk("r", s, "Rijbewijs verlengen", "Uw rijbewijs verlengt u bij de gemeente."),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := x.UnknownWords(ctx, "Rijbeweis verlengen bij de gemeente, rijbeweis! Kan dat?")
	if err != nil {
		t.Fatal(err)
	}
	// Known words (also inflected: "verlengen"), stop words and short
	// words are not reported; an unknown word once, folded.
	if want := []string{"rijbeweis"}; !slices.Equal(got, want) {
		t.Errorf("UnknownWords = %q, want %q", got, want)
	}
}
