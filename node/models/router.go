package models

import (
	"context"
	"errors"
	"fmt"
	"github.com/assistent-nl/assistent/node/policy"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/retrieval/embed"
)

// Provider kinds.
const (
	KindOpenAI     = "openai"     // an OpenAI-compatible endpoint: chat completions, or /v1/embeddings for "embed"
	KindExtractive = "extractive" // the built-in extractive answerer
	// The rerank kinds KindTEI, KindCohere and KindJina are declared in
	// rerank.go.
)

// Tasks a route can serve.
const (
	TaskAnswer  = "answer"  // answer a resident's question (answer.Generator)
	TaskRewrite = "rewrite" // rewrite a follow-up into a standalone question
	TaskRerank  = "rerank"  // re-rank retrieved passages with a cross-encoder
	TaskEmbed   = "embed"   // embed texts for vector search
	TaskJudge   = "judge"   // grade answers (evaluation, online quality)
)

// taskKinds lists the provider kinds that can serve each task.
var taskKinds = map[string][]string{
	TaskAnswer:  {KindOpenAI, KindExtractive},
	TaskRewrite: {KindOpenAI},
	TaskRerank:  {KindTEI, KindCohere, KindJina},
	TaskEmbed:   {KindOpenAI},
	TaskJudge:   {KindOpenAI},
}

// Tasks returns the tasks a route can serve, in a fixed order.
func Tasks() []string { return []string{TaskAnswer, TaskRewrite, TaskRerank, TaskEmbed, TaskJudge} }

// Sentinel errors of the router, tested with errors.Is.
var (
	// ErrRegionNotAllowed is wrapped in the Attempt of a provider that was
	// skipped because its region is outside the route's data policy.
	ErrRegionNotAllowed = errors.New("provider region not allowed by data policy")
	// ErrNoRoute is returned for a task other than "answer" that has no
	// route for the tenant: the caller keeps its built-in behaviour.
	ErrNoRoute = errors.New("no model route for task")
)

// Provider is a named way to serve a task. The provider named "extractive"
// always exists (the extractive generator given to NewRouter); it need not
// be configured.
type Provider struct {
	Name   string
	Kind   string       // KindOpenAI, KindExtractive, KindTEI, KindCohere or KindJina
	Region string       // where the model runs: "nl", "eu", "us", ...
	OpenAI OpenAIConfig // for KindOpenAI
	Rerank RerankConfig // for KindTEI, KindCohere and KindJina
}

// Policy limits where a request may be sent.
type Policy struct {
	// AllowedRegions lists the regions a provider may run in; empty allows
	// any. A provider without a region is only allowed when any is.
	AllowedRegions []string
}

// Allows reports whether a provider in region may be used; case is ignored.
// Extractive providers run in the node and are always allowed.
func (p Policy) Allows(region string) bool {
	if len(p.AllowedRegions) == 0 {
		return true
	}
	return slices.ContainsFunc(p.AllowedRegions, func(r string) bool {
		return region != "" && strings.EqualFold(strings.TrimSpace(r), strings.TrimSpace(region))
	})
}

// Route picks the providers for a task and tenant.
type Route struct {
	Task   string // one of Tasks()
	Tenant string // "" is the default for tenants without a route of their own
	// Providers names the providers in fallback order. For "answer",
	// "extractive" is appended when it is missing, so every chain ends in
	// it; other tasks need at least one provider.
	Providers []string
	// Timeout bounds each model provider's attempt; 0 leaves it to the
	// provider's own timeouts (for "rewrite": DefaultRewriteTimeout). The
	// extractive step has no route timeout.
	Timeout    time.Duration
	DataPolicy Policy
	// Origin says where the route comes from, for staff to see (see
	// Template.Origin); the router ignores it.
	Origin string
}

// name describes the route in errors and logs: "answer/lindewaarde", or
// "answer/*" for the default route.
func (r Route) name() string {
	t := r.Tenant
	if t == "" {
		t = "*"
	}
	return r.Task + "/" + t
}

// TenantTemplate is a prompt template override, for one tenant or, with
// Tenant "", for every tenant (the federation's).
type TenantTemplate struct {
	Tenant   string
	Template Template
}

// Config holds the providers, routes, breaker settings and prompt
// template overrides of a Router.
type Config struct {
	Providers []Provider
	Routes    []Route
	Breaker   BreakerConfig    // zero means 5 failures, 30s cool-down
	Templates []TenantTemplate // applied in order over Builtin(); tenant ones over the "" ones
}

// DefaultConfig returns the embedded default: no model providers, and the
// "answer" task routed to the extractive answerer only.
func DefaultConfig() Config {
	return Config{Routes: []Route{{Task: TaskAnswer, Providers: []string{KindExtractive}, Origin: OriginBuiltin}}}
}

// Validate reports the first invalid field, named as in the config file
// ("models.routes[0].providers: unknown provider \"x\" (route answer/*)").
func (c Config) Validate() error {
	kinds := map[string]string{KindExtractive: KindExtractive}
	for i, p := range c.Providers {
		field := fmt.Sprintf("models.providers[%d]", i)
		switch {
		case strings.TrimSpace(p.Name) == "":
			return fmt.Errorf("%s.name: must not be empty", field)
		case p.Name == KindExtractive && p.Kind != KindExtractive:
			return fmt.Errorf("%s.name: %q is reserved for the extractive answerer", field, p.Name)
		case p.Name != KindExtractive && kinds[p.Name] != "":
			return fmt.Errorf("%s.name: %q is used twice", field, p.Name)
		}
		kinds[p.Name] = p.Kind
		switch p.Kind {
		case KindExtractive:
		case KindOpenAI:
			if err := p.OpenAI.Validate(); err != nil {
				return fmt.Errorf("%s (%s): %w", field, p.Name, err)
			}
		case KindTEI, KindCohere, KindJina:
			if err := p.Rerank.Validate(p.Kind); err != nil {
				return fmt.Errorf("%s (%s): %w", field, p.Name, err)
			}
		default:
			return fmt.Errorf("%s.kind: must be one of %q, %q, %q, %q or %q", field, KindOpenAI, KindExtractive, KindTEI, KindCohere, KindJina)
		}
	}
	routes := map[string]bool{}
	for i, r := range c.Routes {
		field := fmt.Sprintf("models.routes[%d]", i)
		if strings.TrimSpace(r.Task) == "" {
			return fmt.Errorf("%s.task: must not be empty", field)
		}
		allowed, ok := taskKinds[r.Task]
		if !ok {
			return fmt.Errorf("%s.task: unknown task %q (route %s); must be one of %s", field, r.Task, r.name(), strings.Join(Tasks(), ", "))
		}
		if routes[r.Task+"\x00"+r.Tenant] {
			return fmt.Errorf("%s: a second route for task %q and tenant %q", field, r.Task, r.Tenant)
		}
		routes[r.Task+"\x00"+r.Tenant] = true
		if len(r.Providers) == 0 && r.Task != TaskAnswer {
			return fmt.Errorf("%s.providers: route %s names no provider", field, r.name())
		}
		for _, name := range r.Providers {
			kind, known := kinds[name]
			if !known {
				return fmt.Errorf("%s.providers: unknown provider %q (route %s)", field, name, r.name())
			}
			if !slices.Contains(allowed, kind) {
				return fmt.Errorf("%s.providers: provider %q of kind %q cannot serve task %q (route %s); it needs kind %s",
					field, name, kind, r.Task, r.name(), strings.Join(allowed, " or "))
			}
		}
		if r.Timeout < 0 {
			return fmt.Errorf("%s.timeout: must not be negative (route %s)", field, r.name())
		}
		if r.Task == TaskEmbed && r.Tenant != "" {
			// One vector index serves every tenant of a node, and vectors
			// of different models do not mix.
			return fmt.Errorf("%s.tenant: the embed route serves the whole node; leave tenant empty (route %s)", field, r.name())
		}
	}
	if c.Breaker.Failures < 0 {
		return errors.New("models.breaker.failures: must not be negative")
	}
	if c.Breaker.Cooldown < 0 {
		return errors.New("models.breaker.cooldown: must not be negative")
	}
	_, err := c.templates()
	return err
}

// TemplatesFor returns the prompt templates a router for c gives tenant:
// Builtin() with the overrides for every tenant, then tenant's own. It
// returns the error of the first template that does not compile.
func (c Config) TemplatesFor(tenant string) (*Templates, error) {
	sets, err := c.templates()
	if err != nil {
		return nil, err
	}
	if t, ok := sets[tenant]; ok {
		return t, nil
	}
	return sets[""], nil
}

// templates builds the template set of every tenant with overrides; ""
// is the set of the others.
func (c Config) templates() (map[string]*Templates, error) {
	base := Builtin()
	for i, tt := range c.Templates {
		if tt.Tenant != "" {
			continue
		}
		var err error
		if base, err = base.With(tt.Template); err != nil {
			return nil, fmt.Errorf("models.templates[%d] (all tenants): %w", i, err)
		}
	}
	out := map[string]*Templates{"": base}
	for i, tt := range c.Templates {
		if tt.Tenant == "" {
			continue
		}
		t, ok := out[tt.Tenant]
		if !ok {
			t = base
		}
		t, err := t.With(tt.Template)
		if err != nil {
			return nil, fmt.Errorf("models.templates[%d] (tenant %s): %w", i, tt.Tenant, err)
		}
		out[tt.Tenant] = t
	}
	return out, nil
}

// step is one provider of a chain, ready to run.
type step struct {
	name    string
	kind    string
	route   string // the Answer.Route of its answers, or the client's name
	region  string
	local   bool // runs in the node: no policy, no route timeout, no breaker
	gen     answer.Generator
	oa      *OpenAIGenerator // for KindOpenAI
	chat    *ChatClient      // for KindOpenAI
	openai  OpenAIConfig     // for KindOpenAI (embed)
	rerank  *RerankClient    // for the rerank kinds
	breaker *Breaker         // nil for local steps
}

// Option tunes a Router.
type Option func(*Router)

// WithClock sets the clock of the circuit breakers (for tests); nil means
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(r *Router) { r.now = now }
}

// WithObserver sets a function called after every attempt of every route,
// with the route it belongs to (for metrics); it must be quick and safe for
// concurrent use.
func WithObserver(observe func(Route, Attempt)) Option {
	return func(r *Router) { r.observe = observe }
}

// Router hands out the provider chain for a task and tenant. It is safe
// for concurrent use.
type Router struct {
	routes    map[string]Route
	steps     map[string]step
	templates map[string]*Templates // by tenant; "" for the others
	log       *slog.Logger
	now       func() time.Time
	observe   func(Route, Attempt) // nil: nobody
}

// NewRouter returns a router for cfg whose "answer" chains end in
// ex, the extractive generator. log receives a warning for every provider that failed or
// was skipped; nil discards. It returns the validation error of cfg, or an
// error when ex is nil.
func NewRouter(cfg Config, ex answer.Generator, log *slog.Logger, opts ...Option) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ex == nil {
		return nil, errors.New("models: router needs an extractive generator")
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Router{routes: map[string]Route{}, steps: map[string]step{}, log: log}
	for _, o := range opts {
		o(r)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.templates, _ = cfg.templates() // validated above
	r.steps[KindExtractive] = step{name: KindExtractive, kind: KindExtractive, route: extractive.Route, local: true, gen: ex}
	for _, p := range cfg.Providers {
		s := step{name: p.Name, kind: p.Kind, region: p.Region}
		switch p.Kind {
		case KindExtractive:
			s.route, s.local, s.gen = extractive.Route, true, ex
		case KindOpenAI:
			c, err := NewChatClient(p.OpenAI)
			if err != nil {
				return nil, fmt.Errorf("models.providers (%s): %w", p.Name, err)
			}
			s.oa = NewOpenAIGenerator(c)
			s.chat, s.openai, s.gen, s.route = c, p.OpenAI, s.oa, c.Name()
		case KindTEI, KindCohere, KindJina:
			c, err := NewRerankClient(p.Kind, p.Rerank)
			if err != nil {
				return nil, fmt.Errorf("models.providers (%s): %w", p.Name, err)
			}
			s.rerank, s.route = c, c.Name()
		}
		if !s.local {
			s.breaker = NewBreaker(cfg.Breaker, r.now)
		}
		r.steps[p.Name] = s
	}
	for _, rt := range cfg.Routes {
		rt.Providers = slices.Clone(rt.Providers)
		if rt.Task == TaskAnswer && !slices.Contains(rt.Providers, KindExtractive) {
			rt.Providers = append(rt.Providers, KindExtractive)
		}
		r.routes[rt.Task+"\x00"+rt.Tenant] = rt
	}
	return r, nil
}

// Route returns the route for task and tenant: the tenant's own, else the
// task's default; ok is false when neither exists.
func (r *Router) Route(task, tenant string) (Route, bool) {
	rt, ok := r.route(task, tenant)
	rt.Providers = slices.Clone(rt.Providers)
	return rt, ok
}

// route returns the route for task and tenant: the tenant's own, else the
// task's default (Tenant ""); ok is false when neither exists.
func (r *Router) route(task, tenant string) (Route, bool) {
	rt, ok := r.routes[task+"\x00"+tenant]
	if !ok {
		rt, ok = r.routes[task+"\x00"]
	}
	rt.Tenant = tenant
	return rt, ok
}

// Templates returns the prompt templates of tenant: Builtin() with the
// configured overrides for every tenant, then tenant's own.
func (r *Router) Templates(tenant string) *Templates {
	if t, ok := r.templates[tenant]; ok {
		return t
	}
	return r.templates[""]
}

// Breakers returns the state of every model provider's circuit breaker by
// provider name: BreakerClosed, BreakerOpen or BreakerHalfOpen.
func (r *Router) Breakers() map[string]string {
	out := map[string]string{}
	for name, s := range r.steps {
		if s.breaker != nil {
			out[name] = s.breaker.State()
		}
	}
	return out
}

// Generator returns the generator for task and tenant; see Chain.
func (r *Router) Generator(task, tenant string) answer.Generator {
	return r.Chain(task, tenant)
}

// Chain returns the fallback chain for task and tenant: the tenant's own
// route, else the task's default route (Tenant ""), else the extractive
// answerer alone. Model providers render their prompts from
// Templates(tenant).
func (r *Router) Chain(task, tenant string) *Chain {
	rt, ok := r.route(task, tenant)
	if !ok {
		rt = Route{Task: task, Tenant: tenant, Providers: []string{KindExtractive}}
	}
	tmpl := r.Templates(tenant)
	c := &Chain{route: rt, log: r.log, observe: r.observe}
	for _, name := range rt.Providers {
		s := r.steps[name]
		if s.gen == nil {
			continue // not a generator: a route of another task
		}
		if s.oa != nil {
			s.oa = s.oa.WithTemplates(tmpl)
			s.gen = s.oa
		}
		c.steps = append(c.steps, s)
	}
	if !slices.ContainsFunc(c.steps, func(s step) bool { return s.local }) {
		c.steps = append(c.steps, r.steps[KindExtractive])
	}
	return c
}

// Attempt records one provider of a chain that was tried or skipped.
type Attempt struct {
	Provider string // the provider's name
	Route    string // what Answer.Route would have said: "openai:model", "extractive"
	// Prompt is the template that rendered the prompt, "answer@answer-nl-3";
	// empty when no prompt was sent.
	Prompt  string
	Skipped bool          // not tried; Err wraps ErrRegionNotAllowed or ErrBreakerOpen
	Err     error         // why it failed or was skipped; nil for the one that answered
	Elapsed time.Duration // time spent in the provider
}

// Trace is an answer with the attempts that led to it, in order; the last
// attempt is the one that answered.
type Trace struct {
	Answer   answer.Answer
	Attempts []Attempt
}

// Outcome names how attempt a ended, for metrics: "ok", "skipped_policy",
// "breaker_open", "timeout", "unsupported", "ungrounded", "prompt_leak",
// "malformed", "canceled" or "error".
func (a Attempt) Outcome() string {
	switch err := a.Err; {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrRegionNotAllowed):
		return "skipped_policy"
	case errors.Is(err, ErrBreakerOpen):
		return "breaker_open"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrUngrounded):
		return "ungrounded"
	case errors.Is(err, ErrPromptLeak):
		return "prompt_leak"
	case errors.Is(err, ErrMalformedStream), errors.Is(err, ErrMalformedResponse), errors.Is(err, ErrMalformedRerank), errors.Is(err, ErrBadRewrite):
		return "malformed"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// Failed returns the attempts that failed or were skipped.
func (t Trace) Failed() []Attempt {
	var out []Attempt
	for _, a := range t.Attempts {
		if a.Err != nil {
			out = append(out, a)
		}
	}
	return out
}

var _ answer.Generator = (*Chain)(nil)

// Chain is the generator of one route: it tries the route's providers in
// order and falls back to the next on an error or timeout. It is safe for
// concurrent use.
type Chain struct {
	route   Route
	steps   []step
	log     *slog.Logger
	observe func(Route, Attempt)
}

// Route returns the route the chain follows, with "extractive" appended.
func (c *Chain) Route() Route { return c.route }

// Generate returns the answer of Run.
func (c *Chain) Generate(ctx context.Context, req answer.Request) (answer.Answer, error) {
	t, err := c.Run(ctx, req)
	return t.Answer, err
}

// Run tries the providers in order and returns the first answer, with
// Answer.Route naming the provider that gave it. A model provider is
// skipped when its region is outside the data policy or its circuit
// breaker is open, and is given at most the route's Timeout. Run returns
// an error only when ctx ended or when the extractive step failed too; the
// trace then holds the attempts so far.
func (c *Chain) Run(ctx context.Context, req answer.Request) (Trace, error) {
	var t Trace
	var last error
	for _, s := range c.steps {
		if err := ctx.Err(); err != nil {
			return t, fmt.Errorf("generate: %w", err)
		}
		var ans answer.Answer
		a := runStep(ctx, c.route, s, c.log, c.observe, func(ctx context.Context, a *Attempt) error {
			var err error
			if s.oa != nil {
				var p Rendered
				ans, p, err = s.oa.GeneratePrompted(ctx, req)
				if p.Name != "" {
					a.Prompt = p.ID()
				}
				if p.Skipped != nil {
					c.log.Warn("prompt template not used", "task", c.route.Task, "tenant", c.route.Tenant, "err", p.Skipped)
				}
				return err
			}
			ans, err = s.gen.Generate(ctx, req)
			return err
		})
		t.Attempts = append(t.Attempts, a)
		if a.Err == nil {
			if ans.Route == "" {
				ans.Route = s.route
			}
			t.Answer = ans
			return t, nil
		}
		if !a.Skipped {
			last = a.Err
		}
	}
	if last == nil {
		last = errors.New("every provider was skipped")
	}
	return t, fmt.Errorf("generate: no provider answered: %w", last)
}

// runStep runs call for step s of route rt: it skips s when the data
// policy or the breaker forbids it, bounds it by the route's timeout,
// records the outcome in the breaker, logs a failure and hands the
// attempt to observe (when not nil).
func runStep(ctx context.Context, rt Route, s step, log *slog.Logger, observe func(Route, Attempt), call func(context.Context, *Attempt) error) (a Attempt) {
	a = Attempt{Provider: s.name, Route: s.route}
	if observe != nil {
		defer func() { observe(rt, a) }()
	}
	if !s.local && !rt.DataPolicy.Allows(s.region) {
		a.Skipped = true
		a.Err = fmt.Errorf("%w: region %q, allowed %v", ErrRegionNotAllowed, s.region, rt.DataPolicy.AllowedRegions)
		report(log, rt, a)
		return a
	}
	if s.breaker != nil && !s.breaker.Allow() {
		a.Skipped = true
		a.Err = s.breaker.errOpen()
		log.Debug("model provider skipped by circuit breaker", "task", rt.Task, "tenant", rt.Tenant, "provider", s.name, "err", a.Err)
		return a
	}
	gctx, cancel := ctx, context.CancelFunc(func() {})
	if !s.local && rt.Timeout > 0 {
		gctx, cancel = context.WithTimeoutCause(ctx, rt.Timeout,
			fmt.Errorf("%w: route %s allows %s per provider", ErrTimeout, rt.name(), rt.Timeout))
	}
	start := time.Now()
	err := call(gctx, &a)
	cancel()
	a.Elapsed = time.Since(start)
	a.Err = err
	if s.breaker != nil {
		switch {
		case err == nil, errors.Is(err, ErrUngrounded), errors.Is(err, ErrUnsupported), errors.Is(err, ErrPromptLeak), errors.Is(err, ErrBadRewrite):
			// The provider answered; what it said is another matter.
			s.breaker.Success()
		case ctx.Err() != nil:
			// The caller gave up: that says nothing about the provider.
			s.breaker.Release()
		default:
			if s.breaker.Failure() {
				log.Warn("model provider circuit breaker opened", "provider", s.name, "route", s.route)
			}
		}
	}
	if err != nil {
		report(log, rt, a)
	}
	return a
}

// report logs a failed or skipped attempt.
func report(log *slog.Logger, rt Route, a Attempt) {
	msg := "model provider failed, falling back"
	if a.Skipped {
		msg = "model provider skipped by data policy"
	}
	log.Warn(msg, "task", rt.Task, "tenant", rt.Tenant, "provider", a.Provider,
		"route", a.Route, "elapsed", a.Elapsed, "err", a.Err)
}

// run tries the providers of the route for task and tenant in order with
// call, until one succeeds. It returns ErrNoRoute when there is no route,
// else the attempts and, when none succeeded, an error wrapping the last
// failure.
func (r *Router) run(ctx context.Context, task, tenant string, call func(context.Context, step, *Attempt) error) ([]Attempt, error) {
	rt, ok := r.route(task, tenant)
	if !ok {
		return nil, fmt.Errorf("%w %q for tenant %q", ErrNoRoute, task, tenant)
	}
	var attempts []Attempt
	var last error
	for _, name := range rt.Providers {
		if err := ctx.Err(); err != nil {
			return attempts, fmt.Errorf("%s: %w", task, err)
		}
		s := r.steps[name]
		a := runStep(ctx, rt, s, r.log, r.observe, func(ctx context.Context, a *Attempt) error { return call(ctx, s, a) })
		attempts = append(attempts, a)
		if a.Err == nil {
			return attempts, nil
		}
		if !a.Skipped || last == nil {
			last = a.Err
		}
	}
	return attempts, fmt.Errorf("%s: no provider answered: %w", task, last)
}

// Rewrite turns followUp into a standalone question through the "rewrite"
// route of tenant (see Rewriter.Rewrite), trying its providers in order.
// It returns an error wrapping ErrNoRoute when the tenant has no such
// route; on any error the caller keeps its own fallback.
func (r *Router) Rewrite(ctx context.Context, tenant string, history []string, followUp string) (string, error) {
	var out string
	tmpl := r.Templates(tenant)
	_, err := r.run(ctx, TaskRewrite, tenant, func(ctx context.Context, s step, a *Attempt) error {
		// The route's timeout already bounds ctx; the rewriter's own
		// default applies when the route has none.
		q, p, err := NewRewriter(s.chat, tmpl, 0, "").RewritePrompted(ctx, history, followUp)
		a.Prompt = p.ID()
		out = q
		return err
	})
	return out, err
}

// PolicyIntent asks the "judge" route of tenant for the intent of a
// scrubbed question, with the policy template (TemplatePolicy), trying its
// providers in order. ok is false when the tenant has no judge route. A
// reply that is not one of the labels is an error: the caller keeps the
// classifier's intent.
func (r *Router) PolicyIntent(ctx context.Context, tenant, gemeente, question string) (intent policy.Intent, ok bool, err error) {
	if _, has := r.Route(TaskJudge, tenant); !has {
		return "", false, nil
	}
	p := r.Templates(tenant).Policy(gemeente, question)
	reply, err := r.Complete(ctx, TaskJudge, tenant, p.Messages)
	if err != nil {
		return "", true, err
	}
	label, found := ParsePolicyReply(reply)
	if !found {
		return "", true, fmt.Errorf("policy judge (%s): reply %q is not a label", p.ID(), snippet(reply))
	}
	return label, true, nil
}

// ParsePolicyReply reads a judge's reply: its first word, without
// punctuation or quotes, must be one of the policy's labels.
func ParsePolicyReply(reply string) (policy.Intent, bool) {
	f := strings.Fields(strings.ToLower(reply))
	if len(f) == 0 {
		return "", false
	}
	w := strings.Trim(f[0], ".,:;!?\"'`*")
	for _, c := range policy.Intents {
		if w == string(c) {
			return c, true
		}
	}
	return "", false
}

// Complete sends msgs through the chat route of task ("rewrite", "judge")
// and tenant, trying its providers in order, and returns the first reply.
// It returns an error wrapping ErrNoRoute when there is no route.
func (r *Router) Complete(ctx context.Context, task, tenant string, msgs []Message) (string, error) {
	if task != TaskRewrite && task != TaskJudge {
		return "", fmt.Errorf("complete: task %q is not a chat task", task)
	}
	var out string
	_, err := r.run(ctx, task, tenant, func(ctx context.Context, s step, a *Attempt) error {
		text, _, err := s.chat.Complete(ctx, msgs)
		out = text
		return err
	})
	return out, err
}

// Rerank scores docs against query through the "rerank" route of tenant,
// trying its providers in order. It returns an error wrapping ErrNoRoute
// when the tenant has no such route.
func (r *Router) Rerank(ctx context.Context, tenant, query string, docs []string) ([]float64, error) {
	var out []float64
	_, err := r.run(ctx, TaskRerank, tenant, func(ctx context.Context, s step, a *Attempt) error {
		scores, err := s.rerank.Rerank(ctx, query, docs)
		out = scores
		return err
	})
	return out, err
}

// Reranker returns the "rerank" route of tenant as a Reranker, and false
// when the tenant has no such route.
func (r *Router) Reranker(tenant string) (Reranker, bool) {
	if _, ok := r.route(TaskRerank, tenant); !ok {
		return nil, false
	}
	return routeReranker{r: r, tenant: tenant}, true
}

type routeReranker struct {
	r      *Router
	tenant string
}

func (rr routeReranker) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	return rr.r.Rerank(ctx, rr.tenant, query, docs)
}

// EmbedConfigs returns the embedder configurations of the "embed" route
// of tenant, in fallback order, leaving out providers outside the route's
// data policy; false when the tenant has no such route. Vectors of
// different models do not mix, so the caller picks one per index.
func (r *Router) EmbedConfigs(tenant string) ([]embed.OpenAIConfig, bool) {
	rt, ok := r.route(TaskEmbed, tenant)
	if !ok {
		return nil, false
	}
	var out []embed.OpenAIConfig
	for _, name := range rt.Providers {
		s := r.steps[name]
		if !rt.DataPolicy.Allows(s.region) {
			continue
		}
		c := embed.DefaultOpenAIConfig()
		c.BaseURL, c.Model, c.APIKey, c.HTTPClient, c.Dim = s.openai.BaseURL, s.openai.Model, s.openai.APIKey, s.openai.HTTPClient, s.openai.EmbedDim
		c.MaxRetries = s.openai.MaxRetries
		if s.openai.Backoff > 0 {
			c.Backoff = s.openai.Backoff
		}
		if s.openai.Timeout > 0 {
			c.Timeout = s.openai.Timeout
		}
		if rt.Timeout > 0 {
			c.Timeout = rt.Timeout
		}
		out = append(out, c)
	}
	return out, true
}

// Routes returns the configured routes, sorted by task and tenant, with
// "extractive" appended to the "answer" ones.
func (r *Router) Routes() []Route {
	keys := slices.Sorted(maps.Keys(r.routes))
	out := make([]Route, 0, len(keys))
	for _, k := range keys {
		rt := r.routes[k]
		rt.Providers = slices.Clone(rt.Providers)
		out = append(out, rt)
	}
	return out
}
