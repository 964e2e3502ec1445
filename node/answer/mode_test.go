package answer_test

import (
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
)

// The embedded mode model is valid and orders questions sensibly: a
// question whose best page the lexical and vector lists agree on, that the
// page covers and the answerer is sure of, is likelier answered than one
// the page barely touches.
func TestDefaultModeModel(t *testing.T) {
	m, err := answer.DefaultModeModel()
	if err != nil {
		t.Fatal(err)
	}
	strong := answer.Features{Confidence: 0.8, TopScore: 2, Margin: 0.3, Agreement: 1, Coverage: 1, TitleMatch: 0.8, Spread: 0.6, Length: 1.6, Shared: 1}
	weak := answer.Features{Confidence: 0.1, TopScore: 0.5, Margin: 0.05, Agreement: 0.1, Coverage: 0.3, TitleMatch: 0.1, Spread: 1, Length: 1.6, Shared: 0.4}
	ms, ps := m.Decide(strong, m.Thresholds)
	mw, pw := m.Decide(weak, m.Thresholds)
	if ps <= pw || ms != answer.ModeAnswer || mw == answer.ModeAnswer {
		t.Errorf("strong: %s %.3f, weak: %s %.3f", ms, ps, mw, pw)
	}
	if th := m.Thresholds; th.AnswerAt <= 0 || th.AnswerAt > 1 || th.SuggestAt <= 0 || th.SuggestAt > 1 {
		t.Errorf("thresholds %+v", th)
	}
}

func TestModeConfig_Validate(t *testing.T) {
	for _, c := range []answer.ModeConfig{{AnswerAt: -0.1}, {SuggestAt: 1.5}, {AnswerAt: 2}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (answer.ModeConfig{AnswerAt: 1.01, SuggestAt: 0}).Validate(); err != nil {
		t.Errorf("always suggest: %v", err)
	}
}

// When no page offered has any of the question's terms, none is about it:
// no suggestion, whatever the models say.
func TestModeModel_NothingShared(t *testing.T) {
	m, err := answer.DefaultModeModel()
	if err != nil {
		t.Fatal(err)
	}
	f := answer.Features{Confidence: 0.9, TopScore: 3, Agreement: 1, Coverage: 0, Length: 1, Shared: 0}
	if mode, _ := m.Decide(f, answer.ModeConfig{AnswerAt: 0.01, SuggestAt: 0.01}); mode != answer.ModeNoInfo {
		t.Errorf("mode %s, want noinfo", mode)
	}
	f.Shared = 0.5 // another page has some of them
	if mode, _ := m.Decide(f, answer.ModeConfig{AnswerAt: 0.01, SuggestAt: 0.01}); mode != answer.ModeAnswer {
		t.Errorf("mode %s, want answer", mode)
	}
}
