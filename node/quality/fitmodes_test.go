package quality_test

import (
	"math/rand/v2"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/quality"
)

// TestFitModes fits on replies whose coverage feature decides whether the
// answerer cited the right page, and checks that the chosen thresholds
// meet the targets on the same data.
func TestFitModes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var rs []quality.AnswerResult
	for i := range 400 {
		cov := r.Float64()
		f := answer.Features{Coverage: cov, Confidence: r.Float64(), Length: 2, Shared: 1}
		res := quality.AnswerResult{Relevant: []string{"a"}, Features: f.Vector(), Passages: []string{"b", "c", "d"}}
		switch {
		case i%5 == 0: // no page answers
			res.Relevant = []string{}
			res.Generated = []string{"x"}
		case r.Float64() < cov: // the better the coverage, the likelier right
			res.Generated = []string{"a"}
			res.Passages = []string{"a", "b"}
		default:
			res.Generated = []string{"b"}
			if r.Float64() < 0.7 {
				res.Passages = []string{"b", "a"}
			}
		}
		rs = append(rs, res)
	}
	fit, err := quality.FitModes(rs, quality.ModeTargets{Precision: 0.85, MaxRefusal: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := (answer.ModeModel{Right: fit.Model.Right, About: fit.Model.About, Thresholds: fit.Config}).Validate(); err != nil {
		t.Fatal(err)
	}
	// Coverage carries the signal; the confidence feature is noise here.
	if wc, wn := fit.Model.Right.Weights[4], fit.Model.Right.Weights[0]; wc < 0.5 || wn > 0.3 || wn < -0.3 {
		t.Errorf("right weights: coverage %.3f, noise %.3f", wc, wn)
	}
	var answered, right, answerable, hard int
	for _, res := range rs {
		mode, _ := fit.Model.Decide(featuresOf(res.Features), fit.Config)
		if len(res.Relevant) > 0 {
			answerable++
			if mode == answer.ModeNoInfo {
				hard++
			}
		}
		if mode == answer.ModeAnswer {
			answered++
			if len(res.Relevant) > 0 && res.Generated[0] == "a" {
				right++
			}
		}
	}
	if answered == 0 || float64(right)/float64(answered) < 0.85 {
		t.Errorf("answers %d, right %d: precision below target", answered, right)
	}
	if float64(hard)/float64(answerable) > 0.1 {
		t.Errorf("hard refusals %d of %d answerable", hard, answerable)
	}
	// The curve runs from full coverage down, and accuracy rises with it.
	c := fit.Curve
	if len(c) < 10 || c[0].Coverage < c[len(c)-1].Coverage || c[0].Accuracy > c[len(c)/2].Accuracy {
		t.Errorf("curve %+v", c)
	}
	if _, err := quality.FitModes(rs[:10], quality.ModeTargets{Precision: 0.9}); err == nil {
		t.Error("fit on 10 questions accepted")
	}
}

func featuresOf(v []float64) answer.Features {
	return answer.Features{Confidence: v[0], TopScore: v[1], Margin: v[2], Agreement: v[3], Coverage: v[4],
		TitleMatch: v[5], Spread: v[6], Length: v[7], English: v[8], Shared: v[9]}
}
