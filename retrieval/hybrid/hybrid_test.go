package hybrid_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
	"github.com/assistent-nl/assistent/retrieval/embed"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
	"github.com/assistent-nl/assistent/retrieval/vector"
)

// chunkMap is an in-memory chunk source.
type chunkMap map[string]retrieval.Chunk

func (m chunkMap) Chunks(ids []string) (map[string]retrieval.Chunk, error) {
	out := map[string]retrieval.Chunk{}
	for _, id := range ids {
		if c, ok := m[id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

func newSearcher(tb testing.TB, chunks []retrieval.Chunk) *hybrid.Searcher {
	tb.Helper()
	ctx := context.Background()
	lex, err := bleve.OpenMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lex.Close() })
	emb := embed.NewLexical(256)
	vec := vector.New(emb.Dim())
	src := chunkMap{}
	for i := range chunks {
		vs, err := emb.Embed(ctx, []string{chunks[i].Title + "\n" + chunks[i].Text})
		if err != nil {
			tb.Fatal(err)
		}
		chunks[i].Vector = vs[0]
		src[chunks[i].ID] = chunks[i]
	}
	if err := lex.Index(ctx, chunks); err != nil {
		tb.Fatal(err)
	}
	if err := vec.Index(ctx, chunks); err != nil {
		tb.Fatal(err)
	}
	an := retrieval.NewAnalyzer()
	s, err := hybrid.New(hybrid.DefaultConfig(), hybrid.Deps{Lexical: lex, Vector: vec, Embedder: emb,
		Chunks: src, Expander: retrieval.DefaultExpander(), Terms: an.Terms})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mk(doc, id, title, text string) retrieval.Chunk {
	scope := retrieval.TenantScope("t")
	key := retrieval.DocKey(scope, doc)
	return retrieval.Chunk{ID: key + "#" + id, DocKey: key, DocID: doc, Scope: scope, Title: title, Text: text}
}

func TestSearcher_Modes(t *testing.T) {
	chunks := []retrieval.Chunk{
		mk("id", "0", "Identiteitskaart aanvragen", "U vraagt een identiteitskaart aan bij de balie van het gemeentehuis."),
		mk("stort", "0", "Milieustraat", "Bij de milieustraat brengt u grof afval, hout en puin. Open op zaterdag."),
		mk("stort-kopie", "0", "Milieustraat (oude pagina)", "Bij de milieustraat brengt u grof afval, hout en puin. Open op zaterdag."),
		mk("park", "0", "Parkeren", "Een parkeervergunning vraagt u online aan."),
	}
	s := newSearcher(t, chunks)
	ctx := context.Background()
	scopes := []string{retrieval.TenantScope("t")}

	t.Run("synonyms reach words the page uses", func(t *testing.T) {
		// "id-kaart" and "stort" are not on the pages; the expander adds
		// "identiteitskaart" and "milieustraat".
		for q, want := range map[string]string{"id-kaart kwijt": "id", "is de stort zaterdag open": "stort"} {
			res, err := s.Search(ctx, hybrid.Request{Text: q, Scopes: scopes, K: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 0 || res[0].Chunk.DocID != want {
				t.Fatalf("%q: got %v, want %s first", q, ids(res), want)
			}
		}
	})
	t.Run("rerank removes near-duplicates", func(t *testing.T) {
		res, err := s.Search(ctx, hybrid.Request{Text: "milieustraat puin", Scopes: scopes, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range res {
			if r.Chunk.DocID == "stort" || r.Chunk.DocID == "stort-kopie" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("want one of the two identical pages, got %v", ids(res))
		}
		res, _ = s.Search(ctx, hybrid.Request{Text: "milieustraat puin", Scopes: scopes, K: 5, Mode: hybrid.ModeHybrid})
		if len(res) < 2 {
			t.Fatalf("hybrid without rerank keeps both copies, got %v", ids(res))
		}
	})
	t.Run("vector mode matches word pieces", func(t *testing.T) {
		res, err := s.Search(ctx, hybrid.Request{Text: "parkeervergunnig", Scopes: scopes, K: 2, Mode: hybrid.ModeVector})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 || res[0].Chunk.DocID != "park" {
			t.Fatalf("typo query: got %v", ids(res))
		}
	})
	t.Run("other scopes are not searched", func(t *testing.T) {
		res, _ := s.Search(ctx, hybrid.Request{Text: "parkeervergunning", Scopes: []string{"t:ander"}, K: 2})
		if len(res) != 0 {
			t.Fatalf("got %v from a scope without documents", ids(res))
		}
	})
}

func ids(rs []hybrid.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Chunk.DocID)
	}
	return out
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]hybrid.Mode{"": hybrid.ModeRerank, "bm25": hybrid.ModeBM25, "vector": hybrid.ModeVector, "hybrid": hybrid.ModeHybrid} {
		if got, err := hybrid.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := hybrid.ParseMode("semantic"); err == nil {
		t.Error("ParseMode accepts an unknown mode")
	}
}

// A verb the question splits ("Hoe meld ik mijn hond aan?") finds the page
// that writes it whole ("aanmelden") before one that shares only the noun.
func TestSearcher_SeparableVerb(t *testing.T) {
	chunks := []retrieval.Chunk{
		mk("belasting", "0", "Hondenbelasting", "Voor een hond betaalt u hondenbelasting. De hoogte staat op de aanslag."),
		mk("aanmelden", "0", "Hond aanmelden", "Heeft u een nieuwe hond? Via het formulier kunt u aanmelden."),
		mk("afmelden", "0", "Hond afmelden", "Is uw hond overleden of verhuisd? Via het formulier kunt u afmelden."),
	}
	s := newSearcher(t, chunks)
	for q, want := range map[string]string{"Hoe meld ik mijn hond aan?": "aanmelden", "Hoe meld ik mijn hond af?": "afmelden"} {
		for _, mode := range []hybrid.Mode{hybrid.ModeBM25, hybrid.ModeRerank} {
			res, err := s.Search(context.Background(), hybrid.Request{Text: q, Scopes: []string{retrieval.TenantScope("t")}, K: 3, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 0 || res[0].Chunk.DocID != want {
				t.Errorf("%s %q: got %v, want %s first", mode, q, ids(res), want)
			}
		}
	}
}

func TestFuse(t *testing.T) {
	lex := []retrieval.Hit{{ChunkID: "a", Score: 9}, {ChunkID: "b", Score: 5}, {ChunkID: "c", Score: 1}}
	vec := []retrieval.Hit{{ChunkID: "c", Score: 0.9}, {ChunkID: "d", Score: 0.8}, {ChunkID: "a", Score: 0.1}}
	got := hybrid.Fuse(60, 1, lex, vec)
	want := []retrieval.Hit{
		{ChunkID: "a", Score: 1.0/61 + 1.0/63},
		{ChunkID: "c", Score: 1.0/63 + 1.0/61},
		{ChunkID: "b", Score: 1.0 / 62},
		{ChunkID: "d", Score: 1.0 / 62},
	}
	if len(got) != len(want) {
		t.Fatalf("Fuse = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].ChunkID != want[i].ChunkID || math.Abs(got[i].Score-want[i].Score) > 1e-12 {
			t.Errorf("Fuse[%d] = %v, want %v (ties by chunk ID)", i, got[i], want[i])
		}
	}
	// The vector list's weight: at 0 it only adds chunks, after the lexical ones.
	got = hybrid.Fuse(60, 0, lex, vec)
	if ids := []string{got[0].ChunkID, got[1].ChunkID, got[2].ChunkID, got[3].ChunkID}; !slices.Equal(ids, []string{"a", "b", "c", "d"}) {
		t.Errorf("Fuse at weight 0 = %v", got)
	}
}
