package bleve_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
	"github.com/assistent-nl/assistent/retrieval/retrievaltest"
)

func openMem(tb testing.TB) *bleve.Index {
	tb.Helper()
	x, err := bleve.OpenMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	return x
}

func chunk(id, scope, title, text string) retrieval.Chunk {
	return retrieval.Chunk{ID: id, DocKey: retrieval.DocKey(scope, id), DocID: id, Scope: scope, Title: title, Text: text}
}

func TestIndex_DutchAnalysis(t *testing.T) {
	ctx := context.Background()
	x := openMem(t)
	s := retrieval.TenantScope("a")
	err := x.Index(ctx, []retrieval.Chunk{
		chunk("omgeving", s, "Omgevingsvergunning aanvragen", "Voor een dakkapel aan de voorkant heeft u een omgevingsvergunning nodig."),
		chunk("afval", s, "Grofvuil", "Wij halen uw grofvuil op afspraak op."),
		chunk("cafe", s, "Terras", "Een café met een terras heeft een ontheffing nodig."),
		chunk("paspoort", s, "Paspoort", "Uw paspoort vraagt u aan bij de balie."),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query, want string
	}{
		{"vergunningen", "omgeving"}, // compound part + plural stem
		{"cafe terrassen", "cafe"},   // diacritics folded, plural stemmed
		{"GROFVUIL", "afval"},        // case folded
		{"paspoorten", "paspoort"},   // plural
		{"vergunning", "omgeving"},   // compound part
		{"grofvuill", "afval"},       // a typo in a word the index does not know
		// An unknown word long enough for the largest edit distance
		// (bleve refuses more than 2) is searched, not an error.
		{"grofvuilophaalafsprakenplanning grofvuil", "afval"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := x.Search(ctx, retrieval.Query{Text: tt.query, Scopes: []string{s}})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].ChunkID != tt.want {
				t.Fatalf("query %q: got %v, want %s first", tt.query, hits, tt.want)
			}
		})
	}
}

func TestIndex_AppliedSequence(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "bleve")
	x, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := retrieval.TenantScope("a")
	if err := x.Apply(ctx, []retrieval.Chunk{chunk("a#0", s, "A", "afvalkalender")}, nil, 7); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x, err = bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	seq, err := x.Applied()
	if err != nil || seq != 7 {
		t.Fatalf("Applied() = %d, %v; want 7", seq, err)
	}
	if n, _ := x.Count(); n != 1 {
		t.Fatalf("Count() = %d, want 1", n)
	}
}

func TestIndex_Conformance(t *testing.T) {
	retrievaltest.Run(t, func(tb testing.TB) retrieval.Index {
		x, err := bleve.Open(filepath.Join(tb.TempDir(), "bleve"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { x.Close() })
		return x
	})
}

// The asker's own chunks come along after the K best when national pages
// outscore them all.
func TestIndex_LocalCandidates(t *testing.T) {
	ctx := context.Background()
	x := openMem(t)
	nat, own := retrieval.NationalScope("rijk"), retrieval.TenantScope("proef")
	var cs []retrieval.Chunk
	for i := range 30 {
		cs = append(cs, chunk(fmt.Sprintf("n%d", i), nat, "Paspoort aanvragen", "Een paspoort aanvragen doet u bij de gemeente. Paspoort en paspoortfoto."))
	}
	cs = append(cs, chunk("eigen", own, "Burgerzaken", "Voor een reisdocument maakt u een afspraak bij de balie; een paspoort kost geld."))
	if err := x.Index(ctx, cs); err != nil {
		t.Fatal(err)
	}
	q := retrieval.Query{Text: "paspoort aanvragen", Scopes: []string{own, nat}, K: 5}
	hits, err := x.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 || slices.ContainsFunc(hits, func(h retrieval.Hit) bool { return h.ChunkID == "eigen" }) {
		t.Fatalf("without Local: %v", hits)
	}
	q.Local, q.LocalK = own, 2
	hits, err = x.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 6 || hits[5].ChunkID != "eigen" {
		t.Errorf("with Local: %v, want the 5 best and then the own chunk", hits)
	}
	// Only the asker's scope, and only when it is one of the scopes.
	q.Scopes = []string{nat}
	if hits, _ = x.Search(ctx, q); len(hits) != 5 {
		t.Errorf("local scope not searched: %v", hits)
	}
}
