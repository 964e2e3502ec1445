package crawl

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Robots is the part of a robots.txt (RFC 9309) that applies to one user
// agent: the rules of the most specific matching group, or of "*" when no
// group names the agent.
type Robots struct {
	rules       []robotsRule
	crawlDelay  time.Duration
	disallowAll bool
	sitemaps    []string // Sitemap lines, as written
}

// maxRobotsSitemaps bounds the Sitemap lines taken from one robots.txt.
const maxRobotsSitemaps = 50

// Sitemaps returns the sitemap URLs robots.txt lists (Sitemap lines, which
// apply to every user agent).
func (r *Robots) Sitemaps() []string { return r.sitemaps }

type robotsRule struct {
	allow   bool
	pattern string // normalised, '*' wildcards, '$' anchors at the end
}

// AllowAll is the Robots of a site without robots.txt (a 4xx response).
func AllowAll() *Robots { return &Robots{} }

// DisallowAll is the Robots of a site whose robots.txt could not be
// fetched (5xx or unreachable): nothing may be crawled in this run.
func DisallowAll() *Robots { return &Robots{disallowAll: true} }

// ParseRobots parses a robots.txt body for the agent, whose product token
// (its part before the first '/' or space, e.g. "AssistentBot") is matched
// case-insensitively against User-agent lines, as RFC 9309 says. Groups
// naming the agent win over "*", which applies only when none does; groups
// naming the same agent are merged. Unknown lines are ignored.
func ParseRobots(body []byte, agent string) *Robots {
	token := strings.ToLower(productToken(agent))
	type group struct {
		agents   []string
		rules    []robotsRule
		delay    time.Duration
		hasDelay bool
	}
	var groups []*group
	var cur *group
	var sitemaps []string
	inAgents := false // the previous significant line was a User-agent line
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent", "useragent", "user agent":
			if !inAgents || cur == nil {
				cur = &group{}
				groups = append(groups, cur)
			}
			cur.agents = append(cur.agents, strings.ToLower(productToken(value)))
			inAgents = true
		case "allow", "disallow":
			inAgents = false
			if cur == nil {
				continue
			}
			if value == "" {
				continue // an empty Disallow allows everything; an empty Allow says nothing
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: normEscapes(value)})
		case "crawl-delay":
			inAgents = false
			if cur == nil {
				continue
			}
			if secs, err := strconv.ParseFloat(value, 64); err == nil && secs >= 0 && secs < 1e6 {
				cur.delay = time.Duration(secs * float64(time.Second))
				cur.hasDelay = true
			}
		case "sitemap":
			// Sitemap lines stand outside groups.
			if value != "" && len(sitemaps) < maxRobotsSitemaps {
				sitemaps = append(sitemaps, value)
			}
		default:
			inAgents = false
		}
	}
	best := -1
	var matched []*group
	for _, g := range groups {
		for _, a := range g.agents {
			n := -1
			switch {
			case a == "*":
				n = 0
			case a == token:
				n = 1
			}
			if n < 0 {
				continue
			}
			if n > best {
				best, matched = n, nil
			}
			if n == best && (len(matched) == 0 || matched[len(matched)-1] != g) {
				matched = append(matched, g)
			}
		}
	}
	r := &Robots{sitemaps: sitemaps}
	for _, g := range matched {
		r.rules = append(r.rules, g.rules...)
		if g.hasDelay && g.delay > r.crawlDelay {
			r.crawlDelay = g.delay
		}
	}
	return r
}

// productToken returns the part of a user agent before the first '/' or
// space.
func productToken(agent string) string {
	agent = strings.TrimSpace(agent)
	if i := strings.IndexAny(agent, "/ \t"); i >= 0 {
		return agent[:i]
	}
	return agent
}

// CrawlDelay is the Crawl-delay of the matching group; 0 when absent.
func (r *Robots) CrawlDelay() time.Duration { return r.crawlDelay }

// Allowed reports whether a URL's path and query (as in the request line,
// e.g. "/a/b?c=d") may be fetched: the longest matching rule decides, Allow
// wins a tie, and no matching rule means allowed. /robots.txt is always
// allowed.
func (r *Robots) Allowed(pathQuery string) bool {
	if pathQuery == "" {
		pathQuery = "/"
	}
	if pathQuery == "/robots.txt" {
		return true
	}
	if r.disallowAll {
		return false
	}
	target := normEscapes(pathQuery)
	bestLen, allowed := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, target) {
			continue
		}
		n := len(rule.pattern)
		if n > bestLen || (n == bestLen && rule.allow) {
			bestLen, allowed = n, rule.allow
		}
	}
	return allowed
}

// robotsMatch reports whether pattern matches a prefix of s ('*' matches any
// run of characters) or, when the pattern ends in '$', all of s.
func robotsMatch(pattern, s string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	if anchored {
		pattern = pattern[:len(pattern)-1]
	}
	// Classic wildcard matching with one backtrack point; a pattern that is
	// not anchored behaves as if it ended in '*'.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case p == len(pattern) && !anchored:
			return true
		case star >= 0:
			mark++
			i = mark
			p = star + 1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// normEscapes makes a path comparable: bytes outside printable ASCII are
// percent-encoded and existing escapes are upper-cased, so "/ü",
// "/%c3%bc" and "/%C3%BC" are the same path.
func normEscapes(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
			i += 2
		case c <= 0x20 || c >= 0x7f:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
