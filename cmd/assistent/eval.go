package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/assistent-nl/assistent/node"
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
	if len(args) > 0 && args[0] == "confidence" {
		return m.runEvalConfidence(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "answers" {
		return m.runEvalAnswers(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "retrieval" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(m.Stderr, "Usage: assistent eval retrieval --data DIR --tenant ID --set FILE [--mode MODE] [--json]")
			fmt.Fprintln(m.Stderr, "       assistent eval confidence --data DIR --tenant ID --set FILE [--json]")
			fmt.Fprintln(m.Stderr, "       assistent eval answers --data DIR --tenant ID --set FILE [--config FILE] [--json]")
			return nil
		}
		return usagef("eval: want 'eval retrieval --set FILE ...', 'eval confidence --set FILE ...' or 'eval answers --set FILE ...'")
	}
	fs := m.flagSet("eval retrieval", "eval retrieval --data DIR --tenant ID --set FILE[@TENANT][,...] [--mode bm25|vector|hybrid|rerank] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant whose content (and national collections) to search")
	set := fs.String("set", "", "query sets in the queries.jsonl format {\"question\",\"relevant\":[ids]}, comma separated, each FILE or FILE@TENANT; a set whose lines have \"split\" is reported per half")
	modeName := fs.String("mode", "", "evaluate one mode only; default: bm25, vector, hybrid and rerank (hybrid + rerank)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *set == "" {
		return usagef("eval retrieval: --set is required")
	}
	modes := []hybrid.Mode{hybrid.ModeBM25, hybrid.ModeVector, hybrid.ModeHybrid, hybrid.ModeRerank}
	if *modeName != "" {
		md, err := hybrid.ParseMode(*modeName)
		if err != nil {
			return usagef("eval retrieval: --mode: %v", err)
		}
		modes = []hybrid.Mode{md}
	}
	specs, err := setSpecs("eval retrieval", *set, *tenant)
	if err != nil {
		return err
	}
	type part struct {
		name, tenant string
		queries      []quality.Query
	}
	var parts []part
	for _, sp := range specs {
		queries, err := readSet("eval", sp.path, quality.ReadQueries)
		if err != nil {
			return err
		}
		names, halves := quality.SplitHalves(queries, sp.path, func(q quality.Query) string { return q.Split })
		for i := range names {
			parts = append(parts, part{names[i], sp.tenant, halves[i]})
		}
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	var reps []evalReport
	for _, p := range parts {
		if _, err := n.Scopes(p.tenant); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		rep := evalReport{Set: p.name, Tenant: p.tenant, Queries: len(p.queries)}
		for _, mode := range modes {
			search := func(ctx context.Context, q string) ([]string, error) {
				line := searchDocs(ctx, n, p.tenant, q, 10, mode)
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
			if _, err := search(ctx, p.queries[0].Question); err != nil {
				return err
			}
			met, err := quality.EvalRetrieval(ctx, string(mode), p.queries, search)
			if err != nil {
				return err
			}
			rep.Results = append(rep.Results, met)
		}
		reps = append(reps, rep)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if len(reps) == 1 {
			return enc.Encode(reps[0])
		}
		return enc.Encode(reps)
	}
	if len(reps) > 1 {
		m.printRetrievalSets(reps)
		return nil
	}
	rep := reps[0]
	fmt.Fprintf(m.Stdout, "%s: %d queries, tenant %s\n", rep.Set, rep.Queries, rep.Tenant)
	fmt.Fprintf(m.Stdout, "%-8s %8s %9s %9s %8s %8s %8s %8s\n", "mode", "nDCG@10", "Recall@5", "Recall@10", "MRR@10", "p50 ms", "p95 ms", "p99 ms")
	for _, r := range rep.Results {
		fmt.Fprintf(m.Stdout, "%-8s %8.4f %9.4f %9.4f %8.4f %8.2f %8.2f %8.2f\n", r.Mode, r.NDCG10, r.Recall5, r.Recall10, r.MRR10, r.P50ms, r.P95ms, r.P99ms)
	}
	return nil
}

// printRetrievalSets prints nDCG@10 and Recall@10 of several sets side by
// side, one row per mode, then nDCG@10 per query style.
func (m *Main) printRetrievalSets(reps []evalReport) {
	w := m.Stdout
	fmt.Fprintf(w, "%-22s", "nDCG@10 / Recall@10")
	for _, r := range reps {
		fmt.Fprintf(w, " %24s", setLabel(r.Set))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-22s", "queries")
	for _, r := range reps {
		fmt.Fprintf(w, " %24d", r.Queries)
	}
	fmt.Fprintln(w)
	for i, res := range reps[0].Results {
		fmt.Fprintf(w, "%-22s", res.Mode)
		for _, r := range reps {
			fmt.Fprintf(w, " %24s", fmt.Sprintf("%.4f / %.4f", r.Results[i].NDCG10, r.Results[i].Recall10))
		}
		fmt.Fprintln(w)
	}
	styles := map[string]bool{}
	for _, r := range reps {
		for st := range r.Results[len(r.Results)-1].StyleNDCG10 {
			styles[st] = true
		}
	}
	for _, st := range slices.Sorted(maps.Keys(styles)) {
		fmt.Fprintf(w, "%-22s", "  style "+st)
		for _, r := range reps {
			v, ok := r.Results[len(r.Results)-1].StyleNDCG10[st]
			cell := "-"
			if ok {
				cell = fmt.Sprintf("%.4f", v)
			}
			fmt.Fprintf(w, " %24s", cell)
		}
		fmt.Fprintln(w)
	}
}

// setSpec is one evaluation set and the tenant that answers it.
type setSpec struct{ path, tenant string }

// setSpecs parses a comma-separated list of FILE or FILE@TENANT; a FILE
// alone is answered by tenant.
// readSet opens path and reads it with read (one of quality's readers),
// naming cmd in the error.
func readSet[T any](cmd, path string, read func(io.Reader, string) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	defer f.Close()
	out, err := read(f, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return out, nil
}

func setSpecs(cmd, list, tenant string) ([]setSpec, error) {
	var specs []setSpec
	for _, s := range strings.Split(list, ",") {
		path, t, ok := strings.Cut(strings.TrimSpace(s), "@")
		if !ok {
			t = tenant
		}
		if path == "" || t == "" {
			return nil, usagef("%s: set %q needs a file and a tenant (--tenant or FILE@TENANT)", cmd, s)
		}
		specs = append(specs, setSpec{path, t})
	}
	return specs, nil
}

type confidenceReport struct {
	Set         string              `json:"set"`
	Current     float64             `json:"current_threshold"`
	AtCurrent   quality.Calibration `json:"at_current"`
	Calibration quality.Calibration `json:"calibrated"`
}

// runEvalConfidence measures how well the answerer's confidence separates
// questions the sources answer from questions they do not, and proposes
// the refusal threshold.
func (m *Main) runEvalConfidence(ctx context.Context, args []string) error {
	fs := m.flagSet("eval confidence", "eval confidence --data DIR --tenant ID --set FILE [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant whose content (and national collections) to search")
	set := fs.String("set", "", "query set in the queries.jsonl format; repeat with commas for several")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *set == "" {
		return usagef("eval confidence: --tenant and --set are required")
	}
	var queries []quality.Query
	for _, path := range strings.Split(*set, ",") {
		qs, err := readSet("eval", path, quality.ReadQueries)
		if err != nil {
			return err
		}
		queries = append(queries, qs...)
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	samples, err := n.ConfidenceSamples(ctx, *tenant, queries)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	cur := node.DefaultConfig().Extractive.MinConfidence
	rep := confidenceReport{Set: *set, Current: cur, AtCurrent: quality.RatesAt(samples, cur), Calibration: quality.Calibrate(samples)}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(m.Stdout, "%s: %d answerable and %d unanswerable samples\n", rep.Set, rep.Calibration.Answerable, rep.Calibration.Unanswerable)
	fmt.Fprintf(m.Stdout, "current threshold %.3f: answers %.1f%% of answerable, refuses %.1f%% of unanswerable\n",
		cur, 100*rep.AtCurrent.AnswerRate, 100*rep.AtCurrent.RefuseRate)
	fmt.Fprintf(m.Stdout, "calibrated threshold %.3f: answers %.1f%% of answerable, refuses %.1f%% of unanswerable\n",
		rep.Calibration.Threshold, 100*rep.Calibration.AnswerRate, 100*rep.Calibration.RefuseRate)
	return nil
}

// setLabel names a set (part) in a column head: its file name without the
// .jsonl extension, with the half it is, e.g. "rijksoverheid:heldout".
func setLabel(name string) string {
	return short(strings.Replace(filepath.Base(name), ".jsonl", "", 1), 24)
}
