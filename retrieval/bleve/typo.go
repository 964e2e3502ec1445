package bleve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/assistent-nl/assistent/retrieval"
)

// Typo correction. A typed word the index does not know at all is most
// likely misspelt ("rijbeweis"). It is searched as the index terms within a
// small edit distance, each weighted by how likely it is the word meant: a
// noisy channel, where a term's prior is its document frequency and every
// edit costs a fixed factor,
//
//	score(t) = ln(1 + df(t)) − typoEditCost · distance(word, t)
//
// The best term gets the typo weight; the others get it scaled by
// exp(score − best), and those far below the best are left out. All of
// them share the best term's IDF (as Lucene's fuzzy query blends document
// frequencies), so a rare term that happens to lie in reach adds little
// however high its own IDF, and one edit more must be bought with a much
// higher frequency. Before, every term in reach counted the same with its
// own IDF, and the rarest guesses decided the ranking.
const (
	// typoEditCost is the price of one edit, in ln of document frequency:
	// a term one edit further away must be e^typoEditCost times as
	// frequent to be preferred.
	typoEditCost = 3.0
	// typoKeep drops candidates scored more than this below the best.
	typoKeep = 3.0
	// minTypo2Len is the shortest word (in runes) searched with two
	// edits; shorter words allow one.
	minTypo2Len = 7
)

// maxTypoTerms caps the index terms a misspelt word expands to.
const maxTypoTerms = 16

// maxTypos is the largest edit distance searched; it is also the most
// bleve's fuzzy dictionary allows (a larger one is an error).
const maxTypos = 2

// typoCandidate is an index term near a misspelt word.
type typoCandidate struct {
	term  string
	dist  int
	df    uint64
	score float64
}

// typoClause returns the index terms near the unknown word (the first
// letter must match), weighted as described above, at most maxTypoTerms.
// The result is empty when no term is near.
func typoClause(ctx context.Context, r index.IndexReader, word, field string, boost float64) (clause, error) {
	cands, err := typoCandidates(ctx, r, word, field)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	best := cands[0].score
	c := make(clause, 0, len(cands))
	for _, t := range cands {
		c = append(c, term{text: t.term, field: field, boost: boost * math.Exp(t.score-best), df: cands[0].df})
	}
	return c, nil
}

// typoCandidates returns the index terms within reach of word, best first,
// without those scored more than typoKeep below the best.
func typoCandidates(ctx context.Context, r index.IndexReader, word, field string) ([]typoCandidate, error) {
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return nil, nil
	}
	n := utf8.RuneCountInString(word)
	reach := 1
	if n >= minTypo2Len {
		reach = maxTypos
	}
	first, _ := utf8.DecodeRuneInString(word)
	d, err := fr.FieldDictFuzzy(field, word, reach, string(first))
	if err != nil {
		return nil, fmt.Errorf("fuzzy terms for %q: %w", word, err)
	}
	var cands []typoCandidate
	for {
		e, err := d.Next()
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("fuzzy terms for %q: %w", word, err)
		}
		if e == nil {
			break
		}
		// bleve's automaton counts a swap of two letters as two edits;
		// people make it as one.
		cands = append(cands, typoCandidate{term: e.Term, dist: retrieval.EditDistance(word, e.Term)})
	}
	d.Close()
	for i := range cands {
		df, err := docFreq(ctx, r, cands[i].term, field)
		if err != nil {
			return nil, err
		}
		cands[i].df = df
		cands[i].score = math.Log1p(float64(df)) - typoEditCost*float64(cands[i].dist)
	}
	slices.SortFunc(cands, func(a, b typoCandidate) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.term, b.term)
	})
	keep := 0
	for keep < len(cands) && keep < maxTypoTerms && cands[keep].score >= cands[0].score-typoKeep {
		keep++
	}
	return cands[:keep], nil
}

// docFreq returns the number of chunks with term in field.
func docFreq(ctx context.Context, r index.IndexReader, term, field string) (uint64, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0, fmt.Errorf("look up term %q: %w", term, err)
	}
	defer tfr.Close()
	return tfr.Count(), nil
}

// UnknownWords returns the words of text, folded to lower case without
// diacritics, that Search treats as misspelt: long enough, and with an
// analysed form no chunk has. A caller can respell them for stages that
// match words as they are (re-ranking, embeddings).
func (x *Index) UnknownWords(ctx context.Context, text string) (_ []string, err error) {
	defer recoverCorrupt("unknown words", &err)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, retrieval.ErrClosed
	}
	adv, err := x.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("unknown words: %w", err)
	}
	reader, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("unknown words: %w", err)
	}
	defer reader.Close()
	// One analysis of the folded text, so that token offsets point into
	// it; the first token at a position is the word itself, compound parts
	// follow at the same position.
	folded := retrieval.Fold(text)
	var out []string
	last := -1
	for _, tok := range x.analyzer.Analyze([]byte(folded)) {
		if tok.Position == last {
			continue
		}
		last = tok.Position
		if utf8.RuneCount(tok.Term) < minFuzzyLen {
			continue
		}
		df, err := docFreq(ctx, reader, string(tok.Term), "body")
		if err != nil {
			return nil, err
		}
		if w := folded[tok.Start:tok.End]; df == 0 && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out, nil
}
