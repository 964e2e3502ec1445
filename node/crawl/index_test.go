package crawl_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/assistent-nl/assistent/node/crawl"
)

// TestCrawler_NoIndexAndCanonical: noindex pages are not put and are
// removed when they were; a page is keyed on its canonical URL, and a
// changed canonical URL replaces the old document.
func TestCrawler_NoIndexAndCanonical(t *testing.T) {
	var run atomic.Int32
	run.Store(1)
	srv, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html := func(head, title string) string {
			return fmt.Sprintf(`<html lang="nl"><head>%s<title>%s</title></head><body><main><h1>%s</h1><p>Tekst %d.</p></main></body></html>`, head, title, title, run.Load())
		}
		switch r.URL.Path {
		case "/":
			serve(w, r, "", "", "text/html", page("Home", "Welkom.", "/a", "/b?utm=x", "/c"))
		case "/a":
			head := ""
			if run.Load() == 2 {
				head = `<meta name="robots" content="noindex">`
			}
			serve(w, r, "", "", "text/html", html(head, "A"))
		case "/b":
			canon := "/b"
			if run.Load() == 2 {
				canon = "/b-nieuw"
			}
			serve(w, r, "", "", "text/html", html(`<link rel="canonical" href="`+canon+`">`, "B"))
		case "/c":
			serve(w, r, "", "", "text/html", html(`<meta name="robots" content="noindex,nofollow">`, "C"))
		default:
			http.NotFound(w, r)
		}
	}))
	id := func(p string) string { return crawl.DocID(srv.URL + p) }
	sink := newMemSink()
	c := newCrawler(t, openDB(t), sink, crawl.Options{})
	src := crawl.Source{ID: "site", Tenant: "t", StartURLs: []string{srv.URL + "/"}, AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true}

	job, err := c.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	puts, _ := sink.take()
	assertIDs(t, "run 1 puts", puts, ids(id, "/", "/a", "/b"))
	if job.Counters.NoIndex != 1 || job.Counters.New != 3 {
		t.Errorf("run 1 counters %+v", job.Counters)
	}
	if d, _ := sink.doc("t", id("/b")); d.URL != srv.URL+"/b?utm=x" || d.Canonical != srv.URL+"/b" {
		t.Errorf("document of /b?utm=x: URL %q, Canonical %q", d.URL, d.Canonical)
	}

	run.Store(2)
	job, err = c.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	puts, removes := sink.take()
	assertIDs(t, "run 2 puts", puts, ids(id, "/b-nieuw"))
	assertIDs(t, "run 2 removes", removes, ids(id, "/a", "/b"))
	if job.Counters.Removed != 2 || job.Counters.NoIndex != 2 || job.Counters.Changed != 1 {
		t.Errorf("run 2 counters %+v", job.Counters)
	}
}

// TestCrawler_MaxPages: a run admits at most MaxPages URLs and, being cut
// short, counts nobody as missing.
func TestCrawler_MaxPages(t *testing.T) {
	var many atomic.Bool
	many.Store(true)
	srv, hits := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			links := []string{"/1", "/2"}
			if many.Load() {
				links = []string{"/9", "/8", "/7", "/6", "/5", "/4", "/3", "/2", "/1"}
			}
			serve(w, r, "", "", "text/html", page("Home", "Welkom.", links...))
		case "/robots.txt":
			http.NotFound(w, r)
		default:
			serve(w, r, "", "", "text/html", page("P"+r.URL.Path, "Pagina."))
		}
	}))
	sink := newMemSink()
	c := newCrawler(t, openDB(t), sink, crawl.Options{})
	src := crawl.Source{ID: "site", Tenant: "t", StartURLs: []string{srv.URL + "/"}, AllowPrivate: []string{"127.0.0.1"},
		NoRateLimit: true, RemoveAfter: 1}
	if _, err := c.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	hits.take()
	sink.take()
	many.Store(false)
	src.MaxPages = 2
	job, err := c.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if h := counts(hits.take()); len(h) != 3 || h["/"] != 1 || h["/1"] != 1 {
		t.Errorf("with MaxPages 2 the crawler requested %v, want robots.txt, / and /1", h)
	}
	if _, removes := sink.take(); len(removes) != 0 {
		t.Errorf("a truncated run removed %v", removes)
	}
	src.MaxPages = 0
	if job, err = c.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if _, removes := sink.take(); len(removes) != 7 || job.Counters.Removed != 7 {
		t.Errorf("a full run removed %v (%d), want the 7 pages no longer linked", removes, job.Counters.Removed)
	}
}
