package answer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/policy"
	"github.com/assistent-nl/assistent/retrieval"
)

// Retriever finds the passages for a search query in a tenant's sources
// (its own pages and the national collections it holds), best first, with
// the best pages whole.
type Retriever interface {
	Retrieve(ctx context.Context, tenant, query string) (Retrieved, error)
}

// Retrieved is what a Retriever found.
type Retrieved struct {
	Passages []Passage
	Pages    []Page // see Request.Pages
}

// Generators gives the generator that answers a tenant's questions: a
// model route with the extractive answerer at the end of its chain.
type Generators interface {
	Generator(tenant string) Generator
}

// Peers asks other gemeenten (federated fallback) when the own sources
// fall short. Fallback returns the answer a peer's pages give, labelled
// with its gemeente, and false when the tenant's policy does not ask
// peers for own answer a or no peer helped.
type Peers interface {
	Fallback(ctx context.Context, tenant string, req Request, own Answer) (Answer, bool)
}

// Judge is a tenant's model route "judge" asked for the intent of a
// question (the versioned template "policy", see node/models). It may only
// make the pipeline stricter: it is asked only when the rules did not
// refuse, and its intent is taken only when the rules found the question
// ordinary or when the judge names a refusing intent.
type Judge interface {
	// Intent returns the judge's intent for a scrubbed question, its
	// reason, and false when the tenant has no judge route.
	Intent(ctx context.Context, tenant, question string) (Intent, string, bool, error)
}

// Pipeline is the question path of a node: input guard, intent, retrieval,
// policy, generation, choice of mode, fallback and the verdict check. It
// holds no storage; its parts come in through small interfaces, so it can
// be tested without an index.
type Pipeline struct {
	retriever Retriever
	gens      Generators
	scorer    Generator // the built-in answerer, for decisions that need no model
	peers     Peers     // nil: no fallback
	judge     Judge     // nil: the rules alone decide intent
	decider   PolicyDecider
	modes     *ModeModel
	thresh    ModeConfig // on the mode model's probabilities
	confTh    ModeConfig // on a model route's own confidence
	terms     func(string) []string
	expand    func(string) string
	log       *slog.Logger
}

// PipelineDeps are the parts of a Pipeline. Retriever, Generators and
// Terms are required.
type PipelineDeps struct {
	Retriever  Retriever
	Generators Generators
	Peers      Peers // may be nil
	Judge      Judge // may be nil
	// Policy names what decides intent; "" is PolicyBoth.
	Policy PolicyDecider
	// Scorer is the built-in extractive answerer: it decides, with the
	// mode model, whether a question naming something the sources do not
	// mention still gets the pages about the rest, without a model call.
	// Nil: the tenant's generator decides.
	Scorer Generator
	Modes  *ModeModel // nil: modes follow the answer's confidence
	// Thresholds override the model's fitted ones; zero: as fitted.
	Thresholds ModeConfig
	// Terms analyses text into index terms (the light analyzer).
	Terms func(string) []string
	// Expand returns the Dutch terms of an English question; may be nil.
	Expand func(string) string
	Log    *slog.Logger
}

// NewPipeline returns a pipeline over deps.
func NewPipeline(deps PipelineDeps) (*Pipeline, error) {
	if deps.Retriever == nil || deps.Generators == nil || deps.Terms == nil {
		return nil, errors.New("answer: pipeline needs a retriever, generators and a terms function")
	}
	if err := deps.Thresholds.Validate(); err != nil {
		return nil, err
	}
	if err := deps.Policy.Validate(); err != nil {
		return nil, err
	}
	if deps.Policy == "" {
		deps.Policy = PolicyBoth
	}
	p := &Pipeline{retriever: deps.Retriever, gens: deps.Generators, scorer: deps.Scorer, peers: deps.Peers, judge: deps.Judge, decider: deps.Policy, modes: deps.Modes,
		thresh: deps.Thresholds, terms: deps.Terms, expand: deps.Expand, log: deps.Log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.confTh = FallbackModeConfig
	if !p.thresh.IsZero() {
		p.confTh = p.thresh
	} else if p.modes != nil {
		p.thresh = p.modes.Thresholds
	} else {
		p.thresh = FallbackModeConfig
	}
	return p, nil
}

// Trace records what one question went through, for metrics, calibration
// and evaluation.
type Trace struct {
	// Request holds the passages and pages the answer was composed from;
	// empty when the guard decided before retrieval.
	Request Request
	// Features is set when the mode was chosen by the calibrated model.
	Features *Features
	// Generated is the generator's answer before the mode was chosen.
	Generated Answer
	// Search and Generate time the retrieval and everything after it.
	Search, Generate time.Duration
	// Stage names where the answer was decided: "guard", "policy" or
	// "generate".
	Stage string
}

// Ask answers question for tenant with referral ref. A non-nil tr is
// filled in. Errors are those of retrieval and generation; the question
// must have been checked for length and encoding.
func (p *Pipeline) Ask(ctx context.Context, tenant, question string, ref Referral, tr *Trace) (Answer, error) {
	if tr == nil {
		tr = &Trace{}
	}
	// The input guard: personal data never goes further than this line, an
	// injection attempt is refused, and a request for a person gets the
	// referral.
	v := guard.Check(question)
	switch {
	case p.decider.GuardRefuses(v):
		tr.Stage = "guard"
		p.log.InfoContext(ctx, "refused by guard", "tenant", tenant, "rule", v.Rule)
		a := Refusal(Request{Lang: "nl", Referral: ref}, 0)
		a.Mode = ModeRefuse
		a.Route = "guard:" + string(v.Reason)
		return a, nil
	case v.WantsHuman:
		tr.Stage = "guard"
		h := NewHandoff(ref, "nl")
		return Answer{Text: h.Message, Mode: ModeAnswer, Citations: []Citation{}, Handoff: &h, Route: "guard:human"}, nil
	}
	question = v.Scrubbed
	intent, reason := Decide(p.decider, question, v.Readings)
	if p.judge != nil && !refuses(intent) {
		// A judge route may only make the decision stricter.
		if ji, jr, ok, err := p.judge.Intent(ctx, tenant, question); err != nil {
			p.log.WarnContext(ctx, "policy judge failed", "tenant", tenant, "err", err)
		} else if ok && ji != Inform && (intent == Inform || refuses(ji)) {
			intent, reason = ji, "judge:"+jr
		}
	}
	if intent == Injection {
		tr.Stage = "policy"
		p.log.InfoContext(ctx, "refused by policy", "tenant", tenant, "reason", reason)
		lang := "nl"
		if LooksEnglish(question) {
			lang = "en"
		}
		a := RefuseInjection(Request{Lang: lang, Referral: ref})
		a.Route = "policy:" + reason
		return a, nil
	}
	start := time.Now()
	req, err := p.Request(ctx, tenant, question, intent)
	tr.Search = time.Since(start)
	if err != nil {
		return Answer{}, err
	}
	req.Referral = ref
	tr.Request = req
	start = time.Now()
	defer func() { tr.Generate = time.Since(start) }()
	tr.Stage = "policy"
	var a Answer
	unknown := UnknownSpecifics(question, req.Passages, ref.Name)
	switch {
	case intent == Unlawful:
		p.log.InfoContext(ctx, "refused by policy", "tenant", tenant, "reason", reason)
		a = RefuseUnlawful(req)
		a.Route = "policy:" + reason
	case intent == BorrowedLogin:
		a = AnswerBorrowedLogin(req)
		a.Route = "policy:" + reason
	case intent == OthersData:
		p.log.InfoContext(ctx, "refused by policy", "tenant", tenant, "reason", reason)
		a = RefuseOthersData(req)
		a.Route = "policy:" + reason
	case intent == OffRemit:
		// When the classifier decides, what the sources are about is
		// within the gemeente's remit, whatever it sounds like ("moet ik
		// schoolboeken kopen"): the answer or the pages are given. Only
		// what they do not cover is refused with what the assistant does
		// do.
		a = RefuseOffRemit(req)
		a.Route = "policy:" + reason
		if p.decider == PolicyRules {
			break
		}
		if g, err := p.gens.Generator(tenant).Generate(ctx, req); err == nil {
			tr.Generated = g
			if m := p.chooseMode(g, req, tr); m.Mode == ModeAnswer || m.Mode == ModeSuggest {
				a = m
			}
		}
	case len(unknown) > 0:
		// The question is about something the sources never mention: say
		// so. When the pages are about the rest of it (a story that names
		// a place or an app), offer them as a suggestion.
		p.log.InfoContext(ctx, "no information", "tenant", tenant, "reason", "unknown_specifics", "count", len(unknown))
		a = NoInformation(req, unknown)
		scorer := p.scorer
		if scorer == nil {
			scorer = p.gens.Generator(tenant)
		}
		if g, err := scorer.Generate(ctx, req); err == nil {
			tr.Generated = g
			if m := p.chooseMode(g, req, tr); m.Mode == ModeAnswer || m.Mode == ModeSuggest {
				a = NoInformationSuggestion(req, unknown, m.Confidence)
			}
		}
		a.Route = "policy:unknown_specifics"
	default:
		tr.Stage = "generate"
		a, err = p.gens.Generator(tenant).Generate(ctx, req)
		if err != nil {
			return Answer{}, err
		}
		tr.Generated = a
		a = p.chooseMode(a, req, tr)
		if p.peers != nil {
			// Not answered well from the gemeente's own sources: the peers
			// may, within the deadline; the question is scrubbed already.
			if fa, ok := p.peers.Fallback(ctx, tenant, req, a); ok {
				a = fa
			}
		}
		switch {
		case a.Refused || a.Mode != ModeAnswer:
		case intent == Prediction:
			// How the resident's case will end: nobody can promise it.
			a = WithoutGuarantee(a, req)
		case intent == Verdict || len(v.PII) > 0:
			// A verdict on the resident's own case, or a question about
			// their own data: the gemeente decides, and says how to reach
			// it.
			a = WithoutVerdict(a, req)
		}
	}
	a.Mode = ModeOf(a)
	return a, nil
}

// Request builds the generator's request for a scrubbed question: the
// search query and the answerer's focus shaped by intent (a personal case
// by its topic, a split verb whole, an English question by its Dutch
// terms), and what the retriever finds for it. The referral is not set.
func (p *Pipeline) Request(ctx context.Context, tenant, question string, intent Intent) (Request, error) {
	focus := ""
	if intent == Verdict || intent == Prediction {
		// A personal case is found and scored on its topic, not its story.
		if t := CaseTopic(question); t != question {
			focus = t
		}
	}
	query := question
	if focus != "" {
		query = focus
	}
	if c := DropCausative(question); c != question && focus == "" {
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
	if intent == BorrowedLogin {
		// The lawful route is authorisation; its page must be among the
		// passages.
		query += " machtigen"
	}
	lang := "nl"
	if LooksEnglish(question) {
		// An English question is answered from Dutch pages: it is found
		// and scored by its Dutch terms, and the referral is in English.
		lang = "en"
		if p.expand != nil {
			if exp := p.expand(question); exp != "" && focus == "" {
				focus = exp
			}
		}
	}
	// Personal data the resident states ("mijn BSN is [BSN]") says
	// nothing about the topic: the pages are found, and the answer scored,
	// without it.
	if u := guard.Unpersonal(query); u != query && len(strings.Fields(u)) >= 2 {
		query, focus = u, u
	}
	got, err := p.retriever.Retrieve(ctx, tenant, query)
	if err != nil {
		return Request{}, err
	}
	return Request{
		Question:     question,
		Focus:        focus,
		PersonalCase: intent == Verdict,
		Lang:         lang,
		Passages:     got.Passages,
		Pages:        got.Pages,
	}, nil
}

// doubted decides a model route's answer by the calibrated mode model on
// the built-in answerer's features: when the model would not state an
// answer from these pages, it sets *mode and *conf and reports true;
// false without a model or a scorer, or when it would.
func (p *Pipeline) doubted(req Request, mode *Mode, conf *float64) bool {
	if p.modes == nil || p.scorer == nil || len(req.Passages) == 0 {
		return false
	}
	g, err := p.scorer.Generate(context.Background(), req)
	if err != nil {
		return false
	}
	m, c := p.modes.Decide(FeaturesOf(req, g, p.terms), p.thresh)
	if m == ModeAnswer {
		return false
	}
	*mode, *conf = m, c
	return true
}

// chooseMode decides whether the generated answer a is stated, turned
// into a suggestion of the pages found, or into the referral. Extractive
// answers are decided by the calibrated mode model on the question's
// features (recorded in tr); a model route's answer, whose confidence
// means something else, on its confidence against the same thresholds.
func (p *Pipeline) chooseMode(a Answer, req Request, tr *Trace) Answer {
	mode, conf := ModeOf(a), a.Confidence
	if a.Route == RouteExtractive {
		// Recorded also without a model: they are what one is fitted on.
		f := FeaturesOf(req, a, p.terms)
		tr.Features = &f
	}
	switch {
	case tr.Features != nil && p.modes != nil:
		mode, conf = p.modes.Decide(*tr.Features, p.thresh)
		if mode == ModeAnswer && a.Refused {
			mode = ModeSuggest // the model is sure of the page, the answerer found no sentence
		}
	case !a.Refused && p.doubted(req, &mode, &conf):
		// A model route answers readily; when the calibrated model doubts
		// that the pages answer the question, so does its answer.
	case a.Refused && a.Mode == ModeNoInfo && len(req.Passages) > 0 && conf >= p.confTh.SuggestAt:
		mode = ModeSuggest
	case !a.Refused && conf < p.confTh.AnswerAt:
		mode = ModeSuggest
	}
	var out Answer
	switch mode {
	case ModeAnswer:
		out = a
	case ModeSuggest:
		out = Suggestion(req, conf)
	default:
		out = Refusal(req, conf)
	}
	out.Mode, out.Confidence, out.Route = mode, conf, a.Route
	return out
}

// Decide returns the intent of a scrubbed question and its reason as
// decider decides it. Under PolicyRules the rules decide, and where they
// see an ordinary question the classifier adds the intents it reads
// precisely and whose reply costs an ordinary question little (assists);
// under PolicyClassifier the classifier decides, on the question and its
// decoded readings.
func Decide(decider PolicyDecider, question string, readings []guard.Reading) (Intent, string) {
	if decider == PolicyClassifier {
		return classifyWith(policy.Default(), question, readings)
	}
	intent, reason := Classify(question)
	if intent == Inform && decider == PolicyBoth {
		return classifyWith(behindRules(), question, readings)
	}
	if intent == Inform {
		if d := policy.Classify(question); assists[d.Intent] {
			return IntentOf(d.Intent), "classifier:" + string(d.Intent)
		}
	}
	return intent, reason
}

// assists are the classifier's intents the rules decider takes from it
// when the rules see an ordinary question: an attempt to change or reveal
// the instructions, a verdict and a prediction. On its held-out split the
// classifier reads them with few false alarms, and the reply to a false
// one is a refusal of an odd question or a sentence more in an answer.
var assists = map[policy.Intent]bool{policy.Injection: true, policy.Extraction: true, policy.Verdict: true, policy.Prediction: true}

// behindRules is the classifier as it decides behind the rules (PolicyBoth):
// with a higher threshold (0.8), since the rules already refuse what they know
// and each decision of the classifier there is one the rules did not see.
var behindRules = sync.OnceValue(func() *policy.Model { return policy.Default().WithThreshold(0.8) })
