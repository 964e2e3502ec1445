package hybrid

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// RerankConfig weighs the re-ranking features. Each feature is scaled to
// 0..1 before weighting.
type RerankConfig struct {
	Pool       int     // fused candidates that are re-ranked
	Fusion     float64 // weight of the fused (RRF) score
	BM25       float64 // passage BM25 with IDF taken over the pool
	Title      float64 // share of query terms (IDF-weighted) in title and headings
	Coverage   float64 // share of query terms anywhere in the chunk
	Proximity  float64 // query terms close together in the text
	Expansion  float64 // weight of synonym terms relative to typed terms
	Local      float64 // bonus for chunks of Request.Local: own content first
	DupJaccard float64 // shingle overlap above which a chunk is a near-duplicate
}

// DefaultRerankConfig returns hand-set weights, first calibrated on the
// visible Rijksoverheid resident query set (a test set). A model fitted
// on the tune halves of eval/dev (TestFitRerank in node/tune_test.go,
// pairwise logistic over the pools' RerankFeatures) did not beat them on
// the held-out halves and is not used (retrieval/DESIGN.md).
func DefaultRerankConfig() RerankConfig {
	return RerankConfig{Pool: 25, Fusion: 1.0, BM25: 0.5, Title: 1.0, Coverage: 0.4, Proximity: 0, Expansion: 0.35, Local: 0.5, DupJaccard: 0.85}
}

// Validate reports the first invalid field.
func (c RerankConfig) Validate() error {
	if c.Pool < 1 {
		return errors.New("search.rerank.pool: must be at least 1")
	}
	if c.DupJaccard <= 0 || c.DupJaccard > 1 {
		return errors.New("search.rerank.dup_jaccard: must be in (0, 1]")
	}
	return nil
}

type analysed struct {
	head  map[string]bool // title and headings
	text  []string        // text terms in order
	tf    map[string]int  // over title, headings and text
	total int
}

// RerankFeatures are the re-ranker's measures of one candidate against the
// question, each scaled to 0..1 within the pool, so that one set of
// weights (RerankConfig) fits every question.
type RerankFeatures struct {
	Fusion    float64 // fused (RRF) score over the pool's best
	BM25      float64 // passage BM25 (IDF over the pool) over the pool's best
	Title     float64 // IDF-weighted share of the query terms in title and headings
	Coverage  float64 // IDF-weighted share of the query terms anywhere in the chunk
	Proximity float64 // IDF-weighted share of the query terms in the best window of 12 text terms
	Local     float64 // 1 for a chunk of Request.Local, else 0
}

// RerankFeatureNames names the elements of RerankFeatures.Vector and of
// RerankConfig.Weights.
var RerankFeatureNames = []string{"fusion", "bm25", "title", "coverage", "proximity", "local"}

// Vector returns f in the order of RerankFeatureNames.
func (f RerankFeatures) Vector() []float64 {
	return []float64{f.Fusion, f.BM25, f.Title, f.Coverage, f.Proximity, f.Local}
}

// Weights returns c's feature weights in the order of RerankFeatureNames.
func (c RerankConfig) Weights() []float64 {
	return []float64{c.Fusion, c.BM25, c.Title, c.Coverage, c.Proximity, c.Local}
}

// WithWeights returns c with its feature weights taken from w, in the order
// of RerankFeatureNames. It fails when w has another length.
func (c RerankConfig) WithWeights(w []float64) (RerankConfig, error) {
	if len(w) != len(RerankFeatureNames) {
		return c, fmt.Errorf("rerank: %d weights, want %d (%s)", len(w), len(RerankFeatureNames), strings.Join(RerankFeatureNames, ", "))
	}
	c.Fusion, c.BM25, c.Title, c.Coverage, c.Proximity, c.Local = w[0], w[1], w[2], w[3], w[4], w[5]
	return c, nil
}

// Score is c's re-ranking score of a candidate with features f: the
// weighted sum of the features.
func (c RerankConfig) Score(f RerankFeatures) float64 {
	w := c.Weights()
	var s float64
	for i, x := range f.Vector() {
		s += w[i] * x
	}
	return s
}

// Rescore scores results by c over their Features, orders them best first
// and drops near-duplicates, keeping at most k. Search calls it in
// ModeRerank; a calibration tool calls it to try other weights on the
// same pools.
func (c RerankConfig) Rescore(results []Result, k int) []Result {
	for i := range results {
		results[i].Score = c.Score(results[i].Features)
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Score > results[j].Score })
	return dedupe(results, c.DupJaccard, k)
}

func rerank(cfg RerankConfig, terms func(string) []string, query, expansion, local string, results []Result, k int) []Result {
	if !measure(cfg.Expansion, terms, query, expansion, local, results) {
		return results
	}
	return cfg.Rescore(results, k)
}

// measure sets the Features of every result against the query (typed
// terms at weight 1) and its expansion (at weight expansionWeight). It
// reports false, and leaves the results alone, when the query has no
// terms.
func measure(expansionWeight float64, terms func(string) []string, query, expansion, local string, results []Result) bool {
	if len(results) == 0 {
		return false
	}
	weights := map[string]float64{}
	for _, t := range terms(expansion) {
		weights[t] = expansionWeight
	}
	for _, t := range terms(query) {
		weights[t] = 1
	}
	if len(weights) == 0 {
		return false
	}

	docs := make([]analysed, len(results))
	df := map[string]int{}
	var sumLen float64
	for i, r := range results {
		a := analysed{head: map[string]bool{}, tf: map[string]int{}}
		for _, t := range terms(r.Chunk.Title + " \n " + strings.Join(r.Chunk.Headings, " \n ")) {
			a.head[t] = true
			a.tf[t]++
			a.total++
		}
		a.text = terms(r.Chunk.Text)
		for _, t := range a.text {
			a.tf[t]++
		}
		a.total += len(a.text)
		for t := range a.tf {
			if _, ok := weights[t]; ok {
				df[t]++
			}
		}
		sumLen += float64(a.total)
		docs[i] = a
	}
	n := float64(len(results))
	avgLen := sumLen / n
	idf := map[string]float64{}
	var idfSum float64
	for t, w := range weights {
		// Smoothed IDF over the pool: a term every candidate has tells little.
		idf[t] = math.Log(1+(n+1)/(float64(df[t])+0.5)) * w
		idfSum += idf[t]
	}

	const k1, b = 1.2, 0.75
	bm25 := make([]float64, len(results))
	var maxBM25, maxFusion float64
	for i, a := range docs {
		for t, w := range idf {
			tf := float64(a.tf[t])
			if tf == 0 {
				continue
			}
			bm25[i] += w * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(a.total)/avgLen))
		}
		maxBM25 = math.Max(maxBM25, bm25[i])
		maxFusion = math.Max(maxFusion, results[i].Score)
	}

	for i := range results {
		a := docs[i]
		var inHead, inAll float64
		for t, w := range idf {
			if a.head[t] {
				inHead += w
			}
			if a.tf[t] > 0 {
				inAll += w
			}
		}
		f := RerankFeatures{
			Fusion:    safeDiv(results[i].Score, maxFusion),
			BM25:      safeDiv(bm25[i], maxBM25),
			Title:     safeDiv(inHead, idfSum),
			Coverage:  safeDiv(inAll, idfSum),
			Proximity: proximity(a.text, idf),
		}
		if local != "" && results[i].Chunk.Scope == local {
			f.Local = 1
		}
		results[i].Features = f
	}
	return true
}

// proximity is the IDF-weighted share of distinct query terms inside the
// best window of 12 consecutive text terms, so passages where the query's
// words stand together rank above ones that scatter them.
func proximity(text []string, idf map[string]float64) float64 {
	const window = 12
	var total float64
	for _, w := range idf {
		total += w
	}
	if total == 0 || len(text) == 0 {
		return 0
	}
	count := map[string]int{}
	var cur, best float64
	for i, t := range text {
		if w, ok := idf[t]; ok {
			if count[t] == 0 {
				cur += w
			}
			count[t]++
		}
		if i >= window {
			old := text[i-window]
			if w, ok := idf[old]; ok {
				count[old]--
				if count[old] == 0 {
					cur -= w
				}
			}
		}
		best = math.Max(best, cur)
	}
	return best / total
}

// dedupe drops results whose text overlaps an earlier result's by word
// 3-shingles above threshold (the same text published on two pages). It
// stops once k results are kept.
func dedupe(results []Result, threshold float64, k int) []Result {
	kept := results[:0:0]
	var shingles [][]uint64
	for _, r := range results {
		if len(kept) == k {
			break
		}
		s := shingleHashes(r.Chunk.Text)
		dup := false
		for _, o := range shingles {
			if jaccard(s, o) >= threshold {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		kept = append(kept, r)
		shingles = append(shingles, s)
	}
	return kept
}

// shingleHashes returns the sorted, distinct FNV-1a hashes of the word
// 3-shingles of text (lower case).
func shingleHashes(text string) []uint64 {
	w := strings.Fields(strings.ToLower(text))
	const offset, prime = 14695981039346656037, 1099511628211
	hashWord := func(s string) uint64 {
		h := uint64(offset)
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		return h
	}
	hw := make([]uint64, len(w))
	for i, x := range w {
		hw[i] = hashWord(x)
	}
	var out []uint64
	if len(w) < 3 {
		out = append(out, hw...)
	}
	for i := 0; i+3 <= len(hw); i++ {
		out = append(out, hw[i]*31*31+hw[i+1]*31+hw[i+2])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard of two sorted, distinct hash sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
