// Package policy decides what a resident's message asks of the assistant
// beyond information: help to break a rule, a verdict on a personal case,
// someone else's data, a change of the assistant's instructions, and so
// on. It is a classifier trained on the project's own labelled messages
// (labelled/), not a list of patterns: softmax regression over the message's
// lemmas, lemma pairs and character n-grams, fitted when first needed (a
// fraction of a second) and deterministic, so every process holds the same
// model.
//
// What is exact stays a rule elsewhere: personal numbers and encoded
// payloads in node/guard, instructions inside ingested pages in
// guard.Pages. See DESIGN.md for which layer decides what.
package policy

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
)

// Intent is what a message asks of the assistant.
type Intent string

// The intents, as labelled in labelled/ (README there).
const (
	Benign     Intent = "benign"
	Unlawful   Intent = "unlawful"
	Evade      Intent = "evade"
	Fraud      Intent = "fraud"
	OthersData Intent = "others_data"
	NoMandate  Intent = "no_mandate"
	Verdict    Intent = "verdict"
	Prediction Intent = "prediction"
	Injection  Intent = "injection"
	Extraction Intent = "extraction"
	OffRemit   Intent = "off_remit"
)

// Intents lists every intent, benign first.
var Intents = []Intent{Benign, Unlawful, Evade, Fraud, OthersData, NoMandate, Verdict, Prediction, Injection, Extraction, OffRemit}

// Decision is the classifier's reading of one message.
type Decision struct {
	// Intent is the decided intent: the most probable one, or Benign when
	// no other intent reaches the model's threshold.
	Intent Intent
	// P is the probability of Intent.
	P float64
	// Top is the most probable intent other than Benign, and PTop its
	// probability, also when it did not reach the threshold (for logs and
	// reports).
	Top  Intent
	PTop float64
}

// Model is a fitted softmax regression over a message's features.
type Model struct {
	classes []Intent
	index   map[string]int32
	// w[f*K+k] is feature f's weight for class k; b[k] the class's bias.
	w []float32
	b []float32
	// threshold is the probability a non-benign intent needs to decide.
	threshold float64
	wt        weights
	pooled    bool
}

// Options tunes Train.
type Options struct {
	Epochs int
	// Rate is the initial step of AdaGrad.
	Rate float64
	// L2 shrinks every weight towards zero at each step it is touched.
	L2 float64
	// MinCount drops features seen in fewer training messages.
	MinCount int
	// Threshold is the probability a non-benign intent needs; below it the
	// message is benign. Over-refusal costs residents more than a missed
	// attack the rest of the pipeline still meets (passages-only answers),
	// so it sits above one half.
	Threshold float64
	Seed      uint64
	// Word, Pair and Char weigh the blocks of features (see features.go).
	Word, Pair, Char float64
	// Pooled decides on the summed probability of every non-benign intent
	// (then the most probable of them), instead of on the most probable
	// one alone.
	Pooled bool
	// Unbalanced trains every example with weight 1, so the biases carry
	// the classes' real frequencies (benign most); otherwise classes are
	// weighted by the inverse of their frequency.
	Unbalanced bool
}

// DefaultOptions are the settings the node uses.
func DefaultOptions() Options {
	return Options{Epochs: 30, Rate: 0.5, L2: 1e-5, MinCount: 2, Threshold: 0.6, Seed: 1, Word: 1, Pair: 0.8, Char: 0.4, Unbalanced: true, Pooled: true}
}

// sparse is a message as feature indices and values.
type sparse struct {
	idx []int32
	val []float32
}

// vector maps a message's features to the model's indices, dropping those
// the model does not know.
func (m *Model) vector(text string) sparse {
	var s sparse
	for _, f := range featuresOf(text, m.wt) {
		if i, ok := m.index[f.name]; ok {
			s.idx = append(s.idx, i)
			s.val = append(s.val, float32(f.value))
		}
	}
	return s
}

// Train fits a model to examples. Classes are weighted by the inverse of
// their frequency, so a rare intent counts as much as a common one.
func Train(examples []Example, opt Options) (*Model, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("policy: no examples")
	}
	m := &Model{classes: slices.Clone(Intents), index: map[string]int32{}, threshold: opt.Threshold,
		wt: weights{opt.Word, opt.Pair, opt.Char}, pooled: opt.Pooled}
	K := len(m.classes)
	classOf := map[Intent]int{}
	for k, c := range m.classes {
		classOf[c] = k
	}
	count := map[string]int{}
	for _, e := range examples {
		for _, f := range featuresOf(e.Text, m.wt) {
			count[f.name]++
		}
	}
	names := make([]string, 0, len(count))
	for n, c := range count {
		if c >= opt.MinCount {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for i, n := range names {
		m.index[n] = int32(i)
	}
	xs := make([]sparse, len(examples))
	ys := make([]int, len(examples))
	perClass := make([]int, K)
	for i, e := range examples {
		k, ok := classOf[e.Label]
		if !ok {
			return nil, fmt.Errorf("policy: example %s: unknown label %q", e.ID, e.Label)
		}
		xs[i], ys[i] = m.vector(e.Text), k
		perClass[k]++
	}
	weight := make([]float64, K)
	for k, n := range perClass {
		switch {
		case opt.Unbalanced:
			weight[k] = 1
		case n > 0:
			weight[k] = float64(len(examples)) / float64(K*n)
		}
	}
	m.w = make([]float32, len(names)*K)
	m.b = make([]float32, K)
	// AdaGrad keeps a running sum of squared gradients per weight, so rare
	// features (most character n-grams) still learn at a useful pace.
	gw := make([]float32, len(m.w))
	gb := make([]float32, K)
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x706f6c696379))
	p := make([]float64, K)
	for range opt.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			x, y := xs[i], ys[i]
			m.probs(x, p)
			for k := range K {
				g := p[k]
				if k == y {
					g--
				}
				g *= weight[y]
				if g == 0 {
					continue
				}
				gb[k] += float32(g * g)
				m.b[k] -= float32(opt.Rate * g / math.Sqrt(float64(gb[k])+1e-8))
				for j, f := range x.idx {
					at := int(f)*K + k
					gj := g*float64(x.val[j]) + opt.L2*float64(m.w[at])
					gw[at] += float32(gj * gj)
					m.w[at] -= float32(opt.Rate * gj / math.Sqrt(float64(gw[at])+1e-8))
				}
			}
		}
	}
	return m, nil
}

// probs fills p with the class probabilities of x.
func (m *Model) probs(x sparse, p []float64) {
	K := len(m.classes)
	for k := range K {
		p[k] = float64(m.b[k])
	}
	for j, f := range x.idx {
		row := m.w[int(f)*K : int(f)*K+K]
		v := float64(x.val[j])
		for k := range K {
			p[k] += float64(row[k]) * v
		}
	}
	hi := math.Inf(-1)
	for _, z := range p {
		hi = max(hi, z)
	}
	sum := 0.0
	for k := range p {
		p[k] = math.Exp(p[k] - hi)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// Probabilities returns the probability of every intent, in Intents order.
func (m *Model) Probabilities(text string) []float64 {
	p := make([]float64, len(m.classes))
	m.probs(m.vector(text), p)
	return p
}

// Classify reads one message.
func (m *Model) Classify(text string) Decision {
	p := m.Probabilities(text)
	d := Decision{Intent: Benign}
	for k, c := range m.classes {
		if c != Benign && p[k] > d.PTop {
			d.Top, d.PTop = c, p[k]
		}
	}
	d.P = p[0]
	harm := d.PTop
	if m.pooled {
		harm = 1 - p[0]
	}
	if harm >= m.threshold {
		d.Intent, d.P = d.Top, d.PTop
	}
	return d
}

// Features reports how many features the model knows.
func (m *Model) Features() int { return len(m.index) }

// Default returns the model the node uses: the one trained with
// DefaultOptions on the training split of the embedded examples (never on
// the held-out split), as `go generate` wrote it to model.gob.gz. It is
// read once per process, on first use. TestModelFresh fails when the
// examples or the options changed since.
var Default = sync.OnceValue(func() *Model {
	m, _, err := ReadModel(bytes.NewReader(embeddedModel))
	if err != nil {
		// The model is generated, embedded and checked by tests: a build
		// defect.
		panic(fmt.Sprintf("policy: embedded model: %v", err))
	}
	return m
})

// Classify reads one message with the Default model.
func Classify(text string) Decision { return Default().Classify(text) }

// Known returns the share of text's words whose lemma the model has seen
// in training: how much a decoded reading of a message looks like the
// language residents write, next to the text as typed.
func (m *Model) Known(text string) float64 {
	ws := words(text)
	if len(ws) == 0 {
		return 0
	}
	n := 0
	for _, w := range ws {
		if _, ok := m.index["w:"+lemmaOf(w)]; ok {
			n++
		}
	}
	return float64(n) / float64(len(ws))
}

// WithThreshold returns a copy of m that needs probability t for a
// non-benign intent (the weights are shared).
func (m *Model) WithThreshold(t float64) *Model {
	c := *m
	c.threshold = t
	return &c
}
