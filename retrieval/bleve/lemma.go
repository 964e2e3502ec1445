package bleve

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/assistent-nl/assistent/retrieval"
)

// LemmaName is the token filter that replaces a Dutch word form the lemma
// table knows by its lemma (retrieval.DefaultLemmas): "gebouwd" and
// "bouwt" become "bouwen", "huizen" "huis", "kinderen" "kind". Placed
// before Snowball, which then stems the lemma, it lets words the table
// does not know (most compounds, names) go on to Snowball as they are.
//
// It is registered but not in the default mapping (NewMapping): it did
// not measurably help. nDCG@10, rebuilt index, cleaned lexicon, dev = the
// tune half of the hand-written development sets, without → with it
// before Snowball: Rijksoverheid dev bm25 0.7569 → 0.7562, hybrid 0.6910
// → 0.6969, rerank 0.7317 → 0.7298; Holtewaard dev bm25 0.7509 → 0.7318,
// rerank 0.8529 → 0.8623; visible queries rerank 0.6164 → 0.6185. And it
// turned one red-team variant (y3.5, an invented council decision on
// passport fees) from noinfo into an answer, past the red-team ratchet.
// Also tried: the lemma instead of Snowball for known words (Rijksoverheid
// dev bm25 0.7438, rerank 0.7247), the lemma beside the word (bm25 0.7487,
// rerank 0.7334) and the lemma in the light analyzer of re-ranking
// (retrieval.Analyzer; rerank 0.7237).
const LemmaName = "nl_lemma"

func init() {
	registry.RegisterTokenFilter(LemmaName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return lemmaFilter{retrieval.DefaultLemmas()}, nil
	})
}

type lemmaFilter struct{ lemmas *retrieval.Lemmas }

func (f lemmaFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, tok := range in {
		if l, ok := f.lemmas.Lemma(string(tok.Term)); ok {
			// A new slice: tok.Term may share the input text, and a longer
			// lemma written in place would overwrite the next words.
			tok.Term = []byte(l)
		}
	}
	return in
}
