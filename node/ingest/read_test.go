package ingest_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/ingest"
)

func TestReadJSONL_BadLines(t *testing.T) {
	input := strings.Join([]string{
		`{"id":"a","url":"https://x.example/a","title":"A","html":"<p>a</p>"}`,
		`{"id":"b","title":"B","html":"<p>b</p>"`, // truncated
		``,
		`{"id":"","html":"<p>c</p>"}`,            // no id
		`{"id":"d","title":"D"}`,                 // no content
		`{"id":"e","text":"tekst e"} {"id":"f"}`, // two values
		`{"id":"g","markdown":"# G\n\ntekst"}`,
		"{\"id\":\"h\",\"text\":\"" + strings.Repeat("x", ingest.MaxLineBytes) + "\"}",
		`{"id":"i","text":"laatste regel zonder newline"}`,
	}, "\n")
	var got []string
	var bad []*ingest.LineError
	err := ingest.ReadJSONL(strings.NewReader(input), "corpus.jsonl",
		func(p ingest.Page) error { got = append(got, p.ID); return nil },
		func(e *ingest.LineError) { bad = append(bad, e) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,g,i" {
		t.Errorf("pages = %v, want a,g,i", got)
	}
	var lines []int
	for _, e := range bad {
		if e.File != "corpus.jsonl" {
			t.Errorf("error names file %q", e.File)
		}
		lines = append(lines, e.Line)
	}
	want := []int{2, 4, 5, 6, 8}
	if len(lines) != len(want) {
		t.Fatalf("bad lines = %v, want %v (%v)", lines, want, bad)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("bad lines = %v, want %v", lines, want)
		}
	}
	if !errors.Is(bad[1], ingest.ErrInvalidPage) {
		t.Errorf("line 4 error %v does not wrap ErrInvalidPage", bad[1])
	}
	if !strings.HasPrefix(bad[0].Error(), "corpus.jsonl:2: ") {
		t.Errorf("error text %q does not start with file:line", bad[0].Error())
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b/paspoort.html": "<html><body><h1>Paspoort</h1><p>Aanvragen</p></body></html>",
		"a.md":            "# Afval\n\nGrofvuil ophalen.",
		"c.txt":           "Openingstijden van het gemeentehuis.",
		"d.pdf":           "%PDF ignored",
		"e.txt":           "   ",
	}
	writeFiles(t, dir, files)
	var got []string
	err := ingest.ReadDir(dir, func(p ingest.Page) error {
		got = append(got, p.ID)
		return p.Validate()
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a.md,b/paspoort.html,c.txt" {
		t.Errorf("ids = %v", got)
	}
}

// Only http(s) URLs are accepted: a javascript: or data: URL in a record is
// a line error that names the field, and the page goes nowhere.
func TestReadJSONL_URLs(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://www.proef.example/paspoort", true},
		{"HTTP://www.proef.example/a?b=c#d", true},
		{"", true}, // a page without a URL (from a directory) is cited without a link
		{"javascript:alert(1)", false},
		{"JavaScript:alert(document.cookie)", false},
		{" javascript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:msgbox(1)", false},
		{"ftp://ftp.proef.example/a", false},
		{"//www.proef.example/a", false},
		{"/burgerzaken/paspoort", false},
		{"https:///pad", false},
		{"https://www.proef.example/\"><svg onload=alert(1)>", false},
		{"https://www.proef.example/a b", false},
	} {
		line := `{"id":"p","url":` + jsonString(tt.url) + `,"title":"P","text":"tekst"}`
		var got []ingest.Page
		var bad []*ingest.LineError
		err := ingest.ReadJSONL(strings.NewReader(line), "c.jsonl",
			func(p ingest.Page) error { got = append(got, p); return nil },
			func(e *ingest.LineError) { bad = append(bad, e) })
		if err != nil {
			t.Fatal(err)
		}
		if tt.ok {
			if len(got) != 1 || len(bad) != 0 {
				t.Errorf("url %q: pages %v, errors %v; want it accepted", tt.url, got, bad)
			}
			continue
		}
		if len(got) != 0 || len(bad) != 1 {
			t.Errorf("url %q: pages %v, errors %v; want one line error", tt.url, got, bad)
			continue
		}
		msg := bad[0].Error()
		if !errors.Is(bad[0], ingest.ErrInvalidPage) || !strings.HasPrefix(msg, "c.jsonl:1: ") || !strings.Contains(msg, `"url"`) || !strings.Contains(msg, "http") {
			t.Errorf("url %q: error %q should name the line, the field and what is accepted", tt.url, msg)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Pages read from a directory link: front matter names a page's URL and
// title, a base URL gives the others theirs, and a bad URL names the file.
func TestReadDirAt(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"afval/grof vuil.md": "# Grofvuil\n\nGrofvuil ophalen.",
		"paspoort.html":      "---\nurl: https://www.proef.example/burgerzaken/paspoort\ntitle: \"Paspoort aanvragen\"\n---\n<p>Aanvragen</p>",
		"open.txt":           "---\r\ntitle: Openingstijden\r\n---\r\nMa-vr 9-17 uur.",
	}
	writeFiles(t, dir, files)
	got := map[string]ingest.Page{}
	err := ingest.ReadDirAt(dir, "https://www.proef.example/", func(p ingest.Page) error {
		got[p.ID] = p
		return p.Validate()
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{
		"afval/grof vuil.md": {"https://www.proef.example/afval/grof%20vuil.md", ""},
		"paspoort.html":      {"https://www.proef.example/burgerzaken/paspoort", "Paspoort aanvragen"},
		"open.txt":           {"https://www.proef.example/open.txt", "Openingstijden"},
	} {
		if p := got[id]; p.URL != want[0] || p.Title != want[1] {
			t.Errorf("%s: url %q title %q, want %q %q", id, p.URL, p.Title, want[0], want[1])
		}
	}
	if p := got["paspoort.html"]; strings.Contains(p.HTML, "---") || !strings.Contains(p.HTML, "Aanvragen") {
		t.Errorf("front matter left in the body: %q", p.HTML)
	}
	if err := ingest.ReadDirAt(dir, "ftp://x", func(ingest.Page) error { return nil }); err == nil {
		t.Error("ftp base accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.md"), []byte("---\nurl: javascript:alert(1)\n---\nx"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ingest.ReadDirAt(dir, "", func(ingest.Page) error { return nil }); err == nil || !strings.Contains(err.Error(), "bad.md") {
		t.Errorf("bad front matter url: %v", err)
	}
}

// writeFiles writes files (path relative to dir → content) below dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
