package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// abbreviation reports whether word (lower case, without its full stop)
// is an abbreviation whose stop does not end a sentence. Dotted
// abbreviations (o.a., d.w.z., i.p.v.) and single initials need no entry: a
// word of single letters between dots is never a sentence end.
func abbreviation(word string) bool {
	switch word {
	case "bijv", "bv", "enz", "incl", "excl", "ca", "nr", "nrs", "tel", "art",
		"jl", "mr", "dhr", "mevr", "mw", "drs", "ir", "dr", "ing", "prof", "st",
		"blz", "pag", "evt", "resp", "zgn", "vgl", "max", "vs", "ong", "jr",
		"sr", "hr", "bijl", "afd",
		"jan", "feb", "mrt", "apr", "jun", "jul", "aug", "sep", "sept", "okt",
		"nov", "dec":
		return true
	}
	return false
}

// Sentences splits Dutch text into sentences, in order, trimmed and never
// empty. Every line is at least one sentence, so list items stay apart. A
// sentence ends at ".", "!", "?" or "…" (closing quotes and brackets stay
// with it) followed by white space, except when the next word starts with a
// lower-case letter, or the full stop ends a known abbreviation ("bijv.",
// "o.a.", "d.w.z.", "nr."), an initial ("J. Jansen") or a list number at
// the start of a line ("1. "). Stops inside numbers ("€ 84,40", "1.250",
// "3.5") and addresses ("www.gemeente.nl") never split, because no space
// follows them. Between sentences there is only white space: joined with
// spaces and line breaks, the sentences give back the text.
func Sentences(text string) []string {
	spans := sentenceSpans(text, nil)
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = text[s[0]:s[1]]
	}
	return out
}

// sentenceSpans appends the byte ranges of the sentences of text to out.
func sentenceSpans(text string, out [][2]int) [][2]int {
	for lo := 0; lo < len(text); {
		hi := strings.IndexByte(text[lo:], '\n')
		if hi < 0 {
			hi = len(text)
		} else {
			hi += lo
		}
		out = lineSpans(text, lo, hi, out)
		lo = hi + 1
	}
	return out
}

func lineSpans(text string, lo, hi int, out [][2]int) [][2]int {
	line := text[:hi]
	start := lo
	for i := lo; i < hi; {
		r, n := utf8.DecodeRuneInString(line[i:])
		if !terminal(r) {
			i += n
			continue
		}
		stop := r == '.'
		j := i + n
		for j < hi {
			r2, n2 := utf8.DecodeRuneInString(line[j:])
			if !terminal(r2) {
				break
			}
			stop = false
			j += n2
		}
		k := j
		for k < hi {
			r2, n2 := utf8.DecodeRuneInString(line[k:])
			if !closer(r2) {
				break
			}
			k += n2
		}
		if k < hi {
			if r2, _ := utf8.DecodeRuneInString(line[k:]); !unicode.IsSpace(r2) {
				i = j
				continue
			}
		}
		if ends(line, lo, i, k, stop) {
			out = appendTrimmed(out, text, start, k)
			start = k
		}
		i = k
	}
	return appendTrimmed(out, text, start, hi)
}

// ends decides whether the punctuation at line[i:k] ends a sentence; stop
// says it is a single full stop.
func ends(line string, lo, i, k int, stop bool) bool {
	next := strings.TrimLeftFunc(line[k:], unicode.IsSpace)
	if next == "" {
		return true
	}
	if r, _ := utf8.DecodeRuneInString(next); unicode.IsLower(r) {
		return false
	}
	if !stop {
		return true
	}
	ws := strings.LastIndexFunc(line[lo:i], unicode.IsSpace) + 1 + lo
	word := strings.TrimLeft(line[ws:i], "([{\"'‘“«")
	if word == "" {
		return true
	}
	if abbreviation(strings.ToLower(word)) {
		return false
	}
	if initials(word) {
		return false
	}
	if ws == lo+leadingSpace(line[lo:]) && allDigits(word) {
		return false // "1. Vul het formulier in"
	}
	return true
}

// initials reports whether word is an initial ("J") or single letters
// between dots ("o.a", "d.w.z", "J.P"). A lone lower-case letter is not an
// initial: "Wij helpen u." ends a sentence.
func initials(word string) bool {
	if r, n := utf8.DecodeRuneInString(word); n == len(word) {
		return unicode.IsUpper(r)
	}
	for seg := range strings.SplitSeq(word, ".") {
		r, n := utf8.DecodeRuneInString(seg)
		if n != len(seg) || !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func leadingSpace(s string) int {
	return len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
}

func terminal(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

func closer(r rune) bool {
	switch r {
	case ')', ']', '}', '"', '\'', '’', '”', '»', '›':
		return true
	}
	return false
}

// appendTrimmed appends text[lo:hi] without surrounding white space, if
// anything is left.
func appendTrimmed(out [][2]int, text string, lo, hi int) [][2]int {
	s := text[lo:hi]
	lead := leadingSpace(s)
	s = strings.TrimRightFunc(s[lead:], unicode.IsSpace)
	if s == "" {
		return out
	}
	return append(out, [2]int{lo + lead, lo + lead + len(s)})
}
