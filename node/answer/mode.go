package answer

import (
	"errors"
	"fmt"
	"strings"
)

// MaxSuggestions bounds the pages a reply in mode suggest offers.
const MaxSuggestions = 3

// ModeConfig holds the thresholds on the calibrated probability that an
// answer cites the right page: at or above AnswerAt the reply is an
// answer, at or above SuggestAt (and below AnswerAt) a suggestion, below
// SuggestAt no information.
type ModeConfig struct {
	AnswerAt  float64
	SuggestAt float64
}

// DefaultModeConfig returns the calibrated thresholds.
func DefaultModeConfig() ModeConfig { return ModeConfig{AnswerAt: 0.2, SuggestAt: 0.08} }

// Validate reports the first invalid field.
func (c ModeConfig) Validate() error {
	switch {
	case c.SuggestAt < 0 || c.SuggestAt > 1:
		return errors.New("answer.modes.suggest_at: must be in [0, 1]")
	case c.AnswerAt < c.SuggestAt || c.AnswerAt > 1.01:
		return errors.New("answer.modes.answer_at: must be in [suggest_at, 1.01]")
	}
	return nil
}

// Suggestion returns the reply in mode suggest: the assistant is not sure
// its sources answer the question, says so, and offers the first
// MaxSuggestions distinct pages among req.Passages with the referral.
// Without passages it is Refusal.
func Suggestion(req Request, confidence float64) Answer {
	var cites []Citation
	seen := map[string]bool{}
	for _, p := range req.Passages {
		if len(cites) == MaxSuggestions {
			break
		}
		if k := p.URL + "\x00" + p.DocID; !seen[k] {
			seen[k] = true
			cites = append(cites, citationOf(p))
		}
	}
	if len(cites) == 0 {
		return Refusal(req, confidence)
	}
	m := textsFor(req.Lang)
	h := NewHandoff(req.Referral, req.Lang)
	var b strings.Builder
	b.WriteString(m.Suggest)
	for i, c := range cites {
		fmt.Fprintf(&b, "\n- %s [%d]", c.Title, i+1)
	}
	b.WriteString("\n" + h.Message)
	return Answer{
		Text:       b.String(),
		Mode:       ModeSuggest,
		Citations:  cites,
		Handoff:    &h,
		Confidence: confidence,
	}
}
