// Package extractive is the answerer that needs no model: it composes an
// answer from whole sections of the best retrieved page, in the page's own
// words, with its lists as lists and its tables as the rows that match. It
// is the embedded default and the last step of every fallback chain.
//
// The retrieved passages decide the page and the confidence; the page
// whole (answer.Request.Pages) gives the sections to compose from. An
// answer never mixes sentences of different pages, and a sentence that
// leans on the one before it ("Dan ...", see Leans) comes with that
// sentence or not at all.
package extractive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/assistent-nl/assistent/node/answer"
)

// Config tunes the extractive generator.
type Config struct {
	// MaxPassages is how many of the best retrieved passages decide the
	// page and the confidence.
	MaxPassages int
	// MaxWords is the answer's length budget in words (B1: short), the
	// citations and the assistant's own words excluded. The best match is
	// always used whole, even when it is longer.
	MaxWords int
	// MinWords is the length below which the best match of a further
	// section of the page joins, when it scores at least MinRelative of the
	// best.
	MinWords int
	// MinRelative is the share of the best match's score a further part
	// of the page needs to join the answer.
	MinRelative float64
	// MinConfidence is the threshold below which the generator refuses.
	// It is calibrated with "assistent eval confidence" (see BENCHMARKS.md).
	MinConfidence float64
	// RankPrior is how much retrieval's order weighs in the choice of the
	// page: a passage's sentences score times its score's share of the
	// best passage's, to this power (0: the best sentence anywhere wins).
	RankPrior float64
}

// DefaultConfig returns the calibrated defaults.
func DefaultConfig() Config {
	return Config{MaxPassages: 4, MaxWords: 90, MinWords: 40, MinRelative: 0.5, MinConfidence: 0.2, RankPrior: 8}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MaxPassages < 1:
		return errors.New("answer.extractive.max_passages: must be at least 1")
	case c.MaxWords < 20:
		return errors.New("answer.extractive.max_words: must be at least 20")
	case c.MinWords < 0 || c.MinWords > c.MaxWords:
		return errors.New("answer.extractive.min_words: must be in [0, max_words]")
	case c.MinRelative < 0 || c.MinRelative > 1:
		return errors.New("answer.extractive.min_relative: must be in [0, 1]")
	case c.MinConfidence < 0 || c.MinConfidence > 1:
		return errors.New("answer.extractive.min_confidence: must be in [0, 1]")
	case c.RankPrior < 0 || c.RankPrior > 100:
		return errors.New("answer.extractive.rank_prior: must be in [0, 100]")
	}
	return nil
}

// Generator composes answers from the pages' own text; it needs no model.
type Generator struct {
	cfg       Config
	terms     func(string) []string
	sentences func(string) []string
}

// New returns an extractive generator. terms analyses text into index
// terms (stemmed, stop words removed); sentences splits a paragraph.
func New(cfg Config, terms, sentences func(string) []string) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if terms == nil || sentences == nil {
		return nil, errors.New("answer: extractive generator needs terms and sentences functions")
	}
	return &Generator{cfg: cfg, terms: terms, sentences: sentences}, nil
}

// Route names the extractive route in answers; the pipeline decides the
// mode of answers on it with the calibrated model.
const Route = answer.RouteExtractive

// unread is the weight of a unit in a passage the retrieval did not
// return, against one it did: the page is read whole, but what the search
// found is likelier to be what was asked.
const unread = 0.9

// Generate answers req from the best page among its passages, or refuses
// with the referral when the passages do not support an answer well
// enough.
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
	sc := scorer{e: e, weights: weights, total: total, numbers: numbers(focus)}

	// The best unit of the retrieved passages decides the page and, with
	// how much of the question the best passage covers, the confidence.
	var best float64
	var page string
	for i, p := range passages {
		d := e.parseDoc([]answer.Passage{p})
		for _, s := range d.secs {
			around := e.termSet(p.Title + " \n " + s.heading)
			for j := range s.units {
				if v := sc.score(&s.units[j], j, around) * math.Pow(passageWeight(passages, i), e.cfg.RankPrior); v > best {
					best, page = v, key(p)
				}
			}
		}
	}
	conf := e.confidence(weights, total, sets[0], e.termSet(passages[0].Title), best)
	if conf < e.cfg.MinConfidence || best == 0 {
		a := answer.Refusal(req, conf)
		a.Route = Route
		return a, nil
	}

	d := e.page(req, page)
	e.scoreDoc(&d, req, page, sc)
	c := e.choose(&d, sc, answer.Normalise(req.Question))
	var lead string
	switch {
	case premiseQuestion.MatchString(answer.Normalise(req.Question)) && unsupportedPremise(weights, sets, e.termSet(premiseFrame)):
		// "Klopt het dat de heffing is afgeschaft?" and no source says so:
		// say that, then what the sources do say, opening with the page's
		// lead.
		lead = answer.Unconfirmed(req.Lang)
		c.lead(&d, premiseLead)
	case req.PersonalCase:
		// A question on the resident's own case is answered with the rule:
		// the sections that match the case best, and as much of the
		// page's introduction (the rule's context and exceptions) as fits.
		c.lead(&d, caseLead)
	}
	text, cite := part(&d, c, sc, 1)
	a := answer.Answer{Text: text, Mode: answer.ModeAnswer, Citations: []answer.Citation{cite}, Confidence: conf, Route: Route}
	if d2, c2, ok := e.second(req, page, &d, c, sc); ok {
		text, cite := part(&d2, c2, sc, 2)
		a.Text += "\n" + fmt.Sprintf(textsFor(req.Lang).AlsoOn, d2.Title) + "\n" + text
		a.Citations = append(a.Citations, cite)
	}
	if lead != "" {
		a.Text = lead + " " + a.Text
	}
	return a, nil
}

// second returns the part of the next best page an answer adds, after
// the part of page first (d, c): only when that page says what d does not,
// the kind of fact the question asks for, or a word of the question in a
// unit that scores near d's best; and only on d's topic. It is never mixed
// with d's sentences.
func (e *Generator) second(req answer.Request, first string, d *doc, c *choice, sc scorer) (doc, *choice, bool) {
	k := ""
	for _, p := range req.Passages[:min(len(req.Passages), e.cfg.MaxPassages)] {
		if key(p) != first {
			k = key(p)
			break
		}
	}
	if k == "" || c.top == 0 {
		return doc{}, nil, false
	}
	d2 := e.page(req, k)
	e.scoreDoc(&d2, req, k, sc)
	covered := e.termSet(d.Title)
	found := map[*regexp.Regexp]bool{}
	for s, js := range c.units {
		for t := range e.termSet(d.secs[s].heading) {
			covered[t] = true
		}
		for _, j := range js {
			u := &d.secs[s].units[j]
			for t := range u.terms {
				covered[t] = true
			}
			for _, at := range answerTypes {
				if at.cue.MatchString(u.plain()) {
					found[at.cue] = true
				}
			}
		}
	}
	// A page about another topic stays out: "Meld uw hond aan" shares a
	// verb with a question about bijstand, not its topic. The topic is
	// the question's words in the first page's title; when there are none,
	// nothing is off topic.
	var topic []string
	for t := range e.termSet(d.Title) {
		if _, ok := sc.weights[t]; ok {
			topic = append(topic, t)
		}
	}
	title2 := e.termSet(d2.Title)
	onTopic := func(u *unit, heading map[string]bool, strict bool) bool {
		return len(topic) == 0 || slices.ContainsFunc(topic, func(t string) bool { return u.terms[t] || heading[t] || !strict && title2[t] })
	}
	question := answer.Normalise(req.Question)
	c2 := &choice{units: map[int][]int{}, budget: max(e.cfg.MaxWords-c.words, e.cfg.MaxWords/3)}
	best := -1.0
	for i, s := range d2.secs {
		heading := e.termSet(s.heading)
		for j := range s.units {
			u := &s.units[j]
			if u.score == 0 || u.score <= best || !onTopic(u, heading, false) {
				continue
			}
			adds := false
			for _, at := range answerTypes {
				// The fact asked for, where the first page has none, under
				// the first page's topic itself.
				if at.elsewhere && at.question.MatchString(question) && !found[at.cue] && at.cue.MatchString(u.plain()) && onTopic(u, heading, true) {
					adds = true
				}
			}
			for t := range sc.weights {
				if u.terms[t] && !covered[t] && u.score >= nearBest*c.top {
					adds = true
				}
			}
			if adds {
				trial := &choice{units: map[int][]int{}, budget: c2.budget}
				if trial.add(&d2, i, j, true) {
					best, c2 = u.score, trial
					c2.first, c2.top = i, u.score
				}
			}
		}
	}
	if best < 0 {
		return doc{}, nil, false
	}
	return d2, c2, true
}

// nearBest is the share of the best page's best score a unit of the next
// page needs to add a word of the question in a part of its own.
const nearBest = 0.9

// scoreDoc scores every unit of page d (key k) against the question; a
// unit of a passage the retrieval did not return weighs a little less.
func (e *Generator) scoreDoc(d *doc, req answer.Request, k string, sc scorer) {
	read := map[int]bool{}
	for _, p := range req.Passages {
		if key(p) == k {
			read[p.Ord] = true
		}
	}
	for i := range d.secs {
		s := &d.secs[i]
		around := e.termSet(d.Title + " \n " + s.heading)
		for j := range s.units {
			u := &s.units[j]
			u.score = sc.score(u, j, around)
			if !read[u.ord] {
				u.score *= unread
			}
		}
	}
}

// page returns the page with key k whole: from req.Pages when it is there,
// else from the retrieved passages of it.
func (e *Generator) page(req answer.Request, k string) doc {
	for _, pg := range req.Pages {
		if len(pg.Passages) > 0 && key(pg.Passages[0]) == k {
			d := e.parseDoc(pg.Passages)
			for _, p := range req.Passages {
				if key(p) == k {
					d.From = p.From // the retrieved passage knows whose page it is
					if d.Title == "" {
						d.Title = p.Title
					}
					break
				}
			}
			return d
		}
	}
	var ps []answer.Passage
	for _, p := range req.Passages {
		if key(p) == k {
			ps = append(ps, p)
		}
	}
	return e.parseDoc(ps)
}

// premiseLead is how much of a page's opening leads an answer to a
// premise question; caseLead how much leads one on a personal case, where
// the opening paragraph states the rule and its exceptions ("Soms is een
// melding genoeg"). In characters.
const (
	premiseLead = 120
	caseLead    = 320
)

func (e *Generator) termSet(s string) map[string]bool {
	ts := e.terms(s)
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
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

// answerTypes are the kinds of fact a question word asks for, each with
// the cue that a sentence states one.
var answerTypes = []struct {
	question, cue *regexp.Regexp
	// elsewhere: another page may supply the fact when the best page has
	// none. Not for "wanneer", which pages answer with a condition ("Als
	// u ...") as often as with a time.
	elsewhere bool
}{
	// waar, and how to apply for or report something: a place, an
	// address, a desk or a website ("het Omgevingsloket").
	{regexp.MustCompile(`^\s*(waar|waarheen|bij wie)\b|^\s*hoe (vraag|doe|meld|regel|geef) (ik|je|u|we)\b`),
		regexp.MustCompile(`(?i)\b(adres|\p{L}*balie|\p{L}*loket|gemeentehuis|stadhuis|stadskantoor|milieustraat|afvalbrengstation|milieupark|website|online|digitaal|www\.|\.nl\b|postbus)|\b\p{Lu}\p{Ll}+(straat|weg|plein|laan|kade|singel|dijk|park|markt) \d+|\b(bij|op|in|naar) (de|het) \p{L}+(straat|huis|kantoor|loket|balie|station|centrum|plein)\b`), true},
	// wanneer: a time, a day, a date or a term.
	{regexp.MustCompile(`^\s*(wanneer|hoe laat|op welke dag|hoe lang|binnen hoeveel)\b`),
		regexp.MustCompile(`(?i)\b(\d+[.:]\d\d|\d+ (uur|dagen|dag|weken|week|maanden|maand|jaar)|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|oudejaarsavond|nieuwjaarsdag|binnen \d+|uiterlijk)\b`), false},
	// wat kost / hoeveel: an amount.
	{regexp.MustCompile(`^\s*(wat kost|wat kosten|hoeveel kost|hoeveel kosten|hoe duur|hoeveel betaal)|\b(kosten|tarief|tarieven|prijs|leges)\b`),
		regexp.MustCompile(`(?i)€|\beuro\b|\bgratis\b|\bkosteloos\b`), true},
}

// passageWeight discounts units from passages the retrieval ranked
// lower: by the passage's score relative to the best one when scores are
// known, else by rank. Two passages of the same page score alike, so the
// better unit wins wherever on the page it stands.
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

// navigation matches sentences that point to another page instead of
// saying something.
var navigation = regexp.MustCompile(`(?i)^(lees (dan |ook |meer )?|kijk (dan |ook )?(op|bij)|ga (dan )?naar|zie (ook )?|meer informatie)`)
