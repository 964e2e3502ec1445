package node_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// BenchmarkChat1000 holds 1,000 WebSocket chat sessions open on one node,
// each asking a question every three seconds (spread out), and reports the
// p50/p99 time from sending a question to its done message, and RSS. The
// node holds the Rijksoverheid pages and the extractive route answers.
func BenchmarkChat1000(b *testing.B) {
	const sessions, rounds, period = 1000, 3, 3 * time.Second
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(b.TempDir(), "data")
	cfg.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6} // all sessions share 127.0.0.1
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	pages := nationalPages(b)
	for i := 0; i < len(pages); i += 128 {
		if _, err := n.Ingest(context.Background(), retrieval.NationalScope("rijksoverheid"), pages[i:min(i+128, len(pages))], nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := n.Store().PutTenant(store.Tenant{ID: "bench", Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/tenants/bench/chat"

	for b.Loop() {
		conns := make([]*websocket.Conn, sessions)
		for i := range conns {
			c, _, err := websocket.Dial(context.Background(), url, nil)
			if err != nil {
				b.Fatalf("dial %d: %v", i, err)
			}
			conns[i] = c
		}
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.CloseNow()
				// Spread the sessions over the period.
				time.Sleep(time.Duration(i) * period / sessions)
				for r := range rounds {
					q := benchQueries[(i+r)%len(benchQueries)]
					t0 := time.Now()
					msg := fmt.Sprintf(`{"type":"ask","id":"%d-%d","text":%q}`, i, r, q)
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
						cancel()
						b.Error(err)
						return
					}
					for {
						_, data, err := c.Read(ctx)
						if err != nil {
							cancel()
							b.Error(err)
							return
						}
						if strings.Contains(string(data), `"type":"done"`) || strings.Contains(string(data), `"type":"error"`) {
							break
						}
					}
					cancel()
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
					time.Sleep(period - min(d, period))
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(time.Since(start).Seconds(), "wall_s")
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		reportLatency(b, lat)
		b.ReportMetric(float64(len(lat)), "answers")
		b.ReportMetric(rssMiB(), "rss_MiB")
	}
}
