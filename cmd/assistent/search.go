package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

type searchHit struct {
	ID      string  `json:"id"`
	URL     string  `json:"url"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

type searchLine struct {
	Query  string      `json:"query"`
	Hits   []searchHit `json:"hits"`
	TookMS float64     `json:"took_ms"`
	Error  string      `json:"error,omitempty"`
}

func (m *Main) runSearch(ctx context.Context, args []string) error {
	fs := m.flagSet("search", "search --data DIR --tenant ID [--k 10] [--mode hybrid|bm25|vector] --json < queries")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant whose content (and national collections) to search")
	k := fs.Int("k", 10, "documents per query")
	modeName := fs.String("mode", "", "bm25, vector or hybrid; default: the full pipeline (hybrid + rerank)")
	asJSON := fs.Bool("json", false, "write one JSON line per query")
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := hybrid.ParseMode(*modeName)
	if err != nil {
		return usagef("search: --mode: %v", err)
	}
	if *tenant == "" {
		return usagef("search: --tenant is required")
	}
	if *k < 1 || *k > 100 {
		return usagef("search: --k must be between 1 and 100")
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	if _, err := n.Scopes(*tenant); err != nil {
		return fmt.Errorf("search: %w (list tenants with the HTTP API or create one with 'assistent tenant set')", err)
	}
	sc := bufio.NewScanner(m.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(m.Stdout)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		q := strings.TrimSpace(sc.Text())
		if q == "" {
			continue
		}
		line := searchDocs(ctx, n, *tenant, q, *k, mode)
		if *asJSON {
			enc.Encode(line)
			continue
		}
		fmt.Fprintf(m.Stdout, "%s (%.1f ms)\n", q, line.TookMS)
		for i, h := range line.Hits {
			fmt.Fprintf(m.Stdout, "%3d. %.4f  %s\n     %s\n", i+1, h.Score, h.Title, h.URL)
		}
	}
	return sc.Err()
}

// searchDocs runs one query and returns the best k documents, each with its
// best chunk as snippet.
func searchDocs(ctx context.Context, n *node.Node, tenant, q string, k int, mode hybrid.Mode) searchLine {
	start := time.Now()
	res, err := n.Search(ctx, tenant, q, k*4, mode)
	line := searchLine{Query: q, Hits: []searchHit{}}
	if err != nil {
		line.Error = err.Error()
	}
	for _, r := range hybrid.GroupByDoc(res) {
		if len(line.Hits) == k {
			break
		}
		line.Hits = append(line.Hits, searchHit{ID: r.Chunk.DocID, URL: r.Chunk.URL, Title: r.Chunk.Title,
			Score: round(r.Score, 6), Snippet: snippet(r.Chunk.Text, 200)})
	}
	line.TookMS = round(float64(time.Since(start).Microseconds())/1000, 3)
	return line
}

func snippet(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	if i := strings.LastIndexByte(string(r), ' '); i > max/2 {
		return string(r)[:i] + " …"
	}
	return string(r) + "…"
}

func round(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
