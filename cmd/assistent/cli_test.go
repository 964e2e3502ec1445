package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const pagesJSONL = `{"id":"paspoort","url":"https://www.proef.example/paspoort","title":"Paspoort aanvragen","html":"<p>U vraagt een paspoort aan bij de balie in het gemeentehuis. Maak eerst een afspraak.</p><h2>Kosten</h2><p>Een paspoort kost € 84,40.</p>"}
{"id":"grofvuil","url":"https://www.proef.example/grofvuil","title":"Grofvuil","html":"<p>Wij halen grofvuil op afspraak bij u op.</p>"}
`

func writeFile(tb testing.TB, name, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestCLI_IngestBadLines(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	file := writeFile(t, "pages.jsonl", pagesJSONL+"{\"id\":\"kapot\",\n"+`{"id":"leeg"}`+"\n")
	res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", file, "--json")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 for bad lines; stderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{file + ":3:", file + ":4:", "2 records could not be ingested"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	var sum ingestSummary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("summary %q: %v", res.stdout, err)
	}
	if sum.Written != 2 || sum.Bad != 2 {
		t.Errorf("summary %+v, want 2 written and 2 bad", sum)
	}
	// The good lines were stored and are searchable.
	res = run(t, "grofvuil\n", "search", "--data", data, "--tenant", "proef", "--json")
	var line searchLine
	if err := json.Unmarshal([]byte(res.stdout), &line); err != nil || len(line.Hits) == 0 || line.Hits[0].ID != "grofvuil" {
		t.Fatalf("search after partial ingest: %q %v", res.stdout, err)
	}
}

func TestCLI_SearchAskTenant(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	res := run(t, "", "tenant", "set", "--data", data, "--id", "proef", "--name", "Gemeente Proef",
		"--phone", "14 0999", "--contact-url", "https://www.proef.example/contact", "--hours", "ma-vr 9-17 uur", "--site", "www.proef.example")
	if res.code != 0 {
		t.Fatalf("tenant set: %d %s", res.code, res.stderr)
	}
	res = run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", writeFile(t, "p.jsonl", pagesJSONL))
	if res.code != 0 {
		t.Fatalf("ingest: %d %s", res.code, res.stderr)
	}
	res = run(t, "hoe vraag ik een paspoort aan\n\ngrofvuil ophalen\n", "search", "--data", data, "--tenant", "proef", "--k", "1", "--json")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 2 {
		t.Fatalf("search: exit %d, %d lines: %s %s", res.code, len(lines), res.stdout, res.stderr)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"query", "hits", "took_ms"} {
		if _, ok := first[key]; !ok {
			t.Errorf("search line lacks %q: %s", key, lines[0])
		}
	}
	hit := first["hits"].([]any)[0].(map[string]any)
	for _, key := range []string{"id", "url", "title", "score", "snippet"} {
		if _, ok := hit[key]; !ok {
			t.Errorf("hit lacks %q: %v", key, hit)
		}
	}
	if hit["id"] != "paspoort" || len(first["hits"].([]any)) != 1 {
		t.Errorf("--k 1 search for paspoort: %s", lines[0])
	}

	res = run(t, "", "ask", "--data", data, "--tenant", "proef", "--json", "wat kost een paspoort")
	var a map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &a); err != nil {
		t.Fatalf("ask: %q %v %s", res.stdout, err, res.stderr)
	}
	for _, key := range []string{"answer", "mode", "citations", "refused", "handoff", "confidence", "route"} {
		if _, ok := a[key]; !ok {
			t.Errorf("ask JSON lacks %q: %s", key, res.stdout)
		}
	}
	if a["refused"] != false || a["mode"] != "answer" || !strings.Contains(a["answer"].(string), "84,40") {
		t.Errorf("ask: %s", res.stdout)
	}
	res = run(t, "", "ask", "--data", data, "--tenant", "proef", "--json", "wat is de hoofdstad van Australië")
	a = nil
	if err := json.Unmarshal([]byte(res.stdout), &a); err != nil || a["mode"] != "noinfo" || a["refused"] != true {
		t.Errorf("ask outside the sources: want mode noinfo, refused: %s %v", res.stdout, err)
	}

	res = run(t, "", "ask", "--data", data, "--tenant", "nergens", "--json", "paspoort")
	if res.code != 1 || !strings.Contains(res.stderr, "unknown tenant") {
		t.Errorf("unknown tenant: exit %d %s", res.code, res.stderr)
	}
}

func TestCLI_Usage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "no command"},
		{[]string{"vlieg"}, 2, "unknown command"},
		{[]string{"ingest", "--tenant", "a"}, 2, "exactly one of"},
		{[]string{"ingest", "--tenant", "A B", "--jsonl", "x"}, 2, "not a valid id"},
		{[]string{"ingest", "--tenant", "a", "--national", "b", "--jsonl", "x"}, 2, "not both"},
		{[]string{"search", "--tenant", "a", "--mode", "magic"}, 2, "unknown search mode"},
		{[]string{"tenant", "set", "--id", "a", "--contact-url", "ftp://x"}, 2, "not an http(s) URL"},
		{[]string{"serve", "--addr", "nergens"}, 2, "host:port"},
		{[]string{"ask", "--tenant", "a"}, 2, "give the question"},
		{[]string{"eval", "retrieval", "--tenant", "a"}, 2, "--set"},
		{[]string{"search", "--help"}, 0, "Usage: assistent search"},
		{[]string{"ingest", "--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", res.code, tt.code, tt.want, res.stderr)
			}
		})
	}
}

// TestCLI_TenantSites adds and removes widget sites one by one, accepts a
// site with a port or scheme, and rejects what is not a site.
func TestCLI_TenantSites(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	sites := func(args ...string) []string {
		t.Helper()
		res := run(t, "", append([]string{"tenant", "set", "--data", data, "--id", "proef"}, args...)...)
		if res.code != 0 {
			t.Fatalf("tenant set %v: exit %d: %s", args, res.code, res.stderr)
		}
		var tn struct{ Sites []string }
		if err := json.Unmarshal([]byte(res.stdout), &tn); err != nil {
			t.Fatal(err)
		}
		return tn.Sites
	}
	if got := sites("--site", "www.proef.example"); !slices.Equal(got, []string{"www.proef.example"}) {
		t.Fatalf("first site: %v", got)
	}
	if got := sites("--site", "127.0.0.1:8765", "--site", "HTTP://Localhost:3000"); !slices.Equal(got, []string{"www.proef.example", "127.0.0.1:8765", "http://localhost:3000"}) {
		t.Fatalf("added sites: %v", got)
	}
	if got := sites("--name", "Gemeente Proef"); len(got) != 3 {
		t.Fatalf("another flag changed the sites: %v", got)
	}
	if got := sites("--remove-site", "127.0.0.1:8765"); !slices.Equal(got, []string{"www.proef.example", "http://localhost:3000"}) {
		t.Fatalf("after removing: %v", got)
	}
	for _, bad := range []string{"https://www.proef.example/pad", "ftp://www.proef.example", "www.proef.example:99999", "user@www.proef.example", ""} {
		res := run(t, "", "tenant", "set", "--data", data, "--id", "proef", "--site", bad)
		if res.code != 2 || !strings.Contains(res.stderr, "--site") {
			t.Errorf("--site %q: exit %d: %s", bad, res.code, res.stderr)
		}
	}
}

// TestCLI_IngestGzip reads a gzipped JSON Lines file, as the demo bundle
// ships, and names the file when it is neither JSON nor gzip.
func TestCLI_IngestGzip(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(pagesJSONL))
	zw.Close()
	gz := writeFile(t, "pages.jsonl.gz", buf.String())
	res := run(t, "", "ingest", "--data", data, "--national", "proef", "--jsonl", gz, "--json")
	if res.code != 0 || !strings.Contains(res.stdout, `"written":`) || strings.Contains(res.stdout, `"written":0`) {
		t.Fatalf("ingest gz: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	bad := writeFile(t, "broken.jsonl.gz", "\x1f\x8bnot gzip at all")
	if res := run(t, "", "ingest", "--data", data, "--national", "proef", "--jsonl", bad); res.code != 1 || !strings.Contains(res.stderr, "broken.jsonl.gz") {
		t.Fatalf("broken gz: exit %d: %s", res.code, res.stderr)
	}
}

// TestCLI_IngestDirURLs gives pages from a directory their URLs from
// --base-url, and warns when pages have none.
func TestCLI_IngestDirURLs(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	pages := t.TempDir()
	if err := os.WriteFile(filepath.Join(pages, "grofvuil.md"), []byte("# Grofvuil\n\nWij halen grofvuil op afspraak op."), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--dir", pages)
	if res.code != 0 || !strings.Contains(res.stderr, "1 pages have no URL") || !strings.Contains(res.stderr, "--base-url") {
		t.Fatalf("without a base URL: exit %d: %s", res.code, res.stderr)
	}
	res = run(t, "", "ingest", "--data", data, "--tenant", "proef", "--dir", pages, "--base-url", "https://www.proef.example/")
	if res.code != 0 || strings.Contains(res.stderr, "no URL") {
		t.Fatalf("with a base URL: exit %d: %s", res.code, res.stderr)
	}
	res = run(t, "", "ask", "--data", data, "--tenant", "proef", "--json", "wanneer halen jullie grofvuil op")
	if !strings.Contains(res.stdout, `"url":"https://www.proef.example/grofvuil.md"`) {
		t.Errorf("citation without the page's URL: %s", res.stdout)
	}
	if res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", "x.jsonl", "--base-url", "https://x.example"); res.code != 2 {
		t.Errorf("--base-url without --dir: exit %d", res.code)
	}
}
