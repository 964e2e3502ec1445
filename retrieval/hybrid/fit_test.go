package hybrid_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// pools draws pools whose relevant candidates are the best by the weights
// want, plus noise.
func pools(want []float64, n int, seed uint64) []hybrid.JudgedPool {
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg, _ := hybrid.DefaultRerankConfig().WithWeights(want)
	var out []hybrid.JudgedPool
	for range n {
		var p hybrid.JudgedPool
		for range 20 {
			f := hybrid.RerankFeatures{Fusion: rng.Float64(), BM25: rng.Float64(), Title: rng.Float64(),
				Coverage: rng.Float64(), Proximity: rng.Float64()}
			p.Features = append(p.Features, f)
			p.Relevant = append(p.Relevant, cfg.Score(f)+0.3*rng.NormFloat64() > 1.8)
		}
		out = append(out, p)
	}
	return out
}

func TestFitRerank_RecoversWeights(t *testing.T) {
	want := []float64{1, 0.5, 1, 0, 0.3, 0}
	for _, fit := range []hybrid.RerankFit{{L2: 0.01}, {L2: 0.01, Pointwise: true}} {
		w, _, err := hybrid.FitRerank(pools(want, 400, 7), fit, 2.8)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for j := range w {
			if j < 5 && (w[j] < want[j]-0.25 || w[j] > want[j]+0.25) {
				t.Errorf("%+v: %s = %.2f, want about %.2f (all %.2f)", fit, hybrid.RerankFeatureNames[j], w[j], want[j], w)
			}
			sum += max(w[j], -w[j])
		}
		if sum < 2.79 || sum > 2.81 {
			t.Errorf("%+v: |weights| sum to %.3f, want 2.8", fit, sum)
		}
	}
}

func TestFitRerank_NoPairs(t *testing.T) {
	p := hybrid.JudgedPool{Features: make([]hybrid.RerankFeatures, 3), Relevant: []bool{false, false, false}}
	if _, _, err := hybrid.FitRerank([]hybrid.JudgedPool{p}, hybrid.RerankFit{L2: 1}, 1); !errors.Is(err, hybrid.ErrNoPairs) {
		t.Errorf("err = %v, want ErrNoPairs", err)
	}
}
