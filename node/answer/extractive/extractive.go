// Package extractive is the answerer that needs no model: it composes an
// answer from the retrieved pages' own sentences, lists and table rows.
// It is the embedded default and the last step of every fallback chain.
package extractive

import (
	"context"
	"errors"
	"fmt"
	"github.com/assistent-nl/assistent/node/answer"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Config tunes the extractive generator.
type Config struct {
	MaxPassages  int     // passages sentences are taken from
	MaxSentences int     // sentences in an answer
	MaxChars     int     // answer length budget, citations excluded
	MinRelative  float64 // a sentence joins when its score is this share of the best
	// MinConfidence is the threshold below which the generator refuses.
	// It is calibrated with "assistent eval confidence" (see BENCHMARKS.md).
	MinConfidence float64
}

// DefaultConfig returns the calibrated defaults.
func DefaultConfig() Config {
	return Config{MaxPassages: 4, MaxSentences: 4, MaxChars: 650, MinRelative: 0.5, MinConfidence: 0.2}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
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

// Generator composes answers from the passages' own sentences; it needs no
// model. It is the embedded default and the last step of every fallback
// chain.
type Generator struct {
	cfg       Config
	terms     func(string) []string
	sentences func(string) []string
}

// New returns an extractive generator. terms analyses text into
// index terms (stemmed, stop words removed); sentences splits a passage.
func New(cfg Config, terms, sentences func(string) []string) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if terms == nil || sentences == nil {
		return nil, errors.New("answer: extractive generator needs terms and sentences functions")
	}
	return &Generator{cfg: cfg, terms: terms, sentences: sentences}, nil
}

// navigation matches sentences that point to another page instead of
// saying something.
var navigation = regexp.MustCompile(`(?i)^(lees (dan |ook |meer )?|kijk (dan |ook )?(op|bij)|ga (dan )?naar|zie (ook )?|meer informatie)`)

// Route names the extractive route in answers.
const Route = "extractive"

type candidate struct {
	passage, pos int
	last         int // the last sentence a list unit spans; pos otherwise
	text         string
	score        float64
	terms        map[string]bool // of text
}

// conditional matches a sentence that answers the question before it, as
// B1 texts put conditions: "Heeft u een laag inkomen? Dan kunt u ...".
var conditional = regexp.MustCompile(`^\s*(Dan|Zo ja|Zo nee|In dat geval)\b`)

// maxListItems bounds the items a sentence that introduces a list ("Dan
// kunt u bezwaar maken:") takes along.
const maxListItems = 6

// units returns the sentences of a passage as answer units: a sentence
// that ends in a colon carries the list items after it (lines ending in
// ";" or without a full stop, up to and including the first that ends one),
// because the items are what it announces.
func units(ss []string) (texts []string, spans [][2]int) {
	for j := 0; j < len(ss); j++ {
		s := strings.TrimSpace(ss[j])
		if strings.HasSuffix(s, "?") && j+1 < len(ss) && conditional.MatchString(ss[j+1]) {
			// "Verhuist u binnen het jaar? Dan krijgt u ..." is one statement.
			texts, spans = append(texts, s+" "+strings.TrimSpace(ss[j+1])), append(spans, [2]int{j, j + 1})
			j++
			continue
		}
		if !strings.HasSuffix(s, ":") || j+1 == len(ss) {
			texts, spans = append(texts, ss[j]), append(spans, [2]int{j, j})
			continue
		}
		items := []string{}
		k := j + 1
		for ; k < len(ss) && len(items) < maxListItems; k++ {
			it := strings.TrimSpace(ss[k])
			items = append(items, strings.TrimRight(it, ";,."))
			if strings.HasSuffix(it, ".") || strings.HasSuffix(it, "?") || strings.HasSuffix(it, "!") {
				k++
				break
			}
		}
		texts = append(texts, s+" "+strings.Join(items, "; ")+".")
		spans = append(spans, [2]int{j, k - 1})
		// The items stay candidates on their own too: one may answer alone.
	}
	return texts, spans
}

// Generate answers req from its passages, or refuses with the referral when
// the passages do not support an answer well enough.
func (e *Generator) Generate(ctx context.Context, req answer.Request) (answer.Answer, error) {
	if err := ctx.Err(); err != nil {
		return answer.Answer{}, err
	}
	focus := req.Question
	if req.Focus != "" {
		focus = req.Focus
	}
	q := e.termSet(focus)
	passages := req.Passages
	if len(passages) > e.cfg.MaxPassages {
		passages = passages[:e.cfg.MaxPassages]
	}
	if len(q) == 0 || len(passages) == 0 {
		a := answer.Refusal(req, 0)
		a.Route = Route
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
		texts, spans := units(e.sentences(p.Text))
		for u, s := range texts {
			j := spans[u][0]
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
			score *= passageWeight(passages, i)
			score *= 1 + 0.2/float64(1+j)
			if strings.HasSuffix(s, "?") {
				score *= 0.5 // a question in the text rarely answers one
			}
			if navigation.MatchString(s) {
				score *= 0.5 // "Lees dan de pagina ..." points elsewhere
			}
			if n := len(strings.Fields(s)); n < 4 {
				score *= 0.5
			} else if n > 80 {
				score *= 0.7
			}
			c := candidate{passage: i, pos: j, last: spans[u][1], text: s, score: score, terms: st}
			cands = append(cands, c)
			if c.score > best.score {
				best = c
			}
		}
	}

	conf := e.confidence(weights, total, sets[0], title, best.score)
	if conf < e.cfg.MinConfidence || best.score == 0 {
		a := answer.Refusal(req, conf)
		a.Route = Route
		return a, nil
	}

	chosen := e.choose(cands, best, e.offTopic(q, passages, best))
	chosen = e.complete(chosen, cands, best, req.Question, passages)
	var lead string
	switch {
	case premiseQuestion.MatchString(answer.Normalise(req.Question)) && unsupportedPremise(weights, sets, e.termSet(premiseFrame)):
		// "Klopt het dat de heffing is afgeschaft?" and no source says so:
		// say that, then what the sources do say, opening with the page's
		// lead.
		lead = answer.Unconfirmed(req.Lang)
		chosen = withLead(chosen, cands, passages, best, premiseLead, e.cfg.MaxSentences, e.cfg.MaxChars)
	case req.PersonalCase:
		// A question on the resident's own case is answered with the rule:
		// the sentences that match the case best, and as much of the
		// opening paragraph of their page (the rule's context and
		// exceptions) as fits, one sentence more than usual.
		chosen = addLead(chosen, cands, passages, best, caseLead, e.cfg.MaxSentences+1, e.cfg.MaxChars)
	}
	readingOrder(chosen, passages)
	a := e.compose(req, passages, chosen, conf)
	if lead != "" {
		a.Text = lead + " " + a.Text
	}
	return a, nil
}

// premiseQuestion matches a question that asks to confirm a claim.
var premiseQuestion = regexp.MustCompile(`\b(klopt het( dat)?|klopt dat|is het waar( dat)?|ik (heb|had) (gehoord|gelezen) dat|ik (hoorde|las|zag) dat|iemand zei dat|(men|ze|mensen) zeggen dat|er wordt gezegd dat)\b|\btoch\b[^.!?]*\?\s*$`)

// premiseFrame holds the words that frame a claim rather than make it.
const premiseFrame = "klopt het dat is het waar ik heb had gehoord gelezen hoorde zag iemand zei las men ze mensen zeggen er wordt gezegd toch"

// unsupportedPremise reports whether some word of the claim occurs in none
// of the passages, not even as part of a longer or shorter word
// ("terugkrijg" is supported by "terug"): the sources cannot confirm it.
func unsupportedPremise(weights map[string]float64, sets []map[string]bool, frame map[string]bool) bool {
	for t := range weights {
		if !frame[t] && !slices.ContainsFunc(sets, func(s map[string]bool) bool { return related(t, s) }) {
			return true
		}
	}
	return false
}

// related reports whether term or a word sharing a long part with it is
// in set.
func related(term string, set map[string]bool) bool {
	if set[term] {
		return true
	}
	const part = 5
	for w := range set {
		if len(w) >= part && strings.Contains(term, w) || len(term) >= part && strings.HasPrefix(w, term) {
			return true
		}
	}
	return false
}

// withLead adds the opening of the best document (the first sentences of
// its introduction passage, Ord 0, up to leadChars) when not chosen yet.
func withLead(chosen, cands []candidate, passages []answer.Passage, best candidate, leadChars, maxSentences, budget int) []candidate {
	lead := leadUnits(cands, passages, best, leadChars)
	n := 0
	for _, c := range lead {
		n += len(c.text)
	}
	var out []candidate
	for _, c := range chosen {
		if !slices.ContainsFunc(lead, func(l candidate) bool { return l.passage == c.passage && l.pos == c.pos }) {
			out = append(out, c)
		}
	}
	size := n
	keep := 0
	for keep < len(out) && keep+len(lead) < maxSentences && size+len(out[keep].text) <= budget {
		size += len(out[keep].text)
		keep++
	}
	return append(lead, out[:keep]...)
}

// leadUnits returns the units of the best page's opening passage from its
// start, in order, until they hold leadChars characters.
func leadUnits(cands []candidate, passages []answer.Passage, best candidate, leadChars int) []candidate {
	top := passages[best.passage]
	var lead []candidate
	n := 0
	for pos := 0; n < leadChars; pos++ {
		i := slices.IndexFunc(cands, func(c candidate) bool {
			p := passages[c.passage]
			return p.URL == top.URL && p.DocID == top.DocID && p.Ord == 0 && c.pos == pos
		})
		if i < 0 {
			break
		}
		lead = append(lead, cands[i])
		n += len(cands[i].text)
		pos = cands[i].last
	}
	return lead
}

// addLead adds to chosen the units of the best page's opening (up to
// leadChars) that are not chosen yet, while the answer stays within
// maxSentences units and budget characters.
func addLead(chosen, cands []candidate, passages []answer.Passage, best candidate, leadChars, maxSentences, budget int) []candidate {
	size := 0
	for _, c := range chosen {
		size += len(c.text)
	}
	for _, c := range leadUnits(cands, passages, best, leadChars) {
		if len(chosen) >= maxSentences {
			break
		}
		if slices.ContainsFunc(chosen, func(o candidate) bool { return o.passage == c.passage && o.pos <= c.pos && c.pos <= o.last }) {
			continue
		}
		if size+len(c.text) > budget {
			break
		}
		chosen = append(chosen, c)
		size += len(c.text)
	}
	return chosen
}

// premiseLead is how much of a page's opening leads an answer to a
// premise question; caseLead how much leads one on a personal case, where
// the opening paragraph states the rule and its exceptions ("Soms is een
// melding genoeg").
const (
	premiseLead = 120
	caseLead    = 320
)

// answerTypes are the kinds of fact a question word asks for, each with
// the cue that a sentence states one.
var answerTypes = []struct {
	question, cue *regexp.Regexp
}{
	// waar: a place, an address, a desk or a website.
	{regexp.MustCompile(`^\s*(waar|waarheen|bij wie)\b`),
		regexp.MustCompile(`(?i)\b(adres|balie|loket|gemeentehuis|stadhuis|stadskantoor|milieustraat|afvalbrengstation|milieupark|website|online|digitaal|www\.|\.nl\b|postbus)|\b\p{Lu}\p{Ll}+(straat|weg|plein|laan|kade|singel|dijk|park|markt) \d+|\b(bij|op|in|naar) (de|het) \p{L}+(straat|huis|kantoor|loket|balie|station|centrum|plein)\b`)},
	// wanneer: a time, a day, a date or a term.
	{regexp.MustCompile(`^\s*(wanneer|hoe laat|op welke dag|hoe lang|binnen hoeveel)\b`),
		regexp.MustCompile(`(?i)\b(\d+[.:]\d\d|\d+ (uur|dagen|dag|weken|week|maanden|maand|jaar)|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|oudejaarsavond|nieuwjaarsdag|binnen \d+|uiterlijk)\b`)},
	// wat kost / hoeveel: an amount.
	{regexp.MustCompile(`^\s*(wat kost|wat kosten|hoeveel kost|hoeveel kosten|hoe duur|hoeveel betaal)|\b(kosten|tarief|tarieven|prijs|leges)\b`),
		regexp.MustCompile(`(?i)€|\beuro\b|\bgratis\b|\bkosteloos\b`)},
}

// complete makes sure the answer states the kind of fact the question
// asks for: a "waar" question gets a place, "wanneer" a time, "wat kost"
// an amount. When no chosen sentence has one, the best-scoring sentence of
// the best document that has one is added.
func (e *Generator) complete(chosen, cands []candidate, best candidate, question string, passages []answer.Passage) []candidate {
	q := answer.Normalise(question)
	for _, t := range answerTypes {
		if !t.question.MatchString(q) {
			continue
		}
		for _, c := range chosen {
			if t.cue.MatchString(c.text) {
				return chosen
			}
		}
		top := passages[best.passage]
		size := 0
		for _, c := range chosen {
			size += len(c.text)
		}
		for _, c := range cands { // best first
			p := passages[c.passage]
			if p.URL != top.URL || p.DocID != top.DocID || !t.cue.MatchString(c.text) {
				continue
			}
			for len(chosen) > 1 && (len(chosen) >= e.cfg.MaxSentences || size+len(c.text) > e.cfg.MaxChars) {
				last := chosen[len(chosen)-1]
				chosen = chosen[:len(chosen)-1]
				size -= len(last.text)
			}
			return append(chosen, c)
		}
		return chosen
	}
	return chosen
}

// passageWeight discounts sentences from passages the retrieval ranked
// lower: by the passage's score relative to the best one when scores are
// known, else by rank. Two passages of the same page score alike, so the
// better sentence wins wherever on the page it stands.
func passageWeight(ps []answer.Passage, i int) float64 {
	if top := ps[0].Score; top > 0 && ps[i].Score > 0 {
		return math.Min(1, ps[i].Score/top)
	}
	return 1 / (1 + 0.3*float64(i))
}

// confidence combines how much of the question the best passage covers with
// how well the best sentence matches, on a 0..1 scale.
func (e *Generator) confidence(weights map[string]float64, total float64, top, title map[string]bool, bestSentence float64) float64 {
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

// offTopic returns a test for sentences of other pages than the best
// sentence's that share none of the question's words in that page's title:
// "Meld uw hond aan" matches "dat hoef ik niet te melden" on its verb
// alone, but a question about bijstand is not answered by the page on
// hondenbelasting. When the title shares no question word, nothing is off
// topic.
func (e *Generator) offTopic(q map[string]bool, passages []answer.Passage, best candidate) func(candidate) bool {
	bp := passages[best.passage]
	var topic []string
	for t := range e.termSet(bp.Title) {
		if q[t] {
			topic = append(topic, t)
		}
	}
	if len(topic) == 0 {
		return func(candidate) bool { return false }
	}
	titles := make([]map[string]bool, len(passages))
	return func(c candidate) bool {
		p := passages[c.passage]
		if p.URL == bp.URL && p.DocID == bp.DocID {
			return false
		}
		if titles[c.passage] == nil {
			titles[c.passage] = e.termSet(p.Title)
		}
		for _, t := range topic {
			if c.terms[t] || titles[c.passage][t] {
				return false
			}
		}
		return true
	}
}

func (e *Generator) choose(cands []candidate, best candidate, offTopic func(candidate) bool) []candidate {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	chosen := []candidate{best}
	size := len(best.text)
	has := func(c candidate) bool {
		for _, o := range chosen {
			if o.passage == c.passage && o.pos <= c.last && c.pos <= o.last {
				return true // the same sentence, or one inside the other's list
			}
		}
		return false
	}
	repeats := func(c *candidate) bool {
		for i := range chosen {
			if jaccard(c.terms, chosen[i].terms) >= nearDuplicate {
				return true
			}
		}
		return false
	}
	for i := range cands {
		c := &cands[i]
		if len(chosen) >= e.cfg.MaxSentences {
			break
		}
		if has(*c) || c.score < e.cfg.MinRelative*best.score || size+len(c.text) > e.cfg.MaxChars || repeats(c) || offTopic(*c) {
			continue
		}
		chosen = append(chosen, *c)
		size += len(c.text)
	}
	// A section opens with its point ("U moet uw bezwaar binnen 6 weken
	// indienen."); when the best sentence stands further down, the opening
	// sentence comes along.
	if best.pos > 0 && len(chosen) < e.cfg.MaxSentences {
		for i := range cands {
			c := &cands[i]
			if c.passage == best.passage && c.pos == 0 && c.score > 0 && !has(*c) && !repeats(c) && size+len(c.text) <= e.cfg.MaxChars {
				chosen = append(chosen, *c)
				size += len(c.text)
				break
			}
		}
	}
	// One sentence rarely answers well: add the one after the best, which
	// usually carries on with the how or the what.
	if len(chosen) == 1 {
		for _, c := range cands {
			if c.passage == best.passage && c.pos == best.last+1 && size+len(c.text) <= e.cfg.MaxChars {
				chosen = append(chosen, c)
				break
			}
		}
	}
	return chosen
}

// nearDuplicate is the term overlap (Jaccard) above which two sentences
// say the same thing ("Dat moet binnen 6 weken." and "U moet binnen 6
// weken bezwaar maken.") and only the better one is used.
const nearDuplicate = 0.6

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	both := 0
	for t := range a {
		if b[t] {
			both++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// readingOrder sorts sentences by the rank of their document, then by
// where they stand in it.
func readingOrder(chosen []candidate, passages []answer.Passage) {
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

func (e *Generator) compose(req answer.Request, passages []answer.Passage, chosen []candidate, conf float64) answer.Answer {
	citeOf := map[string]int{}
	var cites []answer.Citation
	var parts []string
	for _, c := range chosen {
		p := passages[c.passage]
		key := p.URL + "\x00" + p.DocID
		n, ok := citeOf[key]
		if !ok {
			cites = append(cites, answer.CitationOf(p))
			n = len(cites)
			citeOf[key] = n
		}
		parts = append(parts, fmt.Sprintf("%s [%d]", sentenceEnd(c.text), n))
	}
	return answer.Answer{Text: strings.Join(parts, " "), Mode: answer.ModeAnswer, Citations: cites, Confidence: conf, Route: Route}
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

func (e *Generator) termSet(s string) map[string]bool {
	ts := e.terms(s)
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}
