package demo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/assistent-nl/assistent/node/demo"
)

type tenantPage struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Title   string `json:"title"`
	HTML    string `json:"html"`
	Updated string `json:"updated"`
	Lang    string `json:"lang"`
}

// readLines returns the non-empty lines of r.
func readLines(tb testing.TB, r io.Reader) [][]byte {
	tb.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 8<<20)
	var out [][]byte
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read lines: %v", err)
	}
	return out
}

func TestTenant(t *testing.T) {
	p := demo.Tenant()
	want := demo.Profile{
		ID:         "lindewaarde",
		Name:       "Gemeente Lindewaarde",
		Phone:      "14 0999",
		ContactURL: "https://www.lindewaarde.example/contact/formulier",
		Hours:      "ma-vr 8.30-17.00 uur, do tot 20.00 uur",
	}
	if p.ID != want.ID || p.Name != want.Name || p.Phone != want.Phone || p.ContactURL != want.ContactURL || p.Hours != want.Hours {
		t.Errorf("Tenant() = %+v, want %+v", p, want)
	}
	if len(p.Sites) != 1 || p.Sites[0] != "www.lindewaarde.example" {
		t.Errorf("Sites = %q, want [www.lindewaarde.example]", p.Sites)
	}
	p.Sites[0] = "changed"
	if demo.Tenant().Sites[0] != "www.lindewaarde.example" {
		t.Error("Tenant() shares its Sites slice between calls")
	}
}

func TestTenantPages(t *testing.T) {
	lines := readLines(t, demo.TenantPages())
	if again := readLines(t, demo.TenantPages()); len(again) != len(lines) {
		t.Errorf("second TenantPages() read %d lines, want %d", len(again), len(lines))
	}
	if len(lines) < 20 {
		t.Fatalf("got %d pages, want at least 20", len(lines))
	}
	site := demo.Tenant().Sites[0]
	ids := map[string]int{}
	urls := map[string]int{}
	for i, line := range lines {
		n := i + 1
		var p tenantPage
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("line %d: %v", n, err)
			continue
		}
		if !strings.HasPrefix(p.ID, "ld-") || len(p.ID) <= len("ld-") {
			t.Errorf("line %d: id %q lacks the ld- prefix", n, p.ID)
		}
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("line %d: id %q also on line %d", n, p.ID, prev)
		}
		ids[p.ID] = n
		if prev, ok := urls[p.URL]; ok {
			t.Errorf("line %d: url %q also on line %d", n, p.URL, prev)
		}
		urls[p.URL] = n
		if strings.TrimSpace(p.Title) == "" {
			t.Errorf("line %d (%s): no title", n, p.ID)
		}
		u, err := url.Parse(p.URL)
		if err != nil || u.Scheme != "https" || u.Host != site {
			t.Errorf("line %d (%s): url %q is not https on %s", n, p.ID, p.URL, site)
		}
		if !strings.Contains(p.HTML, "<h2>") {
			t.Errorf("line %d (%s): no <h2> section", n, p.ID)
		}
		if !strings.HasPrefix(p.HTML, "<p>") {
			t.Errorf("line %d (%s): html does not open with an intro paragraph", n, p.ID)
		}
		if p.Lang != "nl" {
			t.Errorf("line %d (%s): lang %q, want nl", n, p.ID, p.Lang)
		}
		if !strings.HasPrefix(p.Updated, "2026-") || len(p.Updated) != len("2026-01-02") {
			t.Errorf("line %d (%s): updated %q, want a 2026 date", n, p.ID, p.Updated)
		}
		if err := balanced(p.HTML); err != nil {
			t.Errorf("line %d (%s): %v", n, p.ID, err)
		}
	}
}

// balanced reports the first element in s that is closed without being
// opened, or left open.
func balanced(s string) error {
	void := map[string]bool{"br": true, "hr": true, "img": true}
	var stack []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				return z.Err()
			}
			if len(stack) > 0 {
				return errors.New("unclosed <" + stack[len(stack)-1] + ">")
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				return errors.New("unexpected </" + string(name) + ">")
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func TestNationalPages(t *testing.T) {
	if got := demo.NationalName(); got != "rijksoverheid" {
		t.Errorf("NationalName() = %q, want rijksoverheid", got)
	}
	rc, err := demo.NationalPages()
	if err != nil {
		t.Fatalf("NationalPages: %v", err)
	}
	lines := readLines(t, rc)
	if err := rc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if len(lines) != 633 {
		t.Errorf("got %d lines, want 633", len(lines))
	}
	ids := map[string]bool{}
	for i, line := range lines {
		var p struct {
			ID      string `json:"id"`
			Title   string `json:"title"`
			HTML    string `json:"html"`
			License string `json:"license"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		if p.ID == "" || ids[p.ID] {
			t.Errorf("line %d: id %q empty or repeated", i+1, p.ID)
		}
		ids[p.ID] = true
		if strings.TrimSpace(p.Title) == "" || strings.TrimSpace(p.HTML) == "" {
			t.Errorf("line %d (%s): no title or html", i+1, p.ID)
		}
		if p.License != "CC0-1.0" {
			t.Errorf("line %d (%s): license %q, want CC0-1.0", i+1, p.ID, p.License)
		}
	}

	// Each call starts a fresh stream.
	rc2, err := demo.NationalPages()
	if err != nil {
		t.Fatalf("NationalPages (second call): %v", err)
	}
	defer rc2.Close()
	if again := readLines(t, rc2); len(again) != len(lines) {
		t.Errorf("second stream has %d lines, want %d", len(again), len(lines))
	}
}

func TestStatic(t *testing.T) {
	static := demo.Static()
	for _, name := range []string{"index.html", "demo.js", "demo.css"} {
		b, err := fs.ReadFile(static, name)
		if err != nil {
			t.Fatalf("Static(): %v", err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
	}

	t.Run("index.html", func(t *testing.T) {
		b, err := fs.ReadFile(static, "index.html")
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, want := range []string{
			`<html lang="nl">`,
			`<script src="/widget.js" data-tenant="lindewaarde" defer></script>`,
			"Digitale Assistent — demo",
			"Stel geen vragen met persoonsgegevens zoals uw BSN.",
			"Lindewaarde bestaat niet",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("index.html lacks %q", want)
			}
		}
		checkCSPSafe(t, static, page)
	})

	t.Run("demo.js", func(t *testing.T) {
		b, err := fs.ReadFile(static, "demo.js")
		if err != nil {
			t.Fatal(err)
		}
		js := string(b)
		for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(js, banned) {
				t.Errorf("demo.js uses %s", banned)
			}
		}
		for _, want := range []string{"data-question", "assistent-chat", "ask("} {
			if !strings.Contains(js, want) {
				t.Errorf("demo.js lacks %q", want)
			}
		}
	})
}

// checkCSPSafe walks the page and fails on anything a strict CSP (script-src
// 'self'; style-src 'self') would block or a screen reader would miss: inline
// scripts and styles, on… handlers, javascript: URLs, missing assets, inputs
// without a label. /widget.js is served by the node, not by Static().
func checkCSPSafe(tb testing.TB, static fs.FS, page string) {
	tb.Helper()
	labels := map[string]bool{}
	var inputs []string
	h1 := false
	z := html.NewTokenizer(strings.NewReader(page))
	inScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				tb.Fatalf("parse index.html: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if inScript && strings.TrimSpace(tok.Data) != "" {
				tb.Errorf("inline script body: %.40q", tok.Data)
			}
		case html.EndTagToken:
			if tok.Data == "script" {
				inScript = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					tb.Errorf("<%s> has handler attribute %s", tok.Data, a.Key)
				}
				if a.Key == "style" {
					tb.Errorf("<%s> has an inline style", tok.Data)
				}
				if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					tb.Errorf("<%s %s> uses a javascript: URL", tok.Data, a.Key)
				}
			}
			switch tok.Data {
			case "script":
				inScript = tt == html.StartTagToken
				if attrs["src"] == "" {
					tb.Error("<script> without src")
				}
				if attrs["src"] != "/widget.js" {
					checkAsset(tb, static, attrs["src"])
				}
			case "link":
				if attrs["rel"] == "stylesheet" {
					checkAsset(tb, static, attrs["href"])
				}
			case "style":
				tb.Error("inline <style> element")
			case "label":
				labels[attrs["for"]] = true
			case "input", "textarea":
				inputs = append(inputs, attrs["id"])
			case "h1":
				h1 = true
			}
		}
	}
	if !h1 {
		tb.Error("no <h1>")
	}
	for _, id := range inputs {
		if id == "" || !labels[id] {
			tb.Errorf("field %q has no <label for>", id)
		}
	}
}

func checkAsset(tb testing.TB, static fs.FS, ref string) {
	tb.Helper()
	name := strings.TrimPrefix(ref, "/")
	if _, err := fs.Stat(static, name); err != nil {
		tb.Errorf("index.html refers to %q, which Static() lacks: %v", ref, err)
	}
}

// TestStatic_Serve serves the assets the way the node does and fetches the
// page over loopback.
func TestStatic_Serve(t *testing.T) {
	srv := httptest.NewServer(http.FileServerFS(demo.Static()))
	t.Cleanup(srv.Close)
	for path, ctype := range map[string]string{
		"/":         "text/html",
		"/demo.js":  "javascript",
		"/demo.css": "text/css",
	} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); !strings.Contains(got, ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, got, ctype)
		}
	}
}

func BenchmarkNationalPages(b *testing.B) {
	for b.Loop() {
		rc, err := demo.NationalPages()
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		if err != nil {
			b.Fatal(err)
		}
		rc.Close()
		b.SetBytes(n)
	}
}
