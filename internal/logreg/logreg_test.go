package logreg_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/assistent-nl/assistent/internal/logreg"
)

// TestFit_RecoversGeneratingModel draws labels from a known logistic model
// and checks that the fit finds its direction and calibration.
func TestFit_RecoversGeneratingModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var xs [][]float64
	var ys []bool
	for range 4000 {
		x := []float64{r.NormFloat64(), 10 + 5*r.NormFloat64(), r.NormFloat64()}
		// True model: 2·x0 − 0.4·(x1−10), x2 is noise.
		p := 1 / (1 + math.Exp(-(2*x[0] - 0.4*(x[1]-10) + 0.5)))
		xs, ys = append(xs, x), append(ys, r.Float64() < p)
	}
	m, err := logreg.Fit(xs, ys, logreg.Options{L2: 0.01, Iterations: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// Weights are on standardised features: divide by the scale.
	w0, w1, w2 := m.Weights[0]/m.Scale[0], m.Weights[1]/m.Scale[1], m.Weights[2]/m.Scale[2]
	if math.Abs(w0-2) > 0.25 || math.Abs(w1+0.4) > 0.06 || math.Abs(w2) > 0.15 {
		t.Errorf("weights %.3f %.3f %.3f, want about 2, -0.4, 0", w0, w1, w2)
	}
	// Calibration: mean predicted probability in a bin matches the rate.
	var sumP, sumY float64
	var n int
	for i, x := range xs {
		if p := m.Prob(x); p > 0.6 && p < 0.8 {
			sumP += p
			n++
			if ys[i] {
				sumY++
			}
		}
	}
	if n < 100 || math.Abs(sumP/float64(n)-sumY/float64(n)) > 0.06 {
		t.Errorf("bin 0.6-0.8: predicted %.3f, observed %.3f over %d", sumP/float64(n), sumY/float64(n), n)
	}
}

func TestFit_SeparableStaysFinite(t *testing.T) {
	xs := [][]float64{{0}, {1}, {2}, {3}}
	ys := []bool{false, false, true, true}
	m, err := logreg.Fit(xs, ys, logreg.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(m.Weights[0]) || math.IsInf(m.Weights[0], 0) || m.Weights[0] <= 0 {
		t.Fatalf("weight %v", m.Weights[0])
	}
	if m.Prob([]float64{0}) >= 0.5 || m.Prob([]float64{3}) <= 0.5 {
		t.Errorf("P(0)=%.3f P(3)=%.3f", m.Prob([]float64{0}), m.Prob([]float64{3}))
	}
}

func TestFit_Errors(t *testing.T) {
	if _, err := logreg.Fit([][]float64{{1}, {2}}, []bool{true, true}, logreg.DefaultOptions()); !errors.Is(err, logreg.ErrNoData) {
		t.Errorf("one class: %v", err)
	}
	if _, err := logreg.Fit(nil, nil, logreg.DefaultOptions()); !errors.Is(err, logreg.ErrNoData) {
		t.Errorf("empty: %v", err)
	}
	if _, err := logreg.Fit([][]float64{{1}, {2, 3}}, []bool{true, false}, logreg.DefaultOptions()); err == nil {
		t.Error("ragged rows accepted")
	}
	if err := (logreg.Model{Weights: []float64{1}, Mean: []float64{0}, Scale: []float64{0}}).Validate(); err == nil {
		t.Error("zero scale accepted")
	}
}

func TestFitWeighted_WeightCountsAsCopies(t *testing.T) {
	xs := [][]float64{{0.1, 1}, {0.4, 0}, {0.5, 1}, {0.9, 0}, {0.7, 1}, {0.2, 0}}
	ys := []bool{false, false, true, true, false, true}
	ws := []float64{1, 2, 1, 3, 1, 1}
	var cx [][]float64
	var cy []bool
	for i, x := range xs {
		for range int(ws[i]) {
			cx, cy = append(cx, x), append(cy, ys[i])
		}
	}
	got, err := logreg.FitWeighted(xs, ys, ws, logreg.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want, err := logreg.Fit(cx, cy, logreg.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for j := range want.Weights {
		if math.Abs(got.Weights[j]-want.Weights[j]) > 1e-6 || math.Abs(got.Mean[j]-want.Mean[j]) > 1e-9 || math.Abs(got.Scale[j]-want.Scale[j]) > 1e-9 {
			t.Errorf("feature %d: weighted %+v, copies %+v", j, got, want)
		}
	}
	if math.Abs(got.Bias-want.Bias) > 1e-6 {
		t.Errorf("bias %v, want %v", got.Bias, want.Bias)
	}
	if _, err := logreg.FitWeighted(xs, ys, []float64{1, 1, 1, 1, 1, 0}, logreg.DefaultOptions()); err == nil {
		t.Error("zero weight accepted")
	}
}
