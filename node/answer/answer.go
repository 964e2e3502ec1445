// Package answer turns retrieved passages into the answer a resident reads:
// a short Dutch text with numbered citations, or an honest refusal with a
// referral to a human (achtervang).
//
// Generation sits behind Generator. The built-in extractive generator
// (package extractive) needs no model: it composes the answer from the
// pages' own sections. Model backed generators sit behind the same seam.
package answer

import (
	"context"
	"fmt"
	"strings"
)

// Passage is a retrieved text offered to a generator, best first.
type Passage struct {
	DocID   string
	URL     string
	Title   string
	Section string // innermost heading, may be empty
	Ord     int    // position of the passage in its document, from 0
	Text    string
	Score   float64 // retrieval score, comparable within one request
	// Base is the built-in search's score when a model reranker replaced
	// Score (0: Score is the built-in one). The mode model's features are
	// measured on the built-in scale.
	Base float64
	// Lexical and Vector are the passage's 1-based ranks in the lexical
	// and the vector list before fusion, 0 when absent or unknown.
	Lexical, Vector int
	// From names the other gemeente whose page this is (federated
	// fallback); empty for the resident's own gemeente and national pages.
	From string
	// Anchor is the fragment of URL that links to Section ("kosten");
	// empty when the page has none.
	Anchor string
}

// Citation is a source an answer refers to as [n], n = index + 1.
type Citation struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Title string `json:"title"`
	// From names the other gemeente whose page it is, when it is one.
	From string `json:"from,omitempty"`
}

// Handoff tells a resident how to reach a human at the gemeente.
type Handoff struct {
	Message    string `json:"message"`
	Phone      string `json:"phone,omitempty"`
	ContactURL string `json:"contact_url,omitempty"`
	Hours      string `json:"hours,omitempty"`
}

// Mode says what kind of reply an Answer is; the contract's "mode".
type Mode string

// The four modes of a reply. Refused is true exactly for ModeNoInfo and
// ModeRefuse.
const (
	// ModeAnswer states an answer from the cited pages.
	ModeAnswer Mode = "answer"
	// ModeSuggest is for doubt: the assistant says it is not sure, offers
	// up to three pages that are about the question, and the referral.
	ModeSuggest Mode = "suggest"
	// ModeNoInfo: no source is about the question; the referral.
	ModeNoInfo Mode = "noinfo"
	// ModeRefuse: policy refuses; the lawful route and the referral.
	ModeRefuse Mode = "refuse"
)

// Answer is what the resident gets.
type Answer struct {
	Text       string     `json:"answer"`
	Mode       Mode       `json:"mode"`
	Citations  []Citation `json:"citations"`
	Refused    bool       `json:"refused"`
	Handoff    *Handoff   `json:"handoff"`
	Confidence float64    `json:"confidence"`
	Route      string     `json:"route"`
	// Conversation is the id to send with a follow-up question.
	Conversation string `json:"conversation,omitempty"`
}

// Referral holds the tenant's contact details for a handoff.
type Referral struct {
	Name       string // e.g. "Gemeente Lindewaarde"
	Phone      string
	ContactURL string
	Hours      string
}

// Request is what a generator answers.
type Request struct {
	Question string
	// Focus is what the extractive answerer scores on instead of the
	// question: its topic when it tells a personal case (CaseTopic), the
	// question without the personal data it states, or the Dutch glossary
	// terms of an English question. Empty: the question itself.
	Focus string
	// PersonalCase marks a question on the resident's own case (policy
	// intent Verdict): the answer gives the rule, never a verdict.
	PersonalCase bool
	Lang         string // "nl" (default) or "en"
	Passages     []Passage
	// Pages holds the best documents among Passages whole, in reading
	// order, best first (at most MaxPages), so that an answer can be
	// composed from whole sections. May be empty.
	Pages    []Page
	Referral Referral
}

// MaxPages bounds Request.Pages.
const MaxPages = 3

// Page is one retrieved document whole: every passage in reading order.
type Page struct {
	DocID, URL, Title string
	From              string // as Passage.From
	Passages          []Passage
}

// Generator composes an answer from passages.
type Generator interface {
	Generate(ctx context.Context, req Request) (Answer, error)
}

// Refusal returns the honest "I don't know" answer with the tenant's
// referral, in req.Lang.
func Refusal(req Request, confidence float64) Answer {
	h := NewHandoff(req.Referral, req.Lang)
	m := textsFor(req.Lang)
	return Answer{
		Text:       m.NoAnswer + " " + h.Message,
		Citations:  []Citation{},
		Mode:       ModeNoInfo,
		Refused:    true,
		Handoff:    &h,
		Confidence: confidence,
	}
}

// NewHandoff builds the referral message from the tenant's contact details,
// e.g. "Neem contact op met Gemeente Lindewaarde: bel 14 0999 (ma-vr
// 8.30-17.00 uur) of gebruik het contactformulier: https://…".
func NewHandoff(r Referral, lang string) Handoff {
	m := textsFor(lang)
	name := r.Name
	if name == "" {
		name = m.Gemeente
	}
	var ways []string
	if r.Phone != "" {
		w := fmt.Sprintf(m.Call, r.Phone)
		if r.Hours != "" {
			w += fmt.Sprintf(m.Hours, r.Hours)
		}
		ways = append(ways, w)
	}
	if r.ContactURL != "" {
		ways = append(ways, fmt.Sprintf(m.Form, r.ContactURL))
	}
	msg := fmt.Sprintf(m.Contact, name)
	if len(ways) > 0 {
		msg += " " + strings.Join(ways, m.Or) + "."
	} else {
		msg = strings.TrimSuffix(msg, ":") + "."
	}
	return Handoff{Message: msg, Phone: r.Phone, ContactURL: r.ContactURL, Hours: r.Hours}
}

// citationOf is the citation of passage p's page.
func citationOf(p Passage) Citation {
	return Citation{ID: p.DocID, URL: p.URL, Title: p.Title, From: p.From}
}

// CitationOf returns the citation of passage p's page, for generators in
// other packages.
func CitationOf(p Passage) Citation { return citationOf(p) }

// Normalise lower-cases s and folds diacritics, as the policy rules see a
// question.
func Normalise(s string) string { return normalise(s) }

// Unconfirmed returns the words, in lang, that open an answer to a claim
// the sources do not confirm.
func Unconfirmed(lang string) string { return textsFor(lang).Unconfirmed }

// ModeOf returns a's mode; an answer a generator left without one is
// ModeNoInfo when refused and ModeAnswer otherwise.
func ModeOf(a Answer) Mode {
	switch {
	case a.Mode != "":
		return a.Mode
	case a.Refused:
		return ModeNoInfo
	}
	return ModeAnswer
}
