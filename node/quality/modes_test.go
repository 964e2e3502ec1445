package quality_test

import (
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/quality"
)

func TestStitchDefect(t *testing.T) {
	page := []answer.Passage{{Text: "Verhuist u naar het buitenland? Dan moet u dat melden. U doet dit bij de gemeente. Dit kan ook online."}}
	for _, tt := range []struct{ text, want string }{
		{"U doet dit bij de gemeente [1]. Dit kan ook online [1].", ""},
		{"Verhuist u naar het buitenland? Dan moet u dat melden [1].", ""},
		{"Dan moet u dat melden [1].", "dangling: Dan"},
		{"U doet dit bij de gemeente. En u betaalt niets.", "dangling: En"},
		{"Een paspoort kost geld.\nDit kan ook online [1].", "dangling: Dit"},
		{"Eerste hond | houder | € 84,00", "table separator"},
		{"Dagen: maandag tot vrijdag.", ""},
		{"Daarnaast geldt een regel.", ""}, // a word that only begins like a connective
	} {
		if got := quality.StitchDefect(tt.text, page); got != tt.want {
			t.Errorf("StitchDefect(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSummariseModes(t *testing.T) {
	rs := []quality.AnswerResult{
		{Relevant: []string{"a"}, Mode: answer.ModeAnswer, Citations: []string{"a"}},
		{Relevant: []string{"a"}, Mode: answer.ModeAnswer, Citations: []string{"b"}, Defect: "dangling: Dan"},
		{Relevant: []string{"a"}, Mode: answer.ModeSuggest, Citations: []string{"b", "c", "a"}},
		{Relevant: []string{"a"}, Mode: answer.ModeSuggest, Citations: []string{"b", "c", "d", "a"}},
		{Relevant: []string{"a"}, Mode: answer.ModeNoInfo},
		{Relevant: []string{}, Mode: answer.ModeNoInfo},
		{Relevant: []string{}, Mode: answer.ModeAnswer, Citations: []string{"x"}},
	}
	s := quality.SummariseModes(rs)
	if s.Answerable != 5 || s.Unanswerable != 2 {
		t.Fatalf("answerable %d, unanswerable %d", s.Answerable, s.Unanswerable)
	}
	for name, got := range map[string][2]float64{
		"right@3":          {s.RightAt3, 0.4},    // answer a, suggest with a third
		"hard refusal":     {s.HardRefusal, 0.2}, // one noinfo of five
		"answer precision": {s.AnswerPrecision, 0.3333},
		"answer coverage":  {s.AnswerCoverage, 0.4},
		"unans noinfo":     {s.UnansweredNoInfo, 0.5},
		"unans answer":     {s.UnansweredAnswer, 0.5},
		"defects":          {s.Defects, 0.3333},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
	if s.Counts[answer.ModeSuggest] != 2 || s.Counts[answer.ModeAnswer] != 3 {
		t.Errorf("counts %v", s.Counts)
	}
}
