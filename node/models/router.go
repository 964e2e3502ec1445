package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
)

// Provider kinds.
const (
	KindOpenAI     = "openai"     // an OpenAI-compatible chat endpoint
	KindExtractive = "extractive" // the built-in extractive answerer
)

// TaskAnswer is the task of answering a resident's question.
const TaskAnswer = "answer"

// ErrRegionNotAllowed is wrapped in the Attempt of a provider that was
// skipped because its region is outside the route's data policy.
var ErrRegionNotAllowed = errors.New("provider region not allowed by data policy")

// Provider is a named way to generate. The provider named "extractive"
// always exists (the extractive generator given to NewRouter); it need not
// be configured.
type Provider struct {
	Name   string
	Kind   string       // KindOpenAI or KindExtractive
	Region string       // where the model runs: "nl", "eu", "us", ...
	OpenAI OpenAIConfig // for KindOpenAI
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
	Task   string // e.g. TaskAnswer
	Tenant string // "" is the default for tenants without a route of their own
	// Providers names the providers in fallback order; "extractive" is
	// appended when it is missing, so every chain ends in it.
	Providers []string
	// Timeout bounds each model provider's attempt; 0 leaves it to the
	// provider's own timeouts. The extractive step has no route timeout.
	Timeout    time.Duration
	DataPolicy Policy
}

// Config holds the providers and routes of a Router.
type Config struct {
	Providers []Provider
	Routes    []Route
}

// DefaultConfig returns the embedded default: no model providers, and the
// "answer" task routed to the extractive answerer only.
func DefaultConfig() Config {
	return Config{Routes: []Route{{Task: TaskAnswer, Providers: []string{KindExtractive}}}}
}

// Validate reports the first invalid field, named as in the config file
// ("models.routes[0].providers: unknown provider \"x\"").
func (c Config) Validate() error {
	known := map[string]bool{KindExtractive: true}
	for i, p := range c.Providers {
		field := fmt.Sprintf("models.providers[%d]", i)
		switch {
		case strings.TrimSpace(p.Name) == "":
			return fmt.Errorf("%s.name: must not be empty", field)
		case p.Name == KindExtractive && p.Kind != KindExtractive:
			return fmt.Errorf("%s.name: %q is reserved for the extractive answerer", field, p.Name)
		case p.Name != KindExtractive && known[p.Name]:
			return fmt.Errorf("%s.name: %q is used twice", field, p.Name)
		}
		known[p.Name] = true
		switch p.Kind {
		case KindExtractive:
		case KindOpenAI:
			if err := p.OpenAI.Validate(); err != nil {
				return fmt.Errorf("%s (%s): %w", field, p.Name, err)
			}
		default:
			return fmt.Errorf("%s.kind: must be %q or %q", field, KindOpenAI, KindExtractive)
		}
	}
	routes := map[string]bool{}
	for i, r := range c.Routes {
		field := fmt.Sprintf("models.routes[%d]", i)
		if strings.TrimSpace(r.Task) == "" {
			return fmt.Errorf("%s.task: must not be empty", field)
		}
		if routes[r.Task+"\x00"+r.Tenant] {
			return fmt.Errorf("%s: a second route for task %q and tenant %q", field, r.Task, r.Tenant)
		}
		routes[r.Task+"\x00"+r.Tenant] = true
		for _, name := range r.Providers {
			if !known[name] {
				return fmt.Errorf("%s.providers: unknown provider %q", field, name)
			}
		}
		if r.Timeout < 0 {
			return fmt.Errorf("%s.timeout: must not be negative", field)
		}
	}
	return nil
}

// step is one provider of a chain, ready to run.
type step struct {
	name   string
	route  string // the Answer.Route of its answers
	region string
	local  bool // runs in the node: no policy, no route timeout
	gen    answer.Generator
}

// Router hands out the generator chain for a task and tenant. It is safe
// for concurrent use.
type Router struct {
	routes map[string]Route
	steps  map[string]step
	log    *slog.Logger
}

// NewRouter returns a router for cfg whose chains end in extractive. log
// receives a warning for every provider that failed or was skipped; nil
// discards. It returns the validation error of cfg, or an error when
// extractive is nil.
func NewRouter(cfg Config, extractive answer.Generator, log *slog.Logger) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if extractive == nil {
		return nil, errors.New("models: router needs an extractive generator")
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Router{routes: map[string]Route{}, steps: map[string]step{}, log: log}
	r.steps[KindExtractive] = step{name: KindExtractive, route: answer.RouteExtractive, local: true, gen: extractive}
	for _, p := range cfg.Providers {
		switch p.Kind {
		case KindExtractive:
			r.steps[p.Name] = step{name: p.Name, route: answer.RouteExtractive, local: true, gen: extractive}
		case KindOpenAI:
			c, err := NewChatClient(p.OpenAI)
			if err != nil {
				return nil, fmt.Errorf("models.providers (%s): %w", p.Name, err)
			}
			g := NewOpenAIGenerator(c)
			r.steps[p.Name] = step{name: p.Name, route: g.Route(), region: p.Region, gen: g}
		}
	}
	for _, rt := range cfg.Routes {
		rt.Providers = slices.Clone(rt.Providers)
		if !slices.Contains(rt.Providers, KindExtractive) {
			rt.Providers = append(rt.Providers, KindExtractive)
		}
		r.routes[rt.Task+"\x00"+rt.Tenant] = rt
	}
	return r, nil
}

// Generator returns the generator for task and tenant; see Chain.
func (r *Router) Generator(task, tenant string) answer.Generator {
	return r.Chain(task, tenant)
}

// Chain returns the fallback chain for task and tenant: the tenant's own
// route, else the task's default route (Tenant ""), else the extractive
// answerer alone.
func (r *Router) Chain(task, tenant string) *Chain {
	rt, ok := r.routes[task+"\x00"+tenant]
	if !ok {
		rt, ok = r.routes[task+"\x00"]
	}
	if !ok {
		rt = Route{Task: task, Providers: []string{KindExtractive}}
	}
	rt.Tenant = tenant
	c := &Chain{route: rt, log: r.log}
	for _, name := range rt.Providers {
		c.steps = append(c.steps, r.steps[name])
	}
	return c
}

// Attempt records one provider of a chain that was tried or skipped.
type Attempt struct {
	Provider string        // the provider's name
	Route    string        // what Answer.Route would have said: "openai:model", "extractive"
	Skipped  bool          // not tried; Err wraps ErrRegionNotAllowed
	Err      error         // why it failed or was skipped; nil for the one that answered
	Elapsed  time.Duration // time spent in the provider
}

// Trace is an answer with the attempts that led to it, in order; the last
// attempt is the one that answered.
type Trace struct {
	Answer   answer.Answer
	Attempts []Attempt
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
	route Route
	steps []step
	log   *slog.Logger
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
// skipped when its region is outside the data policy, and is given at
// most the route's Timeout. Run returns an error only when ctx ended or
// when the extractive step failed too; the trace then holds the attempts
// so far.
func (c *Chain) Run(ctx context.Context, req answer.Request) (Trace, error) {
	var t Trace
	var last error
	for _, s := range c.steps {
		if err := ctx.Err(); err != nil {
			return t, fmt.Errorf("generate: %w", err)
		}
		a := Attempt{Provider: s.name, Route: s.route}
		if !s.local && !c.route.DataPolicy.Allows(s.region) {
			a.Skipped = true
			a.Err = fmt.Errorf("%w: region %q, allowed %v", ErrRegionNotAllowed, s.region, c.route.DataPolicy.AllowedRegions)
			c.report(a)
			t.Attempts = append(t.Attempts, a)
			continue
		}
		gctx, cancel := ctx, context.CancelFunc(func() {})
		if !s.local && c.route.Timeout > 0 {
			gctx, cancel = context.WithTimeoutCause(ctx, c.route.Timeout,
				fmt.Errorf("%w: route %s/%s allows %s per provider", ErrTimeout, c.route.Task, c.route.Tenant, c.route.Timeout))
		}
		start := time.Now()
		ans, err := s.gen.Generate(gctx, req)
		cancel()
		a.Elapsed = time.Since(start)
		if err == nil {
			if ans.Route == "" {
				ans.Route = s.route
			}
			t.Answer = ans
			t.Attempts = append(t.Attempts, a)
			return t, nil
		}
		a.Err = err
		last = err
		c.report(a)
		t.Attempts = append(t.Attempts, a)
	}
	return t, fmt.Errorf("generate: no provider answered: %w", last)
}

// report logs a failed or skipped attempt.
func (c *Chain) report(a Attempt) {
	msg := "model provider failed, falling back"
	if a.Skipped {
		msg = "model provider skipped by data policy"
	}
	c.log.Warn(msg, "task", c.route.Task, "tenant", c.route.Tenant, "provider", a.Provider,
		"route", a.Route, "elapsed", a.Elapsed, "err", a.Err)
}
