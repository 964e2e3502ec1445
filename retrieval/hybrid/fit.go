package hybrid

import (
	"errors"
	"fmt"
	"math"

	"github.com/assistent-nl/assistent/internal/logreg"
)

// JudgedPool is the re-ranker's pool for one question, every candidate
// judged: Relevant[i] says whether the candidate with Features[i] belongs
// to a page that answers the question.
type JudgedPool struct {
	Features []RerankFeatures
	Relevant []bool
}

// RerankFit tunes FitRerank.
type RerankFit struct {
	// L2 is the ridge penalty on the standardised weights; the examples
	// of one question weigh 1 together, so it compares to the number of
	// questions.
	L2 float64
	// Pointwise fits P(relevant | features) per candidate instead of
	// P(a ranks above b | features of a - features of b) per pair.
	Pointwise bool
}

// ErrNoPairs is returned by FitRerank when no pool has both a relevant and
// an irrelevant candidate.
var ErrNoPairs = errors.New("rerank fit: no pool has both relevant and irrelevant candidates")

// FitRerank fits the re-ranker's feature weights (in the order of
// RerankFeatureNames) to judged pools by logistic regression. Pairwise
// (the default) it is RankNet with a linear scorer: every relevant
// candidate of a pool against every irrelevant one of the same pool, as
// the difference of their features, both ways round; pointwise, every
// candidate with its judgement. The examples of one pool together weigh 1,
// so every question counts once, as in nDCG. Pools without both kinds of
// candidate teach nothing and are left out.
//
// The model is fitted on standardised features; its weights are mapped
// back to the raw ones (weight / scale; the mean shifts every candidate
// of a pool alike and does not change the order) and scaled so their
// absolute values sum to sum. A ranking does not depend on that scale;
// sum keeps the scores on the scale the rest of the node knows.
func FitRerank(pools []JudgedPool, fit RerankFit, sum float64) ([]float64, logreg.Model, error) {
	var xs [][]float64
	var ys []bool
	var ws []float64
	for _, p := range pools {
		var pos, neg [][]float64
		for i, f := range p.Features {
			if p.Relevant[i] {
				pos = append(pos, f.Vector())
			} else {
				neg = append(neg, f.Vector())
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		if fit.Pointwise {
			w := 1 / float64(len(pos)+len(neg))
			for _, x := range pos {
				xs, ys, ws = append(xs, x), append(ys, true), append(ws, w)
			}
			for _, x := range neg {
				xs, ys, ws = append(xs, x), append(ys, false), append(ws, w)
			}
			continue
		}
		w := 1 / float64(2*len(pos)*len(neg))
		for _, a := range pos {
			for _, b := range neg {
				d, r := make([]float64, len(a)), make([]float64, len(a))
				for j := range a {
					d[j], r[j] = a[j]-b[j], b[j]-a[j]
				}
				xs, ys, ws = append(xs, d, r), append(ys, true, false), append(ws, w, w)
			}
		}
	}
	if len(xs) == 0 {
		return nil, logreg.Model{}, ErrNoPairs
	}
	m, err := logreg.FitWeighted(xs, ys, ws, logreg.Options{L2: fit.L2, Iterations: 100})
	if err != nil {
		return nil, m, fmt.Errorf("rerank fit: %w", err)
	}
	m.Names = RerankFeatureNames
	w := make([]float64, len(m.Weights))
	var abs float64
	for j := range w {
		w[j] = m.Weights[j] / m.Scale[j]
		abs += math.Abs(w[j])
	}
	if abs == 0 {
		return nil, m, errors.New("rerank fit: every weight is zero")
	}
	for j := range w {
		w[j] *= sum / abs
	}
	return w, m, nil
}
