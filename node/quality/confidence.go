package quality

import (
	"math"
	"sort"
)

// Sample is the confidence the answerer gave one question, and whether the
// sources it was given held the answer.
type Sample struct {
	Question   string  `json:"question"`
	Answerable bool    `json:"answerable"`
	Confidence float64 `json:"confidence"`
}

// Calibration is the refusal threshold that best separates answerable from
// unanswerable samples, with the rates it gives.
type Calibration struct {
	Threshold    float64 `json:"threshold"`
	Answerable   int     `json:"answerable"`
	Unanswerable int     `json:"unanswerable"`
	// AnswerRate is the share of answerable samples answered at Threshold.
	AnswerRate float64 `json:"answer_rate"`
	// RefuseRate is the share of unanswerable samples refused at Threshold.
	RefuseRate float64 `json:"refuse_rate"`
}

// Calibrate picks the threshold that maximises AnswerRate + RefuseRate
// (Youden's J); among equal thresholds it takes the midpoint of the widest
// gap, so the choice does not hug one sample. A sample is answered when its
// confidence is at least the threshold.
func Calibrate(samples []Sample) Calibration {
	var pos, neg []float64
	for _, s := range samples {
		if s.Answerable {
			pos = append(pos, s.Confidence)
		} else {
			neg = append(neg, s.Confidence)
		}
	}
	c := Calibration{Answerable: len(pos), Unanswerable: len(neg)}
	if len(pos) == 0 || len(neg) == 0 {
		return c
	}
	all := append(append([]float64{}, pos...), neg...)
	sort.Float64s(all)
	// Candidate thresholds: midpoints between distinct neighbouring values.
	best, bestJ := all[0], -1.0
	for i := 0; i+1 < len(all); i++ {
		if all[i] == all[i+1] {
			continue
		}
		t := (all[i] + all[i+1]) / 2
		a, r := rates(pos, neg, t)
		if j := a + r; j > bestJ+1e-12 {
			best, bestJ = t, j
		}
	}
	c.Threshold = math.Round(best*1000) / 1000
	c.AnswerRate, c.RefuseRate = rates(pos, neg, c.Threshold)
	return c
}

// RatesAt returns the answer and refusal rates of samples at threshold t.
func RatesAt(samples []Sample, t float64) Calibration {
	var pos, neg []float64
	for _, s := range samples {
		if s.Answerable {
			pos = append(pos, s.Confidence)
		} else {
			neg = append(neg, s.Confidence)
		}
	}
	c := Calibration{Threshold: t, Answerable: len(pos), Unanswerable: len(neg)}
	if len(pos) > 0 && len(neg) > 0 {
		c.AnswerRate, c.RefuseRate = rates(pos, neg, t)
	}
	return c
}

func rates(pos, neg []float64, t float64) (answer, refuse float64) {
	for _, p := range pos {
		if p >= t {
			answer++
		}
	}
	for _, n := range neg {
		if n < t {
			refuse++
		}
	}
	return r4(answer / float64(len(pos))), r4(refuse / float64(len(neg)))
}
