package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
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
// refuse with the tenant's referral.
func (n *Node) Ask(ctx context.Context, tenant, question string) (answer.Answer, error) {
	return n.ask(ctx, tenant, question, nil)
}

// Trace records what one question went through, for calibration and
// evaluation.
type Trace struct {
	// Request holds the passages and pages the answer was composed from;
	// empty when the guard decided before retrieval.
	Request answer.Request
	// Features is set when the mode was chosen by the calibrated model.
	Features *answer.Features
	// Generated is the generator's answer before the mode was chosen.
	Generated answer.Answer
}

// ask is Ask; a non-nil tr is filled in.
func (n *Node) ask(ctx context.Context, tenant, question string, tr *Trace) (answer.Answer, error) {
	if tr == nil {
		tr = &Trace{}
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
	// The input guard: personal data never goes further than this line, an
	// injection attempt is refused, and a request for a person gets the
	// referral.
	v := guard.Check(question)
	switch {
	case v.Injection:
		n.log.InfoContext(ctx, "refused by guard", "tenant", tenant, "rule", v.Rule)
		a := answer.Refusal(answer.Request{Lang: "nl", Referral: ref}, 0)
		a.Mode = answer.ModeRefuse
		a.Route = "guard:" + string(v.Reason)
		n.metrics.questions.WithLabelValues(tenant, "refused").Inc()
		n.metrics.refusal(tenant, a)
		return a, nil
	case v.WantsHuman:
		h := answer.NewHandoff(ref, "nl")
		a := answer.Answer{Text: h.Message, Mode: answer.ModeAnswer, Citations: []answer.Citation{}, Handoff: &h, Route: "guard:human"}
		n.metrics.questions.WithLabelValues(tenant, "handoff").Inc()
		n.metrics.refusal(tenant, a)
		return a, nil
	}
	question = v.Scrubbed
	scopes, err := n.scopesOf(tenant)
	if err != nil {
		return answer.Answer{}, err
	}
	intent, reason := answer.Classify(question)
	req, err := n.retrieve(ctx, tenant, scopes, question, intent)
	if err != nil {
		n.metrics.questions.WithLabelValues(tenant, "error").Inc()
		return answer.Answer{}, err
	}
	n.metrics.observe("search", start)
	req.Referral = ref
	tr.Request = req
	gen := time.Now()
	var a answer.Answer
	unknown := answer.UnknownSpecifics(question, req.Passages, ref.Name)
	switch {
	case intent == answer.Unlawful:
		n.log.InfoContext(ctx, "refused by policy", "tenant", tenant, "reason", reason)
		a, err = answer.RefuseUnlawful(req), nil
		a.Route = "policy:" + reason
	case intent == answer.BorrowedLogin:
		a, err = answer.AnswerBorrowedLogin(req), nil
		a.Route = "policy:" + reason
	case intent == answer.OffRemit:
		a, err = answer.RefuseOffRemit(req), nil
		a.Route = "policy:" + reason
	case len(unknown) > 0:
		// The question is about something the sources never mention.
		n.log.InfoContext(ctx, "refused by policy", "tenant", tenant, "reason", "unknown_specifics", "count", len(unknown))
		a, err = answer.NoInformation(req, unknown), nil
		a.Route = "policy:unknown_specifics"
	default:
		a, err = n.router.Load().Generator(models.TaskAnswer, tenant).Generate(ctx, req)
		if err == nil {
			tr.Generated = a
			a = n.chooseMode(a, req, tr)
		}
		fb := n.cfg.Fallback.ForTenant(tenant)
		if err == nil && fb.Enabled() && (a.Refused || a.Confidence < fb.MinConfidence) {
			// Not answered well from the gemeente's own sources: ask the
			// peers, within the deadline; the question is scrubbed already.
			if fa, ok := n.fallback(ctx, fb, req); ok && (a.Refused || fa.Confidence > a.Confidence) {
				a = fa // the own weak answer stands unless the peer's is better
			}
		}
		if err == nil && (intent == answer.Verdict || len(v.PII) > 0) && !a.Refused {
			// A verdict on the resident's own case, or a question about their
			// own data: the gemeente decides, and says how to reach it.
			a = answer.WithoutVerdict(a, req)
		}
	}
	a.Mode = answer.ModeOf(a)
	n.metrics.observe("generate", gen)
	n.metrics.observe("total", start)
	switch {
	case err != nil:
		n.metrics.questions.WithLabelValues(tenant, "error").Inc()
	case a.Refused:
		n.metrics.questions.WithLabelValues(tenant, "refused").Inc()
		n.metrics.refusal(tenant, a)
	default:
		n.metrics.questions.WithLabelValues(tenant, "answered").Inc()
	}
	return a, err
}

// chooseMode decides whether the generated answer a is stated, turned
// into a suggestion of the pages found, or into the referral. Extractive
// answers are decided by the calibrated mode model on the question's
// features (recorded in tr); a model route's answer, whose confidence
// means something else, on its confidence against the same thresholds.
func (n *Node) chooseMode(a answer.Answer, req answer.Request, tr *Trace) answer.Answer {
	mode, conf := answer.ModeOf(a), a.Confidence
	th := n.cfg.Modes
	if th.IsZero() {
		th = answer.FallbackModeConfig
		if n.modes != nil {
			th = n.modes.Thresholds
		}
	}
	switch {
	case a.Route == answer.RouteExtractive && n.modes != nil:
		f := answer.FeaturesOf(req, a, n.analyzer.Terms)
		tr.Features = &f
		mode, conf = n.modes.Decide(f, th)
		if mode == answer.ModeAnswer && a.Refused {
			mode = answer.ModeSuggest // the model is sure of the page, the answerer found no sentence
		}
	case a.Refused && a.Mode == answer.ModeNoInfo && len(req.Passages) > 0 && conf >= th.SuggestAt:
		mode = answer.ModeSuggest
	case !a.Refused && conf < th.AnswerAt:
		mode = answer.ModeSuggest
	}
	var out answer.Answer
	switch mode {
	case answer.ModeAnswer:
		out = a
	case answer.ModeSuggest:
		out = answer.Suggestion(req, conf)
	default:
		out = answer.Refusal(req, conf)
	}
	out.Confidence, out.Route = conf, a.Route
	return out
}

// retrieve finds the passages for a scrubbed question of tenant, as the
// answerer gets them: a personal case searched by its topic, the hybrid
// search, the tenant's model reranker, the best page's introduction beside
// it. The request it returns has no referral yet.
func (n *Node) retrieve(ctx context.Context, tenant string, scopes []string, question string, intent answer.Intent) (answer.Request, error) {
	focus := ""
	if intent == answer.Verdict {
		// A personal case is found and scored on its topic, not its story.
		if t := answer.CaseTopic(question); t != question {
			focus = t
		}
	}
	query := question
	if focus != "" {
		query = focus
	}
	if c := answer.DropCausative(question); c != question && focus == "" {
		focus = c
	}
	if sv := retrieval.SeparableVerbs(question); len(sv) > 0 {
		// "Hoe vraag ik een paspoort aan?": the pages say "aanvragen"; the
		// search adds it itself, the answerer scores with it.
		if focus == "" {
			focus = question
		}
		focus += " " + strings.Join(sv, " ")
	}
	if intent == answer.BorrowedLogin {
		// The lawful route is authorisation; its page must be among the
		// passages.
		query += " machtigen"
	}
	lang := "nl"
	if answer.LooksEnglish(question) {
		// An English question is answered from Dutch pages: it is found
		// and scored by its Dutch glossary terms, and the referral is in
		// English.
		lang = "en"
		// The search expands the question itself; the answerer scores on
		// the expansion.
		if exp := n.expander.Expand(question); exp != "" && focus == "" {
			focus = exp
		}
	}
	// Personal data the resident states ("mijn BSN is [BSN]") says
	// nothing about the topic: the pages are found, and the answer scored,
	// without it.
	if u := guard.Unpersonal(query); u != query && len(strings.Fields(u)) >= 2 {
		query, focus = u, u
	}
	results, err := n.search(ctx, scopes, query, n.cfg.AnswerK*2, hybrid.ModeRerank)
	if err != nil {
		return answer.Request{}, err
	}
	results = n.modelRerank(ctx, tenant, query, results)
	if results, err = n.withIntro(results); err != nil {
		return answer.Request{}, err
	}
	ps := passages(results, n.cfg.AnswerK)
	pages, err := n.pages(results)
	if err != nil {
		return answer.Request{}, err
	}
	return answer.Request{
		Question:     question,
		Focus:        focus,
		PersonalCase: intent == answer.Verdict,
		Lang:         lang,
		Passages:     ps,
		Pages:        pages,
	}, nil
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
				Section: c.Section(), Text: c.Text, Ord: c.Ord,
			})
		}
		if len(pg.Passages) > 0 {
			out = append(out, pg)
		}
	}
	return out, nil
}

// passages keeps at most k results, at most two per document besides the
// top document's introduction, which withIntro placed second.
func passages(results []hybrid.Result, k int) []answer.Passage {
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
			Lexical: r.LexicalRank, Vector: r.VectorRank,
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
