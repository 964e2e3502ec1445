// Package extract turns fetched HTML and PDF bytes into what the crawler
// indexes and follows: title, headings, main content, canonical URL,
// language and links.
//
// Extraction is defensive. Content a resident cannot see (comments, hidden
// elements, scripts, invisible characters) never leaves HTML, so injected
// instructions cannot reach the index; the node's sanitiser
// (retrieval/htmltext) runs on the result as a second line of defence.
// Neither extractor panics on hostile input: HTML always yields a page, and
// PDF turns every failure of the PDF library into an error.
package extract

import (
	"errors"
	"fmt"
	"time"

	"github.com/andybalholm/cascadia"
)

// Page is what one fetched document yields.
type Page struct {
	Title     string
	Canonical string   // absolute; empty when the page names none
	Lang      string   // from <html lang>, e.g. "nl"
	Headings  []string // h1-h3 of the main content, in order
	// HTML is the main content as HTML (for HTML pages); the node's
	// sanitiser (retrieval/htmltext) still runs on it.
	HTML string
	// Text is the plain text (for PDFs).
	Text     string
	Links    []string  // absolute http(s) URLs, fragments removed, deduplicated, in page order
	Modified time.Time // from meta tags (e.g. article:modified_time, dcterms.modified); zero when absent
	NoIndex  bool      // <meta name="robots" content="noindex">
	NoFollow bool      // <meta name="robots" content="nofollow">
}

// Rules choose the main content of HTML pages.
type Rules struct {
	// ContentSelectors are CSS selectors for the main content; the first
	// that matches wins. Empty: automatic (main, article, [role=main],
	// then the body without navigation).
	ContentSelectors []string `json:"content_selectors,omitempty"`
	// DropSelectors are removed before anything else (menus, cookie
	// banners, breadcrumbs).
	DropSelectors []string `json:"drop_selectors,omitempty"`
}

// ErrInvalidRules is wrapped by the errors of Rules.Validate and of HTML
// when a selector is not valid CSS.
var ErrInvalidRules = errors.New("invalid extraction rules")

// Validate reports every selector that is not valid CSS, each naming its
// field, joined and wrapping ErrInvalidRules.
func (r Rules) Validate() error {
	_, _, err := r.compile()
	return err
}

// compile parses the selectors of r.
func (r Rules) compile() (content, drop []cascadia.Selector, err error) {
	var errs []error
	parse := func(field string, list []string) []cascadia.Selector {
		out := make([]cascadia.Selector, 0, len(list))
		for i, s := range list {
			sel, err := cascadia.Compile(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: rules.%s[%d]: %q is not a valid CSS selector: %v", ErrInvalidRules, field, i, s, err))
				continue
			}
			out = append(out, sel)
		}
		return out
	}
	content = parse("content_selectors", r.ContentSelectors)
	drop = parse("drop_selectors", r.DropSelectors)
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return content, drop, nil
}
