package policy

import (
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sort"
)

//go:generate go run ./gen

//go:embed model.gob.gz
var embeddedModel []byte

// savedModel is a model as written to disk: the weights quantised to one
// byte per class and feature, with a scale per class, which keeps the file
// small (a few hundred kB) and changes no decision of note (TestModelFresh
// compares it with a fresh training).
type savedModel struct {
	// DataHash is the hash of the examples and options it was trained on.
	DataHash  string
	Classes   []Intent
	Names     []string // feature names, in index order
	Scale     []float32
	W         []int8 // W[f*K+k]
	B         []float32
	Threshold float64
	Pooled    bool
	Word      float64
	Pair      float64
	Char      float64
}

// DataHash returns the hash of the examples in fsys (labelled/*.jsonl,
// names and contents) and of opt: what a model is trained from.
func DataHash(fsys fs.FS, opt Options) (string, error) {
	names, err := fs.Glob(fsys, "labelled/*.jsonl")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		raw, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(raw))
		h.Write(raw)
	}
	fmt.Fprintf(h, "%+v", opt)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// EmbeddedDataHash is DataHash of the embedded examples with
// DefaultOptions.
func EmbeddedDataHash() (string, error) { return DataHash(dataFS, DefaultOptions()) }

// WriteModel writes m, quantised and gzip'd, with the hash of its data.
func WriteModel(w io.Writer, m *Model, dataHash string) error {
	K := len(m.classes)
	names := make([]string, len(m.index))
	for n, i := range m.index {
		names[i] = n
	}
	sm := savedModel{DataHash: dataHash, Classes: m.classes, Names: names, Scale: make([]float32, K), W: make([]int8, len(m.w)),
		B: m.b, Threshold: m.threshold, Pooled: m.pooled, Word: m.wt.word, Pair: m.wt.pair, Char: m.wt.char}
	for k := range K {
		hi := float32(0)
		for f := k; f < len(m.w); f += K {
			hi = max(hi, float32(math.Abs(float64(m.w[f]))))
		}
		if hi == 0 {
			hi = 1
		}
		sm.Scale[k] = hi / 127
		for f := k; f < len(m.w); f += K {
			sm.W[f] = int8(math.Round(float64(m.w[f] / sm.Scale[k])))
		}
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(zw).Encode(sm); err != nil {
		return err
	}
	return zw.Close()
}

// ReadModel reads a model WriteModel wrote, and the hash of its data.
func ReadModel(r io.Reader) (*Model, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", fmt.Errorf("policy model: %w", err)
	}
	var sm savedModel
	if err := gob.NewDecoder(zr).Decode(&sm); err != nil {
		return nil, "", fmt.Errorf("policy model: %w", err)
	}
	K := len(sm.Classes)
	if K == 0 || len(sm.W) != len(sm.Names)*K || len(sm.B) != K || len(sm.Scale) != K {
		return nil, "", fmt.Errorf("policy model: %d classes, %d features, %d weights: sizes do not agree", K, len(sm.Names), len(sm.W))
	}
	m := &Model{classes: sm.Classes, index: make(map[string]int32, len(sm.Names)), w: make([]float32, len(sm.W)), b: sm.B,
		threshold: sm.Threshold, pooled: sm.Pooled, wt: weights{sm.Word, sm.Pair, sm.Char}}
	for i, n := range sm.Names {
		m.index[n] = int32(i)
	}
	for f, q := range sm.W {
		m.w[f] = float32(q) * sm.Scale[f%K]
	}
	return m, sm.DataHash, nil
}
