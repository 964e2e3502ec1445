package node

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"
)

// RateConfig limits how often questions arrive, over every path a question
// takes (REST, WebSocket messages, Connect Ask and AskStream).
type RateConfig struct {
	PerMinute float64 // sustained requests per minute per client
	Burst     int     // requests allowed at once
	// TenantPerMinute and TenantBurst limit the questions of all clients
	// of one tenant together, so that one tenant's flood leaves the node
	// to the others; zero: no limit per tenant.
	TenantPerMinute float64
	TenantBurst     int
}

// DefaultRateConfig returns the defaults: 30 questions a minute per
// client in bursts of 10, and 600 a minute per tenant in bursts of 100.
func DefaultRateConfig() RateConfig {
	return RateConfig{PerMinute: 30, Burst: 10, TenantPerMinute: 600, TenantBurst: 100}
}

// Validate reports the first invalid field.
func (c RateConfig) Validate() error {
	switch {
	case c.PerMinute <= 0 || c.Burst < 1:
		return fmt.Errorf("node.rate: per_minute must be positive and burst at least 1")
	case c.TenantPerMinute < 0 || c.TenantBurst < 0 || (c.TenantPerMinute > 0) != (c.TenantBurst > 0):
		return fmt.Errorf("node.rate: tenant_per_minute and tenant_burst must both be positive, or both zero")
	}
	return nil
}

// limiter keeps one token bucket per client address and one per tenant.
type limiter struct {
	clients *buckets
	tenants *buckets // nil: no limit per tenant
}

func newLimiter(cfg RateConfig) *limiter {
	l := &limiter{clients: newBuckets(cfg.PerMinute, cfg.Burst)}
	if cfg.TenantPerMinute > 0 {
		l.tenants = newBuckets(cfg.TenantPerMinute, cfg.TenantBurst)
	}
	return l
}

// allow takes a token from the client's bucket; when none is left it
// returns false and how long to wait. It is for requests that are not
// questions (feedback, WebSocket upgrades, crawl triggers).
func (l *limiter) allow(client string, now time.Time) (bool, time.Duration) {
	r, wait := l.clients.take(client, now)
	return r != nil, wait
}

// question takes a token from the client's bucket and one from the
// tenant's; when either is empty it takes neither and returns false and how
// long to wait.
func (l *limiter) question(client, tenant string, now time.Time) (bool, time.Duration) {
	r, wait := l.clients.take(client, now)
	if r == nil {
		return false, wait
	}
	if l.tenants == nil {
		return true, 0
	}
	if t, wait := l.tenants.take(tenant, now); t == nil {
		r.CancelAt(now) // the client is not charged for the tenant's crowd
		return false, wait
	}
	return true, 0
}

// buckets are token buckets by key; buckets unused for ten minutes are
// dropped.
type buckets struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*bucket
	sweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(perMinute float64, burst int) *buckets {
	return &buckets{limit: rate.Limit(perMinute / 60), burst: burst, m: map[string]*bucket{}}
}

// take reserves a token of key's bucket and returns the reservation, or
// nil and how long to wait when the bucket is empty.
func (b *buckets) take(key string, now time.Time) (*rate.Reservation, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.sweep) > time.Minute {
		for k, c := range b.m {
			if now.Sub(c.seen) > 10*time.Minute {
				delete(b.m, k)
			}
		}
		b.sweep = now
	}
	c := b.m[key]
	if c == nil {
		c = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.m[key] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// ParseTrustedProxies reads the trusted_proxies setting: IP addresses and
// CIDR prefixes. The error names the entry that is neither.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies[%d]: %q is not an IP address or CIDR prefix (e.g. 10.0.0.5 or 10.0.0.0/24)", i, s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// clientAddr is the client IP of a request from remote (host:port) with
// header h. X-Forwarded-For is read only when remote is one of the trusted
// proxies; the client is then the rightmost address in it that is not a
// trusted proxy itself. From anyone else, loopback included, the header is
// ignored, so a client cannot choose its own bucket.
func clientAddr(remote string, h http.Header, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // what stands left of a hop we cannot read is not to be trusted
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientOf is the client address of an HTTP request.
func (n *Node) clientOf(r *http.Request) string {
	return clientAddr(r.RemoteAddr, r.Header, n.cfg.TrustedProxies)
}

// writeLimited writes the 429 answer to a refused request.
func writeLimited(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
	writeProblem(w, http.StatusTooManyRequests, "too many requests", msgTooMany)
}

// retryAfter is wait in whole seconds, rounded up, for a Retry-After header.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(retrySeconds(wait))
}

func retrySeconds(wait time.Duration) int {
	return int((wait + time.Second - 1) / time.Second)
}

// limit wraps h with the per-client rate limit, for requests that are not
// questions.
func (n *Node) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := n.limiter.allow(n.clientOf(r), time.Now()); !ok {
			n.metrics.limited.Inc()
			writeLimited(w, wait)
			return
		}
		h(w, r)
	}
}

// limitQuestion wraps h with the limits of a question: the client's and
// the tenant's (the path's {tenant}).
func (n *Node) limitQuestion(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := n.allowQuestion(r.RemoteAddr, r.Header, r.PathValue("tenant")); !ok {
			writeLimited(w, wait)
			return
		}
		h(w, r)
	}
}

// allowQuestion takes the tokens of one question from the client at
// remote (with header h) for tenant; every path a question arrives by
// calls it. A refusal is counted in the metrics.
func (n *Node) allowQuestion(remote string, h http.Header, tenant string) (bool, time.Duration) {
	ok, wait := n.limiter.question(clientAddr(remote, h, n.cfg.TrustedProxies), tenant, time.Now())
	if !ok {
		n.metrics.limited.Inc()
	}
	return ok, wait
}

// admitConnect applies the limits of a question to a Connect Ask or
// AskStream: resource_exhausted with a Retry-After when refused.
func (n *Node) admitConnect(peer connect.Peer, h http.Header, tenant string) error {
	ok, wait := n.allowQuestion(peer.Addr, h, tenant)
	if ok {
		return nil
	}
	err := connect.NewError(connect.CodeResourceExhausted, residentMessage(msgTooMany))
	err.Meta().Set("Retry-After", retryAfter(wait))
	return err
}
