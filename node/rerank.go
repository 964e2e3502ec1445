package node

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// defaultRerankBudget bounds a model rerank whose route sets no timeout:
// the built-in order is good, so a slow reranker must not hold the answer.
const defaultRerankBudget = time.Second

// modelRerank reorders results by the tenant's "rerank" route (a TEI,
// Cohere or Jina cross-encoder) when it has one. Any failure (timeout,
// error, garbage) keeps the built-in order: the answer never waits on the
// reranker beyond its budget. rescored says whether the scores are the
// reranker's.
func (n *Node) modelRerank(ctx context.Context, tenant, query string, results []hybrid.Result) (out []hybrid.Result, rescored bool) {
	rt, ok := n.router.Load().Route(models.TaskRerank, tenant)
	if !ok || len(results) < 2 {
		return results, false
	}
	budget := defaultRerankBudget
	if rt.Timeout > 0 {
		budget = rt.Timeout * time.Duration(len(rt.Providers))
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	docs := make([]string, len(results))
	for i, r := range results {
		docs[i] = r.Chunk.Title + "\n" + r.Chunk.Text
	}
	start := time.Now()
	scores, err := n.router.Load().Rerank(ctx, tenant, query, docs)
	n.metrics.observe("rerank", start)
	if err != nil || len(scores) != len(results) {
		n.log.WarnContext(ctx, "model rerank failed, keeping the built-in order", "tenant", tenant, "err", err)
		return results, false
	}
	out = slices.Clone(results)
	// Scores become 0..1 (a cross-encoder may return logits), so the
	// answerer can weigh passages by their share of the best one.
	logits := slices.ContainsFunc(scores, func(s float64) bool { return s < 0 || s > 1 })
	for i := range out {
		s := scores[i]
		if logits {
			s = 1 / (1 + math.Exp(-s))
		}
		out[i].Score = s
	}
	slices.SortStableFunc(out, func(a, b hybrid.Result) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out, true
}
