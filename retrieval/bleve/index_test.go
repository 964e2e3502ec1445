package bleve_test

import (
	"context"
	"path/filepath"
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
