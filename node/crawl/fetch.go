package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/assistent-nl/assistent/internal/httpretry"
)

// Failure reasons, the keys of Counters.Failed and JobError.Reason.
const (
	ReasonRobots          = "robots"           // disallowed by robots.txt, or robots.txt unavailable
	ReasonBlocked         = "blocked_address"  // the host resolved to a private address not in AllowPrivate
	ReasonTooLarge        = "too_large"        // body over MaxBytes
	ReasonStatus4xx       = "status_4xx"       // 4xx other than 404/410, 429 after retries
	ReasonStatus5xx       = "status_5xx"       // 5xx after retries
	ReasonTimeout         = "timeout"          // timeouts after retries
	ReasonNetwork         = "network"          // connection errors
	ReasonRedirect        = "redirect"         // loop, too many, bad Location or excluded target
	ReasonOffhost         = "offhost"          // redirect to a host outside AllowHosts
	ReasonUnsupportedType = "unsupported_type" // neither HTML nor PDF
	ReasonExtract         = "extract"          // the extractor failed
	ReasonSitemap         = "sitemap"          // a sitemap could not be fetched or parsed
)

// reasonGone marks a 404 or 410; it is no failure but a removal.
const reasonGone = "gone"

// maxRedirects is the longest redirect chain followed.
const maxRedirects = 5

// retryBase is the first backoff delay when the server names none.
const retryBase = time.Second

// maxCrawlDelay caps robots.txt's Crawl-delay, so a site cannot stall a
// run indefinitely.
const maxCrawlDelay = time.Minute

// maxSitemapBytes is the size the sitemap protocol allows; sitemaps may be
// this large even when MaxBytes is smaller.
const maxSitemapBytes = 50 << 20

// maxRobotsBytes is how much of a robots.txt is read (RFC 9309 asks for at
// least 500 KiB).
const maxRobotsBytes = 512 << 10

// errBlockedAddress is returned by the dialler for a refused address.
var errBlockedAddress = errors.New("address is loopback, private, link-local or otherwise not public")

// failure is why a URL yielded nothing.
type failure struct {
	reason string
	msg    string
	// unavailable marks a robots.txt or sitemap that could not be read:
	// the run cannot vouch for which pages are gone.
	unavailable bool
}

func (f *failure) Error() string { return f.reason + ": " + f.msg }

func fail(reason, format string, args ...any) *failure {
	return &failure{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// blockedAddr reports whether dialling ip could reach something internal.
func blockedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() {
		return true
	}
	for _, p := range extraBlocked {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// extraBlocked are ranges that the netip predicates do not cover: "this
// network", carrier-grade NAT, broadcast, NAT64 and IPv4-compatible IPv6.
var extraBlocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("::/96"),
}

// newClient returns an HTTP client whose dialler refuses internal
// addresses, checked on the address actually dialled (after DNS), unless
// the host name being dialled is in allowPrivate. Redirects are not
// followed by the client; the fetcher follows them itself. Proxies from the
// environment are ignored, since they would move the check to the proxy.
func newClient(allowPrivate []string) *http.Client {
	allowed := map[string]bool{}
	for _, h := range allowPrivate {
		allowed[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		if !allowed[strings.ToLower(host)] {
			d.Control = func(network, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("dial %s: %w", address, err)
				}
				if blockedAddr(ap.Addr()) {
					return fmt.Errorf("dial %s (%s): %w; to crawl it anyway (an intranet, a test site), allow it: allow_private in the source, or --allow-private %s",
						host, ap.Addr(), errBlockedAddress, host)
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0, // the per-request context bounds it
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// host is the politeness state of one origin in one run.
type host struct {
	mu sync.Mutex
	// interval is the pause between one request's end and the next one's
	// start (1/Rate or the Crawl-delay, whichever is longer); set once
	// robots.txt is read. gate lets one request at a time through when it
	// is positive, and next is the earliest start of the next request.
	interval time.Duration
	gate     chan struct{}
	next     time.Time
	loaded   bool
	robots   *Robots
	// unavailable says why robots.txt could not be read; nil when it was
	// read or is absent.
	unavailable *failure
	// sitemapsTaken says the run has queued robots.txt's sitemaps.
	sitemapsTaken bool
}

// fetcher fetches for one run: robots.txt, rate limits, retries,
// redirects and size limits.
type fetcher struct {
	client *http.Client
	src    Source // with defaults
	scope  *scope
	// stop ends waiting for rate limits and retries; requests already
	// sent run on under their own context.
	stop context.Context

	mu    sync.Mutex
	hosts map[string]*host // by scheme://host
}

func newFetcher(src Source, sc *scope, stop context.Context) *fetcher {
	return &fetcher{
		client: newClient(src.AllowPrivate),
		src:    src,
		scope:  sc,
		stop:   stop,
		hosts:  map[string]*host{},
	}
}

func (f *fetcher) close() { f.client.CloseIdleConnections() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fetcher) host(u *url.URL) *host {
	key := u.Scheme + "://" + u.Host
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hosts[key]
	if h == nil {
		h = &host{}
		f.hosts[key] = h
	}
	return h
}

// robotsFor returns the robots rules of u's origin, fetching robots.txt
// once per run.
func (f *fetcher) robotsFor(ctx context.Context, u *url.URL) (*host, error) {
	h := f.host(u)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded {
		return h, nil
	}
	robotsURL := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	resp, fl := f.get(ctx, robotsURL, getOptions{purpose: purposeRobots})
	if fl != nil && f.stop.Err() != nil {
		return nil, f.stop.Err() // stopped, not unreachable: try again on resume
	}
	switch {
	case fl != nil && fl.reason == ReasonStatus4xx && resp != nil && resp.status != http.StatusTooManyRequests:
		h.robots = AllowAll() // 4xx: "unavailable", crawl without restrictions
	case fl != nil && (fl.reason == reasonGone || fl.reason == ReasonRedirect || fl.reason == ReasonOffhost):
		h.robots = AllowAll() // absent, or redirected away: unavailable
	case fl != nil && fl.reason == ReasonBlocked:
		h.robots, h.unavailable = DisallowAll(), fl
		h.unavailable.unavailable = true
	case fl != nil:
		h.robots = DisallowAll() // 5xx, 429, unreachable: "unreachable", crawl nothing
		h.unavailable = fail(ReasonRobots, "robots.txt unreachable (%s)", fl.Error())
		h.unavailable.unavailable = true
	default:
		h.robots = ParseRobots(resp.body, f.src.UserAgent)
	}
	interval := time.Duration(0)
	if !f.src.NoRateLimit {
		interval = time.Duration(float64(time.Second) / f.src.Rate)
	}
	if d := min(h.robots.CrawlDelay(), maxCrawlDelay); d > interval {
		interval = d
	}
	h.interval = interval
	h.gate = make(chan struct{}, 1)
	h.next = time.Now().Add(interval) // the robots.txt request just made
	h.loaded = true
	return h, nil
}

// takeSitemaps returns, once per run and origin, the sitemaps the
// robots.txt of u's origin lists (nothing before robots.txt was read).
func (f *fetcher) takeSitemaps(u *url.URL) []string {
	h := f.host(u)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded || h.sitemapsTaken || h.robots == nil {
		return nil
	}
	h.sitemapsTaken = true
	return h.robots.Sitemaps()
}

type purpose int

const (
	purposePage purpose = iota
	purposeSitemap
	purposeRobots
)

type getOptions struct {
	purpose purpose
	// conditional returns the ETag and Last-Modified stored for a URL, to
	// make its request conditional.
	conditional func(u *url.URL) (etag, lastModified string)
	// claim is called for each redirect target before it is fetched; it
	// returns false when the target is already crawled by this run, which
	// ends the chain without a failure.
	claim func(u *url.URL) bool
}

// response is a fetched document (or a 304).
type response struct {
	url    *url.URL // after redirects
	status int
	header http.Header
	body   []byte
	kind   string   // "html" or "pdf" for pages
	hops   []string // redirect targets followed, normalised
	// claimed is true when the chain ended at a URL the run already had.
	claimed bool
}

// get fetches u following at most maxRedirects redirects within the
// allowed hosts, each hop checked against robots.txt (except for robots.txt
// itself) and rate limited. A failure with reason "gone" means 404 or 410.
func (f *fetcher) get(ctx context.Context, u *url.URL, opt getOptions) (*response, *failure) {
	chain := map[string]bool{u.String(): true}
	var hops []string
	for hop := 0; ; hop++ {
		if opt.purpose != purposeRobots {
			h, err := f.robotsFor(ctx, u)
			if err != nil {
				return nil, fail(ReasonNetwork, "%v", err)
			}
			if h.unavailable != nil {
				return nil, h.unavailable
			}
			if !h.robots.Allowed(u.RequestURI()) {
				return nil, fail(ReasonRobots, "disallowed by robots.txt")
			}
		}
		etag, lm := "", ""
		if opt.conditional != nil {
			etag, lm = opt.conditional(u)
		}
		resp, fl := f.do(ctx, u, opt.purpose, etag, lm)
		if fl != nil {
			return resp, fl
		}
		resp.hops = hops
		if resp.status < 300 || resp.status >= 400 || resp.status == http.StatusNotModified {
			return resp, nil
		}
		loc := resp.header.Get("Location")
		if loc == "" {
			return resp, fail(ReasonRedirect, "status %d without Location", resp.status)
		}
		if hop >= maxRedirects {
			return resp, fail(ReasonRedirect, "more than %d redirects", maxRedirects)
		}
		next, err := u.Parse(loc)
		if err == nil {
			next, err = normalize(next)
		}
		if err != nil {
			return resp, fail(ReasonRedirect, "bad Location %q", loc)
		}
		if chain[next.String()] {
			return resp, fail(ReasonRedirect, "redirect loop at %s", next)
		}
		if !f.scope.hostAllowed(next) {
			return resp, fail(ReasonOffhost, "redirect to %s outside the allowed hosts", next)
		}
		if opt.purpose == purposePage && !f.scope.filtered(next.String()) {
			return resp, fail(ReasonRedirect, "redirect to excluded %s", next)
		}
		chain[next.String()] = true
		hops = append(hops, next.String())
		if opt.claim != nil && !opt.claim(next) {
			return &response{url: next, status: resp.status, hops: hops, claimed: true}, nil
		}
		u = next
	}
}

// do sends one request with retries on 429, 5xx and timeouts, and reads
// the body of a 2xx response within the size limit.
func (f *fetcher) do(ctx context.Context, u *url.URL, p purpose, etag, lastModified string) (*response, *failure) {
	var h *host
	if p != purposeRobots {
		h = f.host(u)
		h.mu.Lock()
		paced := h.interval > 0
		h.mu.Unlock()
		if !paced {
			h = nil // no pause, no queue
		}
	}
	for attempt := 0; ; attempt++ {
		if h != nil {
			// Politeness: one request at a time per host, each starting
			// at least interval after the previous one ended, so the
			// site sees the pause whatever the network does.
			select {
			case h.gate <- struct{}{}:
			case <-f.stop.Done():
				return nil, fail(ReasonNetwork, "wait for rate limit: %v", f.stop.Err())
			}
			h.mu.Lock()
			wait := time.Until(h.next)
			h.mu.Unlock()
			if err := sleepCtx(f.stop, wait); err != nil {
				<-h.gate
				return nil, fail(ReasonNetwork, "wait for rate limit: %v", err)
			}
		}
		resp, fl, retryAfter := f.once(ctx, u, p, etag, lastModified)
		if h != nil {
			h.mu.Lock()
			h.next = time.Now().Add(h.interval)
			h.mu.Unlock()
			<-h.gate
		}
		if fl == nil || retryAfter < 0 || attempt >= f.src.Retries || f.stop.Err() != nil {
			return resp, fl
		}
		delay := retryAfter
		if delay == 0 {
			delay = httpretry.Backoff(retryBase, attempt)
		}
		if err := sleepCtx(f.stop, delay); err != nil {
			return resp, fl
		}
	}
}

// once sends one request. retryAfter is negative when the failure is final,
// 0 for "retry after a backoff" and positive for the server's Retry-After.
func (f *fetcher) once(ctx context.Context, u *url.URL, p purpose, etag, lastModified string) (*response, *failure, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, f.src.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fail(ReasonNetwork, "new request: %v", err), -1
	}
	req.Header.Set("User-Agent", f.src.UserAgent)
	switch p {
	case purposePage:
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.1")
	case purposeSitemap:
		req.Header.Set("Accept", "application/xml,text/xml,application/gzip;q=0.9,*/*;q=0.1")
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	res, err := f.client.Do(req)
	if err != nil {
		fl, retry := classifyErr(err)
		return nil, fl, retry
	}
	defer res.Body.Close()
	resp := &response{url: u, status: res.StatusCode, header: res.Header}
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		// Read a small error or redirect body so the connection can be
		// reused; a large one is cut off by closing.
		io.CopyN(io.Discard, res.Body, 4<<10)
	}
	switch {
	case res.StatusCode == http.StatusNotModified:
		return resp, nil, -1
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return resp, nil, -1
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return resp, fail(reasonGone, "status %d", res.StatusCode), -1
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		reason := ReasonStatus5xx
		if res.StatusCode < 500 {
			reason = ReasonStatus4xx
		}
		ra := httpretry.RetryAfter(res.Header.Get("Retry-After"))
		if ra <= 0 {
			ra = 0
		}
		return resp, fail(reason, "status %d", res.StatusCode), ra
	case res.StatusCode >= 400:
		return resp, fail(ReasonStatus4xx, "status %d", res.StatusCode), -1
	case res.StatusCode < 200 || res.StatusCode >= 300:
		return resp, fail(ReasonStatus4xx, "unexpected status %d", res.StatusCode), -1
	}
	limit := f.src.MaxBytes
	switch p {
	case purposeRobots:
		limit = maxRobotsBytes
	case purposeSitemap:
		limit = max(limit, maxSitemapBytes)
	}
	ct := res.Header.Get("Content-Type")
	if p == purposePage {
		resp.kind = contentKind(ct)
		if resp.kind == "" && ct != "" {
			return resp, fail(ReasonUnsupportedType, "content type %q", ct), -1
		}
	}
	if p != purposeRobots && res.ContentLength > limit {
		return resp, fail(ReasonTooLarge, "Content-Length %d over %d bytes", res.ContentLength, limit), -1
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		fl, retry := classifyErr(err)
		return nil, fl, retry
	}
	if int64(len(body)) > limit {
		if p == purposeRobots {
			body = body[:limit] // parse what the RFC asks for, drop the rest
		} else {
			return resp, fail(ReasonTooLarge, "body over %d bytes", limit), -1
		}
	}
	resp.body = body
	if p == purposePage && resp.kind == "" {
		// No Content-Type: sniff, as browsers would.
		if resp.kind = contentKind(http.DetectContentType(body)); resp.kind == "" {
			return resp, fail(ReasonUnsupportedType, "no content type, sniffed %q", http.DetectContentType(body)), -1
		}
	}
	return resp, nil, -1
}

// contentKind maps a Content-Type to "html", "pdf" or "".
func contentKind(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/html", "application/xhtml+xml":
		return "html"
	case "application/pdf":
		return "pdf"
	}
	return ""
}

// classifyErr maps a transport error to a failure and whether to retry.
func classifyErr(err error) (*failure, time.Duration) {
	var ne net.Error
	switch {
	case errors.Is(err, errBlockedAddress):
		return fail(ReasonBlocked, "%v", err), -1
	case errors.Is(err, context.Canceled):
		return fail(ReasonNetwork, "%v", err), -1
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return fail(ReasonTimeout, "%v", err), 0
	}
	return fail(ReasonNetwork, "%v", err), -1
}
