package extractive

import (
	"slices"
	"strings"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// kind says what a unit is.
type kind uint8

const (
	sentence kind = iota
	list          // a list, with the sentence that announces it
	table         // a table's rows, with its header
)

// unit is what an answer is made of: a sentence, a whole list or a whole
// table. Units are never cut; a table's rows are chosen when it is
// rendered.
type unit struct {
	kind   kind
	text   string     // the sentence; a list's or table's announcing sentence, may be empty
	items  []string   // a list's items
	header []string   // a table's header cells, nil when it has none
	rows   [][]string // a table's data rows
	ord    int        // Ord of the passage the unit starts in
	terms  map[string]bool
	score  float64
}

// words is the length of the unit in words, as far as it can be rendered.
func (u *unit) words() int {
	n := len(strings.Fields(u.text))
	for _, it := range u.items {
		n += len(strings.Fields(it))
	}
	for _, r := range u.rows {
		for _, c := range r {
			n += len(strings.Fields(c))
		}
	}
	return n
}

// leans reports whether the unit opens on a word that refers to the one
// before it.
func (u *unit) leans() bool { return u.text != "" && Leans(u.text) }

// section is the text under one heading of a page, as units in reading
// order.
type section struct {
	heading string
	anchor  string
	units   []unit
}

// doc is one page of the request, cut into sections.
type doc struct {
	answer.Passage // DocID, URL, Title, From of the page; Section, Anchor and Text unset
	secs           []section
}

// key identifies a page among the request's passages.
func key(p answer.Passage) string { return p.URL + "\x00" + p.DocID }

// parseDoc cuts the passages of one page (any order) into sections: a
// passage opens a section unless it continues the one before it (the next
// Ord under the same heading), and a heading line inside a passage (see
// chunk.Parse) opens one too.
func (e *Generator) parseDoc(ps []answer.Passage) doc {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b answer.Passage) int { return a.Ord - b.Ord })
	d := doc{Passage: answer.Passage{DocID: ps[0].DocID, URL: ps[0].URL, Title: ps[0].Title, From: ps[0].From}}
	var lines [][]line // per section
	prevOrd, prevSection := -2, ""
	for _, p := range ps {
		ls := chunk.Parse(p.Text)
		if len(d.secs) == 0 || p.Ord != prevOrd+1 || p.Section != prevSection {
			d.secs = append(d.secs, section{heading: p.Section, anchor: p.Anchor})
			lines = append(lines, nil)
		}
		prevOrd, prevSection = p.Ord, p.Section
		for _, l := range ls {
			if l.Kind == htmltext.Heading {
				if n := len(d.secs) - 1; len(lines[n]) > 0 || d.secs[n].heading != "" {
					d.secs = append(d.secs, section{})
					lines = append(lines, nil)
				}
				d.secs[len(d.secs)-1].heading = l.Text
				d.secs[len(d.secs)-1].anchor = l.Anchor
				continue
			}
			lines[len(lines)-1] = append(lines[len(lines)-1], line{l, p.Ord})
		}
	}
	for i := range d.secs {
		var us []unit
		ls := lines[i]
		for j := 0; j < len(ls); j++ {
			l := ls[j]
			switch l.Kind {
			case htmltext.ListItem:
				u := unit{kind: list, ord: l.ord}
				for ; j < len(ls) && ls[j].Kind == htmltext.ListItem; j++ {
					u.items = append(u.items, ls[j].Text)
				}
				j--
				us = announced(us, u)
			case htmltext.TableRow, htmltext.TableHeader:
				u := unit{kind: table, ord: l.ord}
				for ; j < len(ls) && (ls[j].Kind == htmltext.TableRow || ls[j].Kind == htmltext.TableHeader); j++ {
					if ls[j].Kind == htmltext.TableHeader && u.header == nil && len(u.rows) == 0 {
						u.header = ls[j].Cells
						continue
					}
					u.rows = append(u.rows, ls[j].Cells)
				}
				j--
				if len(u.rows) == 0 {
					continue // a header without data says nothing
				}
				us = announced(us, u)
			default:
				if k := fragments(ls, j); k > j+1 {
					// Lines broken up in the page ("Milieustraat
					// Holtewaard<br>Industrieweg 14"): one unit.
					var parts []string
					for _, f := range ls[j:k] {
						parts = append(parts, f.Text)
					}
					us = append(us, unit{kind: sentence, text: strings.Join(parts, ", "), ord: l.ord})
					j = k - 1
					continue
				}
				for _, s := range e.sentences(l.Text) {
					s = strings.TrimSpace(s)
					if n := len(us); n > 0 && us[n-1].kind == sentence && strings.HasSuffix(us[n-1].text, "?") && Leans(s) {
						// "Verhuist u? Dan krijgt u ..." is one statement.
						us[n-1].text += " " + s
						continue
					}
					if s != "" {
						us = append(us, unit{kind: sentence, text: s, ord: l.ord})
					}
				}
				// Text without list marks (stored before pieces had
				// them): the lines after a line that announces a list,
				// up to one that ends a sentence, are its items.
				if n := len(us); n > 0 && strings.HasSuffix(us[n-1].text, ":") && j+1 < len(ls) && ls[j+1].Kind == htmltext.Paragraph {
					u := unit{kind: list, ord: l.ord}
					for j++; j < len(ls) && ls[j].Kind == htmltext.Paragraph; j++ {
						it := ls[j].Text
						u.items = append(u.items, it)
						if strings.ContainsAny(it[len(it)-1:], ".!?") {
							break
						}
					}
					if j == len(ls) {
						j--
					}
					us = announced(us, u)
				}
			}
		}
		d.secs[i].units = us
	}
	return d
}

// line is a line of a page's text with the Ord of its passage.
type line struct {
	chunk.Line
	ord int
}

// announced appends list or table u to us, taking along the sentence
// before it when that announces it (ends in a colon).
func announced(us []unit, u unit) []unit {
	if n := len(us); n > 0 && us[n-1].kind == sentence && strings.HasSuffix(us[n-1].text, ":") {
		u.text, u.ord = us[n-1].text, us[n-1].ord
		us = us[:n-1]
	}
	return append(us, u)
}

// fragments returns the end of the run of short paragraph lines that end
// in no punctuation from ls[j] on: the lines of an address or a name.
func fragments(ls []line, j int) int {
	k := j
	for k < len(ls) && ls[k].Kind == htmltext.Paragraph && len(strings.Fields(ls[k].Text)) <= maxFragment &&
		!strings.ContainsAny(ls[k].Text[len(ls[k].Text)-1:], ".!?:;,") {
		k++
	}
	return k
}

// maxFragment is the most words a line of an address has.
const maxFragment = 6
