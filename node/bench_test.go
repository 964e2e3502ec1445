package node_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/demo"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// benchQueries are resident-style questions for the search benchmarks.
var benchQueries = []string{
	"hoe vraag ik een paspoort aan", "id kaart kwijt wat nu", "verhuizing doorgeven",
	"uittreksel brp aanvragen", "stemmen met volmacht", "digid kwijt", "overlijden aangeven",
	"woo verzoek indienen", "bezwaar maken tegen besluit", "kosten identiteitskaart kind",
	"naam wijzigen", "nederlandse nationaliteit", "paspoort spoed", "stempas kwijt",
	"adres wijzigen buitenland", "geheimhouding persoonsgegevens",
}

// nationalPages returns the bundled Rijksoverheid pages.
func nationalPages(tb testing.TB) []ingest.Page {
	tb.Helper()
	rc, err := demo.NationalPages()
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	var pages []ingest.Page
	err = ingest.ReadJSONL(rc, "rijksoverheid", func(p ingest.Page) error {
		pages = append(pages, p)
		return nil
	}, func(e *ingest.LineError) { tb.Fatal(e) })
	if err != nil {
		tb.Fatal(err)
	}
	return pages
}

var big struct {
	once   sync.Once
	dir    string
	chunks int
	err    error
}

// bigNode returns a node holding the Rijksoverheid pages replicated with
// varied ids up to at least 100,000 chunks, built once per process.
func bigNode(b *testing.B) *node.Node {
	b.Helper()
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "assistent-bench-")
		if big.err != nil {
			return
		}
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(big.dir, "data")
		n, err := node.Open(context.Background(), cfg, nil)
		if err != nil {
			big.err = err
			return
		}
		defer n.Close()
		pages := nationalPages(b)
		for copyN := 0; big.chunks < 100_000; copyN++ {
			batch := make([]ingest.Page, 0, len(pages))
			for _, p := range pages {
				p.ID = fmt.Sprintf("c%03d-%s", copyN, p.ID)
				batch = append(batch, p)
			}
			for i := 0; i < len(batch); i += 128 {
				res, err := n.Ingest(context.Background(), retrieval.NationalScope("rijksoverheid"), batch[i:min(i+128, len(batch))], nil)
				if err != nil {
					big.err = err
					return
				}
				big.chunks += res.Chunks
			}
		}
		big.err = n.Store().PutTenant(store.Tenant{ID: "bench", Name: "Bench"})
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(big.dir, "data")
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

// BenchmarkSearch100k measures the full search pipeline (hybrid + rerank)
// at 100k chunks, and reports latency percentiles and the process RSS.
func BenchmarkSearch100k(b *testing.B) {
	for _, mode := range []hybrid.Mode{hybrid.ModeBM25, hybrid.ModeVector, hybrid.ModeHybrid, hybrid.ModeRerank} {
		b.Run(string(mode), func(b *testing.B) {
			n := bigNode(b)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := n.Search(ctx, "bench", benchQueries[i%len(benchQueries)], 10, mode); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(float64(big.chunks), "chunks")
			b.ReportMetric(rssMiB(), "rss_MiB")
		})
	}
}

// BenchmarkAsk100k measures a whole extractive answer at 100k chunks.
func BenchmarkAsk100k(b *testing.B) {
	n := bigNode(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := n.Ask(ctx, "bench", benchQueries[i%len(benchQueries)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkIngest measures parse, chunk, embed, store and index of the
// Rijksoverheid pages into a fresh node, without network.
func BenchmarkIngest(b *testing.B) {
	pages := nationalPages(b)
	ctx := context.Background()
	total := 0
	var took time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(b.TempDir(), strconv.Itoa(i))
		n, err := node.Open(ctx, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for j := 0; j < len(pages); j += 128 {
			if _, err := n.Ingest(ctx, retrieval.NationalScope("rijksoverheid"), pages[j:min(j+128, len(pages))], nil); err != nil {
				b.Fatal(err)
			}
		}
		took += time.Since(start)
		total += len(pages)
		b.StopTimer()
		n.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/took.Seconds(), "pages/s")
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		i := int(p/100*float64(len(lat))+0.5) - 1
		return float64(lat[max(0, min(i, len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(50), "p50_ms")
	b.ReportMetric(pct(99), "p99_ms")
}

// rssMiB reads the resident set size of this process from /proc.
func rssMiB() float64 { return procStatusMiB("VmRSS:") }

// procStatusMiB returns a memory field of /proc/self/status ("VmRSS:",
// "VmHWM:") in MiB, or 0 when it cannot be read.
func procStatusMiB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkImportCollection633 measures how long a new node takes to
// import the 633 Rijksoverheid pages as a national collection
// (parse, chunk, embed, store, index, in one batch): the node's side of
// syncing a published collection.
func BenchmarkImportCollection633(b *testing.B) {
	rc, err := demo.NationalPages()
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(b.TempDir(), "data")
		n, err := node.Open(context.Background(), cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := n.ImportCollection(context.Background(), "rijksoverheid", 1, bytes.NewReader(data))
		b.StopTimer()
		if err != nil || res.Written != 633 {
			b.Fatalf("import: %+v, %v", res, err)
		}
		n.Close()
		b.StartTimer()
	}
}
