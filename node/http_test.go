package node_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

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
