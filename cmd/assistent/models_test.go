package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/llmtest"
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
		handler   llmtest.Handler
		wantRoute string
	}{
		{"model answers", llmtest.Reply("U vraagt een paspoort aan bij de balie in het gemeentehuis [1]."), "openai:test-model"},
		{"model fails", llmtest.Status(500, "", "kapot"), "extractive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, tt.handler)
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

// TestCLI_ConfigRerankTemplatesBreaker reads every model setting of the
// config file: a TEI reranker on the rerank route, a tenant's prompt
// template from a file next to the config, retries and the breaker; and
// refuses bad ones with the field named.
func TestCLI_ConfigRerankTemplatesBreaker(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", writeFile(t, "p.jsonl", pagesJSONL)); res.code != 0 {
		t.Fatalf("ingest: %s", res.stderr)
	}
	llm := llmtest.NewServer(t, llmtest.Reply("U vraagt een paspoort aan bij de balie in het gemeentehuis [1]."))
	rr := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
	dir := t.TempDir()
	tmpl := `{{define "system"}}Je bent de proefassistent van {{.Gemeente}}. Weet je het niet, zeg {{.RefusalMarker}}.{{end}}
{{define "user"}}{{.Passages}}
{{.Question}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "proef.tmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.json")
	body := fmt.Sprintf(`{
  "providers": [
    {"name": "llm", "kind": "openai", "region": "nl", "base_url": %q, "model": "test-model", "max_retries": 0},
    {"name": "tei", "kind": "tei", "region": "nl", "base_url": %q, "timeout": "2s", "max_retries": 1}
  ],
  "routes": [
    {"task": "answer", "providers": ["llm"]},
    {"task": "rerank", "providers": ["tei"], "timeout": "2s"}
  ],
  "breaker": {"failures": 2, "cooldown": "10s"},
  "templates": [{"tenant": "proef", "name": "answer", "version": "proef-1", "file": "proef.tmpl"}]
}`, llm.URL, rr.URL)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, "", "ask", "--data", data, "--tenant", "proef", "--config", config, "--json", "maak ik een afspraak voor een paspoort")
	if res.code != 0 || !strings.Contains(res.stdout, `"route":"openai:test-model"`) {
		t.Fatalf("ask: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if reqs := llm.Requests(); len(reqs) != 1 || !strings.Contains(reqs[0].Content("system"), "proefassistent") {
		t.Errorf("the tenant's template was not used: %+v", reqs)
	}
	if reqs := rr.Requests(); len(reqs) != 1 || reqs[0].Shape != llmtest.ShapeTEI || !strings.Contains(reqs[0].Query, "paspoort") {
		t.Errorf("the reranker was not asked: %+v", reqs)
	}

	for _, tt := range []struct{ config, want string }{
		{`{"templates": [{"name": "answer", "version": "x", "file": "ontbreekt.tmpl"}]}`, "templates[0].file"},
		{`{"templates": [{"name": "answer", "version": "x", "file": "kapot.tmpl"}]}`, "models.templates[0]"},
		{`{"breaker": {"failures": -1}}`, "breaker"},
		{`{"providers": [{"name": "tei", "kind": "tei", "base_url": "http://127.0.0.1:1", "max_retries": -2}]}`, "providers[0].max_retries"},
		{`{"providers": [{"name": "v", "kind": "openai", "base_url": "http://127.0.0.1:1", "model": "m"}], "routes": [{"task": "embed", "tenant": "proef", "providers": ["v"]}]}`, "the embed route serves the whole node"},
	} {
		if err := os.WriteFile(filepath.Join(dir, "kapot.tmpl"), []byte(`{{define "system"}}{{.Onbekend}}{{end}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(path, []byte(tt.config), 0o644); err != nil {
			t.Fatal(err)
		}
		res := run(t, "", "ask", "--data", data, "--tenant", "proef", "--config", path, "paspoort")
		if res.code == 0 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%s: exit %d, %q; want an error naming %q", tt.config, res.code, res.stderr, tt.want)
		}
	}
}
