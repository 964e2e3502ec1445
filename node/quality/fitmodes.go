package quality

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/assistent-nl/assistent/internal/logreg"
	"github.com/assistent-nl/assistent/node/answer"
)

// ModeTargets are what FitModes chooses the thresholds for.
type ModeTargets struct {
	// Precision is the share of stated answers that must cite a right
	// page, on the fitting data.
	Precision float64
	// MaxRefusal bounds the share of answerable questions that get no
	// suggestion either.
	MaxRefusal float64
}

// CurvePoint is one threshold on P(right) with the share of answerable
// questions answered at or above it (coverage) and the share of those that
// cite a right page (accuracy).
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"`
	Accuracy  float64 `json:"accuracy"`
}

// ModeFit is the outcome of FitModes.
type ModeFit struct {
	Model   answer.ModeModel  `json:"model"`
	Config  answer.ModeConfig `json:"config"`
	Samples int               `json:"samples"`
	Curve   []CurvePoint      `json:"curve"`
}

// modeLabels returns whether the answerer's own answer (before the mode
// was chosen) cites a right page, or, when it cited nothing, whether the
// first passage is from one; and whether a right page is among the first
// three distinct pages of the passages.
func modeLabels(r AnswerResult) (right, about bool) {
	if len(r.Relevant) == 0 {
		return false, false
	}
	for _, id := range r.Generated {
		right = right || slices.Contains(r.Relevant, id)
	}
	if len(r.Generated) == 0 && len(r.Passages) > 0 {
		right = slices.Contains(r.Relevant, r.Passages[0])
	}
	var seen []string
	for _, id := range r.Passages {
		if !slices.Contains(seen, id) {
			seen = append(seen, id)
		}
		if len(seen) == 3 {
			break
		}
	}
	for _, id := range seen {
		about = about || slices.Contains(r.Relevant, id)
	}
	return right, about
}

// FitModes fits the mode model on results that carry features (questions
// the calibrated model decided, see AnswerResult.Features) and chooses the
// thresholds for targets on the same data: AnswerAt, the lowest threshold
// on P(right) whose answers meet the precision, and SuggestAt, the highest
// threshold on P(about) that leaves at most MaxRefusal of the answerable
// questions without an answer or a suggestion.
func FitModes(results []AnswerResult, targets ModeTargets) (ModeFit, error) {
	var xs [][]float64
	var rights, abouts, answerable []bool
	for _, r := range results {
		if len(r.Features) != len(answer.FeatureNames) {
			continue
		}
		right, about := modeLabels(r)
		xs, rights, abouts = append(xs, r.Features), append(rights, right), append(abouts, about)
		answerable = append(answerable, len(r.Relevant) > 0)
	}
	if len(xs) < 20 {
		return ModeFit{}, fmt.Errorf("fit modes: %d questions with features, need at least 20", len(xs))
	}
	opt := logreg.DefaultOptions()
	var fit ModeFit
	var err error
	if fit.Model.Right, err = logreg.Fit(xs, rights, opt); err != nil {
		return ModeFit{}, fmt.Errorf("fit modes (right): %w", err)
	}
	if fit.Model.About, err = logreg.Fit(xs, abouts, opt); err != nil {
		return ModeFit{}, fmt.Errorf("fit modes (about): %w", err)
	}
	fit.Model.Right.Names, fit.Model.About.Names = answer.FeatureNames, answer.FeatureNames
	fit.Samples = len(xs)
	pr, pa := make([]float64, len(xs)), make([]float64, len(xs))
	for i, x := range xs {
		pr[i], pa[i] = fit.Model.Right.Prob(x), fit.Model.About.Prob(x)
	}
	nAnswerable := 0
	for _, a := range answerable {
		if a {
			nAnswerable++
		}
	}
	if nAnswerable == 0 {
		return ModeFit{}, errors.New("fit modes: no answerable question")
	}
	point := func(t float64) CurvePoint {
		var n, ok, ans int
		for i := range xs {
			if pr[i] >= t && !answer.NothingShared(xs[i]) {
				n++
				if rights[i] {
					ok++
				}
				if answerable[i] {
					ans++
				}
			}
		}
		return CurvePoint{Threshold: r4(t), Coverage: share(ans, nAnswerable), Accuracy: share(ok, n)}
	}
	for t := 0.05; t < 1; t += 0.05 {
		fit.Curve = append(fit.Curve, point(t))
	}
	// The lowest threshold whose answers are precise enough; the candidate
	// thresholds are the probabilities themselves.
	cands := slices.Clone(pr)
	sort.Float64s(cands)
	fit.Config.AnswerAt = 1.01
	for _, t := range cands {
		if p := point(t); p.Accuracy >= targets.Precision {
			fit.Config.AnswerAt = t
			break
		}
	}
	// The highest threshold on P(about) that refuses few enough answerable
	// questions outright.
	cands = slices.Clone(pa)
	sort.Float64s(cands)
	fit.Config.SuggestAt = 0
	for _, t := range cands {
		hard := 0
		for i := range xs {
			if answerable[i] && pr[i] < fit.Config.AnswerAt && (pa[i] < t || answer.NothingShared(xs[i])) {
				hard++
			}
		}
		if float64(hard)/float64(nAnswerable) > targets.MaxRefusal {
			break
		}
		fit.Config.SuggestAt = t
	}
	fit.Config.SuggestAt = min(fit.Config.SuggestAt, fit.Config.AnswerAt)
	return fit, nil
}
