package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

type evalReport struct {
	Set     string            `json:"set"`
	Tenant  string            `json:"tenant"`
	Queries int               `json:"queries"`
	Results []quality.Metrics `json:"results"`
}

func (m *Main) runEval(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "retrieval" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(m.Stderr, "Usage: assistent eval retrieval --data DIR --tenant ID --set FILE [--mode MODE] [--json]")
			return nil
		}
		return usagef("eval: want 'eval retrieval --set FILE ...'")
	}
	fs := m.flagSet("eval retrieval", "eval retrieval --data DIR --tenant ID --set FILE [--mode bm25|vector|hybrid|rerank] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant whose content (and national collections) to search")
	set := fs.String("set", "", "query set in the queries.jsonl format: {\"question\",\"relevant\":[ids]}")
	modeName := fs.String("mode", "", "evaluate one mode only; default: bm25, vector, hybrid and rerank (hybrid + rerank)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *tenant == "" || *set == "" {
		return usagef("eval retrieval: --tenant and --set are required")
	}
	modes := []hybrid.Mode{hybrid.ModeBM25, hybrid.ModeVector, hybrid.ModeHybrid, hybrid.ModeRerank}
	if *modeName != "" {
		md, err := hybrid.ParseMode(*modeName)
		if err != nil {
			return usagef("eval retrieval: --mode: %v", err)
		}
		modes = []hybrid.Mode{md}
	}
	f, err := os.Open(*set)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	queries, err := quality.ReadQueries(f, *set)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	if _, err := n.Scopes(*tenant); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep := evalReport{Set: *set, Tenant: *tenant, Queries: len(queries)}
	for _, mode := range modes {
		search := func(ctx context.Context, q string) ([]string, error) {
			line := searchDocs(ctx, n, *tenant, q, 10, mode)
			if line.Error != "" {
				return nil, fmt.Errorf("%s", line.Error)
			}
			ids := make([]string, len(line.Hits))
			for i, h := range line.Hits {
				ids[i] = h.ID
			}
			return ids, nil
		}
		// One warm-up pass keeps first-query costs out of the latency figures.
		if _, err := search(ctx, queries[0].Question); err != nil {
			return err
		}
		met, err := quality.EvalRetrieval(ctx, string(mode), queries, search)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, met)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(m.Stdout, "%s: %d queries, tenant %s\n", rep.Set, rep.Queries, rep.Tenant)
	fmt.Fprintf(m.Stdout, "%-8s %8s %9s %9s %8s %8s %8s %8s\n", "mode", "nDCG@10", "Recall@5", "Recall@10", "MRR@10", "p50 ms", "p95 ms", "p99 ms")
	for _, r := range rep.Results {
		fmt.Fprintf(m.Stdout, "%-8s %8.4f %9.4f %9.4f %8.4f %8.2f %8.2f %8.2f\n", r.Mode, r.NDCG10, r.Recall5, r.Recall10, r.MRR10, r.P50ms, r.P95ms, r.P99ms)
	}
	return nil
}
