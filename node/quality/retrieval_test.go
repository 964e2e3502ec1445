package quality_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/quality"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScore(t *testing.T) {
	tests := []struct {
		name             string
		ranked, relevant []string
		ndcg, r5, r10, m float64
	}{
		{"first", []string{"a", "x"}, []string{"a"}, 1, 1, 1, 1},
		{"second", []string{"x", "a"}, []string{"a"}, 1 / math.Log2(3), 1, 1, 0.5},
		{"sixth", []string{"x1", "x2", "x3", "x4", "x5", "a"}, []string{"a"}, 1 / math.Log2(7), 0, 1, 1.0 / 6},
		{"absent", []string{"x"}, []string{"a"}, 0, 0, 0, 0},
		{"two relevant, one found", []string{"a", "x"}, []string{"a", "b"}, 1 / (1 + 1/math.Log2(3)), 0.5, 0.5, 1},
		{"duplicates count once", []string{"x", "x", "a"}, []string{"a"}, 1 / math.Log2(3), 1, 1, 0.5},
		{"eleventh is beyond 10", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "a"}, []string{"a"}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := quality.Score(tt.ranked, tt.relevant)
			if !near(s.NDCG10, tt.ndcg) || !near(s.Recall5, tt.r5) || !near(s.Recall10, tt.r10) || !near(s.MRR10, tt.m) {
				t.Fatalf("Score = %+v, want ndcg %v r5 %v r10 %v mrr %v", s, tt.ndcg, tt.r5, tt.r10, tt.m)
			}
		})
	}
}

func TestEvalRetrieval(t *testing.T) {
	qs := []quality.Query{{Question: "a", Relevant: []string{"a"}}, {Question: "b", Relevant: []string{"b"}}}
	m, err := quality.EvalRetrieval(context.Background(), "bm25", qs, func(_ context.Context, q string) ([]string, error) {
		return []string{"a", "b"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !near(m.MRR10, 0.75) || !near(m.Recall5, 1) || m.Queries != 2 {
		t.Fatalf("metrics %+v", m)
	}
}

func TestReadQueries(t *testing.T) {
	good := `{"question":"paspoort kwijt","relevant":["x"],"style":"informal"}` + "\n\n" + `{"question":"b","relevant":["y","z"]}`
	qs, err := quality.ReadQueries(strings.NewReader(good), "q.jsonl")
	if err != nil || len(qs) != 2 || len(qs[1].Relevant) != 2 {
		t.Fatalf("ReadQueries = %+v, %v", qs, err)
	}
	_, err = quality.ReadQueries(strings.NewReader(good+"\n{\"question\":\"c\"}"), "q.jsonl")
	if err == nil || !strings.HasPrefix(err.Error(), "q.jsonl:4:") {
		t.Fatalf("missing relevant: err = %v, want it to name q.jsonl:4", err)
	}
}

func TestSplitHalves(t *testing.T) {
	qs := []quality.Query{{Question: "a", Split: "tune"}, {Question: "b", Split: "heldout"}, {Question: "c", Split: "tune"}}
	names, parts := quality.SplitHalves(qs, "dev.jsonl", func(q quality.Query) string { return q.Split })
	if len(names) != 2 || names[0] != "dev.jsonl:tune" || names[1] != "dev.jsonl:heldout" || len(parts[0]) != 2 || parts[1][0].Question != "b" {
		t.Fatalf("names %v, parts %v", names, parts)
	}
	names, parts = quality.SplitHalves(qs[:1:1][:0], "x", func(q quality.Query) string { return q.Split })
	if len(names) != 0 || len(parts) != 0 {
		t.Fatalf("empty: %v %v", names, parts)
	}
	names, _ = quality.SplitHalves([]quality.Query{{Question: "a"}}, "v.jsonl", func(q quality.Query) string { return q.Split })
	if len(names) != 1 || names[0] != "v.jsonl" {
		t.Fatalf("no split: %v", names)
	}
}
