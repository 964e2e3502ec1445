// Package crawl is the node's polite crawler: it fetches a gemeente's own
// website (start URLs and sitemaps), honours robots.txt and a per-host rate
// limit, refuses private addresses, fetches incrementally with conditional
// requests, and hands new and changed pages to a Sink, removing pages that are
// gone. Its frontier, per-URL state, jobs and sources live in the node's bbolt
// file, so a killed crawl resumes where it stopped.
package crawl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/crawl/extract"
)

// Defaults applied to a Source's zero fields.
const (
	DefaultRate        = 1.0 // requests per second per host
	DefaultMaxBytes    = 10 << 20
	DefaultTimeout     = 20 * time.Second
	DefaultRetries     = 3
	DefaultRemoveAfter = 3
	DefaultMaxDepth    = 20
	DefaultMaxPages    = 100_000
	// DefaultMaxRemoveShare is the largest share of a source's indexed
	// pages one run may remove; more is held as a likely fault of the site
	// (a new CMS, a broken menu) rather than news.
	DefaultMaxRemoveShare = 0.3
	// massRemovalFloor is the number of removals always allowed, so a small
	// site can lose a few pages.
	massRemovalFloor = 10
	// DefaultContactURL is named in the default User-Agent when a Source
	// sets no ContactURL.
	DefaultContactURL = "https://github.com/assistent-nl/assistent"
)

// ErrInvalidSource is wrapped by every error of Source.Validate.
var ErrInvalidSource = errors.New("invalid crawl source")

// Source is one website (or part of one) that a tenant's content comes from.
// Zero fields take the defaults above; see each field.
type Source struct {
	// ID names the source within its tenant: letters, digits, '-', '_', '.'.
	ID string `json:"id"`
	// Tenant is the gemeente the content belongs to.
	Tenant string `json:"tenant"`
	// StartURLs are crawled at depth 0; they are exempt from Include and
	// Exclude.
	StartURLs []string `json:"start_urls,omitempty"`
	// Sitemaps are sitemap or sitemap index URLs (.xml or .xml.gz); the
	// pages they list are crawled at depth 0.
	Sitemaps []string `json:"sitemaps,omitempty"`
	// AllowHosts are the hosts that may be fetched: "host" (any port) or
	// "host:port". Empty: the hosts (with port) of StartURLs and Sitemaps.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// AllowPrivate are host names that may resolve to loopback, private,
	// link-local or otherwise internal addresses. Everything else that
	// resolves there is refused when dialling.
	AllowPrivate []string `json:"allow_private,omitempty"`
	// Include, when not empty, keeps only URLs matching one of these Go
	// regular expressions; Exclude drops URLs matching any.
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// MaxDepth is how many links away from a start URL or sitemap entry
	// the crawl goes (0: DefaultMaxDepth).
	MaxDepth int `json:"max_depth,omitempty"`
	// MaxPages caps the URLs one run admits (0: DefaultMaxPages). A run
	// that hits the cap counts nobody as missing.
	MaxPages int `json:"max_pages,omitempty"`
	// Rules choose the main content of HTML pages.
	Rules extract.Rules `json:"rules"`
	// Rate is requests per second per host (0: DefaultRate). The delay
	// between requests is the larger of 1/Rate and robots.txt's
	// Crawl-delay.
	Rate float64 `json:"rate,omitempty"`
	// NoRateLimit drops the Rate limit (Crawl-delay still applies).
	NoRateLimit bool `json:"no_rate_limit,omitempty"`
	// UserAgent is sent with every request; its first token is matched
	// against robots.txt groups. Empty: "AssistentBot/0.1 (+ContactURL)".
	UserAgent string `json:"user_agent,omitempty"`
	// ContactURL is where site owners learn about the crawler.
	ContactURL string `json:"contact_url,omitempty"`
	// MaxBytes abandons bodies larger than this (0: DefaultMaxBytes).
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// Timeout bounds one request, body included (0: DefaultTimeout).
	Timeout time.Duration `json:"timeout,omitempty"`
	// Retries after the first attempt on 429, 5xx and timeouts
	// (0: DefaultRetries, negative: none).
	Retries int `json:"retries,omitempty"`
	// RemoveAfter is the number of consecutive complete runs a URL must be
	// missing from the site and its sitemaps before its document is removed
	// (0: DefaultRemoveAfter).
	RemoveAfter int `json:"remove_after,omitempty"`
	// MaxRemoveShare is the largest share (0..1) of the source's indexed
	// pages one run may remove; a run that would remove more (and more than
	// 10 pages) removes nothing and ends failed with the numbers, until the
	// site is fixed or an operator runs it once with a higher share.
	// 0: DefaultMaxRemoveShare; 1: no limit.
	MaxRemoveShare float64 `json:"max_remove_share,omitempty"`
	// Langs are the languages to index, e.g. ["nl"]; a page that declares
	// another language (<html lang>) is followed but not indexed. Empty:
	// every language.
	Langs []string `json:"langs,omitempty"`
	// Schedule is a cron-like expression kept for the scheduler; the
	// crawler itself does not read it.
	Schedule string `json:"schedule,omitempty"`
}

var sourceIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate reports every problem with the source, each naming its field,
// joined and wrapping ErrInvalidSource. It does not apply defaults.
// langRe is a primary language subtag, as extract reports a page's.
var langRe = regexp.MustCompile(`^[a-z]{2,3}$`)

func (s Source) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: source.%s: %s", ErrInvalidSource, field, fmt.Sprintf(format, args...)))
	}
	if !sourceIDRe.MatchString(s.ID) {
		bad("id", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, got %q", s.ID)
	}
	if s.Tenant == "" || strings.ContainsAny(s.Tenant, "\x00/") {
		bad("tenant", "must be a non-empty tenant id without '/', got %q", s.Tenant)
	}
	if len(s.StartURLs) == 0 && len(s.Sitemaps) == 0 {
		bad("start_urls", "need at least one start URL or sitemap")
	}
	for field, list := range map[string][]string{"start_urls": s.StartURLs, "sitemaps": s.Sitemaps} {
		for i, raw := range list {
			if _, err := normalizeURL(raw); err != nil {
				bad(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			}
		}
	}
	for i, h := range s.AllowHosts {
		if h == "" || strings.ContainsAny(h, "/?#@ ") {
			bad(fmt.Sprintf("allow_hosts[%d]", i), "must be a host or host:port, got %q", h)
		}
	}
	for i, h := range s.AllowPrivate {
		if h == "" || strings.ContainsAny(h, "/?#@: ") && net.ParseIP(h) == nil {
			bad(fmt.Sprintf("allow_private[%d]", i), "must be a host name or IP address without port, got %q", h)
		}
	}
	for field, list := range map[string][]string{"include": s.Include, "exclude": s.Exclude} {
		for i, expr := range list {
			if _, err := regexp.Compile(expr); err != nil {
				bad(fmt.Sprintf("%s[%d]", field, i), "not a valid regular expression: %v", err)
			}
		}
	}
	if err := s.Rules.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: source.rules: %w", ErrInvalidSource, err))
	}
	if s.MaxDepth < 0 {
		bad("max_depth", "must not be negative, got %d", s.MaxDepth)
	}
	if s.MaxPages < 0 {
		bad("max_pages", "must not be negative, got %d", s.MaxPages)
	}
	if s.Rate < 0 {
		bad("rate", "must not be negative, got %v", s.Rate)
	}
	if s.MaxBytes < 0 {
		bad("max_bytes", "must not be negative, got %d", s.MaxBytes)
	}
	if s.Timeout < 0 {
		bad("timeout", "must not be negative, got %v", s.Timeout)
	}
	if s.RemoveAfter < 0 {
		bad("remove_after", "must not be negative, got %d", s.RemoveAfter)
	}
	if s.MaxRemoveShare < 0 || s.MaxRemoveShare > 1 {
		bad("max_remove_share", "must be between 0 and 1, got %v", s.MaxRemoveShare)
	}
	if s.ContactURL != "" {
		if u, err := url.Parse(s.ContactURL); err != nil || u.Scheme == "" {
			bad("contact_url", "must be an absolute URL, got %q", s.ContactURL)
		}
	}
	for i, l := range s.Langs {
		if !langRe.MatchString(l) {
			bad(fmt.Sprintf("langs[%d]", i), "must be a lower-case language code such as \"nl\", got %q", l)
		}
	}
	if strings.ContainsAny(s.UserAgent, "\r\n") {
		bad("user_agent", "must be one line")
	}
	return errors.Join(errs...)
}

// withDefaults returns the source with every zero field set to its default.
func (s Source) withDefaults() Source {
	if s.MaxDepth == 0 {
		s.MaxDepth = DefaultMaxDepth
	}
	if s.MaxPages == 0 {
		s.MaxPages = DefaultMaxPages
	}
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultMaxBytes
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Retries == 0 {
		s.Retries = DefaultRetries
	} else if s.Retries < 0 {
		s.Retries = 0
	}
	if s.RemoveAfter == 0 {
		s.RemoveAfter = DefaultRemoveAfter
	}
	if s.MaxRemoveShare == 0 {
		s.MaxRemoveShare = DefaultMaxRemoveShare
	}
	if s.UserAgent == "" {
		contact := s.ContactURL
		if contact == "" {
			contact = DefaultContactURL
		}
		s.UserAgent = "AssistentBot/0.1 (+" + contact + ")"
	}
	if len(s.AllowHosts) == 0 {
		seen := map[string]bool{}
		for _, raw := range append(append([]string(nil), s.StartURLs...), s.Sitemaps...) {
			if u, err := normalizeURL(raw); err == nil && !seen[u.Host] {
				seen[u.Host] = true
				s.AllowHosts = append(s.AllowHosts, u.Host)
			}
		}
	}
	return s
}

// scope decides which URLs a run may fetch.
type scope struct {
	hosts   map[string]bool // "host" or "host:port", lower case
	include []*regexp.Regexp
	exclude []*regexp.Regexp
}

func newScope(s Source) (*scope, error) {
	sc := &scope{hosts: map[string]bool{}}
	for _, h := range s.AllowHosts {
		sc.hosts[strings.ToLower(h)] = true
	}
	for _, e := range s.Include {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("include %q: %w", e, err)
		}
		sc.include = append(sc.include, re)
	}
	for _, e := range s.Exclude {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("exclude %q: %w", e, err)
		}
		sc.exclude = append(sc.exclude, re)
	}
	return sc, nil
}

// hostAllowed reports whether u's host may be fetched.
func (sc *scope) hostAllowed(u *url.URL) bool {
	return sc.hosts[strings.ToLower(u.Host)] || sc.hosts[strings.ToLower(u.Hostname())]
}

// filtered reports whether Include and Exclude let u through.
func (sc *scope) filtered(u string) bool {
	if len(sc.include) > 0 {
		ok := false
		for _, re := range sc.include {
			if re.MatchString(u) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, re := range sc.exclude {
		if re.MatchString(u) {
			return false
		}
	}
	return true
}

// normalizeURL parses an absolute http(s) URL and puts it in the form the
// frontier keys on: lower-case scheme and host, no default port, no
// fragment, "/" for an empty path.
func normalizeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	return normalize(u)
}

func normalize(u *url.URL) (*url.URL, error) {
	v := *u
	v.Scheme = strings.ToLower(v.Scheme)
	if v.Scheme != "http" && v.Scheme != "https" {
		return nil, fmt.Errorf("url %q: must be an absolute http(s) URL", u.String())
	}
	if v.Host == "" || v.User != nil {
		return nil, fmt.Errorf("url %q: must have a host and no user info", u.String())
	}
	v.Host = strings.ToLower(v.Host)
	if p := v.Port(); (p == "80" && v.Scheme == "http") || (p == "443" && v.Scheme == "https") {
		v.Host = v.Hostname()
		if strings.Contains(v.Host, ":") {
			v.Host = "[" + v.Host + "]"
		}
	}
	v.Fragment, v.RawFragment = "", ""
	if v.Path == "" {
		v.Path, v.RawPath = "/", ""
	}
	return &v, nil
}
