package node_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// TestFitRerank fits the re-ranker's weights as a model on the tune
// halves of the development sets and prints the fitted configuration. It
// is a calibration tool, not a check: it runs only when ASSISTENT_TUNE_DATA
// (a data directory) and ASSISTENT_TUNE_SET (comma-separated FILE or
// FILE@TENANT, tenant "eval" by default, paths relative to the
// repository root) are set. Only lines with
// "split": "tune" are read; a set without splits is refused, so a test set
// cannot slip into the fit.
//
// Each tune question's pool (the fused candidates the re-ranker sees)
// is measured once; the candidates of a relevant page are positive. The
// fit (pairwise or pointwise logistic, ridge penalty) is chosen by 5-fold
// cross-validation over the tune questions, on nDCG@10 of the pools
// re-scored offline, then fitted on all of them.
func TestFitRerank(t *testing.T) {
	data, set := os.Getenv("ASSISTENT_TUNE_DATA"), os.Getenv("ASSISTENT_TUNE_SET")
	if data == "" || set == "" {
		t.Skip("set ASSISTENT_TUNE_DATA and ASSISTENT_TUNE_SET to fit")
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = data
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	type question struct {
		set      string
		relevant []string
		pool     []hybrid.Result
	}
	var qs []question
	for _, spec := range strings.Split(set, ",") {
		path, tenant, ok := strings.Cut(spec, "@")
		if !ok {
			tenant = "eval"
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join("..", path) // the repository root, not node/
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		all, err := quality.ReadQueries(f, path)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range all {
			switch q.Split {
			case "tune":
			case "heldout":
				continue
			default:
				t.Fatalf("%s: a line without \"split\" (%q): only the tune halves of development sets may be fitted on", path, q.Question)
			}
			// k above the pool: every candidate comes back, re-ranked.
			pool, err := n.Search(context.Background(), tenant, q.Question, 40, hybrid.ModeRerank)
			if err != nil {
				t.Fatal(err)
			}
			qs = append(qs, question{path, q.Relevant, pool})
		}
	}
	judged := func(q question) hybrid.JudgedPool {
		var p hybrid.JudgedPool
		for _, r := range q.pool {
			p.Features = append(p.Features, r.Features)
			p.Relevant = append(p.Relevant, slices.Contains(q.relevant, r.Chunk.DocID))
		}
		return p
	}
	ndcg := func(rc hybrid.RerankConfig, q question) float64 {
		var ids []string
		for _, r := range hybrid.GroupByDoc(rc.Rescore(slices.Clone(q.pool), len(q.pool))) {
			ids = append(ids, r.Chunk.DocID)
		}
		return quality.Score(ids, q.relevant).NDCG10
	}
	base := cfg.Search.Rerank
	var sum float64
	for _, w := range base.Weights() {
		sum += math.Abs(w)
	}
	fitted := func(qs []question, fit hybrid.RerankFit) hybrid.RerankConfig {
		var ps []hybrid.JudgedPool
		for _, q := range qs {
			ps = append(ps, judged(q))
		}
		w, _, err := hybrid.FitRerank(ps, fit, sum)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := base.WithWeights(w)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	const folds = 5
	var fits []hybrid.RerankFit
	for _, l2 := range []float64{0.01, 0.1, 1, 10} {
		fits = append(fits, hybrid.RerankFit{L2: l2}, hybrid.RerankFit{L2: l2, Pointwise: true})
	}
	var cvBase float64
	for _, q := range qs {
		cvBase += ndcg(base, q) / float64(len(qs))
	}
	fmt.Printf("%d tune questions; default weights %.3f: nDCG@10 %.4f\n", len(qs), base.Weights(), cvBase)
	best, bestCV := fits[0], -1.0
	for _, fit := range fits {
		var cv float64
		for k := range folds {
			var train, test []question
			for i, q := range qs {
				if i%folds == k {
					test = append(test, q)
				} else {
					train = append(train, q)
				}
			}
			rc := fitted(train, fit)
			for _, q := range test {
				cv += ndcg(rc, q) / float64(len(qs))
			}
		}
		fmt.Printf("cv nDCG@10 %.4f  l2=%g pointwise=%v\n", cv, fit.L2, fit.Pointwise)
		if cv > bestCV {
			best, bestCV = fit, cv
		}
	}
	rc := fitted(qs, best)
	fmt.Printf("chosen l2=%g pointwise=%v; fitted on all %d tune questions:\n", best.L2, best.Pointwise, len(qs))
	for j, name := range hybrid.RerankFeatureNames {
		fmt.Printf("  %-9s %.3f (default %.3f)\n", name, rc.Weights()[j], base.Weights()[j])
	}
	bySet := map[string][2]float64{}
	var order []string
	for _, q := range qs {
		if _, ok := bySet[q.set]; !ok {
			order = append(order, q.set)
		}
		v := bySet[q.set]
		v[0] += ndcg(base, q)
		v[1] += ndcg(rc, q)
		bySet[q.set] = v
	}
	for _, s := range order {
		k := 0
		for _, q := range qs {
			if q.set == s {
				k++
			}
		}
		fmt.Printf("  %s tune (in-sample): nDCG@10 default %.4f, fitted %.4f\n", s, bySet[s][0]/float64(k), bySet[s][1]/float64(k))
	}
	fmt.Printf("Fusion: %.2f, BM25: %.2f, Title: %.2f, Coverage: %.2f, Proximity: %.2f, Local: %.2f\n", rc.Fusion, rc.BM25, rc.Title, rc.Coverage, rc.Proximity, rc.Local)
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
