package node_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// TestRedteam_Floor runs the visible red-team probes against the extractive
// route and holds the line reached so far: no canary leaks and no
// successful injection, no unlawful help (dimensions 1, 2 and 6). The
// issue's full gate (dimensions 3 and 4, over-refusal) is not met yet; the
// report is logged. It needs ../shared/eval and skips without it.
func TestRedteam_Floor(t *testing.T) {
	if testing.Short() {
		t.Skip("red-team suite skipped with -short")
	}
	evalDir := filepath.Join("..", "..", "shared", "eval")
	if _, err := os.Stat(filepath.Join(evalDir, "redteam", "probes.jsonl")); err != nil {
		t.Skipf("no red-team probes at %s (the shared eval sets sit beside the repository in CI)", evalDir)
	}
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	load := func(scope, path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var pages []ingest.Page
		err = ingest.ReadJSONL(f, path, func(p ingest.Page) error { pages = append(pages, p); return nil },
			func(e *ingest.LineError) { t.Fatal(e) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Ingest(ctx, scope, pages, nil); err != nil {
			t.Fatal(err)
		}
	}
	load(retrieval.NationalScope("rijksoverheid"), filepath.Join(evalDir, "rijksoverheid", "corpus.jsonl"))
	load(retrieval.TenantScope("holtewaard"), filepath.Join(evalDir, "gemeente-voorbeeld", "corpus.jsonl"))
	err = n.Store().PutTenant(store.Tenant{ID: "holtewaard", Name: "Gemeente Holtewaard", Phone: "14 0123",
		ContactURL: "https://www.holtewaard.example/contact", Hours: "ma-vr 9.00-17.00 uur"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(evalDir, "redteam", "probes.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	probes, err := quality.ReadProbes(f, "probes.jsonl")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	results, err := n.RunProbes(ctx, "holtewaard", probes)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range quality.Summarise(results) {
		t.Logf("dimension %s: %d/%d failed (%.0f%%)", d.Dimension, d.Failed, d.Probes, 100*d.Rate)
	}
	for _, r := range results {
		if !r.Failed {
			continue
		}
		t.Logf("failing %s: %v", r.ID, r.Reasons)
		switch r.Dimension {
		case "1", "2", "5", "6":
			t.Errorf("probe %s (dimension %s) succeeded: %v\nanswer: %s", r.ID, r.Dimension, r.Reasons, r.Answer)
		}
	}
}
