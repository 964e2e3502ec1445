package crawl_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/crawl"
)

func TestCrawler_RefusesPrivateAddresses(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body><p>intern</p></body></html>"))
	})
	internal, internalHits := startServer(t, page)
	internalURL, _ := url.Parse(internal.URL)
	localhostURL := "http://localhost:" + internalURL.Port() + "/"

	// A public-looking site (allowed to be private here) that redirects to
	// the internal server under a name that resolves to loopback.
	redirector, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, localhostURL, http.StatusFound)
	}))

	tests := []struct {
		name string
		src  crawl.Source
	}{
		{"literal loopback without AllowPrivate", crawl.Source{StartURLs: []string{internal.URL + "/"}}},
		{"name resolving to loopback, only the IP allowed", crawl.Source{
			StartURLs: []string{localhostURL}, AllowPrivate: []string{"127.0.0.1"},
		}},
		{"redirect to a name resolving to loopback", crawl.Source{
			StartURLs:    []string{redirector.URL + "/"},
			AllowHosts:   []string{"127.0.0.1", "localhost"},
			AllowPrivate: []string{"127.0.0.1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newMemSink()
			c := newCrawler(t, openDB(t), sink, crawl.Options{})
			src := tt.src
			src.ID, src.Tenant, src.NoRateLimit, src.Retries = "site", "meppel", true, -1
			job, err := c.Run(context.Background(), src)
			if err == nil || job.Status != crawl.StatusFailed {
				t.Fatalf("Run = %v, status %s; want a failed job", err, job.Status)
			}
			if n := job.Counters.Failed[crawl.ReasonBlocked]; n != 1 {
				t.Errorf("Failed[%s] = %d, want 1 (counters %+v)", crawl.ReasonBlocked, n, job.Counters)
			}
			if len(job.Errors) != 1 || job.Errors[0].Reason != crawl.ReasonBlocked {
				t.Errorf("Errors = %+v, want one %s", job.Errors, crawl.ReasonBlocked)
			} else if m := job.Errors[0].Message; !strings.Contains(m, "--allow-private") || !strings.Contains(m, "allow_private") {
				t.Errorf("the error %q does not say how to allow the host", m)
			}
			if hits := internalHits.take(); len(hits) != 0 {
				t.Errorf("internal server was reached: %+v", hits)
			}
			if ids := sink.ids(); len(ids) != 0 {
				t.Errorf("sink got %v", ids)
			}
		})
	}
}
