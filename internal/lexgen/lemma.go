package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/assistent-nl/assistent/retrieval"
)

// entry is one line of a Hunspell .dic file.
type entry struct {
	word  string
	flags []string
}

// parseDic reads a Hunspell .dic file: a count, then "word/FLAGS" lines
// (fields after whitespace are morphology and ignored).
func parseDic(r io.Reader, a *affixes) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			continue // the word count
		}
		if line == "" {
			continue
		}
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			line = line[:i]
		}
		word, flags, _ := strings.Cut(line, "/")
		out = append(out, entry{word: word, flags: a.splitFlags(flags)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dic: %w", err)
	}
	return out, nil
}

// form is a word form and the lemma it is a form of.
type form struct{ form, lemma string }

// lemmatizer derives word form → lemma pairs from a Hunspell dictionary:
// every form an entry's affix rules make has the entry's lemma, where a
// noun's or adjective's lemma is its dictionary word and a verb's is its
// infinitive. Hunspell's Dutch dictionary lists a verb as a stem ("bouw",
// flags for -t, -de, -den), an infinitive ("bouwen") and a participle
// ("gebouwd") on separate lines; the lemmatizer links them by Dutch
// spelling rules and only where the linked word is in the dictionary.
type lemmatizer struct {
	aff          *affixes
	entries      []entry
	verbFlags    map[string]bool // suffix classes that make finite verb forms
	infFlags     map[string]bool // suffix classes that apply to infinitives
	nounFlags    map[string]bool // suffix classes that make plurals
	infinitives  map[string]bool // folded words with an infinitive class
	stems        map[string]string
	nouns        map[string]bool // folded words with a plural class
	baseWords    map[string]bool
	skipNonAlpha bool
}

func newLemmatizer(a *affixes, entries []entry) *lemmatizer {
	l := &lemmatizer{aff: a, entries: entries, verbFlags: map[string]bool{}, infFlags: map[string]bool{},
		nounFlags: map[string]bool{}, infinitives: map[string]bool{}, stems: map[string]string{},
		nouns: map[string]bool{}, baseWords: map[string]bool{}, skipNonAlpha: true}
	for flag, c := range a.classes {
		for _, r := range c.rules {
			switch {
			case strings.Contains(r.morph, "ts:VB") && !strings.Contains(r.morph, "ts:VBpe"):
				l.verbFlags[flag] = true
			case strings.Contains(r.morph, "ts:PP"):
				l.infFlags[flag] = true
			case strings.Contains(r.morph, "ts:NN2"):
				l.nounFlags[flag] = true
			}
		}
	}
	for _, e := range entries {
		w := retrieval.Fold(e.word)
		l.baseWords[w] = true
		if l.has(e, l.infFlags) {
			l.infinitives[w] = true
		}
		if l.has(e, l.nounFlags) {
			l.nouns[w] = true
		}
	}
	for _, e := range entries {
		if l.has(e, l.verbFlags) {
			w := retrieval.Fold(e.word)
			if inf := l.infinitive(w); inf != "" {
				l.stems[w] = inf
			}
		}
	}
	return l
}

func (l *lemmatizer) has(e entry, set map[string]bool) bool {
	for _, f := range e.flags {
		if set[f] {
			return true
		}
	}
	return false
}

// infinitive returns the infinitive of verb stem s that the dictionary
// has, or "": "bouw" → "bouwen", "vraag" → "vragen", "leef" → "leven",
// "zet" → "zetten".
func (l *lemmatizer) infinitive(s string) string {
	for _, c := range infinitiveCandidates(s) {
		if l.infinitives[c] {
			return c
		}
	}
	for _, c := range infinitiveCandidates(s) {
		if l.baseWords[c] {
			return c
		}
	}
	return ""
}

// infinitiveCandidates spells stem s + -en the ways Dutch spelling may:
// a long vowel written single in the open syllable, a short vowel's
// consonant doubled, a final f or s voiced to v or z.
func infinitiveCandidates(s string) []string {
	n := len(s)
	if n < 2 {
		return nil
	}
	var bases []string
	bases = append(bases, s)
	if n >= 4 && isVowel(s[n-2]) && s[n-2] == s[n-3] && !isVowel(s[n-1]) && s[n-2] != 'i' {
		bases = append(bases, s[:n-2]+s[n-1:]) // vraag → vrag
	}
	if !isVowel(s[n-1]) && isVowel(s[n-2]) && (n < 3 || !isVowel(s[n-3])) {
		bases = append(bases, s+s[n-1:]) // zet → zett
	}
	var out []string
	for _, b := range bases {
		out = append(out, b+"en")
		switch b[len(b)-1] {
		case 'f':
			out = append(out, b[:len(b)-1]+"ven")
		case 's':
			out = append(out, b[:len(b)-1]+"zen")
		}
	}
	return out
}

func isVowel(b byte) bool { return strings.IndexByte("aeiouy", b) >= 0 }

// lemmaOf returns the lemma of entry e's own word.
func (l *lemmatizer) lemmaOf(e entry) string {
	w := retrieval.Fold(e.word)
	if inf, ok := l.stems[w]; ok && l.has(e, l.verbFlags) {
		return inf
	}
	if l.has(e, l.nounFlags) {
		return w
	}
	if inf := l.participleOf(w); inf != "" {
		return inf
	}
	if noun := l.irregularPlural(w); noun != "" {
		return noun
	}
	return w
}

// participleOf returns the infinitive of past participle w, or "":
// "gebouwd" → "bouwen", "gelopen" → "lopen", "verbouwd" → "verbouwen".
func (l *lemmatizer) participleOf(w string) string {
	n := len(w)
	if n < 5 {
		return ""
	}
	if strings.HasPrefix(w, "ge") {
		rest := w[2:]
		if l.infinitives[rest] {
			return rest
		}
		if last := rest[len(rest)-1]; last == 'd' || last == 't' {
			if inf, ok := l.stems[rest[:len(rest)-1]]; ok {
				return inf
			}
		}
	}
	for _, p := range []string{"be", "ver", "ont", "her", "er"} {
		if strings.HasPrefix(w, p) && (w[n-1] == 'd' || w[n-1] == 't') {
			if inf, ok := l.stems[w[:n-1]]; ok {
				return inf
			}
		}
	}
	return ""
}

// irregularPlural returns the singular of a plural in -eren the
// dictionary lists as a word of its own ("kinderen" → "kind",
// "bladeren" → "blad"), or "".
func (l *lemmatizer) irregularPlural(w string) string {
	if !strings.HasSuffix(w, "eren") || len(w) < 7 {
		return ""
	}
	s := w[:len(w)-4]
	if l.nouns[s] || l.baseWords[s] && len(s) >= 3 {
		return s
	}
	if n := len(s); n > 3 && s[n-1] == s[n-2] && l.baseWords[s[:n-1]] {
		return s[:n-1] // lammeren → lam
	}
	return ""
}

// forms returns the forms of entry e: its word and what its affix classes
// make of it, prefixes and suffixes combined where the classes allow,
// each with its lemma. Forms with other than letters are left out.
func (l *lemmatizer) forms(e entry, emit func(form, lemma string)) {
	for _, f := range e.flags {
		if f == l.aff.forbidden || f == l.aff.onlyInCpd {
			return
		}
	}
	lemma := l.lemmaOf(e)
	out := func(w, lem string) {
		w = retrieval.Fold(w)
		if l.skipNonAlpha && !alpha(w) {
			return
		}
		emit(w, lem)
	}
	// suffixed holds the word and its suffixed forms that may take a prefix.
	suffixed := []string{e.word}
	out(e.word, lemma)
	for _, f := range e.flags {
		c := l.aff.classes[f]
		if c == nil || c.prefix {
			continue
		}
		for _, r := range c.rules {
			w, ok := r.applySuffix(e.word)
			if !ok {
				continue
			}
			out(w, lemma)
			if c.cross {
				suffixed = append(suffixed, w)
			}
			for _, cf := range r.cont {
				cc := l.aff.classes[cf]
				if cc == nil || cc.prefix {
					continue
				}
				for _, r2 := range cc.rules {
					if w2, ok := r2.applySuffix(w); ok {
						out(w2, lemma)
					}
				}
			}
		}
	}
	for _, f := range e.flags {
		c := l.aff.classes[f]
		if c == nil || !c.prefix {
			continue
		}
		for _, r := range c.rules {
			plemma := lemma
			if pl, ok := r.applyPrefix(lemma); ok {
				plemma = retrieval.Fold(pl)
			}
			for i, w := range suffixed {
				if i > 0 && !c.cross {
					break
				}
				if pw, ok := r.applyPrefix(w); ok {
					out(pw, plemma)
				}
			}
		}
	}
}

func alpha(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return w != ""
}

// table builds the form → representative lemma table. Lemmas that share
// two or more forms (the noun "vraag" and the verb "vragen") are one
// group, represented by its shortest lemma; a form of several groups
// belongs to the one whose lemma it is, else to the group with the shortest
// representative. Only forms that differ from their representative are
// returned, sorted; keep, when not nil, says which forms to keep.
func (l *lemmatizer) table(keep func(form string) bool) []form {
	lemmasOf := map[string][]string{} // form → lemmas
	for _, e := range l.entries {
		l.forms(e, func(w, lemma string) {
			for _, x := range lemmasOf[w] {
				if x == lemma {
					return
				}
			}
			lemmasOf[w] = append(lemmasOf[w], lemma)
		})
	}
	// Count the forms each pair of lemmas shares.
	shared := map[[2]string]int{}
	for _, ls := range lemmasOf {
		if len(ls) < 2 || len(ls) > 8 {
			continue
		}
		for i := range ls {
			for j := i + 1; j < len(ls); j++ {
				a, b := ls[i], ls[j]
				if a > b {
					a, b = b, a
				}
				shared[[2]string{a, b}]++
			}
		}
	}
	uf := unionFind{}
	pairs := make([][2]string, 0, len(shared))
	for p, n := range shared {
		if n >= 2 {
			pairs = append(pairs, p)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		return pairs[i][0] < pairs[j][0] || pairs[i][0] == pairs[j][0] && pairs[i][1] < pairs[j][1]
	})
	for _, p := range pairs {
		uf.union(p[0], p[1])
	}
	var out []form
	for w, ls := range lemmasOf {
		if keep != nil && !keep(w) {
			continue
		}
		best := ""
		for _, lem := range ls {
			rep := uf.find(lem)
			if lem == w {
				best = rep
				break
			}
			if best == "" || shorter(rep, best) {
				best = rep
			}
		}
		if best != w {
			out = append(out, form{w, best})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].form < out[j].form })
	return out
}

// shorter orders representatives: shorter first, then alphabetically.
func shorter(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// unionFind groups lemmas; a group's root is its shortest lemma.
type unionFind map[string]string

func (u unionFind) find(x string) string {
	p, ok := u[x]
	if !ok || p == x {
		return x
	}
	r := u.find(p)
	u[x] = r
	return r
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if shorter(rb, ra) {
		ra, rb = rb, ra
	}
	u[rb] = ra
	u[ra] = ra
}
