package answer

import (
	_ "embed" // the fitted mode model
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/assistent-nl/assistent/internal/logreg"
)

// RouteExtractive names the built-in extractive answerer's route
// (node/answer/extractive) in answers.
const RouteExtractive = "extractive"

// MaxSuggestions bounds the pages a reply in mode suggest offers.
const MaxSuggestions = 3

// ModeConfig holds the thresholds of the choice of mode: at or above
// AnswerAt on the calibrated probability that the best page answers
// (ModeModel.Right) the reply is an answer; else at or above SuggestAt on
// the probability that a page among the first three is about the question
// (ModeModel.About) a suggestion; else no information. A model route's
// answer, which the model does not score, is held against the thresholds
// with its own confidence. The zero ModeConfig means: the thresholds
// fitted with the model, and FallbackModeConfig for a model route's
// confidence.
type ModeConfig struct {
	AnswerAt  float64 `json:"answer_at"`
	SuggestAt float64 `json:"suggest_at"`
}

// Validate reports the first invalid field. A threshold above 1 is never
// reached: answer_at 1.01 turns every answer into a suggestion.
func (c ModeConfig) Validate() error {
	switch {
	case c.SuggestAt < 0 || c.SuggestAt > 1.01:
		return errors.New("answer.modes.suggest_at: must be in [0, 1.01]")
	case c.AnswerAt < 0 || c.AnswerAt > 1.01:
		return errors.New("answer.modes.answer_at: must be in [0, 1.01]")
	}
	return nil
}

// IsZero reports whether c is the zero ModeConfig.
func (c ModeConfig) IsZero() bool { return c == ModeConfig{} }

// FallbackModeConfig holds the thresholds used when no fitted model is
// available: on the answerer's own confidence.
var FallbackModeConfig = ModeConfig{AnswerAt: 0.2, SuggestAt: 0.08}

// Suggestion returns the reply in mode suggest: the assistant is not sure
// its sources answer the question, says so, and offers the first
// MaxSuggestions distinct pages among req.Passages with the referral.
// Without passages it is Refusal.
func Suggestion(req Request, confidence float64) Answer {
	return suggestion(req, confidence, textsFor(req.Lang).Suggest)
}

// suggestion is Suggestion with its opening sentence.
func suggestion(req Request, confidence float64, lead string) Answer {
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
	h := NewHandoff(req.Referral, req.Lang)
	var b strings.Builder
	b.WriteString(lead)
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

// Features are what the choice of mode is decided on: measures of how well
// the retrieved pages fit a question that carry over to new questions (no
// word lists). Vector gives them in the order of FeatureNames.
type Features struct {
	Confidence float64 // the generator's own confidence, 0..1
	TopScore   float64 // log(1 + the retrieval score of the cited page's best passage)
	Margin     float64 // relative gap between the cited page's score and the best other page's
	Agreement  float64 // how high the lexical and vector lists rank the cited page's best passage: mean of 1/rank
	Coverage   float64 // weighted share of the question's terms found in the cited page
	TitleMatch float64 // weighted share of the question's terms in the cited passage's title and section
	Spread     float64 // distinct pages among the first five passages, over five
	Length     float64 // log(1 + number of question terms)
	English    float64 // 1 for a question in English
	// Shared is the weighted share of the question's terms found in the
	// first three pages together: 0 when no page offered has any of them.
	Shared float64
}

// FeatureNames names the elements of Features.Vector.
var FeatureNames = []string{"confidence", "top_score", "margin", "agreement", "coverage", "title_match", "spread", "length", "english", "shared"}

// Vector returns f as a slice in the order of FeatureNames.
func (f Features) Vector() []float64 {
	return []float64{f.Confidence, f.TopScore, f.Margin, f.Agreement, f.Coverage, f.TitleMatch, f.Spread, f.Length, f.English, f.Shared}
}

// sharedIndex is the position of Shared in Vector.
const sharedIndex = 9

// NothingShared reports whether feature vector x (Features.Vector) says
// that no page offered has any of the question's terms: then no source is
// about the question, whatever a model says.
func NothingShared(x []float64) bool { return len(x) > sharedIndex && x[sharedIndex] == 0 }

// FeaturesOf measures req's passages against its question (or focus) and
// the generated answer a. terms analyses text into index terms.
func FeaturesOf(req Request, a Answer, terms func(string) []string) Features {
	f := Features{Confidence: a.Confidence}
	if req.Lang == "en" {
		f.English = 1
	}
	focus := req.Question
	if req.Focus != "" {
		focus = req.Focus
	}
	q := map[string]bool{}
	for _, t := range terms(focus) {
		q[t] = true
	}
	f.Length = math.Log1p(float64(len(q)))
	ps := req.Passages
	if len(ps) == 0 || len(q) == 0 {
		return f
	}
	// The page the features describe is the one the answer cites first
	// (the answerer may prefer another page than retrieval's first), so
	// that the model estimates whether that page is right.
	best := ps[0]
	if len(a.Citations) > 0 {
		c := a.Citations[0]
		for _, p := range ps {
			if p.DocID == c.ID && p.URL == c.URL {
				best = p
				break
			}
		}
	}
	f.TopScore = math.Log1p(math.Max(0, builtin(best)))
	// Margin: how far the cited page's best score is above the best other
	// page's (negative when retrieval ranked another page higher).
	for _, p := range ps {
		if p.DocID != best.DocID || p.URL != best.URL {
			if top := math.Max(builtin(best), builtin(p)); top > 0 {
				f.Margin = (builtin(best) - builtin(p)) / top
			}
			break
		}
	}
	if best.Lexical > 0 {
		f.Agreement += 0.5 / float64(best.Lexical)
	}
	if best.Vector > 0 {
		f.Agreement += 0.5 / float64(best.Vector)
	}
	// The passages of the first three pages, for Shared.
	first3 := map[string]bool{}
	var text3 strings.Builder
	for _, p := range ps {
		if k := p.URL + "\x00" + p.DocID; !first3[k] {
			if len(first3) == 3 {
				continue
			}
			first3[k] = true
		}
		text3.WriteString(p.Title + " \n " + p.Section + " \n " + p.Text + " \n ")
	}
	docs := map[string]bool{}
	for i, p := range ps {
		if i == 5 {
			break
		}
		docs[p.URL+"\x00"+p.DocID] = true
	}
	f.Spread = float64(len(docs)) / 5

	// Term weights: IDF over the offered passages, so that a question word
	// every passage has counts little and one that none has counts most.
	sets := make([]map[string]bool, len(ps))
	for i, p := range ps {
		sets[i] = setOf(terms(p.Title + " \n " + p.Section + " \n " + p.Text))
	}
	page := best.Title + " \n " + best.Text
	for _, pg := range req.Pages {
		if pg.DocID == best.DocID && pg.URL == best.URL {
			var b strings.Builder
			b.WriteString(pg.Title)
			for _, p := range pg.Passages {
				b.WriteString(" \n " + p.Section + " \n " + p.Text)
			}
			page = b.String()
			break
		}
	}
	inPage := setOf(terms(page))
	inTitle := setOf(terms(best.Title + " \n " + best.Section))
	in3 := setOf(terms(text3.String()))
	var total, cov, tit, shared float64
	for t := range q {
		df := 0
		for _, s := range sets {
			if s[t] {
				df++
			}
		}
		w := math.Log(1 + float64(len(sets)+1)/(float64(df)+0.5))
		total += w
		if inPage[t] {
			cov += w
		}
		if inTitle[t] {
			tit += w
		}
		if inPage[t] || in3[t] {
			shared += w
		}
	}
	f.Coverage, f.TitleMatch, f.Shared = cov/total, tit/total, shared/total
	return f
}

// builtin is p's score on the built-in search's scale.
func builtin(p Passage) float64 {
	if p.Base != 0 {
		return p.Base
	}
	return p.Score
}

func setOf(ts []string) map[string]bool {
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}

// ModeModel holds the two calibrated models the mode is chosen with.
type ModeModel struct {
	// Right estimates P(the best page answers the question): an answer is
	// stated when it reaches ModeConfig.AnswerAt.
	Right logreg.Model `json:"right"`
	// About estimates P(a page among the first three is about the
	// question): the pages are suggested when it reaches
	// ModeConfig.SuggestAt; below, no source is about it.
	About logreg.Model `json:"about"`
	// Thresholds are the ones fitted with the models.
	Thresholds ModeConfig `json:"thresholds"`
}

// Validate reports a model that does not fit Features.
func (m ModeModel) Validate() error {
	if err := m.Thresholds.Validate(); err != nil {
		return fmt.Errorf("mode model: %w", err)
	}
	for name, l := range map[string]logreg.Model{"right": m.Right, "about": m.About} {
		if err := l.Validate(); err != nil {
			return fmt.Errorf("mode model %s: %w", name, err)
		}
		if len(l.Weights) != len(FeatureNames) {
			return fmt.Errorf("mode model %s: %d weights for %d features", name, len(l.Weights), len(FeatureNames))
		}
	}
	return nil
}

// Decide returns the mode for f under thresholds c, and the calibrated
// probability that the best page answers. When no page offered has any
// of the question's terms, none is about it, whatever the models say.
func (m ModeModel) Decide(f Features, c ModeConfig) (Mode, float64) {
	x := f.Vector()
	right := m.Right.Prob(x)
	switch {
	case NothingShared(x):
		return ModeNoInfo, right
	case right >= c.AnswerAt:
		return ModeAnswer, right
	case m.About.Prob(x) >= c.SuggestAt:
		return ModeSuggest, right
	}
	return ModeNoInfo, right
}

//go:embed modes.json
var modesJSON []byte

// DefaultModeModel returns the model fitted on the project's own
// development questions (see node/answer/DESIGN.md for how it is refitted).
func DefaultModeModel() (ModeModel, error) {
	var m ModeModel
	if err := json.Unmarshal(modesJSON, &m); err != nil {
		return ModeModel{}, fmt.Errorf("mode model: %w", err)
	}
	return m, m.Validate()
}
