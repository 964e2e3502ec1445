package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/quality"
)

type answersReport struct {
	Set     string                 `json:"set"`
	Tenant  string                 `json:"tenant"`
	Judge   bool                   `json:"judge"` // whether a judge route graded the answers
	Summary quality.AnswerSummary  `json:"summary"`
	Results []quality.AnswerResult `json:"results"`
}

// runEvalAnswers asks every question of one or more answer sets and
// reports how good the replies are: modes, the right page among the
// citations, hard refusals of answerable questions, stitching defects,
// context recall, lexical faithfulness, overlap with reference answers
// where a set has them and, with a judge route, an LLM judge's grades.
// Several sets print side by side; --fit fits the calibrated mode model
// on them.
func (m *Main) runEvalAnswers(ctx context.Context, args []string) error {
	fs := m.flagSet("eval answers", "eval answers --data DIR --tenant ID --set FILE[@TENANT][,FILE[@TENANT]...] [--config FILE] [--fit OUT.json] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant that answers (its content and the national collections); FILE@TENANT overrides it for one set")
	set := fs.String("set", "", "answer sets, comma separated: the answers.jsonl format {\"question\",\"reference_answer\",\"relevant\":[ids]} or the queries.jsonl format (no reference; \"relevant\":[] marks a question no page answers)")
	config := fs.String("config", "", "JSON config file with model providers and routes (see serve); a \"judge\" route adds an LLM judge's grades")
	fitOut := fs.String("fit", "", "fit the calibrated mode model on the sets and write it to this file (node/answer/modes.json is the embedded one)")
	precision := fs.Float64("precision", 0.92, "with --fit: share of stated answers that must cite a right page")
	maxRefusal := fs.Float64("max-refusal", 0.03, "with --fit: largest share of answerable questions left without an answer or a suggestion")
	asJSON := fs.Bool("json", false, "print the report as JSON, with every question's record (an array for several sets)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *set == "" {
		return usagef("eval answers: --set is required")
	}
	if fs.NArg() > 0 {
		return usagef("eval answers: unexpected argument %q", fs.Arg(0))
	}
	specs, err := setSpecs("eval answers", *set, *tenant)
	if err != nil {
		return err
	}
	type part struct {
		name, tenant string
		cases        []quality.AnswerCase
	}
	var parts []part
	for _, sp := range specs {
		cases, err := readSet("eval answers", sp.path, quality.ReadAnswerCases)
		if err != nil {
			return err
		}
		names, halves := quality.SplitHalves(cases, sp.path, func(c quality.AnswerCase) string { return c.Split })
		for i := range names {
			if *fitOut != "" && halves[i][0].Split == "heldout" {
				continue // held-out halves are for reporting, never for fitting
			}
			parts = append(parts, part{names[i], sp.tenant, halves[i]})
		}
	}
	if len(parts) == 0 {
		return usagef("eval answers: --fit needs questions outside a held-out half")
	}
	n, err := m.openNodeConfigured(ctx, *data, *config)
	if err != nil {
		return err
	}
	defer n.Close()
	var reps []answersReport
	for _, p := range parts {
		res, err := n.EvalAnswers(ctx, p.tenant, p.cases)
		if errors.Is(err, node.ErrUnknownTenant) {
			return fmt.Errorf("eval answers: %w (create it with 'assistent tenant set --data %s --id %s', or check --data)", err, *data, p.tenant)
		}
		if err != nil {
			return fmt.Errorf("eval answers: %w", err)
		}
		reps = append(reps, answersReport{Set: p.name, Tenant: p.tenant, Judge: res.Summary.Judge != nil, Summary: res.Summary, Results: res.Results})
	}
	if *fitOut != "" {
		return m.fitModes(reps, *fitOut, quality.ModeTargets{Precision: *precision, MaxRefusal: *maxRefusal})
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if len(reps) == 1 {
			return enc.Encode(reps[0])
		}
		return enc.Encode(reps)
	}
	if len(reps) == 1 {
		m.printAnswers(reps[0])
		return nil
	}
	m.printAnswerSets(reps)
	return nil
}

// fitModes fits the mode model on the replies of reps and writes it to
// out, with the coverage/accuracy curve on stdout.
func (m *Main) fitModes(reps []answersReport, out string, targets quality.ModeTargets) error {
	var all []quality.AnswerResult
	for _, r := range reps {
		all = append(all, r.Results...)
	}
	fit, err := quality.FitModes(all, targets)
	if err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	fit.Model.Thresholds = fit.Config
	b, err := json.MarshalIndent(fit.Model, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	w := m.Stdout
	fmt.Fprintf(w, "fitted on %d questions; answer_at %.4f (P right), suggest_at %.4f (P about); written to %s\n",
		fit.Samples, fit.Config.AnswerAt, fit.Config.SuggestAt, out)
	fmt.Fprintf(w, "%-10s %9s %9s\n", "P(right)≥", "coverage", "accuracy")
	for _, p := range fit.Curve {
		fmt.Fprintf(w, "%-10.2f %9.4f %9.4f\n", p.Threshold, p.Coverage, p.Accuracy)
	}
	for _, l := range []struct {
		name string
		w    []float64
	}{{"right", fit.Model.Right.Weights}, {"about", fit.Model.About.Weights}} {
		fmt.Fprintf(w, "weights %s (standardised):", l.name)
		for i, v := range l.w {
			fmt.Fprintf(w, " %s %.3f", answer.FeatureNames[i], v)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// printAnswerSets prints the key figures of several sets side by side.
func (m *Main) printAnswerSets(reps []answersReport) {
	w := m.Stdout
	fmt.Fprintf(w, "%-34s", "metric")
	for _, r := range reps {
		fmt.Fprintf(w, " %16s", setLabel(r.Set))
	}
	fmt.Fprintln(w)
	row := func(name string, f func(quality.AnswerSummary) string) {
		fmt.Fprintf(w, "%-34s", name)
		for _, r := range reps {
			fmt.Fprintf(w, " %16s", f(r.Summary))
		}
		fmt.Fprintln(w)
	}
	num := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	row("questions (answerable/not)", func(s quality.AnswerSummary) string {
		return fmt.Sprintf("%d/%d", s.Modes.Answerable, s.Modes.Unanswerable)
	})
	row("modes answer/suggest/noinfo/refuse", func(s quality.AnswerSummary) string {
		c := s.Modes.Counts
		return fmt.Sprintf("%d/%d/%d/%d", c[answer.ModeAnswer], c[answer.ModeSuggest], c[answer.ModeNoInfo], c[answer.ModeRefuse])
	})
	row("right page in first 3 citations", func(s quality.AnswerSummary) string { return num(s.Modes.RightAt3) })
	row("hard refusals of answerable", func(s quality.AnswerSummary) string { return num(s.Modes.HardRefusal) })
	row("answers citing a right page", func(s quality.AnswerSummary) string { return num(s.Modes.AnswerPrecision) })
	row("answerable answered (mode answer)", func(s quality.AnswerSummary) string { return num(s.Modes.AnswerCoverage) })
	row("unanswerable: noinfo", func(s quality.AnswerSummary) string { return num(s.Modes.UnansweredNoInfo) })
	row("unanswerable: answer", func(s quality.AnswerSummary) string { return num(s.Modes.UnansweredAnswer) })
	row("stitching defects (of answers)", func(s quality.AnswerSummary) string { return num(s.Modes.Defects) })
	row("faithfulness (lexical)", func(s quality.AnswerSummary) string { return num(s.Faithfulness.Mean) })
	row("context recall (passages)", func(s quality.AnswerSummary) string { return num(s.RetrievedRecall.Mean) })
	row("latency p50 ms", func(s quality.AnswerSummary) string { return fmt.Sprintf("%.2f", s.P50ms) })
}

func (m *Main) printAnswers(rep answersReport) {
	s := rep.Summary
	w := m.Stdout
	fmt.Fprintf(w, "%s: %d questions, tenant %s\n", rep.Set, s.Questions, rep.Tenant)
	fmt.Fprintf(w, "answered %d of %d (%.1f%%), refused %d; latency p50 %.2f ms, p95 %.2f ms\n",
		s.Answered, s.Questions, 100*s.AnsweredRate, s.Refused, s.P50ms, s.P95ms)
	md := s.Modes
	fmt.Fprintf(w, "modes: answer %d, suggest %d, noinfo %d, refuse %d; right page in first 3 citations %.4f; hard refusals of answerable %.4f; answers citing a right page %.4f; stitching defects %.4f\n",
		md.Counts[answer.ModeAnswer], md.Counts[answer.ModeSuggest], md.Counts[answer.ModeNoInfo], md.Counts[answer.ModeRefuse],
		md.RightAt3, md.HardRefusal, md.AnswerPrecision, md.Defects)
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
