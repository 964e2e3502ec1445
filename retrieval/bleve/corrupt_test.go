package bleve_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
	"github.com/assistent-nl/assistent/retrieval/bleve/blevetest"
)

// diskIndex creates an on-disk index in a fresh directory holding n chunks,
// closes it so that its segments are persisted, and returns the directory.
func diskIndex(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "bleve")
	x, err := bleve.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	s := retrieval.TenantScope("a")
	var cs []retrieval.Chunk
	for i := range n {
		cs = append(cs, chunk(fmt.Sprint("c", i), s, fmt.Sprintf("Paspoort aanvragen %d", i),
			fmt.Sprintf("Uw paspoort vraagt u aan bij de balie %d; grofvuil halen wij op afspraak %d.", i, i*7)))
	}
	if err := x.Apply(context.Background(), cs, nil, 7); err != nil {
		tb.Fatal(err)
	}
	if err := x.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestOpen_CorruptSegment(t *testing.T) {
	dir := diskIndex(t, 500)
	if err := bleve.VerifySegments(dir); err != nil {
		t.Fatalf("intact index: %v", err)
	}
	blevetest.CorruptSegments(t, dir, 0.5)
	if err := bleve.VerifySegments(dir); !errors.Is(err, bleve.ErrCorrupt) {
		t.Fatalf("VerifySegments = %v, want ErrCorrupt", err)
	}
	x, err := bleve.Open(dir)
	if !errors.Is(err, bleve.ErrCorrupt) {
		if x != nil {
			x.Close()
		}
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

// TestIndex_CorruptWhileOpen damages the segments under the open index
// (scorch reads them through mmap, so the reads see the damage): searches
// fail with an error, never a panic, and Rebuild puts a working index in
// place.
func TestIndex_CorruptWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := diskIndex(t, 500)
	x, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	q := retrieval.Query{Text: "paspoort balie", Scopes: []string{retrieval.TenantScope("a")}}
	if hits, err := x.Search(ctx, q); err != nil || len(hits) == 0 {
		t.Fatalf("before: %d hits, %v", len(hits), err)
	}
	blevetest.CorruptSegments(t, dir, 0, 0.3, 0.6, 0.9)
	if err := x.Verify(); !errors.Is(err, bleve.ErrCorrupt) {
		t.Errorf("Verify of the damaged open index = %v, want ErrCorrupt", err)
	}
	if _, err := x.Search(ctx, q); err == nil {
		t.Fatal("search over damaged segments succeeded")
	} else {
		t.Logf("search over damaged segments: %v", err)
	}
	err = x.Rebuild(ctx, func(fresh *bleve.Index) error {
		return fresh.Apply(ctx, []retrieval.Chunk{chunk("p", retrieval.TenantScope("a"), "Paspoort", "Een paspoort vraagt u aan bij de balie.")}, nil, 9)
	})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := x.Search(ctx, q)
	if err != nil || len(hits) != 1 || hits[0].ChunkID != "p" {
		t.Fatalf("after rebuild: %v, %v", hits, err)
	}
	if err := x.Verify(); err != nil {
		t.Errorf("Verify after rebuild: %v", err)
	}
	if seq, err := x.Applied(); err != nil || seq != 9 {
		t.Fatalf("applied after rebuild = %d, %v", seq, err)
	}
	if _, err := os.Stat(dir + ".rebuild"); !os.IsNotExist(err) {
		t.Errorf("rebuild directory left behind: %v", err)
	}
}
