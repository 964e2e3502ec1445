package policy

import (
	"fmt"
	"io"
	"strings"
)

// Report is a model's quality on a labelled set.
type Report struct {
	Classes []Intent `json:"classes"`
	// Matrix[i][j] counts messages labelled Classes[i] decided as
	// Classes[j].
	Matrix  [][]int   `json:"matrix"`
	F1      []float64 `json:"f1"`
	MacroF1 float64   `json:"macro_f1"`
	N       int       `json:"n"`
	// BenignRefused is the share of benign messages decided as anything
	// else (the classifier's over-refusal), and HarmfulMissed the share of
	// the others decided benign.
	BenignRefused float64 `json:"benign_refused"`
	HarmfulMissed float64 `json:"harmful_missed"`
	Misses        []Miss  `json:"misses"`
}

// Miss is one message the model got wrong.
type Miss struct {
	ID   string  `json:"id"`
	Want Intent  `json:"want"`
	Got  Intent  `json:"got"`
	P    float64 `json:"p"`
	Text string  `json:"text"`
}

// Evaluate classifies every example with m and compares.
func Evaluate(m *Model, examples []Example) Report {
	K := len(m.classes)
	at := map[Intent]int{}
	for k, c := range m.classes {
		at[c] = k
	}
	r := Report{Classes: m.classes, Matrix: make([][]int, K), F1: make([]float64, K), N: len(examples)}
	for i := range r.Matrix {
		r.Matrix[i] = make([]int, K)
	}
	benign, refused, harmful, missed := 0, 0, 0, 0
	for _, e := range examples {
		d := m.Classify(e.Text)
		r.Matrix[at[e.Label]][at[d.Intent]]++
		if d.Intent != e.Label {
			r.Misses = append(r.Misses, Miss{ID: e.ID, Want: e.Label, Got: d.Intent, P: d.P, Text: e.Text})
		}
		if e.Label == Benign {
			benign++
			if d.Intent != Benign {
				refused++
			}
		} else {
			harmful++
			if d.Intent == Benign {
				missed++
			}
		}
	}
	present := 0
	for k := range K {
		tp, fp, fn := r.Matrix[k][k], 0, 0
		for j := range K {
			if j != k {
				fp += r.Matrix[j][k]
				fn += r.Matrix[k][j]
			}
		}
		if tp+fn == 0 {
			continue // no examples of this class in the set
		}
		present++
		if tp > 0 {
			r.F1[k] = 2 * float64(tp) / float64(2*tp+fp+fn)
		}
		r.MacroF1 += r.F1[k]
	}
	if present > 0 {
		r.MacroF1 /= float64(present)
	}
	if benign > 0 {
		r.BenignRefused = float64(refused) / float64(benign)
	}
	if harmful > 0 {
		r.HarmfulMissed = float64(missed) / float64(harmful)
	}
	return r
}

// abbreviations name the classes in the confusion matrix's columns.
var abbreviations = map[Intent]string{
	Benign: "ben", Unlawful: "unl", Evade: "eva", Fraud: "fra", OthersData: "oth", NoMandate: "man",
	Verdict: "ver", Prediction: "pre", Injection: "inj", Extraction: "ext", OffRemit: "off",
}

// Write prints the report as text: macro-F1, the confusion matrix with
// per-class F1, and the misses.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "messages %d  macro-F1 %.3f  benign refused %.3f  harmful missed %.3f\n", r.N, r.MacroF1, r.BenignRefused, r.HarmfulMissed)
	fmt.Fprintf(w, "%-12s", "label\\got")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "%5s", abbreviations[c])
	}
	fmt.Fprintf(w, "%7s\n", "F1")
	for i, c := range r.Classes {
		fmt.Fprintf(w, "%-12s", c)
		for _, n := range r.Matrix[i] {
			fmt.Fprintf(w, "%5d", n)
		}
		fmt.Fprintf(w, "%7.3f\n", r.F1[i])
	}
	for _, m := range r.Misses {
		fmt.Fprintf(w, "  %-8s %-11s → %-11s %.2f  %s\n", m.ID, m.Want, m.Got, m.P, strings.Join(strings.Fields(m.Text), " "))
	}
}
