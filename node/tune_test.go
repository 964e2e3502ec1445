package node_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// TestTuneRerank prints retrieval quality for a grid of re-ranking weights.
// It is a calibration tool, not a check: it runs only when
// ASSISTENT_TUNE_DATA (a data directory with the corpus ingested and a
// tenant "eval") and ASSISTENT_TUNE_SET (a queries.jsonl) are set.
func TestTuneRerank(t *testing.T) {
	data, set := os.Getenv("ASSISTENT_TUNE_DATA"), os.Getenv("ASSISTENT_TUNE_SET")
	if data == "" || set == "" {
		t.Skip("set ASSISTENT_TUNE_DATA and ASSISTENT_TUNE_SET to calibrate")
	}
	var queries []quality.Query
	for _, path := range strings.Split(set, ",") {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := quality.ReadQueries(f, path)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, qs...)
	}
	base := node.DefaultConfig()
	base.DataDir = data
	type variant struct {
		name string
		edit func(*node.Config)
	}
	var variants []variant
	for _, vw := range []float64{0.5, 0.75, 1} {
		for _, title := range []float64{0.6, 1, 1.5} {
			for _, cov := range []float64{0.2, 0.4, 0.8} {
				for _, fusion := range []float64{0.5, 1} {
					variants = append(variants, variant{fmt.Sprintf("vector=%.2f title=%.1f coverage=%.1f fusion=%.1f", vw, title, cov, fusion), func(c *node.Config) {
						c.Search.VectorWeight, c.Search.Rerank.Title, c.Search.Rerank.Coverage, c.Search.Rerank.Fusion = vw, title, cov, fusion
					}})
				}
			}
		}
	}
	for _, v := range variants {
		cfg := base
		v.edit(&cfg)
		n, err := node.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := quality.EvalRetrieval(context.Background(), "rerank", queries, func(ctx context.Context, q string) ([]string, error) {
			res, err := n.Search(ctx, "eval", q, 40, hybrid.ModeRerank)
			var ids []string
			for _, r := range hybrid.GroupByDoc(res) {
				ids = append(ids, r.Chunk.DocID)
			}
			return ids, err
		})
		n.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%.4f %.4f %.4f  %s\n", m.NDCG10, m.Recall10, m.MRR10, v.name)
	}
}

// TestSearchLoad runs the resident queries of ASSISTENT_TUNE_SET against
// ASSISTENT_LOAD_DATA (tenant "bench") for profiling with -cpuprofile.
func TestSearchLoad(t *testing.T) {
	data, set := os.Getenv("ASSISTENT_LOAD_DATA"), os.Getenv("ASSISTENT_TUNE_SET")
	if data == "" || set == "" {
		t.Skip("set ASSISTENT_LOAD_DATA and ASSISTENT_TUNE_SET to profile")
	}
	f, err := os.Open(set)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := quality.ReadQueries(f, set)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = data
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	mode, _ := hybrid.ParseMode(os.Getenv("ASSISTENT_LOAD_MODE"))
	for range 3 {
		for _, q := range qs {
			if _, err := n.Search(context.Background(), "bench", q.Question, 10, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
}
