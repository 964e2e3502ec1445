package extractive

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/node/answer"
)

// scorer scores units against the question.
type scorer struct {
	e       *Generator
	weights map[string]float64 // of the question's terms
	total   float64
	numbers map[string]bool // the numbers the question names, see numbers
}

// score returns how well u answers the question: the weight of the
// question's terms it holds, and a little of those in the title and
// heading above it (around), "Kosten" → "€ 84,40". pos is its place in
// its section: a section opens with its point. It sets u.terms.
func (sc scorer) score(u *unit, pos int, around map[string]bool) float64 {
	if u.terms == nil {
		u.terms = sc.e.termSet(u.plain())
	}
	var cov, ctx float64
	for t, w := range sc.weights {
		if u.terms[t] {
			cov += w
		} else if around[t] {
			ctx += w
		}
	}
	if u.kind == table && sc.rowBonus(u) > 0 {
		cov += sc.total / float64(len(sc.weights)+1) // a row names the number asked for
	}
	score := (cov + 0.35*ctx) / sc.total
	score *= 1 + 0.2/float64(1+pos)
	if u.kind == sentence {
		if strings.HasSuffix(u.text, "?") {
			score *= 0.5 // a question in the text rarely answers one
		}
		if navigation.MatchString(u.text) {
			score *= 0.5 // "Lees dan de pagina ..." points elsewhere
		}
		if n := len(strings.Fields(u.text)); n < 4 {
			score *= 0.5
		} else if n > 80 {
			score *= 0.7
		}
	}
	return score
}

// rowBonus is the highest number of the question's numbers one row of
// table u names.
func (sc scorer) rowBonus(u *unit) int {
	most := 0
	for _, r := range u.rows {
		n := 0
		for k := range numbers(strings.Join(r, " ")) {
			if sc.numbers[k] {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// plain is the unit's text for term analysis.
func (u *unit) plain() string {
	var b strings.Builder
	b.WriteString(u.text)
	for _, it := range u.items {
		b.WriteString(" \n ")
		b.WriteString(it)
	}
	for _, r := range append([][]string{u.header}, u.rows...) {
		b.WriteString(" \n ")
		b.WriteString(strings.Join(r, " "))
	}
	return b.String()
}

// numerals are the Dutch number words up to ten, cardinal and ordinal.
var numerals = map[string]string{
	"een": "1", "één": "1", "eerste": "1", "twee": "2", "tweede": "2", "drie": "3", "derde": "3",
	"vier": "4", "vierde": "4", "vijf": "5", "vijfde": "5", "zes": "6", "zesde": "6",
	"zeven": "7", "zevende": "7", "acht": "8", "achtste": "8", "negen": "9", "negende": "9",
	"tien": "10", "tiende": "10",
}

// numbers returns the small numbers (up to ten) text names, as digits:
// "twee honden", "Tweede hond" and "2e hond" all name 2.
func numbers(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if d, ok := numerals[w]; ok {
			out[d] = true
			continue
		}
		d := strings.TrimRightFunc(w, unicode.IsLetter)
		switch w[len(d):] {
		case "", "e", "de", "ste":
			if d != "" && d != "0" && len(d) <= 2 && strings.Trim(d, "0123456789") == "" && (len(d) == 1 || d == "10") {
				out[d] = true
			}
		}
	}
	return out
}

// maxSections bounds the sections of a page an answer draws on.
const maxSections = 3

// choice holds the units of a page an answer uses: per section, the
// indexes of its units.
type choice struct {
	units  map[int][]int
	words  int
	budget int
	first  int     // the section of the best unit
	top    float64 // its score
}

func (c *choice) has(sec, j int) bool { return slices.Contains(c.units[sec], j) }

// add adds unit j of section sec with the units before it that it leans
// on, when they fit in the budget (or force is set). It reports whether
// it did; a unit whose chain reaches the section's start still leaning is
// never added: its context is elsewhere.
func (c *choice) add(d *doc, sec, j int, force bool) bool {
	us := d.secs[sec].units
	k := j
	for k >= 0 && us[k].leans() && !c.has(sec, k-1) {
		k--
	}
	if k < 0 {
		return false
	}
	n := 0
	for i := k; i <= j; i++ {
		if !c.has(sec, i) {
			n += us[i].words()
		}
	}
	if n == 0 {
		return true
	}
	if !force && c.words+n > c.budget {
		return false
	}
	for i := k; i <= j; i++ {
		if !c.has(sec, i) {
			c.units[sec] = append(c.units[sec], i)
		}
	}
	slices.Sort(c.units[sec])
	c.words += n
	return true
}

// choose picks the units of page d that answer the question: the best
// unit with its context, the one after it (which usually carries on with
// the how or the what), the section's opening when it is on the question,
// the units of the section that score near the best, and the best unit of
// another section (up to three in all) that scores near the best and adds
// a word of the question no chosen unit has, or joins an answer shorter
// than MinWords. Then it makes sure the kind of fact the question asks for
// is there.
func (e *Generator) choose(d *doc, sc scorer, question string) *choice {
	type ref struct{ sec, j int }
	var all []ref
	for i, s := range d.secs {
		for j := range s.units {
			all = append(all, ref{i, j})
		}
	}
	unitOf := func(r ref) *unit { return &d.secs[r.sec].units[r.j] }
	sort.SliceStable(all, func(a, b int) bool { return unitOf(all[a]).score > unitOf(all[b]).score })
	c := &choice{units: map[int][]int{}, budget: e.cfg.MaxWords}
	var top float64
	for _, r := range all {
		if c.add(d, r.sec, r.j, true) {
			c.first, top = r.sec, unitOf(r).score
			c.top = top
			break
		}
	}
	if top == 0 {
		return c
	}
	s := c.first
	us := d.secs[s].units
	best := c.units[s][len(c.units[s])-1]
	if next := best + 1; next < len(us) && !(us[next].kind == sentence && strings.HasSuffix(us[next].text, "?")) {
		c.add(d, s, next, false)
	}
	if best > 0 && us[0].score > 0 {
		c.add(d, s, 0, false)
	}
	covered := func() map[string]bool {
		m := map[string]bool{}
		for sec, js := range c.units {
			for t := range sc.e.termSet(d.secs[sec].heading) {
				m[t] = true
			}
			for _, j := range js {
				for t := range d.secs[sec].units[j].terms {
					m[t] = true
				}
			}
		}
		return m
	}
	for _, r := range all {
		if r.sec == s && !c.has(r.sec, r.j) && unitOf(r).score >= e.cfg.MinRelative*top {
			c.add(d, r.sec, r.j, false)
		}
	}
	// Another section joins for a word of the question the answer lacks;
	// then, while the answer is too short to say much, the best of the
	// rest.
	sections := map[int]bool{s: true}
	for pass := 0; pass < 2; pass++ {
		for _, r := range all {
			u := unitOf(r)
			if sections[r.sec] || len(sections) == maxSections || u.score < e.cfg.MinRelative*top {
				continue
			}
			adds := pass == 1 && c.words < e.cfg.MinWords
			if pass == 0 {
				cov := covered()
				for t := range sc.weights {
					if u.terms[t] && !cov[t] {
						adds = true
					}
				}
			}
			if adds && c.add(d, r.sec, r.j, false) {
				sections[r.sec] = true
			}
		}
	}
	e.complete(d, c, question)
	return c
}

// complete makes sure the answer states the kind of fact the question
// asks for: a "waar" question gets a place, "wanneer" a time, "wat kost"
// an amount. When no chosen unit has one, the best unit of the page that
// has one joins.
func (e *Generator) complete(d *doc, c *choice, question string) {
	for _, t := range answerTypes {
		if !t.question.MatchString(question) {
			continue
		}
		for sec, js := range c.units {
			for _, j := range js {
				if t.cue.MatchString(d.secs[sec].units[j].plain()) {
					return
				}
			}
		}
		bs, bj, bv := -1, -1, -1.0
		for i, s := range d.secs {
			for j, u := range s.units {
				if u.score > bv && t.cue.MatchString(u.plain()) {
					bs, bj, bv = i, j, u.score
				}
			}
		}
		if bs >= 0 {
			c.add(d, bs, bj, true)
		}
		return
	}
}

// lead adds the opening units of the page's introduction, up to chars
// characters, when the page's first section is its introduction.
func (c *choice) lead(d *doc, chars int) {
	if len(d.secs) == 0 || len(d.secs[0].units) == 0 || d.secs[0].units[0].ord != 0 {
		return
	}
	n := 0
	for j, u := range d.secs[0].units {
		if n >= chars {
			break
		}
		c.add(d, 0, j, true)
		n += len(u.plain())
	}
}

// part renders the chosen units of page d in reading order, one
// paragraph per section, each ending in citation n, and returns it with
// the page's citation, whose URL carries the best section's anchor.
func part(d *doc, c *choice, sc scorer, n int) (string, answer.Citation) {
	cite := answer.CitationOf(d.Passage)
	if a := d.secs[c.first].anchor; a != "" && !strings.Contains(cite.URL, "#") {
		cite.URL += "#" + a
	}
	var secs []int
	for s := range c.units {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	var parts []string
	for _, s := range secs {
		if len(c.units[s]) == 0 {
			continue
		}
		parts = append(parts, renderSection(&d.secs[s], c.units[s], sc)+fmt.Sprintf(" [%d]", n))
	}
	return strings.Join(parts, "\n"), cite
}

// renderSection writes the units js of s: sentences run on as a
// paragraph, a list as its announcing sentence and "- item" lines, a table
// as the rows that match the question with their header.
func renderSection(s *section, js []int, sc scorer) string {
	var lines []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			lines = append(lines, strings.Join(para, " "))
			para = nil
		}
	}
	for n, j := range js {
		u := &s.units[j]
		switch u.kind {
		case sentence:
			para = append(para, sentenceEnd(u.text))
			continue
		}
		flush()
		intro := u.text
		if intro == "" && n == 0 && s.heading != "" {
			// The heading says what the list or table is about.
			intro = s.heading
			if !strings.ContainsAny(intro[len(intro)-1:], "?:") {
				intro += ":"
			}
		}
		var items []string
		if u.kind == list {
			long := u.words() > sc.e.cfg.MaxWords
			for _, it := range u.items {
				if ss := sc.e.sentences(it); long && len(ss) > 1 {
					// A list longer than a whole answer keeps each item's
					// point: its first sentence.
					it = ss[0]
				}
				items = append(items, strings.TrimRight(it, ";,. "))
			}
		} else {
			for _, r := range sc.rows(u) {
				items = append(items, renderRow(u.header, r))
			}
		}
		if len(items) == 1 && intro == "" {
			lines = append(lines, sentenceEnd(upperFirst(items[0])))
			continue
		}
		if intro != "" {
			lines = append(lines, intro)
		}
		for _, it := range items {
			lines = append(lines, "- "+it)
		}
	}
	flush()
	return strings.Join(lines, "\n")
}

// rows returns the rows of table u that match the question best: those
// that name a number the question names, else those that hold the most
// of its words; all rows when none holds any more than another. At most
// maxRows, in the table's order.
func (sc scorer) rows(u *unit) [][]string {
	scores := make([]float64, len(u.rows))
	most := 0.0
	for i, r := range u.rows {
		cell := strings.Join(r, " ")
		ts := sc.e.termSet(cell)
		for t, w := range sc.weights {
			if ts[t] {
				scores[i] += w
			}
		}
		for k := range numbers(cell) {
			if sc.numbers[k] {
				scores[i] += sc.total
			}
		}
		most = max(most, scores[i])
	}
	var out [][]string
	for i, r := range u.rows {
		if scores[i] == most && len(out) < maxRows {
			out = append(out, r)
		}
	}
	return out
}

// maxRows bounds the rows of a table an answer shows; the citation leads
// to the rest.
const maxRows = 8

// renderRow writes a table row with its header: "Tweede hond: € 153,60
// per jaar" for the row "Tweede hond | € 153,60" under "| Per jaar", or
// "Paspoort: leeftijd 18 jaar en ouder, kosten € 84,40" for a row with more
// columns.
func renderRow(header, row []string) string {
	var cells []string
	var heads []string
	for i, c := range row {
		if i == 0 || c == "" {
			continue
		}
		cells = append(cells, c)
		h := ""
		if i < len(header) {
			h = header[i]
		}
		heads = append(heads, h)
	}
	label := row[0]
	if label == "" && len(cells) > 0 {
		label, cells, heads = cells[0], cells[1:], heads[1:]
	}
	if len(cells) == 0 {
		return label
	}
	if len(cells) == 1 {
		// A header that names a unit ("Per jaar", "Bedrag per maand")
		// follows the value; any other names what the label already says.
		if i := strings.Index(strings.ToLower(heads[0]), "per "); i >= 0 && (i == 0 || heads[0][i-1] == ' ') {
			return label + ": " + cells[0] + " " + strings.ToLower(heads[0][i:])
		}
		return label + ": " + cells[0]
	}
	var vs []string
	for i, c := range cells {
		if h := heads[i]; h != "" {
			c = lowerFirst(h) + " " + c
		}
		vs = append(vs, c)
	}
	return label + ": " + strings.Join(vs, ", ")
}

// sentenceEnd makes a line read as a sentence.
func sentenceEnd(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ";:,")
	if s == "" {
		return s
	}
	switch s[len(s)-1] {
	case '.', '!', '?', ')', '"':
		return s
	}
	return s + "."
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// lowerFirst lower-cases the first letter of a header unless the word is
// an abbreviation ("WOZ-waarde").
func lowerFirst(s string) string {
	w, _, _ := strings.Cut(s, " ")
	if strings.ToUpper(w) == w {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
