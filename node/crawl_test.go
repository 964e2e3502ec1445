package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
)

// A gemeente's own system triggers a crawl of a stored source with its
// token, follows the job, and residents get answers from the crawled
// pages; without the token nothing happens.
func TestHTTP_CrawlTrigger(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html lang="nl"><head><title>Gemeente Proef</title></head><body><main><h1>Welkom</h1>
<p>Alles over wonen en leven in Proef.</p><a href="/hondenbelasting">Hondenbelasting</a></main></body></html>`)
		case "/hondenbelasting":
			fmt.Fprint(w, `<html lang="nl"><head><title>Hondenbelasting | Gemeente Proef</title></head><body>
<nav>Menu</nav><main><h1>Hondenbelasting</h1><p>Heeft u een hond? Dan betaalt u hondenbelasting.
Voor de eerste hond betaalt u in 2026 € 98,40 per jaar. U meldt uw hond aan via het formulier.</p></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	n, _ := openNode(t, nil)
	src := crawl.Source{ID: "website", Tenant: "proef", StartURLs: []string{site.URL + "/"}, AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true}
	if err := n.Crawler().PutSource(src); err != nil {
		t.Fatal(err)
	}
	token, err := n.NewTriggerToken("proef")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	call := func(method, path, auth string) (*http.Response, []byte) {
		t.Helper()
		for try := 0; ; try++ {
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", "Bearer "+auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			// On a slow machine the job is polled often enough to meet the
			// per-client rate limit: wait as told and ask again.
			if resp.StatusCode == http.StatusTooManyRequests && try < 3 {
				wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
				time.Sleep(time.Duration(max(wait, 1)) * time.Second)
				continue
			}
			return resp, body
		}
	}

	for _, tt := range []struct{ path, auth string }{
		{"/api/v1/tenants/proef/sources/website/crawl", ""},
		{"/api/v1/tenants/proef/sources/website/crawl", "ast_wrong"},
		{"/api/v1/tenants/onbekend/sources/website/crawl", token},
	} {
		resp, body := call("POST", tt.path, tt.auth)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("POST %s with %q: %d %s", tt.path, tt.auth, resp.StatusCode, body)
		}
	}
	if resp, body := call("POST", "/api/v1/tenants/proef/sources/onbekend/crawl", token); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown source: %d %s", resp.StatusCode, body)
	}

	resp, body := call("POST", "/api/v1/tenants/proef/sources/website/crawl", token)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", resp.StatusCode, body)
	}
	var job crawl.Job
	if err := json.Unmarshal(body, &job); err != nil || job.ID == "" {
		t.Fatalf("trigger body: %v %s", err, body)
	}
	loc := resp.Header.Get("Location")
	if loc != "/api/v1/tenants/proef/jobs/"+job.ID {
		t.Errorf("Location %q", loc)
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.Status != crawl.StatusDone {
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish: %+v", job)
		}
		time.Sleep(50 * time.Millisecond)
		resp, body = call("GET", loc, token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("job: %d %s", resp.StatusCode, body)
		}
		job = crawl.Job{}
		json.Unmarshal(body, &job)
		if job.Status == crawl.StatusFailed {
			t.Fatalf("job failed: %+v", job)
		}
	}
	if job.Counters.New != 2 {
		t.Errorf("counters %+v", job.Counters)
	}
	if resp, _ := call("GET", loc, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("job without token: %d", resp.StatusCode)
	}

	a, err := n.Ask(context.Background(), "proef", "wat kost hondenbelasting")
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused || !strings.Contains(a.Text, "98,40") || len(a.Citations) == 0 || a.Citations[0].URL != site.URL+"/hondenbelasting" {
		t.Errorf("answer from the crawled page: %+v", a)
	}
	d, err := n.Store().Doc("t:proef/" + crawl.DocID(site.URL+"/hondenbelasting"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Meta == nil || d.Meta.Source != "website" || d.Meta.ContentType != "text/html" || d.Meta.Fetched.IsZero() || len(d.Meta.Headings) == 0 {
		t.Errorf("stored metadata %+v", d.Meta)
	}
}
