package hybrid

import (
	"errors"
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

// DefaultRerankConfig returns weights calibrated on the Rijksoverheid
// resident query set (see retrieval/DESIGN.md).
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

func rerank(cfg RerankConfig, terms func(string) []string, query, expansion, local string, results []Result, k int) []Result {
	if len(results) == 0 {
		return results
	}
	weights := map[string]float64{}
	for _, t := range terms(expansion) {
		weights[t] = cfg.Expansion
	}
	for _, t := range terms(query) {
		weights[t] = 1
	}
	if len(weights) == 0 {
		return results
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
		score := cfg.Fusion * safeDiv(results[i].Score, maxFusion)
		score += cfg.BM25 * safeDiv(bm25[i], maxBM25)
		score += cfg.Title * safeDiv(inHead, idfSum)
		score += cfg.Coverage * safeDiv(inAll, idfSum)
		score += cfg.Proximity * proximity(a.text, idf)
		if local != "" && results[i].Chunk.Scope == local {
			score += cfg.Local
		}
		results[i].Score = score
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Score > results[j].Score })
	return dedupe(results, cfg.DupJaccard, k)
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
