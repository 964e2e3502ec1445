package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// HTML extracts a page from an HTML document fetched from base.
//
// The body is converted to UTF-8 first: a byte order mark or a <meta
// charset> in the first 1024 bytes names the encoding; without one, valid
// UTF-8 is taken as UTF-8 and anything else as windows-1252. Bytes that are
// not valid UTF-8 in a page that claims UTF-8 are read as windows-1252 too.
//
// Title, canonical URL, language, modification time, robots directives and
// links come from the whole document; links and the canonical URL are
// resolved against <base href> (itself resolved against base), keeping only
// http and https. Links skip rel="nofollow", "#fragment"-only and empty
// hrefs, and are nil when the page says nofollow.
//
// The main content is chosen after removing comments, r.DropSelectors,
// script, style, noscript, template, iframe, svg, math, object, embed,
// canvas, input, forms (a form that holds the page, with a main, article,
// [role=main] or h1, becomes a div instead) and hidden elements (the hidden attribute,
// aria-hidden="true", an inline style with display:none,
// visibility:hidden or collapse, content-visibility:hidden, opacity:0 or
// font-size:0). Screen-reader text (.sr-only, .visually-hidden) stays. The
// content is all matches of the first of r.ContentSelectors that matches
// an element with text; else the first <main>, the first [role=main], the
// largest <article>, #content, .content, each with navigation and cookie
// banners removed; else the body without nav, header, footer, aside,
// navigation, banner, contentinfo and cookie banners; else the whole body.
// Page.HTML wraps that content in one <main> element, so the sanitiser
// reads all of it; invisible characters are removed from its text.
//
// Elements nested deeper than the parser accepts (512 open elements) are
// flattened: below depth 256 their tags are dropped and their text kept,
// except the text of elements that are never read or hidden.
//
// HTML never panics. Its only errors are invalid selectors in r (wrapping
// ErrInvalidRules) and a parse error that flattening does not cure; a
// body that is not HTML yields its text as the content.
func HTML(body []byte, base *url.URL, r Rules) (Page, error) {
	content, drop, err := r.compile()
	if err != nil {
		return Page{}, err
	}
	body = toUTF8(body)
	root, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		// The parser refuses more than 512 open elements; flatten the
		// deepest part and try once more.
		root, err = html.Parse(bytes.NewReader(flatten(body, maxDepth)))
		if err != nil {
			return Page{}, fmt.Errorf("extract: parse html: %w", err)
		}
	}

	var m meta
	m.scan(root)
	resolveBase := base
	if m.baseHref != "" {
		if u, ok := resolveURL(base, m.baseHref); ok {
			resolveBase = u
		}
	}

	var p Page
	p.Lang = primaryLang(m.lang)
	p.NoIndex, p.NoFollow = m.noIndex, m.noFollow
	p.Modified = m.modified()
	if m.canonical != "" {
		if u, ok := resolveURL(resolveBase, m.canonical); ok {
			p.Canonical = u.String()
		}
	}
	if !p.NoFollow {
		p.Links = links(resolveBase, m.links)
	}

	doc := goquery.NewDocumentFromNode(root)
	prune(root)
	for _, sel := range drop {
		doc.FindMatcher(sel).Remove()
	}

	var host string
	if base != nil {
		host = base.Hostname()
	}
	p.Title = stripSiteSuffix(m.title, m.siteName, host)
	if p.Title == "" {
		if h1 := findFirst(root, atom.H1); h1 != nil {
			p.Title = htmltext.Clean(textOf(h1))
		}
	}
	if p.Title == "" {
		p.Title = stripSiteSuffix(m.ogTitle, m.siteName, host)
	}

	roots := chooseContent(doc, content)
	p.HTML = renderMain(roots)
	p.Headings = headings(roots)
	return p, nil
}

// toUTF8 returns body as UTF-8, without a leading byte order mark.
func toUTF8(body []byte) []byte {
	enc, name, _ := charset.DetermineEncoding(body, "")
	if name != "utf-8" {
		if out, err := enc.NewDecoder().Bytes(body); err == nil {
			body = out
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if utf8.Valid(body) {
		return body
	}
	// Mixed or mislabelled: keep valid UTF-8 sequences, read every other
	// byte as windows-1252, the usual culprit.
	out := make([]byte, 0, len(body)+len(body)/8)
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n == 1 {
			r = charmap.Windows1252.DecodeByte(body[i])
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// meta is what the whole document says about itself.
type meta struct {
	title, ogTitle, siteName string
	lang                     string
	baseHref, canonical      string
	noIndex, noFollow        bool
	dates                    map[string]string // meta name (lower case) -> content
	links                    []string          // raw hrefs of followable links
	titleSeen, baseSeen      bool
}

// modifiedKeys are the meta names, properties and itemprops that carry the
// modification time, most specific first.
var modifiedKeys = [...]string{
	"article:modified_time", "dcterms.modified", "dcterms:modified",
	"dc.date.modified", "datemodified", "og:updated_time", "last-modified",
}

func (m *meta) scan(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if c.Namespace != "" {
			continue // svg and math: their <title> and <a> are not the page's
		}
		switch c.DataAtom {
		case atom.Html:
			if m.lang == "" {
				m.lang = attr(c, "lang")
			}
		case atom.Title:
			if !m.titleSeen {
				m.titleSeen = true
				m.title = htmltext.Clean(textOf(c))
			}
			continue
		case atom.Base:
			if href, ok := attrOK(c, "href"); ok && !m.baseSeen {
				m.baseSeen = true
				m.baseHref = href
			}
		case atom.Link:
			if m.canonical == "" && hasToken(attr(c, "rel"), "canonical") {
				m.canonical = attr(c, "href")
			}
		case atom.Meta:
			m.meta(c)
		case atom.A, atom.Area:
			if href, ok := attrOK(c, "href"); ok && !hasToken(attr(c, "rel"), "nofollow") {
				m.links = append(m.links, href)
			}
		}
		m.scan(c)
	}
}

func (m *meta) meta(n *html.Node) {
	content := strings.TrimSpace(attr(n, "content"))
	if content == "" {
		return
	}
	for _, key := range [...]string{"name", "property", "http-equiv", "itemprop"} {
		k := strings.ToLower(strings.TrimSpace(attr(n, key)))
		if k == "" {
			continue
		}
		switch k {
		case "robots":
			for _, tok := range strings.FieldsFunc(strings.ToLower(content), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				switch tok {
				case "noindex":
					m.noIndex = true
				case "nofollow":
					m.noFollow = true
				case "none":
					m.noIndex, m.noFollow = true, true
				}
			}
		case "og:title":
			if m.ogTitle == "" {
				m.ogTitle = htmltext.Clean(content)
			}
		case "og:site_name", "application-name":
			if m.siteName == "" {
				m.siteName = htmltext.Clean(content)
			}
		case "content-language":
			if m.lang == "" {
				m.lang = content
			}
		default:
			for _, mk := range modifiedKeys {
				if k == mk {
					if m.dates == nil {
						m.dates = make(map[string]string, 2)
					}
					if _, ok := m.dates[k]; !ok {
						m.dates[k] = content
					}
				}
			}
		}
	}
}

// dateLayouts are the forms of date found in meta tags. Times without a
// zone are taken as UTC.
var dateLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123,
	time.RFC1123Z,
	"02-01-2006",
}

// modified returns the first date of modifiedKeys that parses.
func (m *meta) modified() time.Time {
	for _, k := range modifiedKeys {
		if s, ok := m.dates[k]; ok {
			if t, ok := parseDate(s); ok {
				return t
			}
		}
	}
	return time.Time{}
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// primaryLang returns the primary subtag of a language tag, lower case, or
// "" when tag does not start with one.
func primaryLang(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_ ,;"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 8 {
		return ""
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i] | 0x20
		if c < 'a' || c > 'z' {
			return ""
		}
	}
	return strings.ToLower(tag)
}

// resolveURL resolves href against base and keeps it only when the result
// is an absolute http or https URL with a host. The fragment is removed.
func resolveURL(base *url.URL, href string) (*url.URL, bool) {
	href = strings.TrimSpace(href)
	if strings.ContainsAny(href, "\t\n\r") {
		// Browsers remove these anywhere in a URL.
		href = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(href)
	}
	if href == "" {
		return nil, false
	}
	u, err := url.Parse(href)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// links resolves raw hrefs, in order, without duplicates.
func links(base *url.URL, hrefs []string) []string {
	var out []string
	seen := make(map[string]struct{}, len(hrefs))
	for _, h := range hrefs {
		if strings.HasPrefix(strings.TrimSpace(h), "#") {
			continue // a place on this page
		}
		u, ok := resolveURL(base, h)
		if !ok {
			continue
		}
		s := u.String()
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

// titleSeparators divide a page name from the site name in <title>.
var titleSeparators = [...]string{" | ", " - ", " – ", " — ", " · ", " • ", " :: "}

// stripSiteSuffix removes a trailing site name from title: the part after
// the last separator when the separator is a pipe or the part names the
// site (it contains "gemeente", equals the site name or holds the main
// label of host). The title stays whole when nothing would remain.
func stripSiteSuffix(title, siteName, host string) string {
	cut, sepLen := -1, 0
	for _, sep := range titleSeparators {
		if i := strings.LastIndex(title, sep); i > cut {
			cut, sepLen = i, len(sep)
		}
	}
	if cut < 0 {
		return title
	}
	rest := strings.TrimSpace(title[:cut])
	suffix := strings.ToLower(strings.TrimSpace(title[cut+sepLen:]))
	if rest == "" {
		return title
	}
	site := strings.TrimSpace(title[cut:cut+sepLen]) == "|" ||
		strings.Contains(suffix, "gemeente") ||
		siteName != "" && suffix == strings.ToLower(siteName)
	if !site && host != "" {
		if label := mainLabel(host); len(label) >= 3 && strings.Contains(suffix, label) {
			site = true
		}
	}
	if !site {
		return title
	}
	return rest
}

// mainLabel returns the label before the top-level domain: "utrecht" for
// "www.utrecht.nl".
func mainLabel(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	parts := strings.Split(host, ".")
	if len(parts) < 2 {
		return host
	}
	return parts[len(parts)-2]
}

// alwaysDropped are elements whose content a resident never reads.
func alwaysDropped(n *html.Node) bool {
	if n.Namespace != "" {
		return n.Namespace == "svg" || n.Namespace == "math"
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe,
		atom.Svg, atom.Math, atom.Object, atom.Embed, atom.Canvas, atom.Input:
		return true
	case atom.Form:
		if holdsPage(n) {
			// ASP.NET pages wrap the whole page in one form: read it
			// as the div it is in effect.
			n.DataAtom, n.Data, n.Attr = atom.Div, "div", nil
			return false
		}
		return true
	}
	return false
}

// holdsPage reports whether n contains the page's main content.
func holdsPage(n *html.Node) bool {
	found := false
	walk(n, func(c *html.Node) bool {
		if found {
			return false
		}
		if c != n && c.Type == html.ElementNode && (c.DataAtom == atom.Main || c.DataAtom == atom.Article ||
			c.DataAtom == atom.H1 || hasToken(attr(c, "role"), "main")) {
			found = true
		}
		return !found
	})
	return found
}

// hidden reports whether n is hidden from every reader, screen readers
// included. The document's html, head and body never count as hidden.
func hidden(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Html, atom.Head, atom.Body:
		return false
	}
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "style":
			if hiddenStyle(a.Val) {
				return true
			}
		}
	}
	return false
}

// hiddenStyle reports whether an inline style hides its element.
func hiddenStyle(style string) bool {
	for decl := range strings.SplitSeq(style, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.ToLower(strings.TrimSpace(val))
		val = strings.TrimSpace(strings.TrimSuffix(val, "!important"))
		switch prop {
		case "display":
			if val == "none" {
				return true
			}
		case "visibility":
			if val == "hidden" || val == "collapse" {
				return true
			}
		case "content-visibility":
			if val == "hidden" {
				return true
			}
		case "opacity", "font-size":
			if isZero(val) {
				return true
			}
		}
	}
	return false
}

// isZero reports whether a CSS length or number is zero: "0", "0.0",
// ".0", "0px", "0%", "0em" ...
func isZero(v string) bool {
	num := strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyz%")
	if num == "" {
		return false
	}
	digit := false
	for i := 0; i < len(num); i++ {
		switch num[i] {
		case '0':
			digit = true
		case '.', '+', '-':
		default:
			return false
		}
	}
	return digit
}

// prune removes comments, never-read elements and hidden elements from
// the tree, and invisible characters from its text.
func prune(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case html.CommentNode:
			n.RemoveChild(c)
		case html.TextNode:
			if strings.IndexFunc(c.Data, htmltext.Invisible) >= 0 {
				c.Data = strings.Map(func(r rune) rune {
					if htmltext.Invisible(r) {
						return -1
					}
					return r
				}, c.Data)
			}
		case html.ElementNode:
			if alwaysDropped(c) || hidden(c) {
				n.RemoveChild(c)
			} else {
				prune(c)
			}
		case html.DoctypeNode:
		default:
			prune(c)
		}
		c = next
	}
}

// navSelector matches navigation inside a content element.
var navSelector = cascadia.MustCompile("nav, [role=navigation]")

// chromeSelector matches the parts of a body around its content.
var chromeSelector = cascadia.MustCompile("nav, header, footer, aside, [role=navigation], [role=banner], [role=contentinfo]")

// autoCandidates are tried in order when no content selector matches.
var autoCandidates = [...]struct {
	sel     cascadia.Selector
	largest bool
}{
	{cascadia.MustCompile("main"), false},
	{cascadia.MustCompile("[role=main]"), false},
	{cascadia.MustCompile("article"), true},
	{cascadia.MustCompile("#content"), false},
	{cascadia.MustCompile(".content"), false},
}

// chooseContent returns the content elements, outermost only, in document
// order. It removes navigation and cookie banners from automatically
// chosen elements.
func chooseContent(doc *goquery.Document, content []cascadia.Selector) []*html.Node {
	for _, sel := range content {
		var roots []*html.Node
		for _, n := range doc.FindMatcher(sel).Nodes {
			if textLen(n) > 0 && !insideAny(n, roots) {
				roots = append(roots, n)
			}
		}
		if len(roots) > 0 {
			return roots
		}
	}
	for _, c := range autoCandidates {
		var best *html.Node
		bestLen := 0
		for _, n := range doc.FindMatcher(c.sel).Nodes {
			if l := textLen(n); l > bestLen {
				best, bestLen = n, l
				if !c.largest {
					break
				}
			}
		}
		if best == nil {
			continue
		}
		removeAll(best, goquery.NewDocumentFromNode(best).FindMatcher(navSelector).Nodes)
		removeAll(best, cookieBanners(best))
		if textLen(best) > 0 {
			return []*html.Node{best}
		}
	}
	body := findFirst(doc.Nodes[0], atom.Body)
	if body == nil {
		return nil
	}
	chrome := goquery.NewDocumentFromNode(body).FindMatcher(chromeSelector).Nodes
	chrome = append(chrome, cookieBanners(body)...)
	total, dropped := textLen(body), 0
	var outer []*html.Node
	for _, n := range chrome {
		if !insideAny(n, outer) {
			outer = append(outer, n)
			dropped += textLen(n)
		}
	}
	if dropped < total {
		removeAll(body, outer)
	}
	return []*html.Node{body}
}

// cookieBanners returns the elements below root whose id or class names a
// cookie, except those that hold the page.
func cookieBanners(root *html.Node) []*html.Node {
	var out []*html.Node
	walk(root, func(n *html.Node) bool {
		if n == root || n.Type != html.ElementNode {
			return true
		}
		if !containsFold(attr(n, "id"), "cookie") && !containsFold(attr(n, "class"), "cookie") {
			return true
		}
		switch n.DataAtom {
		case atom.Main, atom.Article, atom.Body, atom.Html:
			return true
		}
		if hasToken(attr(n, "role"), "main") || holdsPage(n) {
			return true
		}
		out = append(out, n)
		return false
	})
	return out
}

// removeAll detaches nodes from the tree; nodes outside root are kept.
func removeAll(root *html.Node, nodes []*html.Node) {
	for _, n := range nodes {
		if n != root && n.Parent != nil && isInside(n, root) {
			n.Parent.RemoveChild(n)
		}
	}
}

// insideAny reports whether n is one of nodes or lies inside one.
func insideAny(n *html.Node, nodes []*html.Node) bool {
	for _, o := range nodes {
		if isInside(n, o) {
			return true
		}
	}
	return false
}

// isInside reports whether n is anc or lies inside it.
func isInside(n, anc *html.Node) bool {
	for p := n; p != nil; p = p.Parent {
		if p == anc {
			return true
		}
	}
	return false
}

// renderMain renders roots inside one <main> element: a body by its
// children, other elements whole.
func renderMain(roots []*html.Node) string {
	if len(roots) == 1 && roots[0].DataAtom == atom.Main && roots[0].Namespace == "" {
		return render(roots[0])
	}
	var b strings.Builder
	b.WriteString("<main>")
	for _, r := range roots {
		if r.DataAtom == atom.Body {
			for c := r.FirstChild; c != nil; c = c.NextSibling {
				_ = html.Render(&b, c) // a strings.Builder does not fail
			}
			continue
		}
		_ = html.Render(&b, r)
	}
	b.WriteString("</main>")
	return b.String()
}

func render(n *html.Node) string {
	var b strings.Builder
	_ = html.Render(&b, n) // a strings.Builder does not fail
	return b.String()
}

// headings returns the text of the h1-h3 elements below roots.
func headings(roots []*html.Node) []string {
	var out []string
	for _, r := range roots {
		walk(r, func(n *html.Node) bool {
			if n.Type != html.ElementNode || n.Namespace != "" {
				return true
			}
			switch n.DataAtom {
			case atom.H1, atom.H2, atom.H3:
				if t := htmltext.Clean(textOf(n)); t != "" {
					out = append(out, t)
				}
				return false
			}
			return true
		})
	}
	return out
}

// walk calls fn for n and, while fn returns true, for its descendants.
func walk(n *html.Node, fn func(*html.Node) bool) {
	if !fn(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// findFirst returns the first HTML element of kind a below n.
func findFirst(n *html.Node, a atom.Atom) *html.Node {
	var found *html.Node
	walk(n, func(c *html.Node) bool {
		if found != nil {
			return false
		}
		if c.Type == html.ElementNode && c.DataAtom == a && c.Namespace == "" {
			found = c
			return false
		}
		return true
	})
	return found
}

// textOf returns the text below n, unnormalised.
func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return true
	})
	return b.String()
}

// textLen counts the bytes of text below n that are not white space.
func textLen(n *html.Node) int {
	total := 0
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			for i := 0; i < len(c.Data); i++ {
				switch c.Data[i] {
				case ' ', '\t', '\n', '\r', '\f':
				default:
					total++
				}
			}
		}
		return true
	})
	return total
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// hasToken reports whether the space-separated list s holds tok, ignoring
// case.
func hasToken(s, tok string) bool {
	for f := range strings.FieldsSeq(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	if len(s) < len(sub) {
		return false
	}
	return strings.Contains(strings.ToLower(s), sub)
}

// maxDepth is the nesting below which flatten drops tags.
const maxDepth = 256

// flatten copies body, dropping the tags of elements nested deeper than
// limit (by a count of start and end tags) but keeping their text. Beyond
// the limit, elements that are never read or hidden are dropped whole, so
// flattening cannot reveal them; void elements stay, and links stay as
// empty <a> elements so they are still followed.
func flatten(body []byte, limit int) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	out := make([]byte, 0, len(body))
	depth := 0
	skipName, skip := "", 0 // inside a dropped element beyond the limit
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.CommentToken:
			continue
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			out0 := len(out)
			out = append(out, raw...) // Token may change the buffer
			tok := z.Token()
			if skip > 0 {
				out = out[:out0]
				if tok.Data == skipName {
					if tt == html.StartTagToken {
						skip++
					} else if tt == html.EndTagToken {
						skip--
					}
				}
				continue
			}
			void := tt == html.SelfClosingTagToken || voidElement(tok.DataAtom)
			switch {
			case tt == html.StartTagToken && !void:
				depth++
			case tt == html.EndTagToken && depth > 0:
				depth--
				if depth >= limit {
					out = append(out[:out0], ' ')
				}
				continue
			}
			if depth <= limit || void {
				continue
			}
			n := &html.Node{Type: html.ElementNode, DataAtom: tok.DataAtom, Data: tok.Data, Attr: tok.Attr}
			switch {
			case tt == html.StartTagToken && (alwaysDropped(n) || hidden(n)):
				out = out[:out0]
				skipName, skip = tok.Data, 1
				depth--
			case tok.DataAtom == atom.A:
				// Keep the link, closed at once; its text follows it.
				out = append(out, "</a> "...)
			default:
				out = append(out[:out0], ' ')
			}
		default:
			if skip == 0 {
				out = append(out, z.Raw()...)
			}
		}
	}
}

// voidElement reports whether elements of kind a have no end tag.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img,
		atom.Input, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}
