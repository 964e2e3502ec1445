package htmltext

import (
	"strings"
)

// FromMarkdown returns the text of a Markdown document.
//
// ATX headings ("## Kosten") and setext headings (a line underlined with ===
// or ---) set the heading path; paragraphs, list items ("-", "*", "+",
// "1." or "1)"), block quotes, fenced code blocks and pipe tables become
// blocks. Inline markup is removed: emphasis and code markers, links become
// their text, images and HTML comments and tags disappear, backslash escapes
// are resolved. Title is the first level-1 heading.
func FromMarkdown(s string) Page {
	m := mdParser{}
	s = stripComments(strings.ReplaceAll(s, "\r\n", "\n"))
	for line := range strings.SplitSeq(s, "\n") {
		m.line(line)
	}
	m.flush()
	if m.fence != "" && len(m.code) > 0 {
		m.emitCode()
	}
	return m.page
}

type mdParser struct {
	page  Page
	heads headingPath
	para  []string  // lines of the paragraph or list item being collected
	kind  BlockKind // its kind
	fence string    // the open code fence, "" outside code
	code  []string
	// inTable is set by a table row and cleared by any other line; header
	// is set while the last block is a table's first row.
	inTable, header bool
}

func (m *mdParser) line(line string) {
	if m.fence != "" {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, m.fence) && strings.Trim(t, m.fence[:1]) == "" {
			m.emitCode()
			m.fence = ""
			return
		}
		m.code = append(m.code, line)
		return
	}
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "|") {
		m.inTable, m.header = false, false
	}
	quoted := false
	for strings.HasPrefix(t, ">") {
		t = strings.TrimSpace(t[1:])
		quoted = true
	}
	switch {
	case t == "":
		m.flush()
	case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
		m.flush()
		m.fence = t[:3]
		m.code = m.code[:0]
	case atxLevel(t) > 0:
		m.flush()
		level := atxLevel(t)
		text := strings.TrimSpace(t[level:])
		if strip := strings.TrimRight(text, "#"); strip == "" || strings.HasSuffix(strip, " ") {
			text = strings.TrimSpace(strip) // closing #s
		}
		m.heading(level, text)
	case !quoted && len(m.para) > 0 && m.kind == Paragraph && isUnderline(t):
		level := 1
		if t[0] == '-' {
			level = 2
		}
		text := strings.Join(m.para, " ")
		m.para = m.para[:0]
		m.heading(level, text)
	case isRule(t):
		m.flush()
	case isRefDef(t):
		m.flush()
	case strings.HasPrefix(t, "|"):
		m.flush()
		m.tableRow(t)
	default:
		if rest, ok := listItem(t); ok {
			m.flush()
			m.kind = ListItem
			m.para = append(m.para, rest)
			return
		}
		if len(m.para) == 0 {
			m.kind = Paragraph
		}
		m.para = append(m.para, t)
	}
}

func (m *mdParser) heading(level int, text string) {
	text = Clean(mdInline(text))
	if text == "" {
		return
	}
	if level == 1 && m.page.Title == "" {
		m.page.Title = text
	}
	path := m.heads.set(level, text)
	m.page.Blocks = append(m.page.Blocks, Block{Headings: path, Text: text, Kind: Heading})
}

func (m *mdParser) flush() {
	if len(m.para) == 0 {
		return
	}
	text := Clean(mdInline(strings.Join(m.para, " ")))
	m.para = m.para[:0]
	if text != "" {
		m.page.Blocks = append(m.page.Blocks, Block{Headings: m.heads.path, Text: text, Kind: m.kind})
	}
}

func (m *mdParser) emitCode() {
	var t textBuf
	for i, l := range m.code {
		if i > 0 {
			t.breakLine()
		}
		t.write(l, false)
	}
	m.code = m.code[:0]
	if s := t.take(); s != "" {
		m.page.Blocks = append(m.page.Blocks, Block{Headings: m.heads.path, Text: s, Kind: Preformatted})
	}
}

func (m *mdParser) tableRow(t string) {
	t = strings.TrimSuffix(strings.TrimPrefix(t, "|"), "|")
	if strings.Trim(t, "|-: ") == "" {
		// The separator under the header row makes the row before it one.
		if n := len(m.page.Blocks); n > 0 && m.page.Blocks[n-1].Kind == TableRow && m.header {
			m.page.Blocks[n-1].Kind = TableHeader
		}
		return
	}
	first := !m.inTable
	cells := strings.Split(t, "|")
	last := 0
	for i, c := range cells {
		cells[i] = Clean(mdInline(c))
		if cells[i] != "" {
			last = i + 1
		}
	}
	if last > 0 {
		m.page.Blocks = append(m.page.Blocks, Block{Headings: m.heads.path, Text: strings.TrimSpace(strings.Join(cells[:last], " | ")), Kind: TableRow})
	}
	m.inTable, m.header = true, first && last > 0
}

// atxLevel returns the level of an ATX heading line, or 0.
func atxLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return 0
	}
	return n
}

func isUnderline(t string) bool {
	return (t[0] == '=' || t[0] == '-') && strings.Trim(t, t[:1]) == ""
}

// isRule reports a thematic break: three or more of -, * or _ and spaces.
func isRule(t string) bool {
	c := t[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// isRefDef reports a link reference definition: "[naam]: https://...".
func isRefDef(t string) bool {
	if !strings.HasPrefix(t, "[") {
		return false
	}
	end := strings.Index(t, "]:")
	return end > 1 && !strings.Contains(t[:end], "](")
}

// listItem returns the text of a list item line and true, or false.
func listItem(t string) (string, bool) {
	rest := ""
	switch {
	case len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && (t[1] == ' ' || t[1] == '\t'):
		rest = t[2:]
	default:
		n := 0
		for n < len(t) && n < 10 && t[n] >= '0' && t[n] <= '9' {
			n++
		}
		if n == 0 || n >= 10 || n+1 >= len(t) || (t[n] != '.' && t[n] != ')') || (t[n+1] != ' ' && t[n+1] != '\t') {
			return "", false
		}
		rest = t[n+2:]
	}
	rest = strings.TrimSpace(rest)
	for _, box := range []string{"[ ] ", "[x] ", "[X] "} {
		rest = strings.TrimPrefix(rest, box)
	}
	return rest, true
}

// stripComments removes HTML comments, which may span lines. An unclosed
// comment hides the rest of the document, as it would in a browser.
func stripComments(s string) string {
	if !strings.Contains(s, "<!--") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "<!--")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i+4:], "-->")
		if j < 0 {
			return b.String()
		}
		s = s[i+4+j+3:]
	}
}

// mdInline removes inline Markdown markup from s.
func mdInline(s string) string {
	if !strings.ContainsAny(s, "\\*_~`[]!<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '!':
			if i+1 < len(s) && s[i+1] == '[' {
				if _, end, ok := mdLink(s, i+1); ok {
					i = end // images are not text
					continue
				}
			}
		case '[':
			if text, end, ok := mdLink(s, i); ok {
				b.WriteString(mdInline(text))
				i = end
				continue
			}
		case '<':
			if end := strings.IndexByte(s[i:], '>'); end > 1 {
				inner := s[i+1 : i+end]
				switch {
				case strings.Contains(inner, "://") || strings.HasPrefix(inner, "mailto:"):
					b.WriteString(strings.TrimPrefix(inner, "mailto:"))
					i += end + 1
					continue
				case isTag(inner):
					b.WriteByte(' ')
					i += end + 1
					continue
				}
			}
		case '`':
			i++
			continue
		case '*', '_', '~':
			n := 1
			for i+n < len(s) && s[i+n] == c {
				n++
			}
			if dropMarker(s, i, n) {
				i += n
				continue
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// mdLink parses "[text](url)", "[text][ref]" or "[text][]" starting at the
// '[' at i; it returns the text and the index after the link.
func mdLink(s string, i int) (string, int, bool) {
	depth := 0
	close := -1
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			close = j
			break
		}
	}
	if close < 0 || close+1 >= len(s) {
		return "", 0, false
	}
	text := s[i+1 : close]
	open, shut := s[close+1], byte(0)
	switch open {
	case '(':
		shut = ')'
	case '[':
		shut = ']'
	default:
		return "", 0, false
	}
	depth = 0
	for j := close + 1; j < len(s); j++ {
		switch s[j] {
		case open:
			depth++
		case shut:
			depth--
			if depth == 0 {
				return text, j + 1, true
			}
		}
	}
	return "", 0, false
}

// dropMarker decides whether the run of n markers at s[i] is emphasis (or
// strike-through) to remove. "~" needs two; "_" inside a word
// (snake_case) and a "*" with space on both sides are kept.
func dropMarker(s string, i, n int) bool {
	var before, after byte = ' ', ' '
	if i > 0 {
		before = s[i-1]
	}
	if i+n < len(s) {
		after = s[i+n]
	}
	switch s[i] {
	case '~':
		return n >= 2
	case '_':
		return !isAlnum(before) || !isAlnum(after)
	default:
		return !(isSpace(before) && isSpace(after))
	}
}

// isTag reports whether inner (between < and >) looks like an HTML tag.
func isTag(inner string) bool {
	inner = strings.TrimPrefix(inner, "/")
	if inner == "" {
		return false
	}
	c := inner[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 1; i < len(inner); i++ {
		c := inner[i]
		if !isAlnum(c) && c != '-' {
			return c == ' ' || c == '/' || c == '\t'
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// FromText returns the text of a plain-text document: paragraphs are
// separated by blank lines and their lines joined with a space; a line that
// starts with a list marker ("-", "*", "•", "1.", "1)") starts a list item.
// There are no headings and no title.
func FromText(s string) Page {
	var p Page
	var cur []string
	kind := Paragraph
	flush := func() {
		if len(cur) == 0 {
			return
		}
		if text := Clean(strings.Join(cur, " ")); text != "" {
			p.Blocks = append(p.Blocks, Block{Text: text, Kind: kind})
		}
		cur = cur[:0]
	}
	for line := range strings.SplitSeq(s, "\n") {
		t := Clean(line)
		if t == "" {
			flush()
			continue
		}
		if strings.HasPrefix(t, "• ") {
			t = "- " + strings.TrimPrefix(t, "• ")
		}
		if rest, ok := listItem(t); ok {
			flush()
			kind = ListItem
			cur = append(cur, rest)
			continue
		}
		if len(cur) == 0 {
			kind = Paragraph
		}
		cur = append(cur, t)
	}
	flush()
	return p
}
