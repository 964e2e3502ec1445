package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

func (m *Main) runAsk(ctx context.Context, args []string) error {
	fs := m.flagSet("ask", "ask --data DIR --tenant ID [--config FILE] [--json] \"vraag\"")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant that answers")
	asJSON := fs.Bool("json", false, "write the answer as one JSON object")
	config := fs.String("config", "", "JSON config file with model providers and routes (see serve)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usagef("ask: --tenant is required")
	}
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if question == "" {
		return usagef("ask: give the question as argument, e.g. assistent ask --tenant meppel \"hoe vraag ik een paspoort aan\"")
	}
	n, err := m.openNodeConfigured(ctx, *data, *config)
	if err != nil {
		return err
	}
	defer n.Close()
	a, err := n.Ask(ctx, *tenant, question)
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(a)
	}
	fmt.Fprintln(m.Stdout, a.Text)
	for i, c := range a.Citations {
		fmt.Fprintf(m.Stdout, "[%d] %s\n    %s\n", i+1, c.Title, c.URL)
	}
	return nil
}
