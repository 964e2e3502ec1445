package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/crawl"
)

// testSite serves a small gemeente website on 127.0.0.1: pages /p/0 ...
// /p/{n-1}, each with a marker word and links to the next three, a little
// slow so a crawl takes a while. It counts requests per path.
type testSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	count map[string]int
}

func newTestSite(tb testing.TB, pages int, delay time.Duration) *testSite {
	tb.Helper()
	s := &testSite{count: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.count[r.URL.Path]++
		s.mu.Unlock()
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 0 || i >= pages {
			http.NotFound(w, r)
			return
		}
		time.Sleep(delay)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="nl"><head><title>Pagina %d | Gemeente Proef</title></head><body>
<nav><a href="/p/0">Home</a></nav><main><h1>Onderwerp %d</h1>
<p>Op deze pagina staat merkwoord%04d. U regelt dit bij de balie van het gemeentehuis.</p>`, i, i, i)
		for k := 1; k <= 3; k++ {
			fmt.Fprintf(w, `<p><a href="/p/%d">Volgende %d</a></p>`, (i+k)%pages, k)
		}
		fmt.Fprint(w, `</main></body></html>`)
	}))
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *testSite) fetched() (total, pages, maxPerPage int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, c := range s.count {
		total += c
		if strings.HasPrefix(p, "/p/") {
			pages++
			maxPerPage = max(maxPerPage, c)
		}
	}
	return total, pages, maxPerPage
}

// TestCrawl_KillAndResume kills a real crawling child process with
// SIGKILL halfway, then crawls again: the crawl continues from its
// frontier, refetches at most the pages that were in flight, and every
// page ends up searchable.
func TestCrawl_KillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process; skipped with -short")
	}
	const pages = 80
	site := newTestSite(t, pages, 15*time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")
	if res := run(t, "", "tenant", "set", "--data", data, "--id", "proef", "--name", "Gemeente Proef"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	args := []string{"crawl", "--data", data, "--tenant", "proef", "--url", site.srv.URL + "/p/0",
		"--allow-private", "127.0.0.1", "--rate", "0", "--max-depth", "100", "--json"}

	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ASSISTENT_CHILD=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case err := <-done:
			t.Fatalf("the crawl ended before the kill (%v):\n%s", err, stderr.String())
		case <-deadline:
			t.Fatal("the crawl made no progress")
		case <-time.After(5 * time.Millisecond):
			if _, n, _ := site.fetched(); n >= pages/2 {
				break wait
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	site.mu.Lock()
	killCounts := map[string]int{}
	for p, c := range site.count {
		killCounts[p] = c
	}
	site.mu.Unlock()
	_, before, _ := site.fetched()
	t.Logf("killed after %d of %d pages", before, pages)

	res := run(t, "", args...)
	if res.code != 0 {
		t.Fatalf("resumed crawl: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	var job crawl.Job
	if err := json.Unmarshal([]byte(res.stdout), &job); err != nil {
		t.Fatalf("summary: %v\n%s", err, res.stdout)
	}
	_, fetched, most := site.fetched()
	if job.Status != crawl.StatusDone || fetched != pages {
		t.Fatalf("job %+v; %d of %d pages fetched", job, fetched, pages)
	}
	// Only pages in flight at the kill (at most one per worker) are
	// fetched again.
	total := 0
	var twice []string
	site.mu.Lock()
	for p, c := range site.count {
		if strings.HasPrefix(p, "/p/") && c > 1 {
			total += c - 1
			twice = append(twice, fmt.Sprintf("%s×%d(child %d)", p, c, killCounts[p]))
		}
	}
	site.mu.Unlock()
	if total > crawlWorkers || most > 2 {
		t.Errorf("%d pages fetched again (%v); only those in flight at the kill may be", total, twice)
	}
	// Every page is searchable by its marker word.
	var queries strings.Builder
	for i := range pages {
		fmt.Fprintf(&queries, "merkwoord%04d\n", i)
	}
	res = run(t, queries.String(), "search", "--data", data, "--tenant", "proef", "--mode", "bm25", "--json")
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != pages {
		t.Fatalf("%d search results for %d queries", len(lines), pages)
	}
	for i, line := range lines {
		var r struct {
			Hits []struct {
				URL string `json:"url"`
			} `json:"hits"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s/p/%d", site.srv.URL, i)
		if len(r.Hits) == 0 || r.Hits[0].URL != want {
			t.Errorf("merkwoord%04d: %+v, want %s first", i, r.Hits, want)
		}
	}
}

// crawlWorkers is how many pages a node's crawl has in flight at most.
const crawlWorkers = 16

func TestCrawl_BadInput(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"crawl", "--data", data, "--tenant", "proef"}, 2, "give at least one --url"},
		{[]string{"crawl", "--data", data, "--tenant", "Proef!", "--url", "https://www.proef.example/"}, 2, "not a valid id"},
		{[]string{"crawl", "--data", data, "--tenant", "proef", "--url", "ftp://www.proef.example/"}, 2, "start_urls"},
		{[]string{"crawl", "--data", data, "--tenant", "proef", "--url", "https://www.proef.example/", "--rate", "-1"}, 2, "--rate"},
		{[]string{"crawl", "--data", data, "--tenant", "proef", "--url", "https://www.proef.example/"}, 1, "tenant \"proef\" does not exist"},
		{[]string{"source", "add", "--data", data, "--tenant", "proef", "--url", "https://www.proef.example/", "--schedule", "elke nacht"}, 2, "--schedule"},
		{[]string{"source", "frobnicate"}, 2, "unknown subcommand"},
		{[]string{"tenant", "token", "--data", data, "--id", "proef"}, 1, "does not exist"},
	} {
		res := run(t, "", tt.args...)
		if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tt.args, res.code, res.stderr, tt.code, tt.want)
		}
	}
}

func TestSource_AddListRemove(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if res := run(t, "", "tenant", "set", "--data", data, "--id", "proef"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	res := run(t, "", "source", "add", "--data", data, "--tenant", "proef", "--source", "website",
		"--url", "https://www.proef.example/", "--sitemap", "https://www.proef.example/sitemap.xml",
		"--exclude", `/zoeken`, "--drop", ".cookie-banner", "--schedule", "0 3 * * *")
	if res.code != 0 {
		t.Fatalf("source add: %s", res.stderr)
	}
	res = run(t, "", "source", "list", "--data", data, "--tenant", "proef")
	var srcs []crawl.Source
	if err := json.Unmarshal([]byte(res.stdout), &srcs); err != nil || len(srcs) != 1 {
		t.Fatalf("source list: %v %s", err, res.stdout)
	}
	s := srcs[0]
	if s.ID != "website" || s.Schedule != "0 3 * * *" || len(s.Sitemaps) != 1 || len(s.Exclude) != 1 || len(s.Rules.DropSelectors) != 1 {
		t.Errorf("stored source %+v", s)
	}
	if res := run(t, "", "source", "remove", "--data", data, "--tenant", "proef", "--source", "website"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	res = run(t, "", "source", "list", "--data", data, "--tenant", "proef")
	if strings.TrimSpace(res.stdout) != "[]" && strings.TrimSpace(res.stdout) != "null" {
		t.Errorf("after remove: %s", res.stdout)
	}
	res = run(t, "", "tenant", "token", "--data", data, "--id", "proef")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ast_") || len(strings.TrimSpace(res.stdout)) < 40 {
		t.Errorf("tenant token: %q %q", res.stdout, res.stderr)
	}
	// The token is stored only as a hash.
	res2 := run(t, "", "tenant", "set", "--data", data, "--id", "proef")
	if strings.Contains(res2.stdout, strings.TrimSpace(res.stdout)) {
		t.Error("the token itself is stored")
	}
}

// The example config in deploy/ is valid as it stands.
func TestExampleConfig(t *testing.T) {
	var fc fileConfig
	if err := loadConfig(filepath.Join("..", "..", "deploy", "config.example.json"), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Sources) == 0 {
		t.Fatal("no sources in the example")
	}
	for _, src := range fc.Sources {
		if err := src.Validate(); err != nil {
			t.Error(err)
		}
		if err := node.ValidSchedule(src.Schedule); err != nil || src.Schedule == "" {
			t.Errorf("schedule %q: %v", src.Schedule, err)
		}
	}
	if _, err := fc.models(func(string) string { return "" }); err != nil {
		t.Error(err)
	}
}
