//go:build !race

// Training takes seconds, and ten times that under the race detector,
// which has nothing to find in it: these tests run without it.

package policy_test

import (
	"testing"

	"github.com/assistent-nl/assistent/node/policy"
)

// TestRetrain: training is deterministic (two trainings give the same
// probabilities), and the quantised embedded model decides as a fresh
// training does on at least 99 % of the held-out messages.
func TestRetrain(t *testing.T) {
	all, err := policy.Examples()
	if err != nil {
		t.Fatal(err)
	}
	train, held := policy.Split(all)
	a, err := policy.Train(train, policy.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := policy.Train(train, policy.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i, e := range held {
		if i < 50 {
			pa, pb := a.Probabilities(e.Text), b.Probabilities(e.Text)
			for k := range pa {
				if pa[k] != pb[k] {
					t.Fatalf("%s: probabilities differ between two trainings: %v vs %v", e.ID, pa, pb)
				}
			}
		}
		if a.Classify(e.Text).Intent == policy.Default().Classify(e.Text).Intent {
			same++
		}
	}
	if share := float64(same) / float64(len(held)); share < 0.99 {
		t.Errorf("the embedded model agrees with a fresh training on %.3f of the held-out messages, want at least 0.99", share)
	}
}
