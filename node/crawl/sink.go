package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
)

// Document is one crawled page as the node indexes it.
type Document struct {
	// ID is DocID of the canonical URL: stable across runs.
	ID        string
	URL       string // the URL the content was fetched from, after redirects
	Canonical string // the page's canonical URL when on an allowed host, else URL
	Title     string
	Headings  []string
	HTML      string // main content as HTML (HTML pages)
	Text      string // plain text (PDFs)
	// ContentType is "text/html" or "application/pdf".
	ContentType string
	Lang        string
	// Hash is the hex sha256 of the extracted content; equal hashes mean
	// nothing worth re-indexing changed.
	Hash     string
	SourceID string
	Fetched  time.Time
	// Modified comes from the page's metadata, else its Last-Modified
	// header, else its sitemap lastmod; zero when none says.
	Modified time.Time
}

// Sink receives what a crawl finds. The node implements it: each Put is one
// page, applied atomically; Remove drops documents by ID and must accept IDs
// it does not hold. Both may be called again for the same page after a
// crash, so they must be idempotent.
type Sink interface {
	Put(ctx context.Context, tenant string, doc Document) error
	Remove(ctx context.Context, tenant string, ids []string) error
}

// MaxDocIDLen is the longest ID DocID returns.
const MaxDocIDLen = 200

// DocID derives a stable document ID from a (canonical) URL: its lower-case
// host, path and query, e.g. "www.meppel.nl/afval/containers". Characters
// other than ASCII letters, digits and "-._/" are replaced by '_' and then,
// as for IDs longer than MaxDocIDLen, a '~' and 16 hex digits of the URL's
// sha256 are appended, so distinct URLs keep distinct IDs. The scheme,
// default port and fragment do not count.
func DocID(rawURL string) string {
	u, err := normalizeURL(rawURL)
	if err != nil {
		// Not an http(s) URL: still stable and safe, if not pretty.
		sum := sha256.Sum256([]byte(rawURL))
		return "url~" + hex.EncodeToString(sum[:8])
	}
	key := u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		key += "?" + u.RawQuery
	}
	var b strings.Builder
	replaced := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
			replaced = true
		}
	}
	id := b.String()
	if !replaced && len(id) <= MaxDocIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(key))
	suffix := "~" + hex.EncodeToString(sum[:8])
	if len(id) > MaxDocIDLen-len(suffix) {
		id = id[:MaxDocIDLen-len(suffix)]
	}
	return id + suffix
}

// canonicalOf returns the canonical URL to key a page on: the page's own
// canonical when it is an absolute URL on an allowed host, else the URL it
// was fetched from.
func canonicalOf(canonical string, fetched *url.URL, sc *scope) string {
	if canonical != "" {
		if u, err := normalizeURL(canonical); err == nil && sc.hostAllowed(u) {
			return u.String()
		}
	}
	return fetched.String()
}
