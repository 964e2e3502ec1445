package crawl_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
)

// generatedSite serves a home page linking to 50 sections of 100 pages:
// 5,051 HTML pages, each with an ETag.
func generatedSite() http.Handler {
	const sections, perSection = 50, 100
	body := strings.Repeat("De gemeente haalt het afval op volgens de afvalkalender. ", 40)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var title string
		var links []string
		switch p := r.URL.Path; {
		case p == "/":
			title = "Home"
			for s := range sections {
				links = append(links, "/s/"+strconv.Itoa(s))
			}
		case strings.HasPrefix(p, "/s/"):
			s, _ := strconv.Atoi(p[3:])
			title = "Sectie " + p[3:]
			for i := range perSection {
				links = append(links, fmt.Sprintf("/p/%d", s*perSection+i))
			}
			links = append(links, "/")
		case strings.HasPrefix(p, "/p/"):
			title = "Pagina " + p[3:]
			links = []string{"/", "/s/0"}
		default:
			http.NotFound(w, r)
			return
		}
		serve(w, r, `"`+r.URL.Path+`"`, "", "text/html; charset=utf-8", page(title, body, links...))
	})
}

// BenchmarkCrawl5000 crawls a generated local site of 5,051 pages with the
// rate limit off, then crawls it again with every request conditional.
func BenchmarkCrawl5000(b *testing.B) {
	const total = 5051
	var served atomic.Int64
	h := generatedSite()
	srv, _ := startServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		h.ServeHTTP(w, r)
	}))
	src := crawl.Source{ID: "site", Tenant: "t", StartURLs: []string{srv.URL + "/"},
		AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true, MaxDepth: 3}
	var first, second time.Duration
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := openDB(b)
		c := newCrawler(b, db, newMemSink(), crawl.Options{})
		runtime.GC()
		stopSampling := sampleHeap(&peak)
		b.StartTimer()

		start := time.Now()
		job, err := c.Run(context.Background(), src)
		first += time.Since(start)
		if err != nil || job.Counters.New != total {
			b.Fatalf("first crawl: %+v, %v", job.Counters, err)
		}
		start = time.Now()
		job, err = c.Run(context.Background(), src)
		second += time.Since(start)
		if err != nil || job.Counters.NotModified != total {
			b.Fatalf("second crawl: %d not modified of %d pages (%+v), %v", job.Counters.NotModified, total, job.Counters, err)
		}
		stopSampling()
	}
	b.ReportMetric(float64(total*b.N)/first.Seconds(), "pages/s")
	b.ReportMetric(float64(total*b.N)/second.Seconds(), "pages/s_304")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
}

// sampleHeap records the largest HeapAlloc seen until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
