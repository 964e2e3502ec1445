package node_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/ingest"
)

// BenchmarkFallback measures the federated fallback (AskPeers: the
// question goes to the peers, the answer comes from one peer's pages) with
// five real peer nodes on loopback, two of which take 2 s to reply, within
// the default 800 ms budget. "slow-last": the slow peers are ranked 4th and
// 5th; "slow-first": they are ranked 1st and 2nd, so an answer from a fast
// peer waits the grace (100 ms) for them. Reports p50 and p99 in ms.
//
//	go test -run '^$' -bench Fallback -benchtime 200x ./node/
func BenchmarkFallback(b *testing.B) {
	ca := newCA(b)
	var fast, slow []node.Peer
	for i := range 5 {
		org := fmt.Sprintf("GM01%02d", i)
		name := fmt.Sprintf("Gemeente %c", 'P'+i)
		pages := []ingest.Page{{ID: "hond", URL: fmt.Sprintf("https://www.gm%d.example/hondenbelasting", i), Title: "Hondenbelasting",
			Text: fmt.Sprintf("Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € %d,40 per hond per jaar.", 90+i)}}
		if i < 2 {
			slow = append(slow, startPeer(b, ca, org, name, pages, slowly(2*time.Second)).Peer)
		} else {
			fast = append(fast, startPeer(b, ca, org, name, pages, nil).Peer)
		}
	}
	for _, c := range []struct {
		name  string
		peers []node.Peer
	}{
		{"slow-last", slices.Concat(fast, slow)},
		{"slow-first", slices.Concat(slow, fast)},
	} {
		b.Run(c.name, func(b *testing.B) {
			alfa := asker(b, ca, func(f *node.FallbackConfig) { f.Peers = c.peers })
			budget := node.DefaultFallbackConfig().Deadline
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if _, err := alfa.AskPeers(ctx, "alfa", dogQuestion); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			pct := func(p int) float64 {
				return float64(lat[min(len(lat)-1, len(lat)*p/100)].Microseconds()) / 1000
			}
			b.ReportMetric(pct(50), "p50_ms")
			b.ReportMetric(pct(99), "p99_ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
			b.ReportMetric(float64(budget.Milliseconds()), "budget_ms")
		})
	}
}
