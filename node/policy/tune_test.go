package policy_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/policy"
)

// TestTune compares settings by 5-fold cross-validation on the training
// split only (the held-out split is for reporting). Run with POLICY_TUNE=1.
func TestTune(t *testing.T) {
	if os.Getenv("POLICY_TUNE") == "" {
		t.Skip("set POLICY_TUNE=1")
	}
	all, err := policy.Examples()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := policy.Split(all)
	base := policy.DefaultOptions()
	cuts := []float64{0.6, 0.7, 0.8, 0.85, 0.9}
	grid := []func(o *policy.Options){
		func(o *policy.Options) {},
		func(o *policy.Options) { o.Char = 0.6 },
	}
	for gi, g := range grid {
		o := base
		g(&o)
		f1, br, hm := make([]float64, len(cuts)), make([]float64, len(cuts)), make([]float64, len(cuts))
		for fold := range 5 {
			var tr, te []policy.Example
			for _, e := range train {
				if policy.Fold(e, 5) == fold {
					te = append(te, e)
				} else {
					tr = append(tr, e)
				}
			}
			m, err := policy.Train(tr, o)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range cuts {
				r := policy.Evaluate(m.WithThreshold(c), te)
				f1[i] += r.MacroF1 / 5
				br[i] += r.BenignRefused / 5
				hm[i] += r.HarmfulMissed / 5
			}
		}
		for i, c := range cuts {
			t.Logf("setting %d char %g L2 %g threshold %.2f: macro-F1 %.3f benign flagged %.3f harmful missed %.3f", gi, o.Char, o.L2, c, f1[i], br[i], hm[i])
		}
	}
}

// TestDecideFiles prints the decisions on the messages of JSONL files
// (fields "question" or "text"), for reading over-refusal on benign sets
// and catches on probes. Run with POLICY_FILES=a.jsonl,b.jsonl.
func TestDecideFiles(t *testing.T) {
	files := os.Getenv("POLICY_FILES")
	if files == "" {
		t.Skip("set POLICY_FILES")
	}
	m := policy.Default()
	for _, f := range strings.Split(files, ",") {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		count := map[policy.Intent]int{}
		n := 0
		for _, line := range strings.Split(string(raw), "\n") {
			var rec struct{ Question, Text, ID, Split string }
			if json.Unmarshal([]byte(line), &rec) != nil || rec.Split == "tune" {
				continue
			}
			q := rec.Question + rec.Text
			d := m.Classify(q)
			count[d.Intent]++
			n++
			if os.Getenv("POLICY_VERBOSE") != "" {
				t.Logf("%-11s %.2f %s %s", d.Intent, d.P, rec.ID, q)
			}
		}
		t.Logf("%s: %d messages %v", f, n, count)
	}
}
