package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/guard"
	"strings"

	"github.com/assistent-nl/assistent/node/policy"
	"github.com/assistent-nl/assistent/node/quality"
)

// redteamReport is what `assistent redteam` prints: per probe set the
// attack success per dimension, the over-refusal on benign questions, and
// the policy classifier on its held-out split.
type redteamReport struct {
	Tenant     string           `json:"tenant"`
	Sets       []probeSetReport `json:"sets"`
	Benign     *benignReport    `json:"benign,omitempty"`
	Classifier policy.Report    `json:"classifier"`
	// Deciders is the held-out split through each way of deciding intent.
	Deciders []deciderRow      `json:"deciders"`
	Examples classifierExample `json:"classifier_data"`
}

type probeSetReport struct {
	Set        string                   `json:"set"`
	Dimensions []quality.DimensionScore `json:"dimensions"`
	Failures   []quality.ProbeResult    `json:"failures"`
	// Shadow is what the policy classifier alone would do: per dimension,
	// the share of attacks it flags (any intent but benign), and for
	// "benign" the share of twins it flags.
	Shadow map[string]float64 `json:"classifier_flags"`
}

// benignReport is the over-refusal on ordinary resident questions: the
// share refused by policy (the classifier or a judge), and which.
type benignReport struct {
	Sets      []string        `json:"sets"`
	Questions int             `json:"questions"`
	Refused   int             `json:"refused"`
	Rate      float64         `json:"rate"`
	Low       float64         `json:"low"`
	High      float64         `json:"high"`
	Which     []benignRefusal `json:"which"`
	// Shadow is the share the policy classifier alone would flag.
	Shadow float64 `json:"classifier_flags"`
}

type benignRefusal struct {
	Set      string `json:"set"`
	Question string `json:"question"`
	Route    string `json:"route"`
}

// deciderRow is, for one label of the classifier's held-out split, the
// share each decider acts on: for a harmful label any intent but an
// ordinary question, for benign a refusing one.
type deciderRow struct {
	Label      policy.Intent `json:"label"`
	N          int           `json:"n"`
	Rules      float64       `json:"rules"`
	Both       float64       `json:"both"`
	Classifier float64       `json:"classifier"`
}

// deciders runs the held-out examples through the guard and the policy as
// each decider has them: the rules (with the classifier's assists), both
// (rules, then the classifier), and the classifier alone.
func deciders(held []policy.Example) []deciderRow {
	acts := func(label policy.Intent, i answer.Intent) bool {
		if label == policy.Benign {
			return i == answer.Unlawful || i == answer.OthersData || i == answer.Injection || i == answer.OffRemit
		}
		return i != answer.Inform
	}
	rows := map[policy.Intent]*deciderRow{}
	for _, e := range held {
		r := rows[e.Label]
		if r == nil {
			r = &deciderRow{Label: e.Label}
			rows[e.Label] = r
		}
		r.N++
		q := guard.Check(e.Text)
		decide := func(d answer.PolicyDecider) float64 {
			if d.GuardRefuses(q) {
				return 1
			}
			if i, _ := answer.Decide(d, q.Scrubbed, q.Readings); acts(e.Label, i) {
				return 1
			}
			return 0
		}
		r.Rules += decide(answer.PolicyRules)
		r.Both += decide(answer.PolicyBoth)
		r.Classifier += decide(answer.PolicyClassifier)
	}
	var out []deciderRow
	for _, c := range policy.Intents {
		if r := rows[c]; r != nil {
			n := float64(r.N)
			r.Rules, r.Both, r.Classifier = r.Rules/n, r.Both/n, r.Classifier/n
			out = append(out, *r)
		}
	}
	return out
}

type classifierExample struct {
	Training int `json:"training"`
	HeldOut  int `json:"held_out"`
}

func (m *Main) runRedteam(ctx context.Context, args []string) error {
	fs := m.flagSet("redteam", "redteam --data DIR --tenant ID --set FILE[,FILE...] [--benign FILE[,FILE...]] [--policy both|rules|classifier] [--config FILE] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant to attack")
	sets := fs.String("set", "", "probe files in the probes.jsonl format, comma-separated")
	benign := fs.String("benign", "", "benign question files in the queries.jsonl format, comma-separated: over-refusal is the share refused by policy (lines with split \"tune\" are skipped)")
	config := fs.String("config", "", "JSON config file with model providers and routes (see serve)")
	pol := fs.String("policy", "", "what decides intent: both, rules or classifier (default: the config's policy, else both)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *sets == "" {
		return usagef("redteam: --tenant and --set are required")
	}
	type probeSet struct {
		path   string
		probes []quality.Probe
	}
	var probeSets []probeSet
	for _, path := range strings.Split(*sets, ",") {
		probes, err := readSet("redteam", path, quality.ReadProbes)
		if err != nil {
			return err
		}
		probeSets = append(probeSets, probeSet{path, probes})
	}
	type querySet struct {
		path string
		qs   []quality.Query
	}
	var benignSets []querySet
	if *benign != "" {
		for _, path := range strings.Split(*benign, ",") {
			qs, err := readSet("redteam", path, quality.ReadQuestions)
			if err != nil {
				return err
			}
			benignSets = append(benignSets, querySet{path, qs})
		}
	}
	all, err := policy.Examples()
	if err != nil {
		return fmt.Errorf("redteam: classifier data: %w", err)
	}
	train, held := policy.Split(all)
	rep := redteamReport{Tenant: *tenant, Classifier: policy.Evaluate(policy.Default(), held),
		Examples: classifierExample{Training: len(train), HeldOut: len(held)}, Deciders: deciders(held)}

	n, err := m.openNodeConfigured(ctx, *data, *config, func(c *node.Config) {
		if *pol != "" {
			c.Policy = answer.PolicyDecider(*pol)
		}
	})
	if err != nil {
		return err
	}
	defer n.Close()
	for _, ps := range probeSets {
		results, err := n.RunProbes(ctx, *tenant, ps.probes)
		if err != nil {
			return fmt.Errorf("redteam: %s: %w", ps.path, err)
		}
		sr := probeSetReport{Set: ps.path, Dimensions: quality.Summarise(results), Failures: []quality.ProbeResult{}, Shadow: map[string]float64{}}
		per := map[string]int{}
		for _, p := range ps.probes {
			dim := fmt.Sprint(p.Dim)
			per[dim]++
			if policy.Classify(p.Text).Intent != policy.Benign {
				sr.Shadow[dim]++
			}
		}
		for dim, k := range per {
			sr.Shadow[dim] /= float64(k)
		}
		for _, r := range results {
			if r.Failed {
				sr.Failures = append(sr.Failures, r)
			}
		}
		rep.Sets = append(rep.Sets, sr)
	}
	if len(benignSets) > 0 {
		b := &benignReport{Which: []benignRefusal{}}
		for _, bs := range benignSets {
			b.Sets = append(b.Sets, bs.path)
			for _, q := range bs.qs {
				if q.Split == "tune" {
					// The tune halves of the development sets are training
					// data of the policy classifier: not a measure of it.
					continue
				}
				a, err := n.Ask(ctx, *tenant, q.Question)
				if err != nil {
					return fmt.Errorf("redteam: %s: %q: %w", bs.path, q.Question, err)
				}
				b.Questions++
				if policy.Classify(q.Question).Intent != policy.Benign {
					b.Shadow++
				}
				if a.Refused && strings.HasPrefix(a.Route, "policy:") && a.Route != "policy:unknown_specifics" {
					b.Refused++
					b.Which = append(b.Which, benignRefusal{Set: bs.path, Question: q.Question, Route: a.Route})
				}
			}
		}
		b.Rate, b.Low, b.High = quality.Rate(b.Refused, b.Questions)
		if b.Questions > 0 {
			b.Shadow /= float64(b.Questions)
		}
		rep.Benign = b
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	w := m.Stdout
	for _, sr := range rep.Sets {
		fmt.Fprintf(w, "%s against tenant %s\n", sr.Set, rep.Tenant)
		fmt.Fprintf(w, "%-10s %6s %6s %7s  %-14s %s\n", "dimension", "probes", "failed", "rate", "Wilson 95%", "classifier alone flags")
		for _, d := range sr.Dimensions {
			label := "attack success"
			if d.Dimension == "benign" {
				label = "over-refusal"
			}
			ci := fmt.Sprintf("[%.0f%%, %.0f%%]", 100*d.Low, 100*d.High)
			fmt.Fprintf(w, "%-10s %6d %6d %6.0f%%  %-14s %5.0f%%  (%s)\n", d.Dimension, d.Probes, d.Failed, 100*d.Rate, ci, 100*sr.Shadow[d.Dimension], label)
		}
		for _, r := range sr.Failures {
			fmt.Fprintf(w, "FAIL %s: %v\n", r.ID, r.Reasons)
		}
		fmt.Fprintln(w)
	}
	if b := rep.Benign; b != nil {
		fmt.Fprintf(w, "benign questions (%s): %d of %d refused by policy, %.1f%% [%.1f%%, %.1f%%]; the classifier alone would flag %.1f%%\n",
			strings.Join(b.Sets, ", "), b.Refused, b.Questions, 100*b.Rate, 100*b.Low, 100*b.High, 100*b.Shadow)
		for _, r := range b.Which {
			fmt.Fprintf(w, "REFUSED %s (%s): %s\n", r.Route, r.Set, r.Question)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "policy classifier, held-out split (%d of %d labelled messages; trained on the other %d)\n", rep.Examples.HeldOut, rep.Examples.HeldOut+rep.Examples.Training, rep.Examples.Training)
	rep.Classifier.Write(w)
	fmt.Fprintf(w, "\nheld-out split through the deciders (harmful: share acted on; benign: share refused)\n")
	fmt.Fprintf(w, "%-12s %5s %7s %7s %11s\n", "label", "n", "rules", "both", "classifier")
	for _, r := range rep.Deciders {
		fmt.Fprintf(w, "%-12s %5d %6.0f%% %6.0f%% %10.0f%%\n", r.Label, r.N, 100*r.Rules, 100*r.Both, 100*r.Classifier)
	}
	return nil
}
