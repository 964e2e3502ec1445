// Package httpretry holds the retry timing shared by the project's HTTP
// clients of model servers: exponential backoff with jitter and the
// server's Retry-After.
package httpretry

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxDelay caps a backoff and a server's Retry-After.
const MaxDelay = 30 * time.Second

// Backoff returns the delay before retry attempt+1 (attempt counts from 0):
// base doubled per attempt with "equal jitter", so at least half the
// exponential value, and at most MaxDelay.
func Backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 16)
	if d <= 0 || d > MaxDelay {
		d = MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// RetryAfter parses a Retry-After header, in seconds or as an HTTP date,
// capped at MaxDelay; -1 when absent or invalid.
func RetryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return -1
	}
	if secs, err := strconv.Atoi(h); err == nil {
		if secs < 0 {
			return -1
		}
		return min(time.Duration(secs)*time.Second, MaxDelay)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), MaxDelay)
	}
	return -1
}
