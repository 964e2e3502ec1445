package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// Judge sends msgs through the "judge" route of tenant, trying its
// providers in order, and returns the first reply. It returns an error
// wrapping models.ErrNoRoute when the tenant has no judge route.
func (n *Node) Judge(ctx context.Context, tenant string, msgs []models.Message) (string, error) {
	return n.router.Load().Complete(ctx, models.TaskJudge, tenant, msgs)
}

// HasJudge reports whether tenant has a "judge" route, its own or the
// default one.
func (n *Node) HasJudge(tenant string) bool {
	_, ok := n.router.Load().Route(models.TaskJudge, tenant)
	return ok
}

// EvalAnswers asks every question of cases as a resident of tenant would
// (Ask) and scores the answers with quality.EvalAnswers. Beside each
// answer it records the passages the answerer was given (retrieved again
// the way Ask retrieves them) and the whole text of every page the answer
// cites, from the store. When the tenant has a judge route, the answers
// also go to the judge. It fails with ErrUnknownTenant, and when a
// question cannot be asked for another reason than the question itself.
func (n *Node) EvalAnswers(ctx context.Context, tenant string, cases []quality.AnswerCase) (quality.AnswerReport, error) {
	if _, err := n.tenant(tenant); err != nil {
		return quality.AnswerReport{}, err
	}
	var judge quality.JudgeFunc
	if n.HasJudge(tenant) {
		judge = func(ctx context.Context, msgs []models.Message) (string, error) {
			return n.Judge(ctx, tenant, msgs)
		}
	}
	ask := func(ctx context.Context, question string) (quality.Observation, error) {
		return n.observe(ctx, tenant, question)
	}
	return quality.EvalAnswers(ctx, cases, ask, judge)
}

// observe asks question for tenant and gathers what the metrics need.
func (n *Node) observe(ctx context.Context, tenant, question string) (quality.Observation, error) {
	var obs quality.Observation
	start := time.Now()
	var tr answer.Trace
	a, err := n.ask(ctx, tenant, question, &tr)
	obs.Latency = time.Since(start)
	var bq *BadQuestion
	switch {
	case errors.As(err, &bq):
		// A question the node rejects (empty, too long) is a refusal.
		a = refusalFor(err)
	case err != nil:
		return obs, err
	}
	obs.Answer = a
	if tr.Features != nil {
		obs.Features = tr.Features.Vector()
	}
	for _, c := range tr.Generated.Citations {
		obs.Generated = append(obs.Generated, c.ID)
	}
	if ps := tr.Request.Passages; len(ps) > 0 {
		for _, p := range ps {
			obs.Passages = append(obs.Passages, p.DocID)
		}
	} else if obs.Passages, err = n.answerContext(ctx, tenant, question); err != nil {
		return obs, fmt.Errorf("retrieve context: %w", err)
	}
	if obs.Sources, err = n.citedPages(tenant, a.Citations); err != nil {
		return obs, fmt.Errorf("read cited pages: %w", err)
	}
	return obs, nil
}

// answerContext returns the document ids of the passages Ask gives the
// answerer for question, in order (Ask's own retrieval step). Peers asked
// in a federated fallback are not included; for a question the input guard
// stops, these are the passages it would have had.
func (n *Node) answerContext(ctx context.Context, tenant, question string) ([]string, error) {
	if _, err := n.Scopes(tenant); err != nil {
		return nil, err
	}
	query := guard.Check(question).Scrubbed
	intent, _ := answer.Classify(query)
	req, err := n.pipeline.Request(ctx, tenant, query, intent)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(req.Passages))
	for i, p := range req.Passages {
		ids[i] = p.DocID
	}
	return ids, nil
}

// citedPages returns, for each citation, the whole cited page from the
// first of the tenant's scopes that holds a document with its id and URL:
// the title and every chunk's text under its section heading. A page that
// is not on this node (a peer's, or removed since) has an empty text.
func (n *Node) citedPages(tenant string, cites []answer.Citation) ([]answer.Passage, error) {
	scopes, err := n.Scopes(tenant)
	if err != nil {
		return nil, err
	}
	out := make([]answer.Passage, 0, len(cites))
	for _, c := range cites {
		p := answer.Passage{DocID: c.ID, URL: c.URL, Title: c.Title}
		for _, scope := range scopes {
			key := retrieval.DocKey(scope, c.ID)
			d, err := n.store.Doc(key)
			if errors.Is(err, store.ErrNotFound) || err == nil && d.URL != c.URL {
				continue
			}
			if err != nil {
				return nil, err
			}
			ids := make([]string, d.Chunks)
			for i := range ids {
				ids[i] = store.ChunkID(key, i)
			}
			chunks, err := n.store.Chunks(ids)
			if err != nil {
				return nil, err
			}
			var b strings.Builder
			section := ""
			for _, id := range ids {
				ch, ok := chunks[id]
				if !ok {
					continue
				}
				if s := ch.Section(); s != section {
					section = s
					b.WriteString(s + "\n")
				}
				b.WriteString(ch.Text + "\n")
			}
			p.Title, p.Text = d.Title, strings.TrimSpace(b.String())
			break
		}
		out = append(out, p)
	}
	return out, nil
}
