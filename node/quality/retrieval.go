// Package quality measures how well a node answers: retrieval metrics on
// query sets now; online metrics and red-team runs later.
package quality

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Query is one line of a query set (the queries.jsonl format): a question
// and the ids of the documents that answer it.
type Query struct {
	Question string   `json:"question"`
	Relevant []string `json:"relevant"`
	Style    string   `json:"style,omitempty"`
	// Split is "tune" or "heldout" in a development set whose halves are
	// reported apart (tuning looks at tune only); empty elsewhere.
	Split string `json:"split,omitempty"`
}

// ReadQueries reads a query set. A line that is not a valid query is an
// error naming name and the line.
func ReadQueries(r io.Reader, name string) ([]Query, error) {
	return readSet(r, name, func(q Query) error {
		if q.Question == "" || len(q.Relevant) == 0 {
			return errors.New(`needs "question" and "relevant"`)
		}
		return nil
	})
}

// ReadQuestions reads a set of questions in the query format where
// "relevant" may be missing: a set for measuring over-refusal.
func ReadQuestions(r io.Reader, name string) ([]Query, error) {
	return readSet(r, name, func(q Query) error {
		if strings.TrimSpace(q.Question) == "" {
			return errors.New(`needs "question"`)
		}
		return nil
	})
}

// Metrics are retrieval quality and latency over a query set. Relevance is
// binary; ranks are of documents.
type Metrics struct {
	Mode     string  `json:"mode"`
	Queries  int     `json:"queries"`
	NDCG10   float64 `json:"ndcg@10"`
	Recall5  float64 `json:"recall@5"`
	Recall10 float64 `json:"recall@10"`
	MRR10    float64 `json:"mrr@10"`
	P50ms    float64 `json:"latency_p50_ms"`
	P95ms    float64 `json:"latency_p95_ms"`
	P99ms    float64 `json:"latency_p99_ms"`
	// StyleNDCG10 is nDCG@10 per query style, for sets whose queries
	// name one.
	StyleNDCG10 map[string]float64 `json:"style_ndcg@10,omitempty"`
}

// SearchFunc returns the ids of the best documents for a question, best first.
type SearchFunc func(ctx context.Context, question string) ([]string, error)

// EvalRetrieval runs every query through search and averages the metrics.
func EvalRetrieval(ctx context.Context, mode string, queries []Query, search SearchFunc) (Metrics, error) {
	m := Metrics{Mode: mode, Queries: len(queries)}
	if len(queries) == 0 {
		return m, fmt.Errorf("eval: the query set is empty")
	}
	lat := make([]float64, 0, len(queries))
	styleN := map[string]int{}
	for _, q := range queries {
		start := time.Now()
		ids, err := search(ctx, q.Question)
		if err != nil {
			return Metrics{}, fmt.Errorf("eval %q: %w", q.Question, err)
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		s := Score(ids, q.Relevant)
		m.NDCG10 += s.NDCG10
		m.Recall5 += s.Recall5
		m.Recall10 += s.Recall10
		m.MRR10 += s.MRR10
		if q.Style != "" {
			if m.StyleNDCG10 == nil {
				m.StyleNDCG10 = map[string]float64{}
			}
			m.StyleNDCG10[q.Style] += s.NDCG10
			styleN[q.Style]++
		}
	}
	for st, k := range styleN {
		m.StyleNDCG10[st] = r4(m.StyleNDCG10[st] / float64(k))
	}
	n := float64(len(queries))
	m.NDCG10, m.Recall5, m.Recall10, m.MRR10 = r4(m.NDCG10/n), r4(m.Recall5/n), r4(m.Recall10/n), r4(m.MRR10/n)
	sort.Float64s(lat)
	m.P50ms, m.P95ms, m.P99ms = r4(Percentile(lat, 50)), r4(Percentile(lat, 95)), r4(Percentile(lat, 99))
	return m, nil
}

// QueryScore holds the metrics of one query.
type QueryScore struct {
	NDCG10, Recall5, Recall10, MRR10 float64
}

// Score computes the metrics of one ranked list of document ids against
// the relevant ids. Duplicate ids in ranked count once.
func Score(ranked, relevant []string) QueryScore {
	var s QueryScore
	if len(relevant) == 0 {
		return s
	}
	seen := map[string]bool{}
	var dedup []string
	for _, id := range ranked {
		if !seen[id] {
			seen[id] = true
			dedup = append(dedup, id)
		}
	}
	var dcg, idcg float64
	hits5, hits10 := 0, 0
	for i := 0; i < len(dedup) && i < 10; i++ {
		if slices.Contains(relevant, dedup[i]) {
			dcg += 1 / math.Log2(float64(i+2))
			hits10++
			if i < 5 {
				hits5++
			}
			if s.MRR10 == 0 {
				s.MRR10 = 1 / float64(i+1)
			}
		}
	}
	for i := 0; i < len(relevant) && i < 10; i++ {
		idcg += 1 / math.Log2(float64(i+2))
	}
	s.NDCG10 = dcg / idcg
	s.Recall5 = float64(hits5) / float64(len(relevant))
	s.Recall10 = float64(hits10) / float64(len(relevant))
	return s
}

// Percentile returns the p-th percentile of sorted values (nearest rank).
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func r4(f float64) float64 { return math.Round(f*10000) / 10000 }
