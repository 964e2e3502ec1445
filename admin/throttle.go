package admin

import (
	"sync"
	"time"
)

// ThrottleConfig bounds failed sign-ins.
type ThrottleConfig struct {
	// PerAccount failures within Window lock the e-mail address until the
	// oldest failure leaves the window; PerAddress does the same for the
	// client's address.
	PerAccount, PerAddress int
	Window                 time.Duration
}

// DefaultThrottleConfig allows 5 failures per account and 20 per address
// in 15 minutes.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute}
}

// throttle counts failed sign-ins per key in memory. After a restart the
// count starts again, which costs an attacker a restart they cannot cause.
type throttle struct {
	mu    sync.Mutex
	fails map[string][]time.Time
	now   func() time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{fails: map[string][]time.Time{}, now: now}
}

// wait returns how long key must wait before another attempt, 0 when it
// may try now.
func (t *throttle) wait(key string, limit int, window time.Duration) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key, window)
	if len(fs) < limit {
		return 0
	}
	return fs[len(fs)-limit].Add(window).Sub(t.now())
}

// fail records a failure of key.
func (t *throttle) fail(key string, window time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fails[key] = append(t.prune(key, window), t.now())
	if len(t.fails) > 100_000 { // bound memory under a spray of addresses
		for k := range t.fails {
			delete(t.fails, k)
			break
		}
	}
}

// reset forgets key's failures (after a successful sign-in).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

func (t *throttle) prune(key string, window time.Duration) []time.Time {
	cut := t.now().Add(-window)
	fs := t.fails[key]
	i := 0
	for i < len(fs) && !fs[i].After(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, key)
	} else {
		t.fails[key] = fs
	}
	return fs
}
