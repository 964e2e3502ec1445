package hybrid

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/retrieval"
)

// Respelling. The lexical index searches a word it does not know as the
// index terms near it, but the vector search and the re-ranker compare
// words as typed: to them "rijbeweis" matches nothing, and the rest of the
// question ("verlengen") decides alone. So an unknown word is replaced, for
// those stages, by the likeliest word of the same kind in the best lexical
// hits, which the lexical typo search has already pulled in: the closest
// word, then the most common one (the same noisy channel as the lexical
// index's, over the hits instead of the whole index).

// speller is a lexical index that can tell which words of a question it
// does not know (bleve.Index).
type speller interface {
	UnknownWords(ctx context.Context, text string) ([]string, error)
}

const (
	// respellHits is how many of the best lexical hits supply words.
	respellHits = 10
	// respellEditCost is the price of one edit in ln of the number of
	// hits that have the word.
	respellEditCost = 3.0
	// minRespell2Len is the shortest word (in runes) respelt across two
	// edits; shorter ones allow one.
	minRespell2Len = 7
)

// respell asks sp for the unknown words of text and respells them from
// the best lexical hits.
func (s *Searcher) respell(ctx context.Context, sp speller, text string, lex []retrieval.Hit) (string, bool, error) {
	unknown, err := sp.UnknownWords(ctx, text)
	if err != nil || len(unknown) == 0 {
		return text, false, err
	}
	if s.expander != nil {
		// A word with synonyms is a word of the list's, often English
		// ("passport"), not a typo; its synonyms are searched already.
		unknown = slices.DeleteFunc(unknown, func(w string) bool { return s.expander.Expand(w) != "" })
	}
	ids := make([]string, 0, respellHits)
	for _, h := range lex[:min(len(lex), respellHits)] {
		ids = append(ids, h.ChunkID)
	}
	byID, err := s.chunks.Chunks(ids)
	if err != nil {
		return text, false, fmt.Errorf("load chunks: %w", err)
	}
	chunks := make([]retrieval.Chunk, 0, len(byID))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			chunks = append(chunks, c)
		}
	}
	fixed, changed := respellFrom(text, unknown, chunks)
	return fixed, changed, nil
}

// respellFrom returns text with each of the unknown words replaced by its
// likeliest correction among the words of chunks, and whether any was
// replaced. A word without a candidate within reach (same first letter,
// one edit, two from minRespell2Len runes) stays.
func respellFrom(text string, unknown []string, chunks []retrieval.Chunk) (string, bool) {
	if len(unknown) == 0 || len(chunks) == 0 {
		return text, false
	}
	// In how many chunks each word occurs.
	freq := map[string]int{}
	for _, c := range chunks {
		seen := map[string]bool{}
		for _, w := range words(c.Title + " " + strings.Join(c.Headings, " ") + " " + c.Text) {
			if !seen[w] {
				seen[w] = true
				freq[w]++
			}
		}
	}
	fix := map[string]string{}
	for _, u := range unknown {
		n := utf8.RuneCountInString(u)
		reach := 1
		if n >= minRespell2Len {
			reach = 2
		}
		first, _ := utf8.DecodeRuneInString(u)
		best, bestScore := "", math.Inf(-1)
		for w, f := range freq {
			if w == u {
				best = ""
				break // the hits know it after all
			}
			if r, _ := utf8.DecodeRuneInString(w); r != first || abs(utf8.RuneCountInString(w)-n) > reach {
				continue
			}
			d := retrieval.EditDistance(u, w)
			if d > reach {
				continue
			}
			s := math.Log1p(float64(f)) - respellEditCost*float64(d)
			if s > bestScore || s == bestScore && w < best {
				best, bestScore = w, s
			}
		}
		if best != "" {
			fix[u] = best
		}
	}
	if len(fix) == 0 {
		return text, false
	}
	var b strings.Builder
	for _, w := range wordsAndGaps(text) {
		if r := fix[retrieval.Fold(w)]; r != "" {
			w = r
		}
		b.WriteString(w)
	}
	return b.String(), true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// words returns the folded words of text.
func words(text string) []string {
	return strings.FieldsFunc(retrieval.Fold(text), func(r rune) bool { return !isWordRune(r) })
}

// wordsAndGaps splits text into alternating runs of word and non-word
// characters, which join back into text.
func wordsAndGaps(text string) []string {
	var out []string
	start, inWord := 0, false
	for i, r := range text {
		w := isWordRune(r)
		if i > 0 && w != inWord {
			out = append(out, text[start:i])
			start = i
		}
		inWord = w
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
