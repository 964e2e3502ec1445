package bleve

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// VerbTName is the token filter that takes the -t of a Dutch present-tense
// verb off a stem, after Snowball: "bouwt" and "bouwen" both become "bouw",
// "woont" and "wonen" "won". Snowball leaves the -t on ("bouwt"), so a
// question in the resident's words ("mijn buurman bouwt een schuur") missed
// the page's ("bouwen"). Nouns that end in -t lose it too ("paspoort" →
// "paspor"), on the index and the query side alike, which keeps them
// matching. An index keeps the mapping it was made with, so an index from
// before this filter stays consistent; it gains the filter when rebuilt.
const VerbTName = "nl_verb_t"

func init() {
	registry.RegisterTokenFilter(VerbTName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return verbT{}, nil
	})
}

type verbT struct{}

func (verbT) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, tok := range in {
		tok.Term = stripVerbT(tok.Term)
	}
	return in
}

// stripVerbT removes a final t after a consonant other than t from a stem
// of five or more letters ("bouwt" → "bouw", "meldt" → "meld"), then does
// again what Snowball's last step did to stems without the t: a doubled
// vowel before the final consonant becomes single ("woon" → "won", as
// "wonen" → "won"; "vraag" → "vrag").
//
// Measured with `assistent eval retrieval` (nDCG@10, full pipeline):
// gemeente-voorbeeld 0.769 → 0.869, Rijksoverheid queries 0.693 → 0.687
// (BM25 alone 0.684 → 0.687). Also mapping a final v/z to f/s ("gev" →
// "gef") cost the Rijksoverheid set 0.005 more and gained nothing, so it is
// not done.
func stripVerbT(term []byte) []byte {
	n := len(term)
	if n < 5 || term[n-1] != 't' || isVowelOr(term[n-2], "t") {
		return term
	}
	term = term[:n-1]
	n--
	if n >= 4 && !isVowelOr(term[n-1], "") && isVowelOr(term[n-2], "") && term[n-2] == term[n-3] && term[n-2] != 'i' && !isVowelOr(term[n-4], "") {
		term = append(term[:n-2], term[n-1])
	}
	return term
}

// isVowelOr reports whether b is a vowel or one of extra.
func isVowelOr(b byte, extra string) bool {
	switch b {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	for i := 0; i < len(extra); i++ {
		if extra[i] == b {
			return true
		}
	}
	return false
}
