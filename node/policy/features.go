package policy

import (
	"math"
	"strings"
	"unicode"

	"github.com/assistent-nl/assistent/retrieval"
)

// The three blocks of features a message is read as, each scaled to unit
// length so that no block outweighs another by its number of entries:
//   - lemmas ("w:aanvraag"): the words in their dictionary form (OpenTaal),
//     or stemmed when the dictionary does not know them;
//   - lemma pairs ("b:zonder_vergunning"): two neighbouring lemmas, which
//     carry much of the intent ("zonder merken", "van buurman");
//   - character n-grams of 3 to 5 letters inside each word, with its
//     boundaries ("c:<wie", "c:plant"): they see through typos, missing
//     accents and compounds ("wietplantje", "dumpplek").
const (
	minCharGram = 3
	maxCharGram = 5
)

// weights scale the three blocks of features.
type weights struct{ word, pair, char float64 }

// feature is one named feature and its value.
type feature struct {
	name  string
	value float64
}

// lemmaOf returns the dictionary form of a folded word, or its stem.
func lemmaOf(w string) string {
	if l, ok := retrieval.DefaultLemmas().Lemma(w); ok {
		return l
	}
	return retrieval.Stem(w)
}

// words returns the folded words of s: runs of letters and digits.
// Placeholders of the guard's scrubbing ("[BSN]") come out as words.
func words(s string) []string {
	return strings.FieldsFunc(retrieval.Fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// featuresOf reads a message as its three blocks of features.
func featuresOf(s string, wt weights) []feature {
	ws := words(s)
	lemmas := make([]string, len(ws))
	for i, w := range ws {
		lemmas[i] = lemmaOf(w)
	}
	var out []feature
	block := func(names []string, weight float64) {
		names = dedupe(names)
		if len(names) == 0 {
			return
		}
		v := weight / math.Sqrt(float64(len(names)))
		for _, n := range names {
			out = append(out, feature{n, v})
		}
	}
	ns := make([]string, 0, len(lemmas))
	for _, l := range lemmas {
		ns = append(ns, "w:"+l)
	}
	block(ns, wt.word)
	ns = ns[:0:0]
	for i := 1; i < len(lemmas); i++ {
		ns = append(ns, "b:"+lemmas[i-1]+"_"+lemmas[i])
	}
	block(ns, wt.pair)
	ns = ns[:0:0]
	for _, w := range ws {
		r := []rune("<" + w + ">")
		for n := minCharGram; n <= maxCharGram; n++ {
			for i := 0; i+n <= len(r); i++ {
				ns = append(ns, "c:"+string(r[i:i+n]))
			}
		}
	}
	block(ns, wt.char)
	return out
}

// dedupe returns names without repeats, in first-seen order.
func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
