// Package htmltext turns a web page (HTML, Markdown or plain text) into clean
// text blocks, each with the heading path above it, in document order.
//
// Extraction is defensive: scripts, styles, navigation, page header and
// footer, forms, comments, hidden elements and invisible characters never
// reach the text, so content a resident cannot see cannot reach an index or
// a prompt either.
package htmltext

import "strings"

// BlockKind says what kind of element a block came from.
type BlockKind uint8

// The kinds of block. Heading blocks carry the heading's own text; their
// Headings path ends with that same text. All other kinds are body text.
const (
	Paragraph    BlockKind = iota // p, div-level text, blockquote, dt, dd, caption, summary
	Heading                       // h1..h6 (Markdown #); updates the heading path
	ListItem                      // one li, or one Markdown list item
	TableRow                      // one tr, cells joined with " | "
	Preformatted                  // pre or a fenced code block; line breaks kept
	TableHeader                   // a tr of th cells only (a Markdown header row), as TableRow
)

// String returns the kind's name.
func (k BlockKind) String() string {
	switch k {
	case Paragraph:
		return "paragraph"
	case Heading:
		return "heading"
	case ListItem:
		return "list-item"
	case TableRow:
		return "table-row"
	case Preformatted:
		return "preformatted"
	case TableHeader:
		return "table-header"
	}
	return "unknown"
}

// Block is one unit of visible text.
//
// Headings is the heading path in force at the block, outermost first (h1
// before h2 ...; skipped levels are simply absent). Blocks under the same
// heading share one Headings slice: treat it as read-only. Text is
// normalised: no invisible characters, no runs of white space, no leading or
// trailing space, never empty. A line break ("\n") only appears where the
// source had one that matters: <br>, a line of <pre>.
type Block struct {
	Headings []string
	Text     string
	Kind     BlockKind
	// Anchor is, for a Heading, the fragment that links to it: the id of
	// the heading element, else of an element inside it (or the name of an
	// <a> there), else of the <section> it opens. Empty otherwise.
	Anchor string
}

// Page is the extracted text of one page. Blocks are in document order and
// include the headings themselves as blocks of kind Heading, so a consumer
// sees every heading, also one without text below it.
type Page struct {
	Title     string // <title>, else the first h1; "" when neither exists
	Lang      string // <html lang>, as written (trimmed)
	Canonical string // href of <link rel=canonical>, as written (trimmed)
	Blocks    []Block
}

// Text returns all blocks, headings included, one per line.
func (p Page) Text() string {
	var b strings.Builder
	for i, bl := range p.Blocks {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(bl.Text)
	}
	return b.String()
}

// headingPath keeps the current heading of each level and hands out the path
// as a fresh slice whenever it changes, so blocks can share it safely.
type headingPath struct {
	levels [6]string
	path   []string
}

// set makes text the heading of level (1..6), clears the levels below it
// and returns the new path.
func (h *headingPath) set(level int, text string) []string {
	h.levels[level-1] = text
	for k := level; k < len(h.levels); k++ {
		h.levels[k] = ""
	}
	path := make([]string, 0, level)
	for _, s := range h.levels[:level] {
		if s != "" {
			path = append(path, s)
		}
	}
	h.path = path
	return path
}
