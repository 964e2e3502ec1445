package bleve

import (
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/analysis"
	index "github.com/blevesearch/bleve_index_api"
)

// Long questions. A resident who tells a story ("mijn vader is gisteren
// in het ziekenhuis overleden en ik heb geen idee wat er nu allemaal
// geregeld moet worden, ...") gives the flat disjunction many common words,
// and the coord factor (the share of clauses a chunk matches) rewards the
// chunks that share the most story words. So in a question of more than
// longTerms distinct terms only the longTerms rarest (lowest document
// frequency) keep their full weight; the others count for longRest. They
// stay in the query, so a page that has them still ranks above one that
// does not: dropping them cost nDCG@10 on the dev tune split.
const (
	// longTerms is the number of distinct typed terms above which a
	// question is long.
	longTerms = 8
	// longRest is the weight of the commoner terms of a long question.
	longRest = 0.3
)

// focusWeights returns a weight per typed term (toks, the analysed
// question): 1 for the longTerms rarest terms of a long question, longRest
// for the rest; nil for a short question.
func focusWeights(ctx context.Context, r index.IndexReader, toks analysis.TokenStream) (map[string]float64, error) {
	distinct := map[string]bool{}
	for _, t := range toks {
		distinct[string(t.Term)] = true
	}
	if len(distinct) <= longTerms {
		return nil, nil
	}
	type wdf struct {
		word string
		df   uint64
	}
	ws := make([]wdf, 0, len(distinct))
	for _, t := range toks {
		w := string(t.Term)
		if !distinct[w] {
			continue
		}
		delete(distinct, w) // once, in question order
		df, err := docFreq(ctx, r, w, "body")
		if err != nil {
			return nil, err
		}
		ws = append(ws, wdf{w, df})
	}
	// An unknown word (df 0) counts as rare: it is a typo or a rare word.
	slices.SortStableFunc(ws, func(a, b wdf) int {
		switch {
		case a.df < b.df:
			return -1
		case a.df > b.df:
			return 1
		}
		return 0
	})
	out := make(map[string]float64, len(ws))
	for i, w := range ws {
		if i < longTerms {
			out[w.word] = 1
		} else {
			out[w.word] = longRest
		}
	}
	return out, nil
}
