// Package logreg fits and applies binary logistic regression on dense
// feature vectors: the calibrated models behind the answer pipeline's
// choice of mode. Features are standardised before fitting, so weights of
// features on different scales are comparable and regularised alike.
package logreg

import (
	"errors"
	"fmt"
	"math"
)

// Model is a fitted logistic model: P(y) = σ(Bias + Σ Weights[i]·z[i]) with
// z[i] = (x[i] - Mean[i]) / Scale[i].
type Model struct {
	Names   []string  `json:"names,omitempty"` // feature names, for reports
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
	Mean    []float64 `json:"mean"`
	Scale   []float64 `json:"scale"`
}

// Options tunes Fit.
type Options struct {
	// L2 is the ridge penalty on the standardised weights (not the bias).
	L2 float64
	// Iterations bounds the Newton steps.
	Iterations int
}

// DefaultOptions returns a mild penalty that keeps weights finite on
// separable data.
func DefaultOptions() Options { return Options{L2: 1, Iterations: 50} }

// ErrNoData is returned by Fit for an empty or one-class sample.
var ErrNoData = errors.New("logreg: need examples of both classes")

// Fit fits a model to xs (one row per example, all of one length) and
// labels ys by Newton's method on the penalised log-likelihood.
func Fit(xs [][]float64, ys []bool, opt Options) (Model, error) {
	return FitWeighted(xs, ys, nil, opt)
}

// FitWeighted is Fit with a weight per example (nil: all 1): an example of
// weight 2 counts as two, in the likelihood and in the standardisation.
// Weights must be positive.
func FitWeighted(xs [][]float64, ys []bool, ws []float64, opt Options) (Model, error) {
	if len(xs) == 0 || len(xs) != len(ys) {
		return Model{}, fmt.Errorf("%w: %d rows, %d labels", ErrNoData, len(xs), len(ys))
	}
	if ws == nil {
		ws = make([]float64, len(xs))
		for i := range ws {
			ws[i] = 1
		}
	}
	if len(ws) != len(xs) {
		return Model{}, fmt.Errorf("logreg: %d rows, %d weights", len(xs), len(ws))
	}
	d := len(xs[0])
	var pos, n float64
	for i, x := range xs {
		if len(x) != d {
			return Model{}, fmt.Errorf("logreg: row %d has %d features, want %d", i, len(x), d)
		}
		if !(ws[i] > 0) {
			return Model{}, fmt.Errorf("logreg: row %d has weight %v, must be positive", i, ws[i])
		}
		n += ws[i]
		if ys[i] {
			pos += ws[i]
		}
	}
	if pos == 0 || pos == n {
		return Model{}, ErrNoData
	}
	m := Model{Weights: make([]float64, d), Mean: make([]float64, d), Scale: make([]float64, d)}
	for i, x := range xs {
		for j, v := range x {
			m.Mean[j] += ws[i] * v / n
		}
	}
	for i, x := range xs {
		for j, v := range x {
			m.Scale[j] += ws[i] * (v - m.Mean[j]) * (v - m.Mean[j]) / n
		}
	}
	for j := range m.Scale {
		m.Scale[j] = math.Sqrt(m.Scale[j])
		if m.Scale[j] < 1e-9 {
			m.Scale[j] = 1 // a constant feature carries no information
		}
	}
	z := make([][]float64, len(xs))
	for i, x := range xs {
		z[i] = m.standardise(x)
	}
	// Parameters: d weights then the bias, as one vector.
	p := d + 1
	w := make([]float64, p)
	w[d] = math.Log(pos / (n - pos))
	if opt.Iterations <= 0 {
		opt.Iterations = DefaultOptions().Iterations
	}
	for it := 0; it < opt.Iterations; it++ {
		grad := make([]float64, p)
		hess := make([][]float64, p)
		for j := range hess {
			hess[j] = make([]float64, p)
		}
		for i, zi := range z {
			mu := sigmoid(dot(w[:d], zi) + w[d])
			y := 0.0
			if ys[i] {
				y = 1
			}
			r := ws[i] * (mu - y)
			s := ws[i] * mu * (1 - mu)
			for j := 0; j < p; j++ {
				xj := 1.0
				if j < d {
					xj = zi[j]
				}
				grad[j] += r * xj
				for k := 0; k <= j; k++ {
					xk := 1.0
					if k < d {
						xk = zi[k]
					}
					hess[j][k] += s * xj * xk
				}
			}
		}
		for j := 0; j < p; j++ {
			for k := 0; k < j; k++ {
				hess[k][j] = hess[j][k]
			}
		}
		for j := 0; j < d; j++ {
			grad[j] += opt.L2 * w[j]
			hess[j][j] += opt.L2
		}
		hess[d][d] += 1e-9
		step, err := solve(hess, grad)
		if err != nil {
			return Model{}, err
		}
		var size float64
		for j := range w {
			w[j] -= step[j]
			size = math.Max(size, math.Abs(step[j]))
		}
		if size < 1e-8 {
			break
		}
	}
	copy(m.Weights, w[:d])
	m.Bias = w[d]
	return m, nil
}

// Prob returns the model's probability for feature vector x. A vector of
// the wrong length is a programming error and panics.
func (m Model) Prob(x []float64) float64 {
	if len(x) != len(m.Weights) {
		panic(fmt.Sprintf("logreg: %d features, model has %d", len(x), len(m.Weights)))
	}
	return sigmoid(dot(m.Weights, m.standardise(x)) + m.Bias)
}

// Validate reports a model whose vectors disagree in length.
func (m Model) Validate() error {
	d := len(m.Weights)
	if d == 0 || len(m.Mean) != d || len(m.Scale) != d || (len(m.Names) != 0 && len(m.Names) != d) {
		return fmt.Errorf("logreg: model vectors disagree: %d weights, %d means, %d scales, %d names",
			d, len(m.Mean), len(m.Scale), len(m.Names))
	}
	for j, s := range m.Scale {
		if !(s > 0) {
			return fmt.Errorf("logreg: scale %d is %v, must be positive", j, s)
		}
	}
	return nil
}

func (m Model) standardise(x []float64) []float64 {
	z := make([]float64, len(x))
	for j, v := range x {
		z[j] = (v - m.Mean[j]) / m.Scale[j]
	}
	return z
}

func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	e := math.Exp(t)
	return e / (1 + e)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// solve returns x with a·x = b by Gaussian elimination with partial
// pivoting; a and b are not changed.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64{}, a[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-12 {
			return nil, errors.New("logreg: singular system")
		}
		m[c], m[piv] = m[piv], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x, nil
}
