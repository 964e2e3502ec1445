package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/assistent-nl/assistent/node/answer"
)

// ErrUngrounded is wrapped when a model's answer cites no passage that
// exists: such an answer is not used, and the chain falls back.
var ErrUngrounded = errors.New("answer cites no existing source")

var _ answer.Generator = (*OpenAIGenerator)(nil)

// OpenAIGenerator answers with a chat model: it sends Prompt(req), checks
// the citations in the reply and maps them to the passages.
type OpenAIGenerator struct {
	client    *ChatClient
	templates *Templates
	// canary is a random mark in the system prompt, new per generator: a
	// reply that contains it leaks the prompt and is rejected.
	canary string
	// minSupport is CheckCitations' threshold; 0 means DefaultMinSupport.
	minSupport float64
}

// ErrPromptLeak is returned when a reply contains the system prompt's
// canary, i.e. the model was talked into revealing its instructions.
var ErrPromptLeak = errors.New("reply leaks the system prompt")

// NewOpenAIGenerator returns a generator that asks client.
func NewOpenAIGenerator(client *ChatClient) *OpenAIGenerator {
	b := make([]byte, 6)
	rand.Read(b)
	return &OpenAIGenerator{client: client, templates: Builtin(), canary: "KENMERK-" + strings.ToUpper(hex.EncodeToString(b))}
}

// WithTemplates returns a generator that renders its prompts from t (nil
// means Builtin()); it shares the client and the canary of g.
func (g *OpenAIGenerator) WithTemplates(t *Templates) *OpenAIGenerator {
	if t == nil {
		t = Builtin()
	}
	c := *g
	c.templates = t
	return &c
}

// Route returns the name answers of this generator carry in Route,
// "openai:" followed by the model name.
func (g *OpenAIGenerator) Route() string { return g.client.Name() }

// Generate asks the model to answer req from req.Passages only.
//
// A reply with RefusalMarker gives answer.Refusal(req, 0). Otherwise every
// [n] (also "[1, 2]") in the reply is checked: citations of passages that do
// not exist are removed, sentences the cited passages do not support are
// dropped (CheckCitations; too little left is an error wrapping
// ErrUnsupported), and the citations are renumbered so that [k] refers to
// Citations[k-1], one citation per document. Confidence is the share of the
// answer's sentences that carry a citation. A reply without any valid
// citation is an error wrapping ErrUngrounded; a request without passages
// is refused without asking the model. Other errors are the client's.
func (g *OpenAIGenerator) Generate(ctx context.Context, req answer.Request) (answer.Answer, error) {
	a, _, err := g.GeneratePrompted(ctx, req)
	return a, err
}

// GeneratePrompted is Generate that also returns the rendered prompt
// (without the messages when no model was asked), so that the answer can
// be traced to its template name and version.
func (g *OpenAIGenerator) GeneratePrompted(ctx context.Context, req answer.Request) (answer.Answer, Rendered, error) {
	if len(req.Passages) == 0 {
		a := answer.Refusal(req, 0)
		a.Route = g.Route()
		return a, Rendered{}, nil
	}
	r := withCanary(g.templates.Answer(req), g.canary)
	a, err := g.generate(ctx, req, r.Messages)
	return a, r, err
}

func (g *OpenAIGenerator) generate(ctx context.Context, req answer.Request, msgs []Message) (answer.Answer, error) {
	text, _, err := g.client.Complete(ctx, msgs)
	if err != nil {
		return answer.Answer{}, fmt.Errorf("%s: %w", g.Route(), err)
	}
	text = strings.TrimSpace(text)
	if strings.Contains(strings.ToUpper(text), g.canary) {
		return answer.Answer{}, fmt.Errorf("%s: %w", g.Route(), ErrPromptLeak)
	}
	if strings.Contains(text, RefusalMarker) {
		a := answer.Refusal(req, 0)
		a.Route = g.Route()
		return a, nil
	}
	if _, cites := ground(text, req.Passages); len(cites) == 0 {
		return answer.Answer{}, fmt.Errorf("%s: %w (reply %q)", g.Route(), ErrUngrounded, snippet(text))
	}
	// Sentences the cited pages do not support are dropped; when too little
	// stands, the chain falls back (to the extractive answerer at last).
	check, err := CheckCitations(text, req.Passages, g.minSupport)
	if err != nil {
		return answer.Answer{}, fmt.Errorf("%s: %w", g.Route(), err)
	}
	out, cites := ground(check.Text, req.Passages)
	return answer.Answer{Text: out, Citations: cites, Confidence: citedShare(out), Route: g.Route()}, nil
}

// citeRE matches a citation group: "[1]", "[1, 3]", "[bron 2]".
var citeRE = regexp.MustCompile(`(?i)\[\s*(?:bron\s*)?(\d{1,4}(?:\s*[,;]\s*(?:bron\s*)?\d{1,4})*)\s*\]`)

// numberRE finds the numbers in a citation group.
var numberRE = regexp.MustCompile(`\d+`)

// ground rewrites the citations in text to the numbering of the returned
// citations and drops the ones of passages that do not exist.
func ground(text string, passages []answer.Passage) (string, []answer.Citation) {
	cites := []answer.Citation{}
	citeOf := map[string]int{}
	var b strings.Builder
	last := 0
	seen := map[int]bool{}
	for _, m := range citeRE.FindAllStringSubmatchIndex(text, -1) {
		if strings.TrimSpace(text[last:m[0]]) != "" || last == 0 {
			seen = map[int]bool{} // adjacent groups ("[1][3]") are one
		}
		var nums []int
		for _, ns := range numberRE.FindAllString(text[m[2]:m[3]], -1) {
			n, err := strconv.Atoi(ns)
			if err != nil || n < 1 || n > len(passages) {
				continue
			}
			p := passages[n-1]
			key := p.URL + "\x00" + p.DocID
			k, ok := citeOf[key]
			if !ok {
				cites = append(cites, answer.Citation{ID: p.DocID, URL: p.URL, Title: p.Title})
				k = len(cites)
				citeOf[key] = k
			}
			if !seen[k] {
				seen[k] = true
				nums = append(nums, k)
			}
		}
		before := text[last:m[0]]
		if len(nums) == 0 {
			// Drop the invalid citation and the space before it.
			b.WriteString(strings.TrimRight(before, " \t"))
		} else {
			b.WriteString(before)
			for _, k := range nums {
				fmt.Fprintf(&b, "[%d]", k)
			}
		}
		last = m[1]
	}
	b.WriteString(text[last:])
	return strings.TrimSpace(b.String()), cites
}

// sentenceEndRE ends a sentence: a full stop, question or exclamation mark
// with the citations after it, or a line break.
var sentenceEndRE = regexp.MustCompile(`[.!?](?:\s*\[\d+\])*(?:\s+|$)|\n+`)

// citedShare returns the share of sentences in text that carry a
// citation, rounded to three decimals.
func citedShare(text string) float64 {
	var total, cited int
	start := 0
	count := func(s string) {
		if strings.IndexFunc(s, unicode.IsLetter) < 0 {
			return
		}
		total++
		if strings.Contains(s, "[") && citeRE.MatchString(s) {
			cited++
		}
	}
	for _, m := range sentenceEndRE.FindAllStringIndex(text, -1) {
		count(text[start:m[1]])
		start = m[1]
	}
	count(text[start:])
	if total == 0 {
		return 0
	}
	return math.Round(float64(cited)/float64(total)*1000) / 1000
}
