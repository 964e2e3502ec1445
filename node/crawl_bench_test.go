package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/store"
)

// BenchmarkCrawlSite5000 crawls a local 5,000-page gemeente site into a
// real node (extract, chunk, embed, store, index) with the rate limit off,
// then crawls it again: the second crawl must make only conditional
// requests, all answered 304. It reports pages/s of both crawls and the
// peak RSS of the process (site server included).
func BenchmarkCrawlSite5000(b *testing.B) {
	const pages = 5000
	lastMod := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i < 0 || i >= pages {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"p%d-v1"`, i)
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="nl"><head><title>Onderwerp %d | Gemeente Bench</title></head><body>
<header><nav><a href="/p/0">Home</a> <a href="/p/1">Wonen</a></nav></header><main><h1>Onderwerp %d</h1>
<p>Op deze pagina leest u hoe u onderwerp %d regelt bij de gemeente. U maakt een afspraak bij de balie.</p>
<h2>Kosten</h2><p>De kosten zijn € %d,50. U betaalt met de pinpas.</p>
<h2>Meenemen</h2><p>Neem uw identiteitsbewijs mee en een recente pasfoto.</p>`, i, i, i, 10+i%90)
		for k := 1; k <= 20; k++ {
			fmt.Fprintf(w, `<a href="/p/%d">meer %d</a> `, (i*20+k)%pages, k)
		}
		fmt.Fprint(w, `</main><footer>Gemeente Bench</footer></body></html>`)
	}))
	defer srv.Close()
	src := crawl.Source{ID: "site", Tenant: "bench", StartURLs: []string{srv.URL + "/p/0"},
		AllowPrivate: []string{"127.0.0.1"}, NoRateLimit: true}
	var first, second time.Duration
	for b.Loop() {
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(b.TempDir(), "data")
		n, err := node.Open(context.Background(), cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Store().PutTenant(store.Tenant{ID: "bench", Name: "Bench"}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		job, err := n.Crawler().Run(context.Background(), src)
		first += time.Since(start)
		if err != nil || job.Counters.New != pages {
			b.Fatalf("first crawl: %+v, %v", job.Counters, err)
		}
		start = time.Now()
		job, err = n.Crawler().Run(context.Background(), src)
		second += time.Since(start)
		if err != nil || job.Counters.NotModified != pages || job.Counters.New+job.Counters.Changed != 0 {
			b.Fatalf("second crawl: %+v, %v", job.Counters, err)
		}
		n.Close()
	}
	b.ReportMetric(float64(pages*b.N)/first.Seconds(), "pages/s")
	b.ReportMetric(float64(pages*b.N)/second.Seconds(), "pages/s_304")
	b.ReportMetric(procStatusMiB("VmHWM:"), "peak_rss_MiB")
}
