package answer

import (
	"regexp"
	"strconv"
	"strings"
)

// A model's answer is only as good as its grounding. CheckSupport keeps
// the sentences of a model's answer that its cited sources support and
// drops the rest; when too little survives, the caller refuses.

// citeMark matches a citation "[n]".
var citeMark = regexp.MustCompile(`\[(\d{1,3})\]`)

// sentenceSplit ends a sentence: a full stop, question or exclamation mark
// and the citations after it.
var sentenceSplit = regexp.MustCompile(`[.!?](?:\s*\[\d{1,3}\])*(?:\s+|$)`)

// minSupport is the share of a sentence's content words that must occur
// in the passages it cites.
const minSupport = 0.5

// SupportResult says what CheckSupport kept.
type SupportResult struct {
	Answer  Answer
	Kept    int // sentences kept
	Dropped int // sentences without support
}

// CheckSupport returns a with only the sentences that are supported by the
// passages they cite: each sentence with content words must carry a
// citation [n] of a.Citations, and at least half of its content words
// (terms, as the index analyses them) must occur in the passages of the
// cited pages. Citations no kept sentence uses are dropped and the rest
// renumbered. Sentences that only connect ("Dat kan zo:") pass without a
// citation.
func CheckSupport(a Answer, passages []Passage, terms func(string) []string) SupportResult {
	// Terms of every cited page's passages, by citation number.
	pageTerms := make([]map[string]bool, len(a.Citations))
	for i, c := range a.Citations {
		set := map[string]bool{}
		for _, p := range passages {
			if p.URL == c.URL && (c.ID == "" || p.DocID == c.ID) {
				for _, t := range terms(p.Title + "\n" + p.Section + "\n" + p.Text) {
					set[t] = true
				}
			}
		}
		pageTerms[i] = set
	}
	var kept []string
	res := SupportResult{}
	for _, unit := range claims(a.Text) {
		// Every sentence of a unit is checked against the unit's citations.
		cites := citeMark.FindAllStringSubmatch(strings.Join(unit, " "), -1)
		for _, s := range unit {
			words := terms(citeMark.ReplaceAllString(s, ""))
			if len(words) < 3 && !citeMark.MatchString(s) {
				kept = append(kept, s) // a connective, not a claim
				continue
			}
			supported := map[string]bool{}
			for _, m := range cites {
				n, _ := strconv.Atoi(m[1])
				if n < 1 || n > len(pageTerms) {
					continue
				}
				for _, w := range words {
					if pageTerms[n-1][w] {
						supported[w] = true
					}
				}
			}
			if len(words) > 0 && float64(countIn(words, supported))/float64(len(words)) >= minSupport {
				kept = append(kept, s)
				res.Kept++
			} else {
				res.Dropped++
			}
		}
	}
	text := strings.Join(kept, " ")
	// Renumber the citations the kept sentences use.
	renum := map[int]int{}
	var cites []Citation
	text = citeMark.ReplaceAllStringFunc(text, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		if n < 1 || n > len(a.Citations) {
			return ""
		}
		k, ok := renum[n]
		if !ok {
			cites = append(cites, a.Citations[n-1])
			k = len(cites)
			renum[n] = k
		}
		return "[" + strconv.Itoa(k) + "]"
	})
	a.Text = strings.TrimSpace(strings.Join(strings.Fields(text), " "))
	if cites == nil {
		cites = []Citation{}
	}
	a.Citations = cites
	res.Answer = a
	return res
}

func countIn(words []string, set map[string]bool) int {
	n := 0
	for _, w := range words {
		if set[w] {
			n++
		}
	}
	return n
}

// claims groups the sentences of text into units that share a citation:
// sentences without one belong to the next cited sentence ("Verhuist u?
// Dan krijgt u geld terug. [1]"); sentences after the last citation stand
// alone.
func claims(text string) [][]string {
	var out [][]string
	var pending []string
	for _, s := range splitSentences(text) {
		pending = append(pending, s)
		if citeMark.MatchString(s) {
			out = append(out, pending)
			pending = nil
		}
	}
	for _, s := range pending {
		out = append(out, []string{s})
	}
	return out
}

// splitSentences cuts text after each sentence end and its citations.
func splitSentences(text string) []string {
	var out []string
	last := 0
	for _, m := range sentenceSplit.FindAllStringIndex(text, -1) {
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
