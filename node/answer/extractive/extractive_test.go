package extractive_test

import (
	"context"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/chunk"
)

func newExtractive(tb testing.TB) *extractive.Generator {
	tb.Helper()
	an := retrieval.NewAnalyzer()
	e, err := extractive.New(extractive.DefaultConfig(), an.Terms, chunk.Sentences)
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
	if a.Route != extractive.Route || a.Confidence <= 0 || a.Confidence > 1 {
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

// A question on the resident's own case gets the rule in context: the
// sections that match its topic, and the opening paragraph of their page
// with the rule's exceptions, which an ordinary question on that section
// does not get.
func TestExtractive_PersonalCase(t *testing.T) {
	pg := testPages(t)["hw-omgevingsvergunning"]
	q := "Mijn buurman bouwt zonder vergunning, wat gebeurt er dan?"
	req := request(q, pg)
	req.Focus = answer.CaseTopic(q)
	plain, err := newExtractive(t).Generate(context.Background(), req)
	if err != nil || plain.Refused {
		t.Fatalf("ordinary: %+v, %v", plain, err)
	}
	req.PersonalCase = true
	a, err := newExtractive(t).Generate(context.Background(), req)
	if err != nil || a.Refused {
		t.Fatalf("personal case: %+v, %v", a, err)
	}
	if !strings.Contains(a.Text, "Soms is een melding genoeg") || !strings.Contains(a.Text, "Dan kan de gemeente handhaven") {
		t.Errorf("the rule or its exceptions from the opening paragraph are missing: %q", a.Text)
	}
	if strings.Contains(plain.Text, "Soms is een melding genoeg") {
		t.Errorf("an ordinary question got the opening paragraph too, so the test shows nothing: %q", plain.Text)
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

func generate(t *testing.T, question string, passages ...answer.Passage) answer.Answer {
	t.Helper()
	a, err := newExtractive(t).Generate(context.Background(), answer.Request{Question: question, Referral: referral, Passages: passages})
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused {
		t.Fatalf("%q refused: %+v", question, a)
	}
	return a
}

// A sentence that announces a list carries its items, as a list.
func TestExtractive_ListUnit(t *testing.T) {
	a := generate(t, "hoe maak ik bezwaar tegen de woz-waarde", answer.Passage{
		DocID: "woz", URL: "https://www.proef.example/woz", Title: "WOZ-waarde", Section: "Niet eens met de WOZ-waarde?", Score: 2,
		Text: "Bel ons eerst.\nLukt dat niet, dan kunt u bezwaar maken tegen de WOZ-waarde:\nbinnen 6 weken na de datum op de beschikking;\nonline via Mijn Proefdorp;\nmet bewijs, zoals foto's.\nBezwaar maken is gratis.",
	})
	if !strings.Contains(a.Text, "bezwaar maken tegen de WOZ-waarde:\n- binnen 6 weken na de datum op de beschikking\n- online via Mijn Proefdorp\n- met bewijs, zoals foto's") {
		t.Errorf("list not kept together: %q", a.Text)
	}
}

// "Verhuist u? Dan ..." is one statement; the condition is never dropped.
func TestExtractive_ConditionStaysWithItsQuestion(t *testing.T) {
	a := generate(t, "krijg ik afvalstoffenheffing terug als ik verhuis", answer.Passage{
		DocID: "afval", URL: "https://www.proef.example/afval", Title: "Afvalstoffenheffing", Score: 2,
		Text: "U betaalt elk jaar afvalstoffenheffing. Verhuist u binnen het jaar uit Proefdorp? Dan krijgt u het deel van de afvalstoffenheffing voor de rest van het jaar terug.",
	})
	if !strings.Contains(a.Text, "Verhuist u binnen het jaar uit Proefdorp? Dan krijgt u") {
		t.Errorf("condition and consequence split: %q", a.Text)
	}
}

// Two sentences that say the same thing appear once.
func TestExtractive_NearDuplicates(t *testing.T) {
	a := generate(t, "binnen hoeveel weken bezwaar maken woz-beschikking",
		answer.Passage{DocID: "a", URL: "https://a.example/woz", Title: "WOZ", Score: 2,
			Text: "U moet bezwaar maken binnen 6 weken na datum van de WOZ-beschikking. Dat kan online."},
		answer.Passage{DocID: "b", URL: "https://b.example/woz", Title: "WOZ-beschikking", Score: 1.9,
			Text: "Bezwaar maken moet binnen 6 weken na datum van de WOZ-beschikking."},
	)
	if strings.Count(a.Text, "6 weken") != 1 {
		t.Errorf("near-duplicate sentences both used: %q", a.Text)
	}
}

// A section's opening sentence comes along when the best sentence stands
// further down.
func TestExtractive_SectionLead(t *testing.T) {
	a := generate(t, "mag ik de termijn laten verlopen en later alsnog bezwaar maken", answer.Passage{
		DocID: "bezwaar", URL: "https://www.proef.example/bezwaar", Title: "Bezwaar maken", Section: "Binnen 6 weken", Ord: 1, Score: 2,
		Text: "U moet uw bezwaar binnen 6 weken na de datum van het besluit indienen. Die datum staat op de brief. U kunt niet eerst de termijn laten verlopen en daarna alsnog bezwaar maken.",
	})
	if !strings.Contains(a.Text, "binnen 6 weken") || !strings.Contains(a.Text, "alsnog bezwaar") {
		t.Errorf("section lead missing: %q", a.Text)
	}
}

// A "waar" question gets a place; a "wanneer" question a time; its twin
// without the question word does not drag one in.
func TestExtractive_AnswerType(t *testing.T) {
	page := answer.Passage{DocID: "milieustraat", URL: "https://www.proef.example/milieustraat", Title: "Milieustraat Proefdorp", Score: 2,
		Text: "U mag asbestplaten gratis inleveren, maximaal 35 m². De platen moeten dubbel verpakt zijn in plastic. Verpakkingsmateriaal haalt u op bij de milieustraat. Wij zijn op zaterdag open van 9.00 tot 15.00 uur."}
	a := generate(t, "waar kan ik asbestplaten inleveren", page)
	if !strings.Contains(a.Text, "milieustraat") {
		t.Errorf("waar-question without a place: %q", a.Text)
	}
	a = generate(t, "kan ik asbestplaten inleveren", page)
	if strings.Contains(a.Text, "9.00") {
		t.Errorf("yes/no question dragged in the opening hours: %q", a.Text)
	}
}

// A claim no source supports is not confirmed: the answer says so and
// gives the page's lead.
func TestExtractive_UnsupportedPremise(t *testing.T) {
	pages := []answer.Passage{
		{DocID: "afval", URL: "https://www.proef.example/afval", Title: "Afvalstoffenheffing", Section: "Verhuizen", Ord: 2, Score: 2,
			Text: "Verhuist u binnen het jaar? Dan krijgt u het deel van de afvalstoffenheffing voor de rest van het jaar terug."},
		{DocID: "afval", URL: "https://www.proef.example/afval", Title: "Afvalstoffenheffing", Ord: 0, Score: 2,
			Text: "De gemeente haalt uw afval op. Daarvoor betaalt u afvalstoffenheffing. U krijgt de aanslag in februari."},
	}
	a := generate(t, "Klopt het dat de afvalstoffenheffing dit jaar is afgeschaft?", pages...)
	if !strings.HasPrefix(a.Text, "Dat kan ik niet bevestigen") || !strings.Contains(a.Text, "Daarvoor betaalt u afvalstoffenheffing.") {
		t.Errorf("premise answer: %q", a.Text)
	}
	a = generate(t, "Ik hoorde dat de afvalstoffenheffing dit jaar is afgeschaft, klopt dat?", pages...)
	if !strings.HasPrefix(a.Text, "Dat kan ik niet bevestigen") {
		t.Errorf("premise in other words: %q", a.Text)
	}
	a = generate(t, "Klopt het dat ik afvalstoffenheffing terugkrijg als ik binnen het jaar verhuis?", pages...)
	if strings.HasPrefix(a.Text, "Dat kan ik niet bevestigen") {
		t.Errorf("supported claim treated as unsupported: %q", a.Text)
	}
}
