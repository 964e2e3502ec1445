package client_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// BenchmarkPropagation measures how long one registry change takes to reach
// 100 watchers (DESIGN.md §7: p99 ≤ 2 s): from the start of the write through
// a follower to the commit of the change in each watcher's own bbolt file.
// Every watcher has its own certificate, HTTP/2 connection and database, as
// separate nodes would; all run in this process against a 3-server cluster.
//
//	go test -run '^$' -bench Propagation -benchtime 20x ./federation/client/
func BenchmarkPropagation(b *testing.B) {
	const nodes = 100
	c := apitest.StartCluster(b, 3, apitest.Options{Heartbeat: time.Second})
	type seen struct {
		node  int
		index uint64
		at    time.Time
	}
	events := make(chan seen, nodes*64)
	dir := b.TempDir()
	for i := range nodes {
		cfg := watcherConfig(c.URLs())
		cfg.IdleTimeout = 5 * time.Second
		cfg.OnChange = func(ch client.Change) { events <- seen{i, ch.Index, time.Now()} }
		cert := c.Cert(b, "GM0119", trust.RoleNode, fmt.Sprintf("node-%d", i))
		w, err := client.NewWatcher(cfg, openDB(b, filepath.Join(dir, fmt.Sprintf("node-%d.db", i))), c.HTTPClient(b, cert))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { w.Close() })
		if err := w.Open(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	// Wait for every initial snapshot.
	for range nodes {
		<-events
	}
	op := operator(b, c)
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		res, err := op.Apply(b.Context(), mustPut(b, registry.Setting{Name: "bench", Value: fmt.Sprint(i)}))
		if err != nil {
			b.Fatal(err)
		}
		got := map[int]bool{}
		timeout := time.After(30 * time.Second)
		for len(got) < nodes {
			select {
			case e := <-events:
				if e.index >= res.Index && !got[e.node] {
					got[e.node] = true
					lat = append(lat, e.at.Sub(start))
				}
			case <-timeout:
				b.Fatalf("change %d reached %d of %d watchers in 30s", i, len(got), nodes)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	if p99 := pct(0.99); p99 > 2*time.Second {
		b.Errorf("p99 propagation to %d watchers is %v, budget 2s", nodes, p99)
	}
}
