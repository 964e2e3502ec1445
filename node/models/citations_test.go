package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/models"
)

// citationPassages are three pages of a gemeente.
func citationPassages() []answer.Passage {
	return []answer.Passage{
		{URL: "https://lindewaarde.nl/paspoort", Title: "Paspoort aanvragen", Section: "Kosten",
			Text: "Een paspoort kost € 84,40 voor volwassenen. Voor kinderen jonger dan 18 jaar betaalt u € 63,80. U betaalt bij de aanvraag met uw pinpas."},
		{URL: "https://lindewaarde.nl/grofvuil", Title: "Grofvuil laten ophalen",
			Text: "Maak een afspraak via het digitale loket. De gemeente haalt het grofvuil op dinsdag op. Zet het grofvuil voor 7.30 uur aan de straat. Per keer mag u maximaal 2 kuub aanbieden."},
		{URL: "https://lindewaarde.nl/kwijtschelding", Title: "Kwijtschelding gemeentelijke belastingen",
			Text: "Heeft u een laag inkomen? Dan kunt u kwijtschelding aanvragen voor de afvalstoffenheffing en de rioolheffing. Vraag kwijtschelding binnen 3 maanden na de dagtekening van de aanslag aan."},
	}
}

// TestCheckCitations_Sentences calibrates DefaultMinSupport: sentences a
// model copies or paraphrases from the cited page pass, sentences that add
// facts, cite the wrong page or cite nothing fail.
func TestCheckCitations_Sentences(t *testing.T) {
	pass := []string{
		"Een paspoort kost € 84,40 voor volwassenen [1].",
		"Voor een kind jonger dan 18 jaar betaalt u € 63,80 [1].",
		"U betaalt met uw pinpas als u het paspoort aanvraagt [1].",
		"Het grofvuil wordt op dinsdag opgehaald [2].",
		"Zet uw grofvuil vóór 7.30 uur aan de straat [2].",
		"U maakt een afspraak via het digitale loket [2].",
		"Met een laag inkomen kunt u kwijtschelding aanvragen [3].",
		"Dat geldt voor de afvalstoffenheffing en de rioolheffing [3].",
		"Vraag de kwijtschelding aan binnen 3 maanden na de dagtekening [3].",
		"Een paspoort kost € 84,40 [1, 2].",       // one of the cited pages supports it
		"De gemeente haalt grofvuil op [bron 2].", // the "[bron n]" form
		"Grofvuil ophalen: maak een afspraak [2].",
	}
	fail := []string{
		"Een paspoort kost € 84,40 voor volwassenen.",                                // no citation
		"Een paspoort kost € 84,40 voor volwassenen [7].",                            // no such source
		"Een paspoort kost € 84,40 voor volwassenen [2].",                            // the wrong page
		"Een paspoort kost € 99,00 voor volwassenen [1].",                            // invented amount
		"U kunt het paspoort ook online aanvragen en thuis laten bezorgen [1].",      // invented service
		"Bezwaar maken tegen de WOZ-waarde kan binnen zes weken [3].",                // another subject
		"De gemeente Meppel haalt grofvuil gratis op zaterdag op [2].",               // other gemeente, other day
		"Volgens de Participatiewet heeft u zeker recht op bijzondere bijstand [3].", // invented law and verdict
		"Kwijtschelding is mogelijk voor de hondenbelasting en de parkeervergunning [3].",
	}
	ps := citationPassages()
	for _, s := range pass {
		c, err := models.CheckCitations(s, ps, 0)
		if err != nil || c.Kept != 1 || c.Dropped != 0 {
			t.Errorf("supported sentence dropped: %q → %+v, %v", s, c, err)
		}
	}
	for _, s := range fail {
		c, err := models.CheckCitations(s, ps, 0)
		if !errors.Is(err, models.ErrUnsupported) || c.Kept != 0 {
			t.Errorf("unsupported sentence kept: %q → %+v, %v", s, c, err)
		}
	}
}

func TestCheckCitations_Answer(t *testing.T) {
	ps := citationPassages()
	t.Run("drops the unsupported sentence", func(t *testing.T) {
		text := "Dat kan zo: Een paspoort kost € 84,40 voor volwassenen [1]. Voor kinderen betaalt u € 63,80 [1, 9]. U kunt ook met contant geld betalen bij de receptie [1]."
		c, err := models.CheckCitations(text, ps, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := "Dat kan zo: Een paspoort kost € 84,40 voor volwassenen [1]. Voor kinderen betaalt u € 63,80 [1]."
		if c.Text != want || c.Kept != 2 || c.Dropped != 1 || c.Removed != 1 {
			t.Errorf("got %+v\nwant text %q", c, want)
		}
		if c.Support < models.DefaultMinSupport || c.Support > 1 {
			t.Errorf("support %v", c.Support)
		}
	})
	t.Run("refuses when less than half survive", func(t *testing.T) {
		text := "Grofvuil wordt op dinsdag opgehaald [2]. U mag onbeperkt grofvuil aanbieden, ook matrassen en koelkasten [2]. Ophalen is altijd gratis voor inwoners van Meppel [2]."
		c, err := models.CheckCitations(text, ps, 0)
		var ue *models.UnsupportedError
		if !errors.As(err, &ue) || ue.Kept != 1 || ue.Dropped != 2 || !errors.Is(err, models.ErrUnsupported) {
			t.Fatalf("err %v, check %+v", err, c)
		}
		if !strings.Contains(err.Error(), "1 of 3 sentences supported") {
			t.Errorf("error text %q", err)
		}
	})
	t.Run("half is enough", func(t *testing.T) {
		text := "Grofvuil wordt op dinsdag opgehaald [2]. Ophalen is altijd gratis voor inwoners van Meppel [2]."
		if c, err := models.CheckCitations(text, ps, 0); err != nil || c.Kept != 1 || c.Dropped != 1 {
			t.Errorf("%+v, %v", c, err)
		}
	})
	t.Run("no information", func(t *testing.T) {
		if _, err := models.CheckCitations("Dat weet ik niet.", ps, 0); !errors.Is(err, models.ErrUnsupported) {
			t.Errorf("empty answer accepted: %v", err)
		}
	})
	t.Run("threshold", func(t *testing.T) {
		// Two of three content words supported: passes by default, fails
		// at 0.8.
		s := "Het grofvuil wordt op dinsdag opgehaald [2]."
		if _, err := models.CheckCitations(s, ps, 0); err != nil {
			t.Errorf("default: %v", err)
		}
		if _, err := models.CheckCitations(s, ps, 0.8); !errors.Is(err, models.ErrUnsupported) {
			t.Errorf("at 0.8: %v", err)
		}
	})
}

func BenchmarkCheckCitations(b *testing.B) {
	ps := citationPassages()
	text := "Een paspoort kost € 84,40 voor volwassenen [1]. Voor kinderen betaalt u € 63,80 [1]. Grofvuil wordt op dinsdag opgehaald [2]. Vraag kwijtschelding binnen 3 maanden aan [3]."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := models.CheckCitations(text, ps, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// Claims as a model writes them: several sentences, a citation at the end
// of a unit, invented sentences between supported ones.
func TestCheckCitations_Claims(t *testing.T) {
	ps := []answer.Passage{
		{DocID: "paspoort", URL: "https://www.proef.example/paspoort", Title: "Paspoort aanvragen",
			Text: "Een paspoort vraagt u aan bij de balie van het gemeentehuis. Een paspoort voor volwassenen kost € 84,40. Neem een pasfoto mee."},
		{DocID: "afval", URL: "https://www.proef.example/afval", Title: "Grofvuil",
			Text: "Grofvuil halen wij op afspraak op."},
	}
	tests := []struct {
		name, text     string
		kept, dropped  int
		want, mustMiss string
	}{
		{"supported and cited", "U vraagt een paspoort aan bij de balie van het gemeentehuis. [1] Een paspoort kost € 84,40. [1]", 2, 0, "84,40", ""},
		{"invented fact", "U vraagt een paspoort aan bij de balie. [1] Met spoed is het paspoort binnen een uur klaar tegen een toeslag van € 50. [1]", 1, 1, "balie", "spoed"},
		{"uncited claim at the end", "Een paspoort kost € 84,40. [1] Kinderen onder de twaalf reizen altijd gratis met de trein.", 1, 1, "84,40", "trein"},
		{"question and answer share a citation", "Wilt u een paspoort? Neem een pasfoto mee naar de balie. [1]", 1, 0, "Wilt u een paspoort?", ""},
		{"invented sentence before a cited one", "Met spoed is het paspoort binnen een uur klaar tegen toeslag. Een paspoort kost € 84,40. [1] Neem een pasfoto mee. [1]", 2, 1, "84,40", "spoed"},
	}
	for _, tt := range tests {
		c, err := models.CheckCitations(tt.text, ps, 0)
		if c.Kept != tt.kept || c.Dropped != tt.dropped {
			t.Errorf("%s: kept %d dropped %d (%q, %v), want %d %d", tt.name, c.Kept, c.Dropped, c.Text, err, tt.kept, tt.dropped)
		}
		if tt.want != "" && !strings.Contains(c.Text, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, c.Text, tt.want)
		}
		if tt.mustMiss != "" && strings.Contains(c.Text, tt.mustMiss) {
			t.Errorf("%s: %q keeps %q", tt.name, c.Text, tt.mustMiss)
		}
	}
}
