package answer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/chunk"
)

func newExtractive(tb testing.TB) *answer.Extractive {
	tb.Helper()
	an := retrieval.NewAnalyzer()
	e, err := answer.NewExtractive(answer.DefaultExtractiveConfig(), an.Terms, chunk.Sentences)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

var referral = answer.Referral{Name: "Gemeente Proef", Phone: "14 0999", ContactURL: "https://www.proef.example/contact", Hours: "ma-vr 9-17 uur"}

func TestExtractive_Answers(t *testing.T) {
	e := newExtractive(t)
	req := answer.Request{
		Question: "wat kost een paspoort",
		Referral: referral,
		Passages: []answer.Passage{
			{DocID: "paspoort", URL: "https://www.proef.example/paspoort", Title: "Paspoort aanvragen", Section: "Kosten",
				Text: "Een paspoort voor volwassenen kost € 84,40. Voor kinderen kost een paspoort € 61,05. U betaalt met de pinpas."},
			{DocID: "rijbewijs", URL: "https://www.proef.example/rijbewijs", Title: "Rijbewijs verlengen",
				Text: "Een rijbewijs verlengt u bij de balie. Dat kost € 52."},
		},
	}
	a, err := e.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused {
		t.Fatalf("refused: %+v", a)
	}
	if !strings.Contains(a.Text, "84,40") || !strings.Contains(a.Text, "[1]") {
		t.Errorf("answer %q lacks the price or its citation", a.Text)
	}
	if len(a.Citations) == 0 || a.Citations[0].ID != "paspoort" || a.Citations[0].URL == "" {
		t.Errorf("citations %+v", a.Citations)
	}
	if strings.Contains(a.Text, "rijbewijs") {
		t.Errorf("answer drags in the unrelated passage: %q", a.Text)
	}
	if a.Route != answer.RouteExtractive || a.Confidence <= 0 || a.Confidence > 1 {
		t.Errorf("route %q confidence %v", a.Route, a.Confidence)
	}
	// Sentences keep their reading order.
	if i, j := strings.Index(a.Text, "84,40"), strings.Index(a.Text, "61,05"); j >= 0 && j < i {
		t.Errorf("sentences out of order: %q", a.Text)
	}
}

func TestExtractive_Refuses(t *testing.T) {
	e := newExtractive(t)
	for _, q := range []string{"wie wint het WK voetbal", "hoe laat vertrekt de trein naar Parijs"} {
		a, err := e.Generate(context.Background(), answer.Request{Question: q, Referral: referral, Passages: []answer.Passage{
			{DocID: "paspoort", URL: "https://www.proef.example/paspoort", Title: "Paspoort aanvragen",
				Text: "Een paspoort vraagt u aan bij de balie. Neem een pasfoto mee."},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Refused || a.Handoff == nil || len(a.Citations) != 0 {
			t.Fatalf("%q: want a refusal, got %+v", q, a)
		}
		for _, want := range []string{"14 0999", "ma-vr 9-17 uur", "https://www.proef.example/contact", "Gemeente Proef"} {
			if !strings.Contains(a.Text, want) {
				t.Errorf("%q: refusal %q lacks %q", q, a.Text, want)
			}
		}
	}
	a, _ := e.Generate(context.Background(), answer.Request{Question: "paspoort", Referral: referral})
	if !a.Refused {
		t.Error("no passages must refuse")
	}
}

func TestNewHandoff(t *testing.T) {
	h := answer.NewHandoff(answer.Referral{}, "nl")
	if h.Message != "Neem contact op met de gemeente." {
		t.Errorf("empty referral: %q", h.Message)
	}
	h = answer.NewHandoff(answer.Referral{Name: "Gemeente X", Phone: "14 0123"}, "en")
	if h.Message != "Please contact Gemeente X: call 14 0123." {
		t.Errorf("english: %q", h.Message)
	}
}

// A question on the resident's own case gets the rule in context: the
// sentences that match its topic, and the opening paragraph of their page
// with the rule's exceptions, which an ordinary question does not get.
func TestExtractive_PersonalCase(t *testing.T) {
	e := newExtractive(t)
	page := "https://www.proef.example/bouwen"
	req := answer.Request{
		Question: "Mijn buurman bouwt een schuur van 4 meter hoog, is dat illegaal?",
		Focus:    answer.CaseTopic("Mijn buurman bouwt een schuur van 4 meter hoog, is dat illegaal?"),
		Passages: []answer.Passage{
			{DocID: "bouwen", URL: page, Title: "Omgevingsvergunning: bouwen en verbouwen", Ord: 0, Score: 2,
				Text: "Wilt u bouwen of verbouwen? Bijvoorbeeld een dakkapel, een schuur of een aanbouw? Dan heeft u misschien een omgevingsvergunning nodig. Soms is een melding genoeg en soms mag u vergunningvrij bouwen."},
			{DocID: "bouwen", URL: page, Title: "Omgevingsvergunning: bouwen en verbouwen", Section: "Bouwen zonder vergunning", Ord: 3, Score: 1.8,
				Text: "Bouwt iemand een schuur zonder vergunning terwijl die wel nodig is? Dan kan de gemeente handhaven."},
		},
		Referral: answer.Referral{Name: "Gemeente Proef"},
	}
	plain, err := e.Generate(context.Background(), req)
	if err != nil || plain.Refused {
		t.Fatalf("ordinary: %+v, %v", plain, err)
	}
	req.PersonalCase = true
	a, err := e.Generate(context.Background(), req)
	if err != nil || a.Refused {
		t.Fatalf("personal case: %+v, %v", a, err)
	}
	if !strings.Contains(a.Text, "Soms is een melding genoeg") {
		t.Errorf("the rule's exceptions from the opening paragraph are missing: %q", a.Text)
	}
	if strings.Contains(plain.Text, "Soms is een melding genoeg") {
		t.Errorf("an ordinary question got the whole opening paragraph too, so the test shows nothing: %q", plain.Text)
	}
}

// A sentence of another page that shares only a verb with the question, and
// none of the words of the best page's title, stays out.
func TestExtractive_OtherPagesStayOnTopic(t *testing.T) {
	e := newExtractive(t)
	req := answer.Request{
		Question: "moet ik mijn bijbaan binnen een maand melden bij de bijstand",
		Referral: referral,
		Passages: []answer.Passage{
			{DocID: "bijstand", URL: "https://www.proef.example/bijstand", Title: "Bijstand",
				Text: "Krijgt u bijstand? Dan moet u inkomsten uit een bijbaan altijd melden."},
			{DocID: "hond", URL: "https://www.proef.example/hond", Title: "Hondenbelasting",
				Text: "Heeft u een hond? Dan moet u uw hond binnen een maand melden bij de gemeente."},
		},
	}
	a, err := e.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused || !strings.Contains(a.Text, "bijbaan altijd melden") {
		t.Fatalf("answer %q lacks the rule", a.Text)
	}
	if strings.Contains(a.Text, "hond") {
		t.Errorf("answer drags in the page on dogs for sharing a verb: %q", a.Text)
	}
}
