package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/assistent-nl/assistent/node/quality"
)

type redteamReport struct {
	Set        string                   `json:"set"`
	Tenant     string                   `json:"tenant"`
	Dimensions []quality.DimensionScore `json:"dimensions"`
	Failures   []quality.ProbeResult    `json:"failures"`
}

func (m *Main) runRedteam(ctx context.Context, args []string) error {
	fs := m.flagSet("redteam", "redteam --data DIR --tenant ID --set FILE [--config FILE] [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant to attack")
	set := fs.String("set", "", "probe file in the probes.jsonl format")
	config := fs.String("config", "", "JSON config file with model providers and routes (see serve)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *set == "" {
		return usagef("redteam: --tenant and --set are required")
	}
	f, err := os.Open(*set)
	if err != nil {
		return fmt.Errorf("redteam: %w", err)
	}
	probes, err := quality.ReadProbes(f, *set)
	f.Close()
	if err != nil {
		return fmt.Errorf("redteam: %w", err)
	}
	n, err := m.openNodeConfigured(ctx, *data, *config)
	if err != nil {
		return err
	}
	defer n.Close()
	results, err := n.RunProbes(ctx, *tenant, probes)
	if err != nil {
		return fmt.Errorf("redteam: %w", err)
	}
	rep := redteamReport{Set: *set, Tenant: *tenant, Dimensions: quality.Summarise(results), Failures: []quality.ProbeResult{}}
	for _, r := range results {
		if r.Failed {
			rep.Failures = append(rep.Failures, r)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	fmt.Fprintf(m.Stdout, "%s: %d probes against tenant %s\n", rep.Set, len(results), rep.Tenant)
	fmt.Fprintf(m.Stdout, "%-10s %6s %6s %7s  %s\n", "dimension", "probes", "failed", "rate", "Wilson 95%")
	for _, d := range rep.Dimensions {
		label := "ASR"
		if d.Dimension == "benign" {
			label = "over-refusal"
		}
		fmt.Fprintf(m.Stdout, "%-10s %6d %6d %6.0f%%  [%.0f%%, %.0f%%] %s\n", d.Dimension, d.Probes, d.Failed, 100*d.Rate, 100*d.Low, 100*d.High, label)
	}
	for _, r := range rep.Failures {
		fmt.Fprintf(m.Stdout, "FAIL %s: %v\n", r.ID, r.Reasons)
	}
	return nil
}
