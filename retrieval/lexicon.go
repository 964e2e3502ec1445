package retrieval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

//go:embed lexicon/*.tsv lexicon/lemmas.tsv.gz
var lexiconFS embed.FS

// Lexicon files: see lexicon/README.md for their format and the sources
// their entries must name.
const (
	lexiconSynonyms  = "lexicon/synonyms.tsv"
	lexiconEnglish   = "lexicon/english.tsv"
	lexiconCompounds = "lexicon/compounds.tsv"
)

// LexiconEntry is one line of an embedded lexicon file: a synonym group,
// an English glossary group or a compound part, and where it comes from.
type LexiconEntry struct {
	File  string // e.g. "lexicon/synonyms.tsv"
	Line  int    // 1-based
	Terms string // the comma-separated group, or the part
	// To holds, for a one-way entry (english.tsv), the comma-separated
	// terms Terms expand to; "" for a group whose terms expand to each
	// other.
	To     string
	Source string // see lexicon/README.md; "" when the line has none
}

// Lexicon returns the entries of the embedded lexicon files (synonyms,
// English glossary, compound parts), in file order.
func Lexicon() []LexiconEntry {
	var all []LexiconEntry
	for _, name := range []string{lexiconSynonyms, lexiconEnglish, lexiconCompounds} {
		all = append(all, lexiconEntries(name)...)
	}
	return all
}

// CompoundParts returns the municipal word parts used to split Dutch
// compounds ("omgevingsvergunning" → "vergunning"), folded and lower case.
func CompoundParts() []string {
	var parts []string
	for _, e := range lexiconEntries(lexiconCompounds) {
		parts = append(parts, Fold(e.Terms))
	}
	return parts
}

// Expander adds the words pages use to the words residents type, from a
// list of synonym groups. The zero value expands nothing.
type Expander struct {
	// groups[i] holds the normalised terms of group i; index maps each term
	// to the groups it belongs to.
	groups [][]string
	index  map[string][]int
	// maxWords is the longest term in words, to bound phrase matching.
	maxWords int
	// glossary translates the words of an English query no group
	// matched; nil: none.
	glossary *Glossary
	// pivot holds the Dutch synonyms through English for the words of a
	// Dutch query no group matched, built in the background; nil: none.
	pivot *lazyPivot
}

// lazyPivot builds a pivot table once, in the background: a question
// never waits for it (it goes without pivot synonyms until the table is
// there), and a caller that needs it whole waits.
type lazyPivot struct {
	build func() *Pivot
	once  sync.Once
	done  chan struct{}
	p     atomic.Pointer[Pivot]
}

func newLazyPivot(build func() *Pivot) *lazyPivot {
	return &lazyPivot{build: build, done: make(chan struct{})}
}

// start builds the table in the background, once.
func (l *lazyPivot) start() {
	l.once.Do(func() {
		go func() {
			defer close(l.done)
			if p := l.build(); p != nil {
				l.p.Store(p)
			}
		}()
	})
}

// now returns the table when it is built, starting the build otherwise.
func (l *lazyPivot) now() *Pivot {
	l.start()
	return l.p.Load()
}

// wait returns the table, waiting for the build.
func (l *lazyPivot) wait() *Pivot {
	l.start()
	<-l.done
	return l.p.Load()
}

// DefaultExpander returns the expander with the built-in municipal synonym
// list (id-kaart ↔ identiteitskaart, stort ↔ milieustraat, ...), the
// reviewed English-to-Dutch glossary of government words (driving licence
// → rijbewijs) and, when Debian's dict-freedict-eng-nld is installed, the
// FreeDict English-Dutch dictionary (FreeDictPath) for the other words of
// an English question. When dict-freedict-nld-eng is installed too, the
// words of a Dutch question gain their synonyms through English (Pivot),
// a table built from both dictionaries in the background from the first
// question on (a third of a second here; Warm starts it sooner); until it
// is there, questions go without. A FreeDict that cannot be read is left out; see
// Expander.Glossary and Expander.Pivot.
func DefaultExpander() *Expander {
	var groups []string
	for _, e := range lexiconEntries(lexiconSynonyms) {
		groups = append(groups, e.Terms)
	}
	for _, e := range lexiconEntries(lexiconEnglish) {
		// The Dutch terms of an English entry name one thing
		// (verhuizen, verhuizing): they expand to each other too.
		if len(splitTerms(e.To)) >= 2 {
			groups = append(groups, e.To)
		}
	}
	e, err := NewExpander(groups)
	for _, en := range lexiconEntries(lexiconEnglish) {
		if err == nil {
			err = e.AddOneWay(en.Terms, en.To)
		}
	}
	if err != nil {
		// The lists are embedded and covered by tests; a bad line is a build defect.
		panic(err)
	}
	if g, err := LoadFreeDict(FreeDictPath); err == nil {
		e.glossary = g
		if r, err := LoadFreeDictReverse(FreeDictReversePath); err == nil {
			g.AddMissing(r)
		}
	}
	if _, err := os.Stat(FreeDictReversePath + ".index"); err == nil {
		e.pivot = newLazyPivot(installedPivot)
	}
	return e
}

// installedPivot is the pivot table of the installed FreeDict pair, built
// once per process (every node and test of a process shares the same
// read-only table), or nil when it cannot be read.
var installedPivot = sync.OnceValue(func() *Pivot {
	p, err := LoadPivot(FreeDictReversePath, FreeDictPath)
	if err != nil {
		return nil
	}
	return p.WithLemmas(DefaultLemmas())
})

// WithPivot returns a copy of e that adds the pivot synonyms p knows to
// the words of a Dutch query that no group matched (see Expand); nil:
// none.
func (e *Expander) WithPivot(p *Pivot) *Expander {
	c := *e
	c.pivot = nil
	if p != nil {
		c.pivot = newLazyPivot(func() *Pivot { return p })
		c.pivot.wait()
	}
	return &c
}

// Pivot returns the pivot synonym table e uses, waiting for it to be
// built, or nil when e has none or the dictionaries could not be read.
func (e *Expander) Pivot() *Pivot {
	if e == nil || e.pivot == nil {
		return nil
	}
	return e.pivot.wait()
}

// Warm starts building e's pivot table in the background, so that it is
// there by the first questions; it returns at once.
func (e *Expander) Warm() {
	if e != nil && e.pivot != nil {
		e.pivot.start()
	}
}

// WithGlossary returns a copy of e that translates the words of an English
// query that no group matched with g (see Expand).
func (e *Expander) WithGlossary(g *Glossary) *Expander {
	c := *e
	c.glossary = g
	return &c
}

// Glossary returns the English-Dutch dictionary e uses, or nil.
func (e *Expander) Glossary() *Glossary { return e.glossary }

// NewExpander builds an expander from groups, one comma-separated group per
// string. It fails on a group with fewer than two terms.
func NewExpander(groups []string) (*Expander, error) {
	e := &Expander{index: map[string][]int{}}
	for i, g := range groups {
		terms := splitTerms(g)
		if len(terms) < 2 {
			return nil, fmt.Errorf("synonym group %d %q: needs at least two terms", i+1, g)
		}
		e.add(terms, terms)
	}
	return e, nil
}

// AddOneWay adds an entry whose from terms (comma separated) expand to its
// to terms, not the other way round: an English word adds the Dutch ones,
// and a Dutch question gains no English words. It fails when either side
// is empty. Call it before e is used.
func (e *Expander) AddOneWay(from, to string) error {
	f, t := splitTerms(from), splitTerms(to)
	if len(f) == 0 || len(t) == 0 {
		return fmt.Errorf("one-way entry %q → %q: needs terms on both sides", from, to)
	}
	e.add(f, t)
	return nil
}

func (e *Expander) add(from, to []string) {
	id := len(e.groups)
	e.groups = append(e.groups, to)
	for _, t := range from {
		e.index[t] = append(e.index[t], id)
		if n := strings.Count(t, " ") + 1; n > e.maxWords {
			e.maxWords = n
		}
	}
}

// splitTerms splits comma-separated terms and normalises them.
func splitTerms(s string) []string {
	var terms []string
	for _, t := range strings.Split(s, ",") {
		if n := normaliseTerms(t); n != "" {
			terms = append(terms, n)
		}
	}
	return terms
}

// MaxExpansion bounds the words Expand adds: every added word costs a
// posting-list walk in the lexical index.
const MaxExpansion = 8

// Expand returns the synonyms of the terms found in query, joined by
// spaces, without words the query already has, at most MaxExpansion words;
// groups matched by longer phrases come first. When the query looks
// English (LooksEnglish) and e has a glossary, the translations of its
// other words follow, in query order; when it does not and e has a pivot
// table, the pivot synonyms (Pivot.Synonyms) of its other words follow,
// those of the longest words first, of at most three words. It returns ""
// when nothing matches.
func (e *Expander) Expand(query string) string {
	if e == nil || len(e.index) == 0 && e.glossary == nil && e.pivot == nil {
		return ""
	}
	words := strings.Fields(normaliseTerms(query))
	have := make(map[string]bool, len(words))
	for _, w := range words {
		have[w] = true
	}
	seen := map[int]bool{}
	matched := map[string]bool{} // query words a group matched
	var out []string
	added := map[string]bool{}
	for n := e.maxWords; n >= 1; n-- {
		for i := 0; i+n <= len(words); i++ {
			for _, g := range e.index[strings.Join(words[i:i+n], " ")] {
				for _, w := range words[i : i+n] {
					matched[w] = true
				}
				if seen[g] {
					continue
				}
				seen[g] = true
				for _, t := range e.groups[g] {
					for _, w := range strings.Fields(t) {
						if !have[w] && !added[w] && len(out) < MaxExpansion {
							added[w] = true
							out = append(out, w)
						}
					}
				}
			}
		}
	}
	add := func(terms []string) {
		for _, t := range terms {
			if !have[t] && !added[t] && len(out) < MaxExpansion {
				added[t] = true
				out = append(out, t)
			}
		}
	}
	english := LooksEnglish(words)
	if e.glossary != nil && english {
		for _, w := range words {
			if !englishStopWords[w] && !matched[w] {
				add(e.glossary.Translate(w))
			}
		}
	}
	var p *Pivot
	if e.pivot != nil {
		p = e.pivot.now()
	}
	if p != nil && !english && len(out) < MaxExpansion {
		// The longest words first, at most pivotQueryWords of them: a
		// longer word is a rarer one (Zipf), more likely to name the
		// topic than to frame the question, and every synonym of a
		// framing word is noise in the search.
		var ws []string
		for _, w := range words {
			if !matched[w] && !slices.Contains(ws, w) && len(p.Synonyms(w)) > 0 {
				ws = append(ws, w)
			}
		}
		slices.SortStableFunc(ws, func(a, b string) int { return len(b) - len(a) })
		for _, w := range ws[:min(len(ws), pivotQueryWords)] {
			add(p.Synonyms(w))
		}
	}
	return strings.Join(out, " ")
}

// normaliseTerms folds s and keeps only letters and digits, words separated
// by single spaces, so "ID-kaart" and "id kaart" compare equal.
func normaliseTerms(s string) string {
	s = Fold(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// Fold lower-cases s and removes diacritics from Latin letters
// ("Één" → "een", "geïnd" → "geind").
func Fold(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var foldTable = func() map[rune]string {
	m := map[rune]string{}
	add := func(to string, from string) {
		for _, r := range from {
			m[r] = to
		}
	}
	add("a", "àáâãäåā")
	add("c", "çćč")
	add("e", "èéêëēėę")
	add("i", "ìíîïī")
	add("n", "ñń")
	add("o", "òóôõöøō")
	add("u", "ùúûüū")
	add("y", "ýÿ")
	add("s", "śš")
	add("z", "źżž")
	add("ij", "ĳ")
	add("ss", "ß")
	add("ae", "æ")
	add("oe", "œ")
	return m
}()

// Lemmas maps Dutch word forms to their lemma: "bouwt", "gebouwd" →
// "bouwen"; "huizen" → "huis"; "aangevraagd", "aanvragen" → "aanvraag".
// A noun and a verb that share two or more forms are one lemma, named by
// the shorter ("vragen" → "vraag"). Words are folded and lower case. It is
// safe for concurrent use.
type Lemmas struct {
	m map[string]string
}

// Lemma returns the lemma of form, and false when the table does not know
// form or form is its own lemma.
func (l *Lemmas) Lemma(form string) (string, bool) {
	if l == nil {
		return "", false
	}
	lemma, ok := l.m[form]
	return lemma, ok
}

// Len returns the number of forms l maps.
func (l *Lemmas) Len() int {
	if l == nil {
		return 0
	}
	return len(l.m)
}

// DefaultLemmas returns the built-in table, derived from the OpenTaal
// dictionary by internal/lexgen (lexicon/lemmas.tsv.gz). It is read once,
// on first use (about 170,000 forms).
func DefaultLemmas() *Lemmas { return defaultLemmas() }

var defaultLemmas = sync.OnceValue(func() *Lemmas {
	raw, err := lexiconFS.ReadFile("lexicon/lemmas.tsv.gz")
	if err != nil {
		panic(fmt.Sprintf("embedded lemma table: %v", err))
	}
	l, err := ReadLemmas(bytes.NewReader(raw))
	if err != nil {
		// The table is embedded and covered by tests; a bad one is a build defect.
		panic(err)
	}
	return l
})

// ReadLemmas reads a gzip'd lemma table in the format internal/lexgen
// writes: "#" comment lines, then "lemma<TAB>form form ..." lines.
func ReadLemmas(r io.Reader) (*Lemmas, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("lemma table: %w", err)
	}
	defer zr.Close()
	l := &Lemmas{m: make(map[string]string, 180000)}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		lemma, forms, ok := strings.Cut(line, "\t")
		if !ok || lemma == "" {
			return nil, fmt.Errorf("lemma table line %d: want lemma<TAB>forms", n)
		}
		for _, f := range strings.Fields(forms) {
			l.m[f] = lemma
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lemma table: %w", err)
	}
	return l, nil
}

// lexiconEntries reads an embedded file of lines "terms<TAB>source" or
// "terms<TAB>to<TAB>source", skipping blank lines and lines that start
// with #.
func lexiconEntries(name string) []LexiconEntry {
	f, err := lexiconFS.Open(name)
	if err != nil {
		// The files are embedded; a missing one is a build defect.
		panic(fmt.Sprintf("embedded lexicon %s: %v", name, err))
	}
	defer f.Close()
	var out []LexiconEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := LexiconEntry{File: name, Line: n}
		switch f := strings.Split(line, "\t"); len(f) {
		case 1:
			e.Terms = f[0]
		case 2:
			e.Terms, e.Source = f[0], f[1]
		default:
			e.Terms, e.To, e.Source = f[0], f[1], strings.Join(f[2:], " ")
		}
		e.Terms, e.To, e.Source = strings.TrimSpace(e.Terms), strings.TrimSpace(e.To), strings.TrimSpace(e.Source)
		out = append(out, e)
	}
	return out
}
