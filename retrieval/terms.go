package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Analyzer is a light Dutch analyzer for the hot path: re-ranking and
// answer composition compare the question with a few dozen passages per
// request, where the full index analyzer (Snowball, dictionary compounds)
// costs too much. It folds case and diacritics, drops stop words, strips
// the common Dutch inflections and adds the known part at the end of a
// compound ("omgevingsvergunning" → also "vergunning"). The same function
// serves question and passage, so they meet even where its stems are not
// linguistically exact.
type Analyzer struct {
	parts    map[string]bool
	maxPart  int
	stopword map[string]bool
}

// NewAnalyzer returns the analyzer with the built-in compound parts and
// stop words.
func NewAnalyzer() *Analyzer {
	a := &Analyzer{parts: map[string]bool{}, stopword: map[string]bool{}}
	for _, p := range CompoundParts() {
		s := Stem(p)
		a.parts[s] = true
		a.maxPart = max(a.maxPart, len(s))
	}
	for _, w := range strings.Fields(dutchStopwords) {
		a.stopword[w] = true
	}
	return a
}

// Terms returns the terms of text in order; a compound's part follows the
// compound.
func (a *Analyzer) Terms(text string) []string {
	out := make([]string, 0, len(text)/6)
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := Fold(text[start:end])
		start = -1
		if a.stopword[w] || len(w) < 2 {
			return
		}
		s := Stem(w)
		out = append(out, s)
		if p := a.suffixPart(s); p != "" {
			out = append(out, p)
			if m := a.modifier(s[:len(s)-len(p)]); m != "" {
				out = append(out, m)
			}
		}
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

// suffixPart returns the longest known part that ends s and is shorter
// than s by at least three letters, or "".
func (a *Analyzer) suffixPart(s string) string {
	if len(s) < 7 {
		return ""
	}
	for i := max(1, len(s)-a.maxPart); i <= len(s)-4; i++ {
		if i < 3 {
			continue
		}
		if a.parts[s[i:]] {
			return s[i:]
		}
	}
	return ""
}

// modifier returns the term of the first part of a compound whose known
// last part has been cut off ("bewoners" of "bewonersvergunning" →
// "bewoner"), without the linking -s, or "" when too little is left.
func (a *Analyzer) modifier(m string) string {
	if len(m) > 5 && m[len(m)-1] == 's' {
		m = m[:len(m)-1]
	}
	if len(m) < 4 || a.stopword[m] {
		return ""
	}
	return Stem(m)
}

// Stem strips common Dutch inflections from a folded, lower-case word:
// plural -en/-s, -heden → -heid, -ingen → -ing, adjective -e, and restores a
// long vowel the spelling shortened ("vragen" → "vraag", "grote" → "groot").
func Stem(w string) string {
	n := len(w)
	switch {
	case n > 7 && strings.HasSuffix(w, "heden"):
		return w[:n-5] + "heid"
	case n > 6 && strings.HasSuffix(w, "ingen"):
		return w[:n-2]
	case n > 4 && strings.HasSuffix(w, "en"):
		return restore(w[:n-2])
	case n > 5 && strings.HasSuffix(w, "s") && strings.ContainsRune("rlnm", rune(w[n-2])):
		return w[:n-1]
	case n > 4 && strings.HasSuffix(w, "e") && !isVowel(w[n-2]):
		return restore(w[:n-1])
	case n > 4 && (w[n-1] == 't' || w[n-1] == 'd') && !isVowel(w[n-2]) && w[n-2] != 't' && w[n-2] != 'd':
		// Verb forms: "vraagt" → "vraag", "woont" → "woon". Nouns ending in
		// -t lose it too ("paspoort" → "paspoor"), on both sides alike; a
		// final -d sounds as -t and is a common misspelling of it
		// ("paspoord").
		return w[:n-1]
	}
	return w
}

// restore undoes what Dutch spelling did to a stem before an ending: a
// doubled consonant after a short vowel ("terrass" → "terras"), a long
// vowel written single in an open syllable ("vrag" → "vraag", "gev" →
// "geev"), and a voiced final consonant ("geev" → "geef", "huiz" →
// "huis"), so that "geven" meets "geeft" and "huizen" meets "huis".
func restore(s string) string {
	if u := undouble(s); u != s {
		return u
	}
	s = lengthen(s)
	switch n := len(s); {
	case n > 2 && s[n-1] == 'v':
		return s[:n-1] + "f"
	case n > 2 && s[n-1] == 'z':
		return s[:n-1] + "s"
	}
	return s
}

// undouble turns a final double consonant into one ("bakk" → "bak").
func undouble(s string) string {
	n := len(s)
	if n > 2 && s[n-1] == s[n-2] && !isVowel(s[n-1]) {
		return s[:n-1]
	}
	return s
}

// lengthen doubles the vowel of a final consonant-vowel-consonant
// ("vrag" → "vraag"), as Dutch spelling does in the singular. An e is
// doubled only in a word of one syllable ("gev" → "geev"); in a longer
// one it is mostly a toneless e ("regel", "wandel").
func lengthen(s string) string {
	n := len(s)
	if n < 3 || !utf8.ValidString(s) {
		return s
	}
	c1, v, c2 := s[n-3], s[n-2], s[n-1]
	if isVowel(c1) || isVowel(c2) || !strings.ContainsRune("aoue", rune(v)) {
		return s
	}
	if v == 'e' && syllables(s) > 1 {
		return s
	}
	if n > 3 && isVowel(s[n-4]) {
		return s // "kleur", "vuur": already a long vowel
	}
	if c2 == 'w' || c2 == 'j' {
		return s
	}
	return s[:n-1] + string(v) + string(c2)
}

// syllables counts the vowel groups of s.
func syllables(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		v := isVowel(s[i])
		if v && !in {
			n++
		}
		in = v
	}
	return n
}

func isVowel(b byte) bool { return strings.IndexByte("aeiouy", b) >= 0 }

// dutchStopwords are words too common to tell passages apart, plus the
// question words residents add ("hoe", "kan ik").
const dutchStopwords = `
aan al alle als alsjeblieft bij daar dan dat de deze die dit doe doen door
een en er ga gaan had heb heeft het hier hij hoe hun ik in is je jij kan
kun kunnen kunt maar me meer met mij mijn moet moeten mag mogen na naar
niet nog nu of om onder ons ook op over te tot u uit uw van voor waar
wanneer wat we welk welke wie wij wil willen word wordt zal ze zich zijn
zo zou graag even eigenlijk iets ergens
`
