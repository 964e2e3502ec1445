package node_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// openNodeWith opens a node like openNode, with its config adjusted by
// configure, and serves its handler; it returns the node and the server.
func openNodeWith(tb testing.TB, configure func(*node.Config)) (*node.Node, *httptest.Server) {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	configure(&cfg)
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	err = n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999",
		Sites: []string{"www.proef.example"}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), pages, nil); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler(nil))
	tb.Cleanup(srv.Close)
	return n, srv
}

// askWith posts a question with the extra headers hdr (name, value, ...)
// and returns the status.
func askWith(tb testing.TB, url string, hdr ...string) int {
	tb.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"question":"paspoort"}`))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A client on loopback that sends X-Forwarded-For does not choose its
// rate-limit bucket, unless loopback is listed in TrustedProxies.
func TestHTTP_ProxyHeaderOnlyFromTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []string
		second  int
	}{
		{"no trusted proxies", nil, http.StatusTooManyRequests},
		{"another proxy trusted", []string{"10.0.0.0/8"}, http.StatusTooManyRequests},
		{"loopback trusted", []string{"127.0.0.1"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxies, err := node.ParseTrustedProxies(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			_, srv := openNodeWith(t, func(c *node.Config) {
				c.Rate = node.RateConfig{PerMinute: 1, Burst: 1}
				c.TrustedProxies = proxies
			})
			url := srv.URL + "/api/v1/tenants/proef/ask"
			if got := askWith(t, url, "X-Forwarded-For", "198.51.100.1"); got != http.StatusOK {
				t.Fatalf("first question: %d", got)
			}
			if got := askWith(t, url, "X-Forwarded-For", "198.51.100.2"); got != tt.second {
				t.Fatalf("second question with another X-Forwarded-For: %d, want %d", got, tt.second)
			}
		})
	}
}

// Requests from a browser page (with an Origin) store nothing unless the
// origin is the node's own or one of the tenant's sites, and REST and the
// WebSocket apply the same scheme, host and port rule.
func TestOrigin_SameRuleForRESTAndWebSocket(t *testing.T) {
	n, srv := openNodeWith(t, func(c *node.Config) { c.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6} })
	tn, _ := n.Store().Tenant("proef")
	tn.Sites = append(tn.Sites, "localhost:5173")
	if err := n.Store().PutTenant(tn); err != nil {
		t.Fatal(err)
	}
	own := srv.URL // the node's own origin: http://127.0.0.1:port
	stored := 0
	for _, tt := range []struct {
		origin string
		allow  bool
	}{
		{"", true}, // not from a browser: curl, another server
		{"https://www.proef.example", true},
		{own, true},
		{"http://localhost:5173", true},
		{"https://kwaad.example", false},
		{"http://www.proef.example", false},       // a bare site means https
		{"https://www.proef.example:8443", false}, // on its default port
		{"http://localhost:5174", false},
		{"null", false},
	} {
		t.Run(tt.origin, func(t *testing.T) {
			want := http.StatusForbidden
			if tt.allow {
				want = http.StatusOK
			}
			hdr := []string{}
			if tt.origin != "" {
				hdr = []string{"Origin", tt.origin}
			}
			if got := askWith(t, srv.URL+"/api/v1/tenants/proef/ask", hdr...); got != want {
				t.Errorf("REST ask: %d, want %d", got, want)
			}

			// General feedback (no question id): an id must be one the node
			// issued, which this test has none of.
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/tenants/proef/feedback", strings.NewReader(`{"rating":"up"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tt.allow {
				stored++
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("feedback: %d, want 204", resp.StatusCode)
				}
			} else if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("feedback: %d %s, want 403 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
			}

			opts := &websocket.DialOptions{}
			if tt.origin != "" {
				opts.HTTPHeader = http.Header{"Origin": []string{tt.origin}}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/tenants/proef/chat", opts)
			switch {
			case tt.allow && err != nil:
				t.Errorf("WebSocket: %v, want it open", err)
			case !tt.allow && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json"):
				t.Errorf("WebSocket: %v %v, want 403 problem+json", resp, err)
			}
			if c != nil {
				c.CloseNow()
			}
		})
	}
	if fb, err := n.Store().FeedbackFor("proef"); err != nil || len(fb) != stored {
		t.Errorf("%d feedbacks stored, %v; want %d (from allowed origins only)", len(fb), err, stored)
	}
}

// A wrong method on a known API path is 405 with Allow, not 404.
func TestHTTP_MethodNotAllowed(t *testing.T) {
	_, srv := openNodeWith(t, func(*node.Config) {})
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/tenants/proef/ask", 405, "POST, OPTIONS"},
		{"PUT", "/api/v1/tenants/proef/feedback", 405, "POST, OPTIONS"},
		{"DELETE", "/api/v1/tenants", 405, "GET, HEAD"},
		{"POST", "/api/v1/tenants/proef/chat", 405, "GET, HEAD"},
		{"POST", "/api/v1/openapi.json", 405, "GET, HEAD"},
		{"GET", "/api/v1/tenants/proef/sources/website/crawl", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"HEAD", "/api/v1/tenants", 200, ""},
		{"GET", "/api/v1/tenants/proef/onbekend", 404, ""},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow)
		}
		if tt.status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: content type %q", tt.method, tt.path, resp.Header.Get("Content-Type"))
		}
	}
}

// Feedback is read as strictly as a question, and nothing it refuses is
// stored.
func TestHTTP_FeedbackBody(t *testing.T) {
	n, srv := openNodeWith(t, func(c *node.Config) { c.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6} })
	url := srv.URL + "/api/v1/tenants/proef/feedback"
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"form", "application/x-www-form-urlencoded", `{"rating":"up"}`, 415},
		{"text/plain", "text/plain;charset=UTF-8", `{"rating":"up"}`, 415},
		{"too large", "application/json", `{"rating":"up","comment":"` + strings.Repeat("x", 9<<10) + `"}`, 413},
		{"text after the object", "application/json", `{"rating":"up"}{"rating":"down"}`, 400},
		{"invalid UTF-8", "application/json", "{\"rating\":\"up\",\"comment\":\"caf\xe9\"}", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, url, tt.contentType, strings.NewReader(tt.body))
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s: %s, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status)
			}
		})
	}
	if fb, err := n.Store().FeedbackFor("proef"); err != nil || len(fb) != 0 {
		t.Fatalf("refused feedback was stored: %+v, %v", fb, err)
	}
}
