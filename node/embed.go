package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/embed"
)

// defaultQueryEmbedBudget bounds embedding a question when the embed route
// sets no timeout: past it the search goes on with the lexical list.
const defaultQueryEmbedBudget = 500 * time.Millisecond

// routeEmbedder makes the node's embed route, when it has one, the
// embedder of its vectors (n.embedder), and returns the embedder for
// questions: the same model, bounded by the route's timeout and counted in
// the metrics. Without an embed route both are the built-in lexical
// embedder. The first provider the route's data policy allows is used:
// vectors of different models do not mix, so there is no fallback between
// embedders; a question whose embedding fails is searched lexically.
func (n *Node) routeEmbedder(ctx context.Context) (retrieval.Embedder, error) {
	cfgs, ok := n.router.Load().EmbedConfigs("")
	if !ok {
		return n.embedder, nil
	}
	rt, _ := n.router.Load().Route(models.TaskEmbed, "")
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("embed route: its data policy (allowed regions %v) allows none of its providers %v", rt.DataPolicy.AllowedRegions, rt.Providers)
	}
	e, err := embed.NewOpenAI(cfgs[0])
	if err != nil {
		return nil, fmt.Errorf("embed route: %w", err)
	}
	if e.Dim() == 0 {
		// The dimension comes with the first vector.
		if _, err := e.Embed(ctx, []string{"dimensie"}); err != nil {
			return nil, fmt.Errorf("embed route: %s did not answer, so the dimension of its vectors is unknown (set embed_dim in the provider's config, or check the provider): %w", e.Name(), err)
		}
	}
	n.embedder = e
	budget := rt.Timeout
	if budget <= 0 {
		budget = defaultQueryEmbedBudget
	}
	return &queryEmbedder{Embedder: e, budget: budget, metrics: n.metrics}, nil
}

// queryEmbedder embeds questions within a time budget and counts each
// attempt as the model routes do.
type queryEmbedder struct {
	retrieval.Embedder
	budget  time.Duration
	metrics *metrics
}

func (q *queryEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, q.budget)
	defer cancel()
	vs, err := q.Embedder.Embed(ctx, texts)
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	case errors.Is(err, context.Canceled):
		outcome = "canceled"
	default:
		outcome = "error"
	}
	q.metrics.attempts.WithLabelValues(models.TaskEmbed, q.Name(), outcome).Inc()
	return vs, err
}
