package ingest_test

import (
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
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
