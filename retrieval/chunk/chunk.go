// Package chunk splits extracted pages into heading-aware pieces, the
// passages that are indexed and retrieved, and splits text into sentences.
//
// A piece's text keeps the page's structure in lines, in a Markdown
// subset that reads well as plain text: a paragraph is a line as it
// stands; a list item is a line "- item"; a table row is a line "| cell |
// cell |", and a header row is followed by the line "| --- | --- |"; a
// heading that moved into a merged piece is a line "## Kop" with one "#"
// per level of its path, and its anchor as "{#kop}" when it has one. Parse
// reads such text back into lines.
package chunk

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// Options tunes Split. A zero or negative field takes its default.
type Options struct {
	// MaxChars is the longest piece, in characters; default 700. Only a
	// single word longer than this makes a longer piece.
	MaxChars int
	// MinChars is the size below which a section is merged with the next
	// (or else the previous) section, and below which the last piece of a
	// long section takes text from the piece before it; default 120.
	MinChars int
}

// DefaultOptions returns the defaults: MaxChars 700, MinChars 120.
func DefaultOptions() Options { return Options{MaxChars: 700, MinChars: 120} }

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxChars <= 0 {
		o.MaxChars = d.MaxChars
	}
	if o.MinChars <= 0 {
		o.MinChars = d.MinChars
	}
	if o.MinChars > o.MaxChars {
		o.MinChars = o.MaxChars
	}
	return o
}

// Piece is one passage of a page.
type Piece struct {
	// Headings is the heading path of the passage, outermost first; empty
	// for text before the first heading. Shared with the page: read-only.
	Headings []string
	// Text is the passage, blocks joined with "\n" as the package
	// documentation says, without Headings.
	Text string
	// Anchor is the fragment that links to the innermost heading of
	// Headings on the page (htmltext.Block.Anchor); may be empty.
	Anchor string
}

// Split cuts a page into pieces in document order.
//
// A section is the run of blocks under one heading path. Each piece holds
// text of one section, split at block boundaries when the section is longer
// than MaxChars, inside a block at sentence boundaries (see Sentences), and
// inside a sentence at spaces. Sections shorter than MinChars are merged with
// the next section (or, when that does not fit in MaxChars, the previous
// one); such a piece carries the heading path the merged sections share,
// and the headings below it appear as lines of its Text, so no heading is
// lost. A heading with no text under it is dropped when the next section
// lies below it (its text is in that section's path). Heading blocks are
// never body text; every other block's text appears in exactly one piece,
// whole or in consecutive parts. Pieces longer than MaxChars only arise from
// a single word that long.
func Split(p htmltext.Page, opt Options) []Piece {
	opt = opt.withDefaults()
	secs, anchors := sections(p.Blocks)
	if len(secs) == 0 {
		return nil
	}
	groupLen := func(lo, hi int) int {
		_, lines := render(secs[lo:hi], anchors)
		return length(lines)
	}
	// Merge small sections forward while the result fits.
	var groups [][2]int
	for i := 0; i < len(secs); {
		j, n := i+1, groupLen(i, i+1)
		for n < opt.MinChars && j < len(secs) {
			m := groupLen(i, j+1)
			if m > opt.MaxChars {
				break
			}
			j, n = j+1, m
		}
		groups = append(groups, [2]int{i, j})
		i = j
	}
	// A small group that could not merge forward joins the one before.
	merged := groups[:1]
	for _, g := range groups[1:] {
		last := &merged[len(merged)-1]
		if groupLen(g[0], g[1]) < opt.MinChars && groupLen(last[0], g[1]) <= opt.MaxChars {
			last[1] = g[1]
			continue
		}
		merged = append(merged, g)
	}
	var out []Piece
	for _, g := range merged {
		if !hasText(secs[g[0]:g[1]]) {
			continue
		}
		path, lines := render(secs[g[0]:g[1]], anchors)
		anchor := anchors[strings.Join(path, "\x00")]
		if length(lines) <= opt.MaxChars {
			out = append(out, Piece{Headings: path, Text: strings.Join(lines, "\n"), Anchor: anchor})
			continue
		}
		for _, part := range pack(units(lines, opt.MaxChars), opt) {
			out = append(out, Piece{Headings: path, Text: part, Anchor: anchor})
		}
	}
	return out
}

// section is the text under one heading path.
type section struct {
	path   []string
	blocks []string
}

// sections groups blocks by heading path, each block as its line (see the
// package documentation), and returns them with the anchors of the
// headings by path (joined with "\x00"). A heading starts a section even
// when its path equals the one before. Empty sections are kept unless the
// next section lies below them.
func sections(blocks []htmltext.Block) ([]section, map[string]string) {
	var secs []section
	anchors := map[string]string{}
	for _, b := range blocks {
		if b.Kind == htmltext.Heading {
			secs = append(secs, section{path: b.Headings})
			if b.Anchor != "" {
				anchors[strings.Join(b.Headings, "\x00")] = b.Anchor
			}
			continue
		}
		if b.Text == "" {
			continue
		}
		if len(secs) == 0 || !slices.Equal(secs[len(secs)-1].path, b.Headings) {
			secs = append(secs, section{path: b.Headings})
		}
		last := &secs[len(secs)-1]
		last.blocks = append(last.blocks, line(b)...)
	}
	out := secs[:0]
	for i, s := range secs {
		if len(s.blocks) == 0 && i+1 < len(secs) && below(secs[i+1].path, s.path) {
			continue
		}
		out = append(out, s)
	}
	return out, anchors
}

// line returns the lines of block b in a piece's text.
func line(b htmltext.Block) []string {
	switch b.Kind {
	case htmltext.ListItem:
		return []string{ItemMark + strings.ReplaceAll(b.Text, "\n", " ")}
	case htmltext.TableRow:
		return []string{row(b.Text)}
	case htmltext.TableHeader:
		// One line for the chunker, so a piece never ends between the
		// header row and the separator that marks it.
		r := row(b.Text)
		return []string{r + "\n" + strings.Repeat("| --- ", strings.Count(r, "|")-1) + "|"}
	}
	return []string{b.Text}
}

// row renders the cells of a table row block ("a | b") as a line "| a | b |".
func row(text string) string {
	cells := strings.Split(strings.ReplaceAll(text, "\n", " "), "|")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// below reports whether path lies strictly below parent.
func below(path, parent []string) bool {
	return len(path) > len(parent) && slices.Equal(path[:len(parent)], parent)
}

func hasText(secs []section) bool {
	for _, s := range secs {
		if len(s.blocks) > 0 {
			return true
		}
	}
	return false
}

// render returns the heading path the sections share and their lines: the
// blocks, each section preceded by its headings below the shared path that
// differ from the section before.
func render(secs []section, anchors map[string]string) ([]string, []string) {
	common := secs[0].path
	for _, s := range secs[1:] {
		common = common[:prefix(common, s.path)]
	}
	common = common[:len(common):len(common)] // appending must not write into a page's path
	if len(secs) == 1 {
		return common, secs[0].blocks
	}
	var lines []string
	prev := common
	for _, s := range secs {
		d := max(prefix(prev, s.path), len(common))
		for k := d; k < len(s.path); k++ {
			h := strings.Repeat("#", k+1) + " " + s.path[k]
			if a := anchors[strings.Join(s.path[:k+1], "\x00")]; a != "" {
				h += " {#" + a + "}"
			}
			lines = append(lines, h)
		}
		lines = append(lines, s.blocks...)
		prev = s.path
	}
	return common, lines
}

func prefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// length is the length of lines joined with "\n", in characters.
func length(lines []string) int {
	if len(lines) == 0 {
		return 0
	}
	n := len(lines) - 1
	for _, l := range lines {
		n += utf8.RuneCountInString(l)
	}
	return n
}

// unit is a piece of text that is never split further.
type unit struct {
	text string
	n    int  // length in characters
	sep  byte // joins it to the unit before: '\n' between blocks or lines, ' ' inside a line
}

// units cuts lines into units of at most max characters: whole lines,
// else sentences, else runs of words.
func units(lines []string, max int) []unit {
	var out []unit
	var spans [][2]int
	for _, l := range lines {
		n := utf8.RuneCountInString(l)
		if n <= max {
			out = append(out, unit{text: l, n: n, sep: '\n'})
			continue
		}
		spans = sentenceSpans(l, spans[:0])
		for i, sp := range spans {
			sep := byte('\n')
			if i > 0 && !strings.Contains(l[spans[i-1][1]:sp[0]], "\n") {
				sep = ' '
			}
			for k, w := range splitWords(l[sp[0]:sp[1]], max) {
				if k > 0 {
					sep = ' '
				}
				out = append(out, unit{text: w, n: utf8.RuneCountInString(w), sep: sep})
			}
		}
	}
	return out
}

// splitWords cuts s at spaces into parts of at most max characters; a word
// longer than max stays whole.
func splitWords(s string, max int) []string {
	var out []string
	for utf8.RuneCountInString(s) > max {
		cut := offset(s, max) // s[:cut] holds max characters
		sp := strings.LastIndexByte(s[:cut+1], ' ')
		if sp <= 0 {
			sp = strings.IndexByte(s[cut:], ' ')
			if sp < 0 {
				break
			}
			sp += cut
		}
		out = append(out, strings.TrimSpace(s[:sp]))
		s = strings.TrimSpace(s[sp:])
	}
	return append(out, s)
}

// offset returns the byte offset of character n of s (0-based).
func offset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// pack fills parts of at most MaxChars with units in order. It uses as few
// parts as filling each to the brim would, but evens out their sizes, so a
// long paragraph is not cut into a full part and a scrap. A last part still
// shorter than MinChars takes units from the part before it.
func pack(us []unit, opt Options) []string {
	parts := fill(us, opt.MaxChars)
	if k := len(parts); k > 1 {
		step := max(opt.MaxChars/20, 1)
		for limit := (size(us) + k - 1) / k; limit < opt.MaxChars; limit += step {
			if p := fill(us, limit); len(p) <= k {
				parts = p
				break
			}
		}
	}
	if k := len(parts); k >= 2 {
		prev, last := parts[k-2], parts[k-1]
		pn, ln := size(prev), size(last)
		for ln < opt.MinChars && len(prev) > 1 {
			u := prev[len(prev)-1]
			if ln+1+u.n > opt.MaxChars || pn-1-u.n < opt.MinChars {
				break
			}
			prev, last = prev[:len(prev)-1], append([]unit{u}, last...)
			pn, ln = pn-1-u.n, ln+1+u.n
		}
		parts[k-2], parts[k-1] = prev, last
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		var b strings.Builder
		for j, u := range p {
			if j > 0 {
				b.WriteByte(u.sep)
			}
			b.WriteString(u.text)
		}
		out[i] = b.String()
	}
	return out
}

func size(us []unit) int {
	n := max(len(us)-1, 0)
	for _, u := range us {
		n += u.n
	}
	return n
}

// fill puts units into parts in order, starting a new part when the next
// unit would make the current one longer than limit. A unit longer than
// limit gets a part of its own.
func fill(us []unit, limit int) [][]unit {
	var parts [][]unit
	var cur []unit
	n := 0
	for _, u := range us {
		if len(cur) > 0 && n+1+u.n > limit {
			parts = append(parts, cur)
			cur, n = nil, 0
		}
		if len(cur) > 0 {
			n++
		}
		cur = append(cur, u)
		n += u.n
	}
	return append(parts, cur)
}
