package quality

import (
	"regexp"
	"slices"
	"strings"

	"github.com/assistent-nl/assistent/node/answer"
)

// ModeSummary sums up the replies to a question set by mode: how often the
// right page is offered, how often an answerable question is refused, and
// how often a stated answer cites the right page. Unanswerable questions
// (no relevant page) count only where named.
type ModeSummary struct {
	Answerable   int                 `json:"answerable"`
	Unanswerable int                 `json:"unanswerable"`
	Counts       map[answer.Mode]int `json:"counts"` // over every question
	// RightAt3 is the share of answerable questions answered in mode
	// answer or suggest with a relevant page among the first three
	// citations.
	RightAt3 float64 `json:"right_at_3"`
	// HardRefusal is the share of answerable questions in mode noinfo or
	// refuse.
	HardRefusal float64 `json:"hard_refusal"`
	// AnswerPrecision is the share of replies in mode answer (to any
	// question of the set) that cite a relevant page.
	AnswerPrecision float64 `json:"answer_precision"`
	// AnswerCoverage is the share of answerable questions in mode answer.
	AnswerCoverage float64 `json:"answer_coverage"`
	// UnansweredNoInfo is the share of unanswerable questions in mode
	// noinfo or refuse; UnansweredAnswer the share in mode answer.
	UnansweredNoInfo float64 `json:"unanswerable_noinfo"`
	UnansweredAnswer float64 `json:"unanswerable_answer"`
	// Defects is the share of replies in mode answer with a stitching
	// defect (see StitchDefect).
	Defects float64 `json:"stitching_defects"`
}

// SummariseModes computes a ModeSummary over results.
func SummariseModes(results []AnswerResult) ModeSummary {
	s := ModeSummary{Counts: map[answer.Mode]int{}}
	var right, hard, answers, rightAnswers, answeredOK, unNo, unAns, defects int
	for _, r := range results {
		m := r.Mode
		s.Counts[m]++
		cited := false
		for i, id := range r.Citations {
			if i < 3 && slices.Contains(r.Relevant, id) {
				cited = true
			}
		}
		if m == answer.ModeAnswer {
			answers++
			if cited {
				rightAnswers++
			}
			if r.Defect != "" {
				defects++
			}
		}
		if len(r.Relevant) == 0 {
			s.Unanswerable++
			switch m {
			case answer.ModeNoInfo, answer.ModeRefuse:
				unNo++
			case answer.ModeAnswer:
				unAns++
			}
			continue
		}
		s.Answerable++
		switch m {
		case answer.ModeAnswer, answer.ModeSuggest:
			if cited {
				right++
			}
			if m == answer.ModeAnswer {
				answeredOK++
			}
		default:
			hard++
		}
	}
	s.RightAt3 = share(right, s.Answerable)
	s.HardRefusal = share(hard, s.Answerable)
	s.AnswerCoverage = share(answeredOK, s.Answerable)
	s.AnswerPrecision = share(rightAnswers, answers)
	s.UnansweredNoInfo = share(unNo, s.Unanswerable)
	s.UnansweredAnswer = share(unAns, s.Unanswerable)
	s.Defects = share(defects, answers)
	return s
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return r4(float64(k) / float64(n))
}

// dangling matches a sentence that opens on a word pointing back to a
// previous sentence (Dutch connectives and demonstratives).
var dangling = regexp.MustCompile(`^(Dan|En|Maar|Ook|Dus|Daarom|Dit|Deze|Daar)\b`)

// answerSentence splits an answer into sentences: at line breaks and after
// a full stop, question or exclamation mark followed by a space.
var answerSentence = regexp.MustCompile(`[^\n.!?]+(?:[.!?]+|$)`)

// citationMark matches the "[n]" markers of an answer.
var citationMark = regexp.MustCompile(`\s*\[\d+\]`)

// StitchDefect returns why answer text is badly stitched, or "": a raw
// table separator " | ", or a sentence that opens on a dangling
// connective ("Dan vraagt u ...") without the sentence it depends on: it
// is the first of the answer or of its line, or the sentence before it in
// the answer is not the one before it on any of the cited pages. A
// sentence after a question ("Verhuist u? Dan ...") has its context.
func StitchDefect(text string, sources []answer.Passage) string {
	text = citationMark.ReplaceAllString(text, "")
	if strings.Contains(text, " | ") {
		return "table separator"
	}
	pages := make([]string, len(sources))
	for i, s := range sources {
		pages[i] = strings.Join(strings.Fields(s.Text), " ")
	}
	for _, line := range strings.Split(text, "\n") {
		prev := ""
		for _, s := range answerSentence.FindAllString(line, -1) {
			s = strings.TrimSpace(strings.TrimLeft(s, "-• "))
			if s == "" {
				continue
			}
			if dangling.MatchString(s) && !strings.HasSuffix(prev, "?") && !adjacent(prev, s, pages) {
				return "dangling: " + strings.Fields(s)[0]
			}
			prev = s
		}
	}
	return ""
}

// adjacent reports whether sentence b follows sentence a on one of pages.
func adjacent(a, b string, pages []string) bool {
	if a == "" {
		return false
	}
	ab := strings.Join(strings.Fields(a+" "+b), " ")
	for _, p := range pages {
		if strings.Contains(p, ab) {
			return true
		}
	}
	return false
}
