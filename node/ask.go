package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// BadQuestion is an ErrBadQuestion with the text a resident reads.
type BadQuestion struct {
	Dutch, English string
}

func (e *BadQuestion) Error() string { return fmt.Sprintf("%v: %s", ErrBadQuestion, e.English) }
func (e *BadQuestion) Unwrap() error { return ErrBadQuestion }

// CheckQuestion returns a *BadQuestion when q is empty or longer than the
// configured maximum.
func (n *Node) CheckQuestion(q string) error {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return &BadQuestion{Dutch: msgEmptyQuestion, English: "the question is empty"}
	case !utf8.ValidString(q):
		return &BadQuestion{Dutch: msgInvalidText, English: "the question is not valid UTF-8"}
	case utf8.RuneCountInString(q) > n.cfg.MaxQuestion:
		return &BadQuestion{Dutch: fmt.Sprintf(msgLongQuestion, n.cfg.MaxQuestion),
			English: fmt.Sprintf("the question is longer than %d characters", n.cfg.MaxQuestion)}
	}
	return nil
}

// Ask answers a resident's question for a tenant: retrieve from the
// tenant's own content and the national collections, then generate or
// refuse with the tenant's referral (answer.Pipeline).
func (n *Node) Ask(ctx context.Context, tenant, question string) (answer.Answer, error) {
	return n.ask(ctx, tenant, question, nil)
}

// ask is Ask; a non-nil tr is filled in.
func (n *Node) ask(ctx context.Context, tenant, question string, tr *answer.Trace) (answer.Answer, error) {
	if tr == nil {
		tr = &answer.Trace{}
	}
	if err := n.CheckQuestion(question); err != nil {
		return answer.Answer{}, err
	}
	t, err := n.tenant(tenant)
	if err != nil {
		return answer.Answer{}, err
	}
	start := time.Now()
	ref := answer.Referral{Name: t.Name, Phone: t.Phone, ContactURL: t.ContactURL, Hours: t.Hours}
	a, err := n.pipeline.Ask(ctx, tenant, question, ref, tr)
	if tr.Stage != "guard" && tr.Search > 0 {
		n.metrics.record("search", tr.Search)
		n.metrics.record("generate", tr.Generate)
	}
	n.metrics.observe("total", start)
	switch {
	case err != nil:
		n.metrics.questions.WithLabelValues(tenant, "error").Inc()
	case a.Route == "guard:human":
		n.metrics.questions.WithLabelValues(tenant, "handoff").Inc()
		n.metrics.refusal(tenant, a)
	case a.Refused:
		n.metrics.questions.WithLabelValues(tenant, "refused").Inc()
		n.metrics.refusal(tenant, a)
	default:
		n.metrics.questions.WithLabelValues(tenant, "answered").Inc()
	}
	return a, err
}

// retriever is the node's answer.Retriever: the hybrid search over the
// tenant's scopes, the tenant's model reranker, the best page's
// introduction beside its best passage, and the best pages whole.
type retriever struct{ n *Node }

func (r retriever) Retrieve(ctx context.Context, tenant, query string) (answer.Retrieved, error) {
	n := r.n
	scopes, err := n.scopesOf(tenant)
	if err != nil {
		return answer.Retrieved{}, err
	}
	results, err := n.search(ctx, scopes, query, n.cfg.AnswerK*2, hybrid.ModeRerank)
	if err != nil {
		return answer.Retrieved{}, err
	}
	var base map[string]float64 // the built-in scores, when a model reranker replaced them
	reranked, rescored := n.modelRerank(ctx, tenant, query, results)
	if rescored {
		base = make(map[string]float64, len(results))
		for _, r := range results {
			base[r.Chunk.ID] = r.Score
		}
	}
	if results, err = n.withIntro(reranked); err != nil {
		return answer.Retrieved{}, err
	}
	pages, err := n.pages(results)
	if err != nil {
		return answer.Retrieved{}, err
	}
	return answer.Retrieved{Passages: passages(results, n.cfg.AnswerK, base), Pages: pages}, nil
}

// generators is the node's answer.Generators: the tenant's answer route
// of the current model router.
type generators struct{ n *Node }

func (g generators) Generator(tenant string) answer.Generator {
	return g.n.router.Load().Generator(models.TaskAnswer, tenant)
}

// peers is the node's answer.Peers: the federated fallback under the
// tenant's policy, for an answer that is not stated or whose confidence
// is below the policy's minimum; the own answer stands unless the peer's
// is better.
type peers struct{ n *Node }

func (p peers) Fallback(ctx context.Context, tenant string, req answer.Request, own answer.Answer) (answer.Answer, bool) {
	fb := p.n.cfg.Fallback.ForTenant(tenant)
	weak := own.Mode != answer.ModeAnswer || own.Confidence < fb.MinConfidence
	if !fb.Enabled() || !weak {
		return answer.Answer{}, false
	}
	fa, ok := p.n.fallback(ctx, fb, req)
	if !ok || (own.Mode == answer.ModeAnswer && fa.Confidence <= own.Confidence) {
		return answer.Answer{}, false
	}
	return fa, true
}

// pages loads the documents of the first answer.MaxPages distinct
// documents among results whole, best first, so that the answerer can
// compose from whole sections.
func (n *Node) pages(results []hybrid.Result) ([]answer.Page, error) {
	var keys []string
	seen := map[string]bool{}
	for _, r := range results {
		if len(keys) == answer.MaxPages {
			break
		}
		if k := r.Chunk.DocKey; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var out []answer.Page
	for _, k := range keys {
		d, err := n.store.Doc(k)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue // removed since it was indexed
			}
			return nil, err
		}
		ids := make([]string, d.Chunks)
		for i := range ids {
			ids[i] = store.ChunkID(k, i)
		}
		got, err := n.store.Chunks(ids)
		if err != nil {
			return nil, err
		}
		var pg answer.Page
		for _, id := range ids {
			c, ok := got[id]
			if !ok {
				continue
			}
			pg.DocID, pg.URL, pg.Title = c.DocID, c.URL, c.Title
			pg.Passages = append(pg.Passages, answer.Passage{
				DocID: c.DocID, URL: c.URL, Title: c.Title,
				Section: c.Section(), Anchor: c.Anchor, Text: c.Text, Ord: c.Ord,
			})
		}
		if len(pg.Passages) > 0 {
			out = append(out, pg)
		}
	}
	return out, nil
}

// passages keeps at most k results, at most two per document besides the
// top document's introduction, which withIntro placed second. base, when
// not nil, holds the built-in scores of results a model reranker rescored.
func passages(results []hybrid.Result, k int, base map[string]float64) []answer.Passage {
	perDoc := map[string]int{}
	var out []answer.Passage
	for i, r := range results {
		if len(out) == k {
			break
		}
		intro := i == 1 && r.Chunk.Ord == 0 && r.Chunk.DocKey == results[0].Chunk.DocKey
		if perDoc[r.Chunk.DocKey] == 2 && !intro {
			continue
		}
		if !intro {
			perDoc[r.Chunk.DocKey]++
		}
		out = append(out, answer.Passage{
			DocID: r.Chunk.DocID, URL: r.Chunk.URL, Title: r.Chunk.Title,
			Section: r.Chunk.Section(), Text: r.Chunk.Text, Ord: r.Chunk.Ord, Score: r.Score,
			Anchor: r.Chunk.Anchor, Lexical: r.LexicalRank, Vector: r.VectorRank, Base: base[r.Chunk.ID],
		})
	}
	return out
}

// withIntro puts the first chunk of the best document right after its best
// chunk: pages open with what matters most ("Dan vraagt u een paspoort aan
// in het gemeentehuis"), and the answerer should see it.
func (n *Node) withIntro(results []hybrid.Result) ([]hybrid.Result, error) {
	if len(results) == 0 || results[0].Chunk.Ord == 0 {
		return results, nil
	}
	top := results[0].Chunk
	for i, r := range results {
		if r.Chunk.DocKey == top.DocKey && r.Chunk.Ord == 0 {
			if i == 1 {
				return results, nil
			}
			out := append([]hybrid.Result{results[0], r}, results[1:i]...)
			return append(out, results[i+1:]...), nil
		}
	}
	id := store.ChunkID(top.DocKey, 0)
	got, err := n.store.Chunks([]string{id})
	if err != nil {
		return nil, err
	}
	intro, ok := got[id]
	if !ok {
		return results, nil
	}
	out := append([]hybrid.Result{results[0], {Chunk: intro, Score: results[0].Score}}, results[1:]...)
	return out, nil
}

// refusalFor turns an error on a question into the answer a probe sees.
func refusalFor(err error) answer.Answer {
	var bq *BadQuestion
	if errors.As(err, &bq) {
		return answer.Answer{Text: bq.Dutch, Refused: true, Citations: []answer.Citation{}}
	}
	return answer.Answer{Text: msgInternal, Refused: true, Citations: []answer.Citation{}}
}

// judge is the answer pipeline's policy judge: the tenant's "judge" model
// route with the policy template.
type judge struct{ n *Node }

func (j judge) Intent(ctx context.Context, tenant, question string) (answer.Intent, string, bool, error) {
	name := ""
	if t, err := j.n.tenant(tenant); err == nil {
		name = t.Name
	}
	label, ok, err := j.n.router.Load().PolicyIntent(ctx, tenant, name, question)
	if !ok || err != nil {
		return answer.Inform, "", ok, err
	}
	return answer.IntentOf(label), string(label), true, nil
}
