package models

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBreakerOpen is wrapped in the Attempt of a provider that was skipped
// because its circuit breaker is open after repeated failures.
var ErrBreakerOpen = errors.New("provider circuit breaker open")

// Breaker states, as reported by Breaker.State and Router.Breakers.
const (
	BreakerClosed   = "closed"    // requests pass
	BreakerOpen     = "open"      // requests are refused until the cool-down ends
	BreakerHalfOpen = "half-open" // one trial request passes
)

// BreakerConfig configures the circuit breaker of every model provider.
type BreakerConfig struct {
	// Failures is the number of consecutive failures that opens the
	// breaker; <= 0 means 5.
	Failures int
	// Cooldown is how long an open breaker refuses requests before it lets
	// one trial through; <= 0 means 30s.
	Cooldown time.Duration
}

// Breaker is a circuit breaker: after Failures consecutive failures it
// opens and refuses requests for Cooldown, then lets one trial request
// through (half-open); the trial's success closes it, its failure opens it
// again. It is safe for concurrent use.
type Breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time

	mu       sync.Mutex
	state    string
	count    int       // consecutive failures while closed
	openedAt time.Time // when it last opened
	trial    bool      // a half-open trial is in flight
}

// NewBreaker returns a closed breaker for cfg; now is the clock (nil means
// time.Now).
func NewBreaker(cfg BreakerConfig, now func() time.Time) *Breaker {
	if cfg.Failures <= 0 {
		cfg.Failures = 5
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = 30 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Breaker{failures: cfg.Failures, cooldown: cfg.Cooldown, now: now, state: BreakerClosed}
}

// Allow reports whether a request may go to the provider now. When it
// returns true for a half-open breaker, the caller holds the one trial and
// must report its outcome with Success, Failure or Release.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.state = BreakerHalfOpen
		b.trial = true
		return true
	default: // half-open
		if b.trial {
			return false
		}
		b.trial = true
		return true
	}
}

// Success records a request the provider served: the breaker closes.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.count, b.trial = BreakerClosed, 0, false
}

// Failure records a request the provider failed and reports whether the
// breaker opened because of it. A half-open breaker opens again; a closed
// one opens at the configured number of consecutive failures.
func (b *Breaker) Failure() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerHalfOpen:
		b.state, b.openedAt, b.trial = BreakerOpen, b.now(), false
		return true
	case BreakerClosed:
		b.count++
		if b.count >= b.failures {
			b.state, b.openedAt, b.count = BreakerOpen, b.now(), 0
			return true
		}
	}
	return false
}

// Release ends a request whose outcome says nothing about the provider
// (the caller gave up): a half-open trial is handed back, counts stay.
func (b *Breaker) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}

// State returns BreakerClosed, BreakerOpen or BreakerHalfOpen. An open
// breaker whose cool-down has passed reports half-open: the next request
// is the trial.
func (b *Breaker) State() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && b.now().Sub(b.openedAt) >= b.cooldown {
		return BreakerHalfOpen
	}
	return b.state
}

// errOpen returns the error of a provider skipped by b.
func (b *Breaker) errOpen() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	left := b.cooldown - b.now().Sub(b.openedAt)
	if b.state == BreakerHalfOpen || left < 0 {
		return fmt.Errorf("%w: a trial request is in flight", ErrBreakerOpen)
	}
	return fmt.Errorf("%w: %d consecutive failures, retry in %s", ErrBreakerOpen, b.failures, left.Round(time.Millisecond))
}
