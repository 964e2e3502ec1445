package answer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
)

// ExtractiveConfig tunes the extractive generator.
type ExtractiveConfig struct {
	MaxPassages  int     // passages sentences are taken from
	MaxSentences int     // sentences in an answer
	MaxChars     int     // answer length budget, citations excluded
	MinRelative  float64 // a sentence joins when its score is this share of the best
	// MinConfidence is the threshold below which the generator refuses.
	// It is calibrated with "assistent eval confidence" (see BENCHMARKS.md).
	MinConfidence float64
}

// DefaultExtractiveConfig returns the calibrated defaults.
func DefaultExtractiveConfig() ExtractiveConfig {
	return ExtractiveConfig{MaxPassages: 3, MaxSentences: 4, MaxChars: 650, MinRelative: 0.5, MinConfidence: 0.2}
}

// Validate reports the first invalid field.
func (c ExtractiveConfig) Validate() error {
	switch {
	case c.MaxPassages < 1:
		return errors.New("answer.extractive.max_passages: must be at least 1")
	case c.MaxSentences < 1:
		return errors.New("answer.extractive.max_sentences: must be at least 1")
	case c.MaxChars < 80:
		return errors.New("answer.extractive.max_chars: must be at least 80")
	case c.MinRelative < 0 || c.MinRelative > 1:
		return errors.New("answer.extractive.min_relative: must be in [0, 1]")
	case c.MinConfidence < 0 || c.MinConfidence > 1:
		return errors.New("answer.extractive.min_confidence: must be in [0, 1]")
	}
	return nil
}

// Extractive composes answers from the passages' own sentences; it needs no
// model. It is the embedded default and the last step of every fallback
// chain.
type Extractive struct {
	cfg       ExtractiveConfig
	terms     func(string) []string
	sentences func(string) []string
}

// NewExtractive returns an extractive generator. terms analyses text into
// index terms (stemmed, stop words removed); sentences splits a passage.
func NewExtractive(cfg ExtractiveConfig, terms, sentences func(string) []string) (*Extractive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if terms == nil || sentences == nil {
		return nil, errors.New("answer: extractive generator needs terms and sentences functions")
	}
	return &Extractive{cfg: cfg, terms: terms, sentences: sentences}, nil
}

// navigation matches sentences that point to another page instead of
// saying something.
var navigation = regexp.MustCompile(`(?i)^(lees (dan |ook |meer )?|kijk (dan |ook )?(op|bij)|ga (dan )?naar|zie (ook )?|meer informatie)`)

// RouteExtractive names the extractive route in answers.
const RouteExtractive = "extractive"

type candidate struct {
	passage, pos int
	text         string
	score        float64
}

// Generate answers req from its passages, or refuses with the referral when
// the passages do not support an answer well enough.
func (e *Extractive) Generate(ctx context.Context, req Request) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	q := e.termSet(req.Question)
	passages := req.Passages
	if len(passages) > e.cfg.MaxPassages {
		passages = passages[:e.cfg.MaxPassages]
	}
	if len(q) == 0 || len(passages) == 0 {
		a := Refusal(req, 0)
		a.Route = RouteExtractive
		return a, nil
	}

	// Term weights: IDF over all offered passages, so a question word that
	// no passage has weighs most and pulls the confidence down.
	sets := make([]map[string]bool, len(req.Passages))
	for i, p := range req.Passages {
		sets[i] = e.termSet(p.Title + " \n " + p.Section + " \n " + p.Text)
	}
	weights := map[string]float64{}
	var total float64
	for t := range q {
		df := 0
		for _, s := range sets {
			if s[t] {
				df++
			}
		}
		weights[t] = math.Log(1 + float64(len(sets)+1)/(float64(df)+0.5))
		total += weights[t]
	}
	title := e.termSet(passages[0].Title)

	var cands []candidate
	var best candidate
	for i, p := range passages {
		around := e.termSet(p.Title + " \n " + p.Section)
		for j, s := range e.sentences(p.Text) {
			st := e.termSet(s)
			var cov, ctxCov float64
			for t, w := range weights {
				if st[t] {
					cov += w
				} else if around[t] {
					ctxCov += w
				}
			}
			// A sentence is supported by its own words, and a little by the
			// heading it stands under ("Kosten" → "€ 84,40").
			score := (cov + 0.35*ctxCov) / total
			score *= 1 / (1 + 0.3*float64(i))
			score *= 1 + 0.2/float64(1+j)
			if strings.HasSuffix(s, "?") {
				score *= 0.5 // a question in the text rarely answers one
			}
			if navigation.MatchString(s) {
				score *= 0.5 // "Lees dan de pagina ..." points elsewhere
			}
			if n := len(strings.Fields(s)); n < 4 {
				score *= 0.5
			} else if n > 60 {
				score *= 0.7
			}
			c := candidate{passage: i, pos: j, text: s, score: score}
			cands = append(cands, c)
			if c.score > best.score {
				best = c
			}
		}
	}

	conf := e.confidence(weights, total, sets[0], title, best.score)
	if conf < e.cfg.MinConfidence || best.score == 0 {
		a := Refusal(req, conf)
		a.Route = RouteExtractive
		return a, nil
	}

	chosen := e.choose(cands, best)
	readingOrder(chosen, passages)
	return e.compose(req, passages, chosen, conf), nil
}

// confidence combines how much of the question the best passage covers with
// how well the best sentence matches, on a 0..1 scale.
func (e *Extractive) confidence(weights map[string]float64, total float64, top, title map[string]bool, bestSentence float64) float64 {
	var covered, inTitle float64
	for t, w := range weights {
		if top[t] {
			covered += w
		}
		if title[t] {
			inTitle += w
		}
	}
	c := 0.5*covered/total + 0.3*inTitle/total + 0.2*math.Min(1, bestSentence)
	return math.Round(c*1000) / 1000
}

func (e *Extractive) choose(cands []candidate, best candidate) []candidate {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	chosen := []candidate{best}
	size := len(best.text)
	has := func(c candidate) bool {
		for _, o := range chosen {
			if o.passage == c.passage && o.pos == c.pos {
				return true
			}
		}
		return false
	}
	for _, c := range cands {
		if len(chosen) >= e.cfg.MaxSentences {
			break
		}
		if has(c) || c.score < e.cfg.MinRelative*best.score || size+len(c.text) > e.cfg.MaxChars {
			continue
		}
		chosen = append(chosen, c)
		size += len(c.text)
	}
	// One sentence rarely answers well: add the one after the best, which
	// usually carries on with the how or the what.
	if len(chosen) == 1 {
		for _, c := range cands {
			if c.passage == best.passage && c.pos == best.pos+1 && size+len(c.text) <= e.cfg.MaxChars {
				chosen = append(chosen, c)
				break
			}
		}
	}
	return chosen
}

// readingOrder sorts sentences by the rank of their document, then by
// where they stand in it.
func readingOrder(chosen []candidate, passages []Passage) {
	docRank := map[string]int{}
	for i, p := range passages {
		if _, ok := docRank[p.URL+"\x00"+p.DocID]; !ok {
			docRank[p.URL+"\x00"+p.DocID] = i
		}
	}
	key := func(c candidate) (int, int, int) {
		p := passages[c.passage]
		return docRank[p.URL+"\x00"+p.DocID], p.Ord, c.pos
	}
	sort.Slice(chosen, func(i, j int) bool {
		a1, a2, a3 := key(chosen[i])
		b1, b2, b3 := key(chosen[j])
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return a3 < b3
	})
}

func (e *Extractive) compose(req Request, passages []Passage, chosen []candidate, conf float64) Answer {
	citeOf := map[string]int{}
	var cites []Citation
	var parts []string
	for _, c := range chosen {
		p := passages[c.passage]
		key := p.URL + "\x00" + p.DocID
		n, ok := citeOf[key]
		if !ok {
			cites = append(cites, Citation{ID: p.DocID, URL: p.URL, Title: p.Title})
			n = len(cites)
			citeOf[key] = n
		}
		parts = append(parts, fmt.Sprintf("%s [%d]", sentenceEnd(c.text), n))
	}
	return Answer{Text: strings.Join(parts, " "), Citations: cites, Confidence: conf, Route: RouteExtractive}
}

// sentenceEnd makes list items and headings read as sentences.
func sentenceEnd(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ";:,")
	if s == "" {
		return s
	}
	switch s[len(s)-1] {
	case '.', '!', '?', ')', '"':
		return s
	}
	return s + "."
}

func (e *Extractive) termSet(s string) map[string]bool {
	ts := e.terms(s)
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}
