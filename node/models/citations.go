package models

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/retrieval"
)

// DefaultMinSupport is the share of a sentence's content words that must
// occur in the passages it cites. Calibrated on the Dutch examples in
// citations_test.go: sentences a model copies or paraphrases from the cited
// page score 0.67–1.0, sentences that add facts from elsewhere 0–0.5.
const DefaultMinSupport = 0.6

// ErrUnsupported is wrapped by an *UnsupportedError: too little of a
// model's answer is supported by the passages it cites, and the caller
// should refuse.
var ErrUnsupported = errors.New("answer not supported by its sources")

// UnsupportedError says how much of an answer CheckCitations kept; it
// wraps ErrUnsupported.
type UnsupportedError struct {
	Kept    int // sentences with information that were supported
	Dropped int // sentences with information that were not
}

// Error reports the counts.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%v: %d of %d sentences supported", ErrUnsupported, e.Kept, e.Kept+e.Dropped)
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// CitationCheck is the outcome of CheckCitations.
type CitationCheck struct {
	// Text is the answer with only the supported sentences and the
	// sentences without information ("Dat kan zo:"), citations written as
	// "[n]" in the passages' numbering, invalid ones removed.
	Text    string
	Kept    int     // sentences with information that were supported
	Dropped int     // sentences with information that were not
	Removed int     // citation numbers removed for naming no passage
	Support float64 // the lowest support share among the kept sentences
}

// spaceBeforeMark matches the space a removed citation leaves before a
// punctuation mark ("alles [9]." → "alles .").
var spaceBeforeMark = regexp.MustCompile(`[ \t]+([.!?,;:])`)

// markRE matches a canonical citation "[n]".
var markRE = regexp.MustCompile(`\[(\d{1,4})\]`)

// CheckCitations checks every sentence of a model's answer text against
// passages, where [n] cites passages[n-1]. A sentence with information
// (two content words or more, or a number) must carry at least one valid
// citation, or share those of the next sentence that has one, at least minSupport (<= 0 means DefaultMinSupport) of its
// content words must occur in the cited passages (title, heading and
// text), compared lower-cased, without diacritics and with simple Dutch
// stemming, and every number in it must occur there too. Sentences that
// fail are dropped; citation numbers outside 1..len(passages) are removed.
//
// When fewer than half of the sentences with information survive, or none
// does, it returns the check with an *UnsupportedError (wrapping
// ErrUnsupported), which the caller maps to a refusal.
func CheckCitations(text string, passages []answer.Passage, minSupport float64) (CitationCheck, error) {
	if minSupport <= 0 {
		minSupport = DefaultMinSupport
	}
	var res CitationCheck
	text = spaceBeforeMark.ReplaceAllString(canonicalCitations(text, len(passages), &res.Removed), "$1")
	// The words of the page a citation names: all its passages, since a
	// model may cite one passage of a page for what another one says.
	words := make([]map[string]bool, len(passages)) // lazily, per cited passage
	wordsOf := func(n int) map[string]bool {
		if words[n-1] == nil {
			c := passages[n-1]
			set := map[string]bool{}
			for _, p := range passages {
				if p.URL == c.URL && p.DocID == c.DocID {
					for _, w := range tokens(p.Title + "\n" + p.Section + "\n" + p.Text) {
						set[w] = true
					}
				}
			}
			words[n-1] = set
		}
		return words[n-1]
	}
	res.Support = 1
	var kept []string
	ss := sentences(text)
	// A sentence without a citation shares the citations of the next
	// sentence that has some: "Wilt u een paspoort? Neem een pasfoto mee.
	// [1]" is one claim, cited once.
	cites := make([][]string, len(ss))
	var next [][]string
	for i := len(ss) - 1; i >= 0; i-- {
		if m := markRE.FindAllStringSubmatch(ss[i], -1); len(m) > 0 {
			next = m
		}
		cites[i] = nil
		for _, m := range next {
			cites[i] = append(cites[i], m[1])
		}
	}
	for i, s := range ss {
		content, numbers := contentWords(markRE.ReplaceAllString(s, " "))
		if len(content) < 2 && len(numbers) == 0 || isQuestion(s) && len(numbers) == 0 {
			// A connective ("Dat kan zo:") or a question ("Wilt u een
			// paspoort?") claims nothing.
			kept = append(kept, s)
			continue
		}
		var cited []map[string]bool
		for _, ns := range cites[i] {
			n, _ := strconv.Atoi(ns)
			cited = append(cited, wordsOf(n))
		}
		found := func(w string) bool {
			for _, set := range cited {
				if set[w] {
					return true
				}
			}
			return false
		}
		hits := 0
		for _, w := range content {
			if found(w) {
				hits++
			}
		}
		share := 0.0
		if len(content) > 0 {
			share = float64(hits) / float64(len(content))
		} else {
			share = 1 // numbers only: they decide below
		}
		ok := len(cited) > 0 && share >= minSupport
		for _, n := range numbers {
			if !found(n) {
				ok = false
			}
		}
		if !ok {
			res.Dropped++
			continue
		}
		res.Kept++
		res.Support = min(res.Support, share)
		kept = append(kept, s)
	}
	if res.Kept == 0 {
		res.Support = 0
	}
	res.Text = strings.TrimSpace(strings.Join(strings.Fields(strings.Join(kept, " ")), " "))
	if res.Kept == 0 || res.Kept*2 < res.Kept+res.Dropped {
		return res, &UnsupportedError{Kept: res.Kept, Dropped: res.Dropped}
	}
	return res, nil
}

// canonicalCitations rewrites every citation group as "[n][m]" with only
// the numbers 1..n of existing passages; removed counts the others.
func canonicalCitations(text string, n int, removed *int) string {
	return citeRE.ReplaceAllStringFunc(text, func(g string) string {
		var b strings.Builder
		seen := map[int]bool{}
		for _, ns := range numberRE.FindAllString(g, -1) {
			k, err := strconv.Atoi(ns)
			if err != nil || k < 1 || k > n {
				*removed++
				continue
			}
			if !seen[k] {
				seen[k] = true
				fmt.Fprintf(&b, "[%d]", k)
			}
		}
		return b.String()
	})
}

// sentences cuts text after each sentence end and the citations after it,
// and at line breaks.
func sentences(text string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEndRE.FindAllStringIndex(text, -1) {
		if s := strings.TrimSpace(text[last:m[1]]); s != "" {
			out = append(out, s)
		}
		last = m[1]
	}
	if s := strings.TrimSpace(text[last:]); s != "" {
		out = append(out, s)
	}
	return out
}

// tokens returns the folded, stemmed words and the numbers of s.
func tokens(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(retrieval.Fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if isNumber(w) {
			out = append(out, w)
		} else {
			out = append(out, retrieval.Stem(w))
		}
	}
	return out
}

// contentWords returns the tokens of s without function words, and its
// numbers separately.
func contentWords(s string) (words, numbers []string) {
	for _, w := range tokens(s) {
		switch {
		case isNumber(w):
			numbers = append(numbers, w)
		case len(w) > 1 && !functionWords[w]:
			words = append(words, w)
		}
	}
	return words, numbers
}

func isNumber(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

// functionWords are Dutch and English words that carry no information of
// their own, folded and stemmed as tokens makes them.
var functionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
aan al alle als bij dan dat de deze die dit door een en er had heb heeft het
hier hij hoe hun ik in is je kan kunt kunnen maar me met mij mijn moet moeten
na naar niet nog nu of om ook op over te tot u uw van veel voor waar wat
wanneer was we wel wie wij wil worden wordt zal ze zich zij zijn zo zoals
dus daarna daarvoor daarom eerst geen hem haar hen ons onze jullie mee toe
the a an and or of to in on for is are be you your it this that with
`) {
		m[retrieval.Stem(w)] = true
	}
	return m
}()

// isQuestion reports whether sentence s, without its citations, ends in a
// question mark.
func isQuestion(s string) bool {
	return strings.HasSuffix(strings.TrimSpace(markRE.ReplaceAllString(s, "")), "?")
}
