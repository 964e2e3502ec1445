package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/quality"
)

type answersReport struct {
	Set     string                 `json:"set"`
	Tenant  string                 `json:"tenant"`
	Judge   bool                   `json:"judge"` // whether a judge route graded the answers
	Summary quality.AnswerSummary  `json:"summary"`
	Results []quality.AnswerResult `json:"results"`
}

// runEvalAnswers asks every question of an answer set and reports how good
// the answers are: answered rate, context recall, lexical faithfulness,
// overlap with the reference answers and, with a judge route, an LLM
// judge's grades.
func (m *Main) runEvalAnswers(ctx context.Context, args []string) error {
	fs := m.flagSet("eval answers", "eval answers --data DIR --tenant ID --set FILE [--config FILE] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant that answers (its content and the national collections)")
	set := fs.String("set", "", "answer set in the answers.jsonl format: {\"question\",\"reference_answer\",\"relevant\":[ids],\"url\"}")
	config := fs.String("config", "", "JSON config file with model providers and routes (see serve); a \"judge\" route adds an LLM judge's grades")
	asJSON := fs.Bool("json", false, "print the report as JSON, with every question's record")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *set == "" {
		return usagef("eval answers: --tenant and --set are required")
	}
	if fs.NArg() > 0 {
		return usagef("eval answers: unexpected argument %q", fs.Arg(0))
	}
	f, err := os.Open(*set)
	if err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	cases, err := quality.ReadAnswerCases(f, *set)
	f.Close()
	if err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	n, err := m.openNodeConfigured(ctx, *data, *config)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.EvalAnswers(ctx, *tenant, cases)
	if errors.Is(err, node.ErrUnknownTenant) {
		return fmt.Errorf("eval answers: %w (create it with 'assistent tenant set --data %s --id %s', or check --data)", err, *data, *tenant)
	}
	if err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	rep := answersReport{Set: *set, Tenant: *tenant, Judge: res.Summary.Judge != nil, Summary: res.Summary, Results: res.Results}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	m.printAnswers(rep)
	return nil
}

func (m *Main) printAnswers(rep answersReport) {
	s := rep.Summary
	w := m.Stdout
	fmt.Fprintf(w, "%s: %d questions, tenant %s\n", rep.Set, s.Questions, rep.Tenant)
	fmt.Fprintf(w, "answered %d of %d (%.1f%%), refused %d; latency p50 %.2f ms, p95 %.2f ms\n",
		s.Answered, s.Questions, 100*s.AnsweredRate, s.Refused, s.P50ms, s.P95ms)
	fmt.Fprintf(w, "%-28s %4s %7s %7s %7s %7s\n", "metric", "n", "mean", "min", "median", "max")
	row := func(name string, d quality.Dist) {
		fmt.Fprintf(w, "%-28s %4d %7.4f %7.4f %7.4f %7.4f\n", name, d.N, d.Mean, d.Min, d.Median, d.Max)
	}
	row("context recall (passages)", s.RetrievedRecall)
	row("context precision (passages)", s.RetrievedPrecision)
	row("context recall (cited)", s.CitedRecall)
	row("citation precision", s.CitedPrecision)
	row("faithfulness (lexical)", s.Faithfulness)
	row("token F1", s.TokenF1)
	row("ROUGE-L F1", s.RougeL)
	if j := s.Judge; j != nil {
		row("judge correctness (1-5)", j.Correctness)
		row("judge faithfulness (1-5)", j.Faithfulness)
	}
	fmt.Fprintf(w, "fully faithful answers: %d of %d with claims\n", s.FullyFaithful, s.Faithfulness.N)
	if j := s.Judge; j != nil {
		fmt.Fprintf(w, "judge: %d judged, %d missing; correctness 1-5 %v, faithfulness 1-5 %v\n",
			j.Judged, j.Missing, j.CorrectnessHistogram, j.FaithfulnessHistogram)
	} else {
		fmt.Fprintln(w, "judge: no judge route (add {\"task\":\"judge\",...} to --config for LLM grades)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%3s %-3s %5s %5s %6s %6s %7s %5s  %s\n", "#", "ans", "ctx", "cited", "F1", "ROUGE", "faith", "judge", "question")
	for i, r := range rep.Results {
		ans, faith, judge := "yes", "-", "-"
		if r.Refused {
			ans = "no"
		}
		if f := r.Faithfulness; f.Score != nil {
			faith = fmt.Sprintf("%d/%d", f.Supported, f.Claims)
		}
		switch {
		case r.Judge != nil:
			judge = fmt.Sprintf("%d/%d", r.Judge.Correctness, r.Judge.Faithfulness)
		case r.JudgeError != "":
			judge = "miss"
		}
		fmt.Fprintf(w, "%3d %-3s %5.2f %5.2f %6.3f %6.3f %7s %5s  %s\n", i+1, ans, r.RetrievedRecall, r.CitedRecall,
			r.TokenF1.F1, r.RougeL.F1, faith, judge, short(r.Question, 60))
	}
	if rep.Judge {
		fmt.Fprintln(w, "judge column: correctness/faithfulness")
	}
}

// short cuts s to n runes for a table cell.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
