package retrieval

import (
	"fmt"
	"sort"
	"strings"
)

// Pivot holds Dutch synonyms found by translating through English: a
// Dutch word w and a Dutch word c are synonyms when the English words
// that translate w also translate c (see NewPivot). It is built from two
// bilingual dictionaries, not from any list of Dutch words the project
// wrote, so it knows the words residents use as well as those pages use
// ("dokter" ↔ "arts" through "doctor" and "physician"). It is safe for
// concurrent use.
type Pivot struct {
	m      map[string][]string // folded Dutch word → its synonyms, best first
	lemmas *Lemmas             // maps an inflected query word to its lemma; nil: none
}

// Limits of the pivot table. They are properties of the method, not of
// any question. A synonym c of w must be connected by pivotMinShared
// English words, or be mutual (a translation of each translates back to
// the other), and those shared English words must be at least
// pivotMinDice of the two words' English words together (Dice:
// 2·shared / (|E(w)| + |E(c)|)), so a word of many senses does not pass
// for a synonym through one of them ("school" ↔ "kudde" through "herd").
// An English word that translates more than pivotMaxFanout Dutch words
// ("get", "set", "bar") says too little to connect two of them; a Dutch
// word with more than pivotMaxSenses English words is too common or too
// ambiguous to expand; a word gets at most PivotPerWord synonyms, and a
// query at most the synonyms of pivotQueryWords of its words (Expand).
const (
	pivotMinShared  = 2
	pivotMinDice    = 0.5
	pivotMaxFanout  = 12
	pivotMaxSenses  = 12
	pivotMinLetters = 4
	pivotQueryWords = 3

	// PivotPerWord bounds the synonyms one Dutch word adds to a query.
	PivotPerWord = 2
)

// LoadPivot reads the Dutch-English dictd dictionary nldEng and the
// English-Dutch one engNld (base paths as for LoadFreeDict; the installed
// FreeDict ones are FreeDictReversePath and FreeDictPath) and builds the
// pivot table with NewPivot. It returns an error wrapping os.ErrNotExist
// when either dictionary is not installed.
func LoadPivot(nldEng, engNld string) (*Pivot, error) {
	nlIdx, nlBody, err := readDictFiles(nldEng)
	if err != nil {
		return nil, err
	}
	enIdx, enBody, err := readDictFiles(engNld)
	if err != nil {
		return nil, err
	}
	return NewPivot(nlIdx, nlBody, enIdx, enBody)
}

// NewPivot builds the pivot table from a Dutch-English dictionary and an
// English-Dutch one, each as a dictd index and its uncompressed body.
//
// The two dictionaries are one graph of Dutch and English words, an edge
// for each translation either of them lists (single words only). Two
// Dutch words w and c are linked by each English word next to both: their
// pivots. c is a synonym of w when they share at least two pivots, or
// when the link is mutual: some English translation of w (Dutch-English)
// translates back to c (English-Dutch), and some translation of c leads
// back to w the same way; and when the pivots are at least half of their
// English words (see pivotMinDice). Synonyms are ranked by that share,
// then by shared pivots, then alphabetically, and cut at PivotPerWord.
// Dutch stop words and words under four letters get none and are none.
func NewPivot(nldEngIndex, nldEngDict, engNldIndex, engNldDict []byte) (*Pivot, error) {
	g, err := newPivotGraph(nldEngIndex, nldEngDict, engNldIndex, engNldDict)
	if err != nil {
		return nil, err
	}
	p := &Pivot{m: map[string][]string{}}
	for w := range g.nl {
		for _, c := range g.candidates(w) {
			p.m[w] = append(p.m[w], c.word)
			if len(p.m[w]) == PivotPerWord {
				break
			}
		}
	}
	return p, nil
}

// newPivotGraph reads the two dictionaries into one graph. A phrase
// headword is left out, as readDictd leaves out phrase translations.
func newPivotGraph(nldEngIndex, nldEngDict, engNldIndex, engNldDict []byte) (*pivotGraph, error) {
	g := &pivotGraph{
		nl: map[string]map[string]bool{}, en: map[string]map[string]bool{},
		fwd: map[string]map[string]bool{}, back: map[string]map[string]bool{},
	}
	link := func(d, e string) {
		addPair(g.nl, d, e)
		addPair(g.en, e, d)
	}
	err := readDictd(nldEngIndex, nldEngDict, func(head string, senses [][]string) {
		if strings.Contains(head, " ") {
			return
		}
		for _, s := range senses {
			for _, e := range s {
				link(head, e)
				addPair(g.fwd, head, e)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("dutch-english: %w", err)
	}
	err = readDictd(engNldIndex, engNldDict, func(head string, senses [][]string) {
		if strings.Contains(head, " ") {
			return
		}
		for _, s := range senses {
			for _, d := range s {
				link(d, head)
				addPair(g.back, head, d)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("english-dutch: %w", err)
	}
	return g, nil
}

// pivotGraph is the translation graph NewPivot reads synonyms from.
type pivotGraph struct {
	nl, en    map[string]map[string]bool // Dutch → English, English → Dutch, both dictionaries
	fwd, back map[string]map[string]bool // the same, Dutch-English and English-Dutch only
}

// pivotCand is a synonym candidate of a Dutch word.
type pivotCand struct {
	word   string
	shared int     // English words linked to both
	dice   float64 // 2·shared / (English words of one + of the other)
	mutual bool
}

// reaches reports whether a Dutch-English then English-Dutch step leads
// from a to b.
func (g *pivotGraph) reaches(a, b string) bool {
	for e := range g.fwd[a] {
		if g.back[e][b] {
			return true
		}
	}
	return false
}

// candidates returns the synonyms of the Dutch word w that pass, best
// first.
func (g *pivotGraph) candidates(w string) []pivotCand {
	pivots := g.nl[w]
	if !pivotWord(w) || len(pivots) > pivotMaxSenses {
		return nil
	}
	byWord := map[string]*pivotCand{}
	for e := range pivots {
		fan := len(g.en[e])
		if fan > pivotMaxFanout {
			continue
		}
		for c := range g.en[e] {
			if c == w || !pivotWord(c) {
				continue
			}
			pc := byWord[c]
			if pc == nil {
				pc = &pivotCand{word: c}
				byWord[c] = pc
			}
			pc.shared++
		}
	}
	var cs []pivotCand
	for _, c := range byWord {
		c.mutual = g.reaches(w, c.word) && g.reaches(c.word, w)
		c.dice = 2 * float64(c.shared) / float64(len(pivots)+len(g.nl[c.word]))
		if (c.shared >= pivotMinShared || c.mutual) && c.dice >= pivotMinDice {
			cs = append(cs, *c)
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.dice != b.dice {
			return a.dice > b.dice
		}
		if a.shared != b.shared {
			return a.shared > b.shared
		}
		return a.word < b.word
	})
	return cs
}

func addPair(m map[string]map[string]bool, a, b string) {
	s := m[a]
	if s == nil {
		s = map[string]bool{}
		m[a] = s
	}
	s[b] = true
}

// pivotWord reports whether the folded Dutch word w may have or be a
// pivot synonym: no stop word (those of Analyzer), no short word.
func pivotWord(w string) bool {
	return len(w) >= pivotMinLetters && !dutchStopSet[w]
}

var dutchStopSet = wordSet(dutchStopwords)

// WithLemmas returns a copy of p that looks an inflected word up by its
// lemma when p does not know the word itself ("gestolen" → "stelen").
func (p *Pivot) WithLemmas(l *Lemmas) *Pivot {
	c := *p
	c.lemmas = l
	return &c
}

// Synonyms returns the pivot synonyms of the folded Dutch word w, best
// first, at most PivotPerWord; when p does not know w, those of its lemma
// (WithLemmas). It returns nil for a word p knows no synonyms of, and on
// a nil p.
func (p *Pivot) Synonyms(w string) []string {
	if p == nil || !pivotWord(w) {
		return nil
	}
	if s, ok := p.m[w]; ok {
		return s
	}
	if l, ok := p.lemmas.Lemma(w); ok {
		return p.m[l]
	}
	return nil
}

// Len returns the number of Dutch words p knows synonyms of.
func (p *Pivot) Len() int {
	if p == nil {
		return 0
	}
	return len(p.m)
}
