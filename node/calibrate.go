package node

import (
	"context"
	"slices"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// ConfidenceSamples measures the answerer's confidence on a query set twice
// per question: with the retrieved passages as they are (answerable when the
// best passage comes from a relevant document), and with every relevant
// document left out, which is what a question whose answer is not in the
// sources looks like. quality.Calibrate turns the samples into a refusal
// threshold.
func (n *Node) ConfidenceSamples(ctx context.Context, tenant string, queries []quality.Query) ([]quality.Sample, error) {
	t, err := n.tenant(tenant)
	if err != nil {
		return nil, err
	}
	ref := answer.Referral{Name: t.Name, Phone: t.Phone, ContactURL: t.ContactURL, Hours: t.Hours}
	var out []quality.Sample
	for _, q := range queries {
		results, err := n.Search(ctx, tenant, q.Question, n.cfg.AnswerK*4, hybrid.ModeRerank)
		if err != nil {
			return nil, err
		}
		var without []hybrid.Result
		for _, r := range results {
			if !slices.Contains(q.Relevant, r.Chunk.DocID) {
				without = append(without, r)
			}
		}
		sample := func(rs []hybrid.Result, answerable bool) error {
			a, err := n.answerer.Generate(ctx, answer.Request{Question: q.Question, Lang: "nl",
				Passages: passages(rs, n.cfg.AnswerK, nil), Referral: ref})
			if err == nil {
				out = append(out, quality.Sample{Question: q.Question, Answerable: answerable, Confidence: a.Confidence})
			}
			return err
		}
		// An irrelevant first passage on the full list is neither a clean
		// positive nor a clean negative: it is left out.
		if len(results) > 0 && slices.Contains(q.Relevant, results[0].Chunk.DocID) {
			if err := sample(results, true); err != nil {
				return nil, err
			}
		}
		if len(without) > 0 {
			if err := sample(without, false); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
