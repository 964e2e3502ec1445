package htmltext

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Extract parses an HTML page from r and returns its visible text.
//
// If the page has a <main> (or role="main") element, only its content is
// taken; else, if it has <article> elements, only theirs; else the whole
// body. When that content holds no text at all, the body is used after all.
// Dropped with everything inside: script, style, noscript, template, iframe,
// svg, canvas, math, object, embed, audio, video, nav, aside, header, footer,
// form, button, select, textarea, dialog (unless open), search, comments, and
// every element that is hidden (the hidden attribute, aria-hidden="true",
// an inline style with display:none, visibility:hidden or collapse,
// content-visibility:hidden, opacity:0 or font-size:0, or <input
// type=hidden>) or has the role navigation, banner, contentinfo, search,
// complementary, dialog or alertdialog. Two exceptions keep real content: a
// <header> inside <main>/<article> contributes its headings (the page title
// often lives there), and a <form> directly in <body> that holds the page
// (an h1, main or article, as ASP.NET pages do) is read like a div.
//
// The only error is a read error from r, wrapped.
func Extract(r io.Reader) (Page, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return Page{}, fmt.Errorf("htmltext: parse html: %w", err)
	}
	return fromTree(doc), nil
}

// ExtractString is Extract for a page held in a string.
func ExtractString(s string) (Page, error) {
	return Extract(strings.NewReader(s))
}

// outline is what a first pass over the tree finds.
type outline struct {
	page     Page
	body     *html.Node
	main     *html.Node
	articles []*html.Node
}

func fromTree(doc *html.Node) Page {
	var o outline
	o.scan(doc, false)
	roots := o.articles
	if o.main != nil {
		roots = []*html.Node{o.main}
	}
	e := extractor{kind: Paragraph}
	if len(roots) > 0 {
		e.content = 1
		for _, r := range roots {
			e.node(r)
		}
		e.flush()
		if !e.hasBody() && o.body != nil {
			e = extractor{kind: Paragraph}
			roots = nil
		}
	}
	if len(roots) == 0 && o.body != nil {
		e.node(o.body)
		e.flush()
	}
	p := o.page
	p.Blocks = e.blocks
	if p.Title == "" {
		p.Title = e.firstH1
	}
	return p
}

// scan finds lang, title, canonical link, body, main and the outermost
// articles, skipping content that is never shown.
func (o *outline) scan(n *html.Node, inArticle bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg,
			atom.Math, atom.Iframe, atom.Canvas, atom.Object:
			continue
		case atom.Html:
			if o.page.Lang == "" {
				o.page.Lang = strings.TrimSpace(attr(c, "lang"))
			}
		case atom.Title:
			if o.page.Title == "" {
				var t textBuf
				for tc := c.FirstChild; tc != nil; tc = tc.NextSibling {
					if tc.Type == html.TextNode {
						t.write(tc.Data, false)
					}
				}
				o.page.Title = t.take()
			}
			continue
		case atom.Link:
			if o.page.Canonical == "" && hasToken(attr(c, "rel"), "canonical") {
				o.page.Canonical = strings.TrimSpace(attr(c, "href"))
			}
			continue
		case atom.Body:
			if o.body == nil {
				o.body = c
			}
		}
		if hide, _ := hidden(c); hide {
			continue
		}
		if o.main == nil && (c.DataAtom == atom.Main || strings.EqualFold(strings.TrimSpace(attr(c, "role")), "main")) {
			o.main = c
		}
		article := inArticle
		if c.DataAtom == atom.Article {
			if !inArticle {
				o.articles = append(o.articles, c)
			}
			article = true
		}
		o.scan(c, article)
	}
}

// extractor walks the content tree and emits blocks.
type extractor struct {
	blocks  []Block
	heads   headingPath
	buf     textBuf
	kind    BlockKind // kind of the block being collected
	inline  int       // > 0: inside a heading or table cell, blocks are spaces
	pre     int       // > 0: inside pre, line breaks are kept
	content int       // > 0: inside main or article
	hOnly   int       // > 0: inside a kept header, only headings count
	firstH1 string
}

func (e *extractor) hasBody() bool {
	for _, b := range e.blocks {
		if b.Kind != Heading {
			return true
		}
	}
	return false
}

func (e *extractor) flush() {
	if s := e.buf.take(); s != "" {
		e.blocks = append(e.blocks, Block{Headings: e.heads.path, Text: s, Kind: e.kind})
	}
}

func (e *extractor) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		e.node(c)
	}
}

func (e *extractor) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if e.hOnly == 0 {
			e.buf.write(n.Data, e.pre > 0)
		}
	case html.ElementNode:
		e.element(n)
	}
	// Comments, doctypes and the rest carry no visible text.
}

func (e *extractor) element(n *html.Node) {
	hide, role := hidden(n)
	if hide {
		return
	}
	a := n.DataAtom
	switch {
	case a == atom.Header || role == atom.Header:
		if e.content > 0 && e.inline == 0 {
			e.hOnly++
			e.children(n)
			e.hOnly--
		}
		return
	case a == atom.Form:
		if !pageForm(n) {
			return
		}
	case a == atom.Dialog:
		if !hasAttr(n, "open") {
			return
		}
	case dropped(a):
		return
	}
	level := headingLevel(a)
	if e.hOnly > 0 {
		if level > 0 {
			e.heading(n, level)
		} else {
			e.children(n)
		}
		return
	}
	if e.inline > 0 {
		if a == atom.Br || isBlock(a) || level > 0 {
			e.buf.spaceOut()
			e.children(n)
			e.buf.spaceOut()
			return
		}
		e.children(n)
		return
	}
	switch {
	case level > 0:
		e.heading(n, level)
	case a == atom.Br:
		e.buf.breakLine()
	case a == atom.Tr:
		e.row(n)
	case a == atom.Li:
		e.block(n, ListItem)
	case a == atom.Pre:
		e.pre++
		e.block(n, Preformatted)
		e.pre--
	case a == atom.Main || a == atom.Article:
		e.content++
		e.block(n, e.kind)
		e.content--
	case isBlock(a):
		// Paragraphs inside a list item still belong to the item.
		e.block(n, e.kind)
	default:
		e.children(n)
	}
}

// block collects n's content as blocks of the given kind.
func (e *extractor) block(n *html.Node, kind BlockKind) {
	e.flush()
	outer := e.kind
	e.kind = kind
	e.children(n)
	e.flush()
	e.kind = outer
}

func (e *extractor) heading(n *html.Node, level int) {
	e.flush()
	e.inline++
	hOnly := e.hOnly
	e.hOnly = 0
	e.children(n)
	e.hOnly = hOnly
	e.inline--
	text := e.buf.take()
	if text == "" {
		return
	}
	if level == 1 && e.firstH1 == "" {
		e.firstH1 = text
	}
	path := e.heads.set(level, text)
	e.blocks = append(e.blocks, Block{Headings: path, Text: text, Kind: Heading, Anchor: anchor(n)})
}

// anchor returns the fragment that links to heading n: its id, else the
// first id (or <a name>) inside it, else the id of the <section> or
// <article> whose first element it is. Only an id that is a fragment as it
// stands counts (see Fragment): one with spaces, quotes or angle brackets
// would put markup into a citation's URL and into the chunk text.
func anchor(n *html.Node) string {
	if id := Fragment(attr(n, "id")); id != "" {
		return id
	}
	for d := range n.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		if id := Fragment(attr(d, "id")); id != "" {
			return id
		}
		if d.DataAtom == atom.A {
			if name := Fragment(attr(d, "name")); name != "" {
				return name
			}
		}
	}
	if p := n.Parent; p != nil && (p.DataAtom == atom.Section || p.DataAtom == atom.Article) {
		first := p.FirstChild
		for first != nil && first.Type != html.ElementNode {
			first = first.NextSibling
		}
		if first == n {
			return Fragment(attr(p, "id"))
		}
	}
	return ""
}

// Fragment returns id trimmed when it can follow "#" in a URL as it is:
// letters, digits and the punctuation a fragment allows unescaped, no
// braces (the chunk text writes an anchor as "{#id}"). Otherwise, and for
// an empty id, it returns "".
func Fragment(id string) string {
	id = strings.TrimSpace(id)
	for _, r := range id {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._~!$&()*+,;=:@/?%", r)) {
			return ""
		}
	}
	return id
}

// row emits a table row as one block, cells joined with " | ". Empty cells
// keep their place, except at the end of the row. A row of th cells only
// is a TableHeader.
func (e *extractor) row(n *html.Node) {
	e.flush()
	var cells []string
	last := 0
	kind := TableHeader
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) {
			continue
		}
		if hide, _ := hidden(c); hide {
			continue
		}
		if c.DataAtom == atom.Td {
			kind = TableRow
		}
		e.inline++
		e.children(c)
		e.inline--
		cell := e.buf.take()
		cells = append(cells, cell)
		if cell != "" {
			last = len(cells)
		}
	}
	if last == 0 {
		return
	}
	e.blocks = append(e.blocks, Block{Headings: e.heads.path, Text: strings.TrimSpace(strings.Join(cells[:last], " | ")), Kind: kind})
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// dropped reports whether elements of kind a are never content.
func dropped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe,
		atom.Svg, atom.Math, atom.Canvas, atom.Object, atom.Embed, atom.Audio,
		atom.Video, atom.Nav, atom.Aside, atom.Footer, atom.Form, atom.Button,
		atom.Select, atom.Textarea, atom.Input, atom.Datalist, atom.Search,
		atom.Head, atom.Title, atom.Link, atom.Meta, atom.Img, atom.Map:
		return true
	}
	return false
}

// isBlock reports whether elements of kind a end the text before them and
// start a new block.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Blockquote, atom.Body, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dialog, atom.Dir, atom.Div,
		atom.Dl, atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Form, atom.Hgroup, atom.Hr, atom.Html, atom.Legend, atom.Li,
		atom.Main, atom.Menu, atom.Ol, atom.P, atom.Pre, atom.Section,
		atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th,
		atom.Thead, atom.Tr, atom.Ul:
		return true
	}
	return false
}

// hidden reports whether n is hidden from readers. A landmark role that
// makes the element a page header is returned as atom.Header, so it is
// treated like <header>.
func hidden(n *html.Node) (bool, atom.Atom) {
	var like atom.Atom
	for _, at := range n.Attr {
		switch at.Key {
		case "hidden":
			return true, 0
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(at.Val), "true") {
				return true, 0
			}
		case "style":
			if styleHidden(at.Val) {
				return true, 0
			}
		case "type":
			if n.DataAtom == atom.Input && strings.EqualFold(strings.TrimSpace(at.Val), "hidden") {
				return true, 0
			}
		case "role":
			switch strings.ToLower(strings.TrimSpace(at.Val)) {
			case "navigation", "contentinfo", "search", "complementary", "dialog", "alertdialog":
				return true, 0
			case "banner":
				like = atom.Header
			}
		}
	}
	return false, like
}

// styleHidden reports whether an inline style hides the element.
func styleHidden(style string) bool {
	for decl := range strings.SplitSeq(style, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.TrimSpace(prop)
		if i := strings.IndexByte(val, '!'); i >= 0 {
			val = val[:i] // !important
		}
		val = strings.TrimSpace(val)
		switch {
		case strings.EqualFold(prop, "display"):
			if strings.EqualFold(val, "none") {
				return true
			}
		case strings.EqualFold(prop, "visibility"), strings.EqualFold(prop, "content-visibility"):
			if strings.EqualFold(val, "hidden") || strings.EqualFold(val, "collapse") {
				return true
			}
		case strings.EqualFold(prop, "opacity"), strings.EqualFold(prop, "font-size"):
			if isZero(val) {
				return true
			}
		}
	}
	return false
}

// isZero reports whether a CSS length or number is zero ("0", "0.0", "0px").
func isZero(v string) bool {
	v = strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
	if v == "" || strings.Trim(v, "0.") != "" {
		return false
	}
	return strings.IndexByte(v, '0') >= 0
}

// pageForm reports whether a form wraps the page rather than being a form:
// a child of body that holds an h1, main or article.
func pageForm(n *html.Node) bool {
	if n.Parent == nil || n.Parent.DataAtom != atom.Body {
		return false
	}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && (d.DataAtom == atom.H1 || d.DataAtom == atom.Main || d.DataAtom == atom.Article) {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// hasToken reports whether the space-separated list s holds tok, ignoring case.
func hasToken(s, tok string) bool {
	for f := range strings.FieldsSeq(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
