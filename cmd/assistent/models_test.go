package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/models/modelstest"
)

// TestCLI_ModelRoute answers through an OpenAI-compatible provider named in
// the config file, with its key from the environment, and falls back to
// the extractive answerer when the provider fails.
func TestCLI_ModelRoute(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", writeFile(t, "p.jsonl", pagesJSONL)); res.code != 0 {
		t.Fatalf("ingest: %s", res.stderr)
	}
	for _, tt := range []struct {
		name      string
		handler   modelstest.Handler
		wantRoute string
	}{
		{"model answers", modelstest.Reply("U vraagt een paspoort aan bij de balie in het gemeentehuis [1]."), "openai:test-model"},
		{"model fails", modelstest.Status(500, "", "kapot"), "extractive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := modelstest.NewServer(t, tt.handler)
			config := writeFile(t, "config.json", fmt.Sprintf(`{
  "providers": [{"name": "llm", "kind": "openai", "region": "eu", "base_url": %q, "model": "test-model", "api_key_env": "TEST_LLM_KEY", "timeout": "2s"}],
  "routes": [{"task": "answer", "providers": ["llm"], "timeout": "3s", "allowed_regions": ["eu"]}]
}`, srv.URL))
			var out, errb bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
				Getenv: func(k string) string { return map[string]string{"TEST_LLM_KEY": "geheim"}[k] }}
			err := m.Run(context.Background(), []string{"ask", "--data", data, "--tenant", "proef", "--config", config, "--json", "hoe vraag ik een paspoort aan"})
			if err != nil {
				t.Fatalf("ask: %v\n%s", err, errb.String())
			}
			var a struct {
				Route     string
				Refused   bool
				Citations []struct{ ID string }
			}
			if err := json.Unmarshal(out.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if a.Route != tt.wantRoute || a.Refused || len(a.Citations) == 0 || a.Citations[0].ID != "paspoort" {
				t.Fatalf("answer %s, want route %s citing paspoort", out.String(), tt.wantRoute)
			}
			if reqs := srv.Requests(); len(reqs) == 0 || !strings.Contains(reqs[0].Auth, "geheim") {
				t.Errorf("the provider did not get the key from the environment: %+v", reqs)
			}
		})
	}
	res := run(t, "", "ask", "--data", data, "--tenant", "proef", "--config",
		writeFile(t, "c.json", `{"providers":[{"name":"llm","kind":"openai","base_url":"http://127.0.0.1:1","model":"m","api_key_env":"ONTBREEKT"}],"routes":[{"task":"answer","providers":["llm"]}]}`), "paspoort")
	if res.code != 1 || !strings.Contains(res.stderr, "ONTBREEKT") {
		t.Errorf("missing key: exit %d, %s", res.code, res.stderr)
	}
}
