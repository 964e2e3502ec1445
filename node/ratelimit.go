package node

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateConfig limits how often one client address may ask.
type RateConfig struct {
	PerMinute float64 // sustained requests per minute per client
	Burst     int     // requests allowed at once
}

// limiter keeps one token bucket per client address; buckets unused for
// ten minutes are dropped.
type limiter struct {
	cfg     RateConfig
	mu      sync.Mutex
	clients map[string]*client
	sweep   time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(cfg RateConfig) *limiter {
	return &limiter{cfg: cfg, clients: map[string]*client{}}
}

// allow takes a token for addr; when none is left it returns false and how
// long to wait.
func (l *limiter) allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.sweep = now
	}
	c := l.clients[addr]
	if c == nil {
		c = &client{lim: rate.NewLimiter(rate.Limit(l.cfg.PerMinute/60), l.cfg.Burst)}
		l.clients[addr] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientAddr is the request's client IP. Behind a reverse proxy on the
// same machine (a loopback peer) it is the last address the proxy added to
// X-Forwarded-For; from anywhere else the header is ignored, so a client
// cannot choose its own bucket.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}

// limit wraps h with the per-client rate limit.
func (n *Node) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := n.limiter.allow(clientAddr(r), time.Now())
		if !ok {
			n.metrics.limited.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			writeProblem(w, http.StatusTooManyRequests, "too many requests", msgTooMany)
			return
		}
		h(w, r)
	}
}
