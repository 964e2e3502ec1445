package models_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/node/models"
)

// clock is a manual clock for breakers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestBreaker(t *testing.T) {
	clk := newClock()
	b := models.NewBreaker(models.BreakerConfig{Failures: 3, Cooldown: 10 * time.Second}, clk.Now)
	for i := range 2 {
		if !b.Allow() || b.Failure() {
			t.Fatalf("failure %d opened the breaker early", i+1)
		}
	}
	b.Success() // resets the count
	for range 2 {
		b.Allow()
		b.Failure()
	}
	if b.State() != models.BreakerClosed {
		t.Fatalf("state %s after a success and 2 failures", b.State())
	}
	if !b.Allow() || !b.Failure() || b.State() != models.BreakerOpen || b.Allow() {
		t.Fatalf("third consecutive failure: state %s", b.State())
	}
	clk.Add(9 * time.Second)
	if b.Allow() {
		t.Fatal("allowed during the cool-down")
	}
	clk.Add(time.Second)
	if b.State() != models.BreakerHalfOpen {
		t.Fatalf("state %s after the cool-down", b.State())
	}
	if !b.Allow() || b.Allow() {
		t.Fatal("half-open must allow exactly one trial")
	}
	b.Release() // the caller gave up: the trial is handed back
	if !b.Allow() {
		t.Fatal("released trial not available again")
	}
	if !b.Failure() || b.State() != models.BreakerOpen {
		t.Fatalf("failed trial: state %s", b.State())
	}
	clk.Add(10 * time.Second)
	if !b.Allow() {
		t.Fatal("no trial after the second cool-down")
	}
	b.Success()
	if b.State() != models.BreakerClosed || !b.Allow() || !b.Allow() {
		t.Fatalf("successful trial: state %s", b.State())
	}
}

func TestBreaker_Defaults(t *testing.T) {
	clk := newClock()
	b := models.NewBreaker(models.BreakerConfig{}, clk.Now)
	for range 4 {
		b.Failure()
	}
	if b.State() != models.BreakerClosed || !b.Failure() {
		t.Fatal("default must open at the fifth failure")
	}
	clk.Add(29 * time.Second)
	if b.Allow() {
		t.Fatal("default cool-down shorter than 30s")
	}
	clk.Add(time.Second)
	if !b.Allow() {
		t.Fatal("default cool-down longer than 30s")
	}
}

func TestRouter_BreakerSkipsProvider(t *testing.T) {
	var fail sync.Mutex
	failing := true
	srv := llmtest.NewServer(t, func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
		fail.Lock()
		f := failing
		fail.Unlock()
		if f {
			llmtest.Status(503, "", `{"error":{"message":"overloaded"}}`)(w, r, n, req)
			return
		}
		llmtest.Reply("Een paspoort kost € 84,40 [1].")(w, r, n, req)
	})
	clk := newClock()
	p := provider("m", "eu", srv)
	p.OpenAI.MaxRetries = 0
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{p},
		Routes:    []models.Route{{Task: models.TaskAnswer, Providers: []string{"m"}}},
		Breaker:   models.BreakerConfig{Failures: 2, Cooldown: time.Minute},
	}, newExtractive(t), nil, models.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ask := func() models.Trace {
		t.Helper()
		tr, err := r.Chain(models.TaskAnswer, "lindewaarde").Run(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for range 2 {
		if tr := ask(); tr.Answer.Route != extractive.Route || tr.Attempts[0].Skipped {
			t.Fatalf("failing provider: %+v", tr)
		}
	}
	if got := r.Breakers()["m"]; got != models.BreakerOpen {
		t.Fatalf("breaker %s after 2 failures", got)
	}
	// Open: skipped without a request, and the chain still ends in extractive.
	n := srv.Count()
	tr := ask()
	if srv.Count() != n || !tr.Attempts[0].Skipped || !errors.Is(tr.Attempts[0].Err, models.ErrBreakerOpen) || tr.Answer.Route != extractive.Route {
		t.Fatalf("open breaker: %d requests, %+v", srv.Count()-n, tr.Attempts)
	}
	// After the cool-down one trial goes out; it fails and the breaker opens again.
	clk.Add(time.Minute)
	if got := r.Breakers()["m"]; got != models.BreakerHalfOpen {
		t.Fatalf("breaker %s after the cool-down", got)
	}
	ask()
	if srv.Count() != n+1 || r.Breakers()["m"] != models.BreakerOpen {
		t.Fatalf("failed trial: %d requests, breaker %s", srv.Count()-n, r.Breakers()["m"])
	}
	// The provider recovers: the next trial closes the breaker.
	fail.Lock()
	failing = false
	fail.Unlock()
	clk.Add(time.Minute)
	if tr := ask(); tr.Answer.Route != "openai:m-model" || r.Breakers()["m"] != models.BreakerClosed {
		t.Fatalf("recovered: route %s, breaker %s", tr.Answer.Route, r.Breakers()["m"])
	}
}

func TestRouter_BreakerIgnoresContentErrors(t *testing.T) {
	// A model talked into leaking its prompt is up: residents who provoke
	// that must not switch the model off for everyone.
	srv := llmtest.NewServer(t, echoCanary)
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{provider("m", "eu", srv)},
		Routes:    []models.Route{{Task: models.TaskAnswer, Providers: []string{"m"}}},
		Breaker:   models.BreakerConfig{Failures: 1},
	}, newExtractive(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tr, err := r.Chain(models.TaskAnswer, "").Run(context.Background(), request())
		if err != nil || !errors.Is(tr.Attempts[0].Err, models.ErrPromptLeak) {
			t.Fatalf("attempts %+v, %v", tr.Attempts, err)
		}
	}
	if got := r.Breakers()["m"]; got != models.BreakerClosed || srv.Count() != 3 {
		t.Fatalf("breaker %s after prompt leaks, %d requests", got, srv.Count())
	}
	// A caller that gives up does not count either.
	hang := llmtest.NewServer(t, llmtest.Hang())
	r, _ = models.NewRouter(models.Config{
		Providers: []models.Provider{provider("h", "eu", hang)},
		Routes:    []models.Route{{Task: models.TaskAnswer, Providers: []string{"h"}}},
		Breaker:   models.BreakerConfig{Failures: 1},
	}, newExtractive(t), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r.Chain(models.TaskAnswer, "").Run(ctx, request())
	if got := r.Breakers()["h"]; got != models.BreakerClosed {
		t.Fatalf("breaker %s after the caller gave up", got)
	}
}
