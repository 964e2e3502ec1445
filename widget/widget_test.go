package widget_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/widget"
)

// BudgetGzip is the most the widget may weigh on the wire: loader, script
// and stylesheet, gzipped (issue 7).
const BudgetGzip = 25 << 10

// get fetches path from the widget handler with extra request headers.
func get(tb testing.TB, h http.Handler, method, path string, hdr ...string) *http.Response {
	tb.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			tb.Fatalf("gunzip: %v", err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return string(b)
}

var styleRef = regexp.MustCompile(`widget/style\.[0-9a-f]+\.css`)

// hashedPaths returns the content-hashed names of the bundle (from the
// ETag of /widget.js) and of the stylesheet (from the bundle).
func hashedPaths(tb testing.TB, h http.Handler) (app, css string) {
	tb.Helper()
	resp := get(tb, h, http.MethodGet, "/widget.js")
	js := body(tb, resp)
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	css = styleRef.FindString(js)
	if etag == "" || css == "" {
		tb.Fatalf("no ETag (%q) or stylesheet name in the bundle", etag)
	}
	return "/widget/app." + etag + ".js", "/" + css
}

func TestHandler_Headers(t *testing.T) {
	h := widget.Handler()
	app, css := hashedPaths(t, h)
	for _, tc := range []struct {
		path, ctype, cache string
	}{
		{"/widget.js", "text/javascript; charset=utf-8", "public, max-age=300"},
		{app, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{css, "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/widget/app.0123456789ab.js", "text/javascript; charset=utf-8", "public, max-age=300"},
		{"/widget/style.0123456789ab.css", "text/css; charset=utf-8", "public, max-age=300"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, enc := range []string{"", "gzip, deflate, br"} {
				resp := get(t, h, http.MethodGet, tc.path, "Accept-Encoding", enc, "Origin", "https://www.example.nl")
				b := body(t, resp)
				if resp.StatusCode != http.StatusOK || b == "" {
					t.Fatalf("status %d, %d bytes", resp.StatusCode, len(b))
				}
				for k, want := range map[string]string{
					"Content-Type":                 tc.ctype,
					"Cache-Control":                tc.cache,
					"X-Content-Type-Options":       "nosniff",
					"Access-Control-Allow-Origin":  "*",
					"Cross-Origin-Resource-Policy": "cross-origin",
				} {
					if got := resp.Header.Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				if gz := resp.Header.Get("Content-Encoding") == "gzip"; gz != (enc != "") {
					t.Errorf("Accept-Encoding %q: gzipped %v", enc, gz)
				}
			}
		})
	}
}

func TestHandler_Conditional(t *testing.T) {
	h := widget.Handler()
	app, _ := hashedPaths(t, h)
	first := get(t, h, http.MethodGet, app, "Accept-Encoding", "gzip")
	body(t, first)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, h, http.MethodGet, app, "Accept-Encoding", "gzip", "If-None-Match", etag)
	body(t, again)
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
	}
	plain := get(t, h, http.MethodGet, app, "If-None-Match", etag)
	body(t, plain)
	if plain.StatusCode != http.StatusOK {
		t.Errorf("gzip ETag on a plain request: status %d, want 200", plain.StatusCode)
	}
}

func TestHandler_Errors(t *testing.T) {
	h := widget.Handler()
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/widget/", http.StatusNotFound},
		{http.MethodGet, "/widget/app.js", http.StatusNotFound},
		{http.MethodGet, "/widget/../widget.go", http.StatusNotFound},
		{http.MethodGet, "/widget/app.XYZ.js", http.StatusNotFound},
		{http.MethodGet, "/widget/style.abc.js", http.StatusNotFound},
		{http.MethodGet, "/widget/app.abc.css", http.StatusNotFound},
		{http.MethodPost, "/widget.js", http.StatusMethodNotAllowed},
		{http.MethodHead, "/widget.js", http.StatusOK},
	} {
		resp := get(t, h, tc.method, tc.path)
		body(t, resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff", tc.method, tc.path)
		}
	}
}

// TestHandler_Bundle checks that the pinned name serves the same bundle
// and that the stylesheet is inside it, minified.
func TestHandler_Bundle(t *testing.T) {
	h := widget.Handler()
	app, cssPath := hashedPaths(t, h)
	js := body(t, get(t, h, http.MethodGet, "/widget.js"))
	if pinned := body(t, get(t, h, http.MethodGet, app)); pinned != js {
		t.Errorf("%s differs from /widget.js", app)
	}
	css := body(t, get(t, h, http.MethodGet, cssPath))
	if strings.Contains(css, "/*") || strings.Contains(css, "\n") {
		t.Error("stylesheet is not minified")
	}
	for _, want := range []string{".head :focus-visible", "--nl-button-primary-background-color", "prefers-reduced-motion"} {
		if !strings.Contains(css, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	quoted, _ := json.Marshal(css)
	if strings.Contains(js, `"/*CSS`) || !strings.Contains(js, string(quoted)) {
		t.Error("bundle does not carry the stylesheet")
	}
}

// TestSource_Safe keeps the widget's code free of the things a strict CSP
// or an XSS review would object to.
func TestSource_Safe(t *testing.T) {
	b, err := os.ReadFile("src/app.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style\"", ".style.", "javascript:"} {
		if strings.Contains(js, banned) {
			t.Errorf("app.js uses %s", banned)
		}
	}
	for _, want := range []string{"textContent", `part", "launcher"`, `part", "input"`, `part", "log"`, "Stel geen vragen met persoonsgegevens, zoals uw BSN.", "tel:", "Nieuw gesprek"} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %q", want)
		}
	}
}

// TestBudget asserts the size budget: everything a page loads (the bundle
// with its stylesheet), gzipped.
func TestBudget(t *testing.T) {
	h := widget.Handler()
	gz := get(t, h, http.MethodGet, "/widget.js", "Accept-Encoding", "gzip")
	b, err := io.ReadAll(gz.Body)
	gz.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	plain := len(body(t, get(t, h, http.MethodGet, "/widget.js")))
	t.Logf("widget.js (script and stylesheet): %d bytes, %d bytes gzipped (budget %d)", plain, len(b), BudgetGzip)
	if len(b) > BudgetGzip {
		t.Errorf("widget weighs %d bytes gzipped, over the budget of %d", len(b), BudgetGzip)
	}
}
