package chunk

import (
	"strings"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// ItemMark opens a list item's line in a piece's text.
const ItemMark = "- "

// Line is one line of a piece's text as Parse reads it back.
type Line struct {
	// Kind is htmltext.Paragraph (also for preformatted text),
	// htmltext.Heading, htmltext.ListItem, htmltext.TableRow or
	// htmltext.TableHeader.
	Kind htmltext.BlockKind
	// Text is the line without its mark; for a table row its cells joined
	// with " | ".
	Text string
	// Cells holds a table row's cells, empty ones included.
	Cells []string
	// Level is a heading's depth in the page's heading path, from 1.
	Level int
	// Anchor is a heading's anchor ("## Kop {#kop}"), may be empty.
	Anchor string
}

// Parse reads the text of a piece (see the package documentation) back
// into its lines, in order, without empty lines and table separator lines.
// Text written before pieces carried marks reads as paragraphs and table
// rows.
func Parse(text string) []Line {
	var out []Line
	for raw := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(raw)
		switch {
		case t == "":
		case strings.HasPrefix(t, "|") && strings.Trim(t, "|-: ") == "":
			if n := len(out); n > 0 && out[n-1].Kind == htmltext.TableRow {
				out[n-1].Kind = htmltext.TableHeader
			}
		case strings.HasPrefix(t, "|") && strings.HasSuffix(t, "|") && len(t) > 1:
			cells := strings.Split(t[1:len(t)-1], "|")
			for i, c := range cells {
				cells[i] = strings.TrimSpace(c)
			}
			out = append(out, Line{Kind: htmltext.TableRow, Text: strings.Join(cells, " | "), Cells: cells})
		case strings.Contains(t, " | "):
			// A row as pieces held it before they had marks.
			cells := strings.Split(t, " | ")
			out = append(out, Line{Kind: htmltext.TableRow, Text: t, Cells: cells})
		case strings.HasPrefix(t, ItemMark):
			out = append(out, Line{Kind: htmltext.ListItem, Text: strings.TrimSpace(t[len(ItemMark):])})
		case headingLevel(t) > 0:
			n := headingLevel(t)
			h := Line{Kind: htmltext.Heading, Text: strings.TrimSpace(t[n:]), Level: n}
			if i := strings.LastIndex(h.Text, " {#"); i > 0 && strings.HasSuffix(h.Text, "}") {
				h.Text, h.Anchor = h.Text[:i], h.Text[i+3:len(h.Text)-1]
			}
			out = append(out, h)
		default:
			out = append(out, Line{Kind: htmltext.Paragraph, Text: t})
		}
	}
	return out
}

// headingLevel returns the number of "#" that open t followed by a space
// and text, or 0.
func headingLevel(t string) int {
	n := 0
	for n < len(t) && n < 7 && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n+1 >= len(t) || t[n] != ' ' {
		return 0
	}
	return n
}
