package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
)

// TestCrawler_Resume stops a crawl midway, as a shutdown would, and checks
// that a new Crawler on the same file finishes it without fetching any page
// twice and without losing one.
func TestCrawler_Resume(t *testing.T) {
	const pages = 40
	for _, how := range []string{"Resume", "Start"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var served atomic.Int32
			srv, hits := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/":
					links := make([]string, pages)
					for i := range links {
						links[i] = fmt.Sprintf("/p/%d", i)
					}
					serve(w, r, "", "", "text/html", page("Home", "Welkom.", links...))
				case strings.HasPrefix(r.URL.Path, "/p/"):
					if served.Add(1) == 10 {
						cancel() // the process is told to stop while pages are in flight
					}
					serve(w, r, "", "", "text/html", page("Pagina "+r.URL.Path, "Inhoud van "+r.URL.Path))
				default:
					http.NotFound(w, r)
				}
			}))
			db := openDB(t)
			sink := newMemSink()
			src := crawl.Source{ID: "site", Tenant: "t", StartURLs: []string{srv.URL + "/"},
				AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true}

			first, err := crawl.New(db, sink, crawl.Options{Workers: 4})
			if err != nil {
				t.Fatal(err)
			}
			job, err := first.Run(ctx, src)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v, want context.Canceled", err)
			}
			first.Close()
			stored, err := first.Job(job.ID)
			if err != nil || stored.Status != crawl.StatusRunning {
				t.Fatalf("interrupted job stored as %q (%v), want running", stored.Status, err)
			}
			done := len(sink.ids())
			if done == 0 || done > 1+10+4 {
				t.Fatalf("%d pages stored before the stop, want 1..15", done)
			}

			second := newCrawler(t, db, sink, crawl.Options{})
			var id string
			if how == "Resume" {
				ids, err := second.Resume(context.Background())
				if err != nil || len(ids) != 1 || ids[0] != job.ID {
					t.Fatalf("Resume = %v, %v; want [%s]", ids, err, job.ID)
				}
				id = ids[0]
			} else {
				if id, err = second.Start(context.Background(), src); err != nil || id != job.ID {
					t.Fatalf("Start = %q, %v; want the interrupted job %s", id, err, job.ID)
				}
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer wcancel()
			final, err := second.Wait(wctx, id)
			if err != nil || final.Status != crawl.StatusDone {
				t.Fatalf("resumed job: %+v, %v", final, err)
			}
			for path, n := range counts(hits.take()) {
				if n != 1 && path != "/robots.txt" { // robots.txt is read once per process
					t.Errorf("%s fetched %d times", path, n)
				}
			}
			if n := len(sink.ids()); n != pages+1 {
				t.Errorf("sink holds %d documents, want %d", n, pages+1)
			}
			if final.Counters.New != pages+1 || final.Counters.Fetched != pages+1 {
				t.Errorf("counters across the resume: %+v, want %d new", final.Counters, pages+1)
			}
			if ids, err := second.Resume(context.Background()); err != nil || len(ids) != 0 {
				t.Errorf("second Resume = %v, %v; want nothing left", ids, err)
			}
		})
	}
}

// TestCrawler_Cancel ends a background job for good.
func TestCrawler_Cancel(t *testing.T) {
	release := make(chan struct{})
	srv, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			<-release
		}
		http.NotFound(w, r)
	}))
	c := newCrawler(t, openDB(t), newMemSink(), crawl.Options{})
	src := crawl.Source{ID: "site", Tenant: "t", StartURLs: []string{srv.URL + "/"}, AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true}
	id, err := c.Start(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), src); !errors.Is(err, crawl.ErrJobActive) {
		t.Errorf("second Start = %v, want ErrJobActive", err)
	}
	if err := c.Cancel(id); err != nil {
		t.Fatal(err)
	}
	close(release)
	job, err := c.Wait(context.Background(), id)
	if err != nil || job.Status != crawl.StatusCancelled {
		t.Errorf("cancelled job = %+v, %v", job, err)
	}
	if ids, err := c.Resume(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("Resume after cancel = %v, %v; want nothing", ids, err)
	}
	if err := c.Cancel(id); !errors.Is(err, crawl.ErrNotFound) {
		t.Errorf("Cancel of an ended job = %v, want ErrNotFound", err)
	}
}

func TestCrawler_Sources(t *testing.T) {
	c := newCrawler(t, openDB(t), newMemSink(), crawl.Options{})
	a := crawl.Source{ID: "a", Tenant: "meppel", StartURLs: []string{"https://www.meppel.nl/"}, Schedule: "0 3 * * *"}
	b := crawl.Source{ID: "b", Tenant: "meppel", Sitemaps: []string{"https://www.meppel.nl/sitemap.xml"}}
	other := crawl.Source{ID: "a", Tenant: "aalsmeer", StartURLs: []string{"https://www.aalsmeer.nl/"}}
	for _, s := range []crawl.Source{a, b, other} {
		if err := c.PutSource(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutSource(crawl.Source{ID: "x"}); !errors.Is(err, crawl.ErrInvalidSource) {
		t.Errorf("PutSource(invalid) = %v", err)
	}
	got, err := c.Source("meppel", "a")
	if err != nil || got.Schedule != "0 3 * * *" || got.StartURLs[0] != "https://www.meppel.nl/" {
		t.Errorf("Source = %+v, %v", got, err)
	}
	list, err := c.Sources("meppel")
	if err != nil || len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" {
		t.Errorf("Sources(meppel) = %+v, %v", list, err)
	}
	if err := c.DeleteSource("meppel", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Source("meppel", "a"); !errors.Is(err, crawl.ErrNotFound) {
		t.Errorf("deleted source: %v", err)
	}
	if err := c.DeleteSource("meppel", "a"); !errors.Is(err, crawl.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if all, _ := c.Sources(""); len(all) != 2 {
		t.Errorf("Sources(\"\") = %d, want 2", len(all))
	}
}
