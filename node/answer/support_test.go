package answer_test

import (
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/retrieval"
)

// A model's sentences stand only when the pages they cite support them.
func TestCheckSupport(t *testing.T) {
	terms := retrieval.NewAnalyzer().Terms
	passages := []answer.Passage{
		{DocID: "paspoort", URL: "https://www.proef.example/paspoort", Title: "Paspoort aanvragen",
			Text: "Een paspoort vraagt u aan bij de balie van het gemeentehuis. Een paspoort voor volwassenen kost € 84,40. Neem een pasfoto mee."},
		{DocID: "afval", URL: "https://www.proef.example/afval", Title: "Grofvuil",
			Text: "Grofvuil halen wij op afspraak op."},
	}
	cites := []answer.Citation{
		{ID: "paspoort", URL: "https://www.proef.example/paspoort", Title: "Paspoort aanvragen"},
		{ID: "afval", URL: "https://www.proef.example/afval", Title: "Grofvuil"},
	}
	tests := []struct {
		name, text     string
		kept, dropped  int
		want, mustMiss string
		cites          int
	}{
		{"supported and cited", "U vraagt een paspoort aan bij de balie van het gemeentehuis. [1] Een paspoort kost € 84,40. [1]", 2, 0, "84,40", "", 1},
		{"invented fact", "U vraagt een paspoort aan bij de balie. [1] Met spoed is het paspoort binnen een uur klaar tegen een toeslag van € 50. [1]", 1, 1, "balie", "spoed", 1},
		{"uncited claim", "Een paspoort kost € 84,40. [1] Kinderen onder de twaalf reizen altijd gratis met de trein.", 1, 1, "84,40", "trein", 1},
		{"wrong source cited", "Een paspoort kost € 84,40. [2]", 0, 1, "", "84,40", 0},
		{"unused citation dropped and renumbered", "Grofvuil halen wij op afspraak op. [2]", 1, 0, "[1]", "[2]", 1},
		{"citation out of range", "Een paspoort kost € 84,40. [7]", 0, 1, "", "84,40", 0},
		{"question and answer share a citation", "Wilt u een paspoort? Neem een pasfoto mee naar de balie. [1]", 1, 0, "Wilt u een paspoort?", "", 1},
		{"invented sentence before a cited one", "Met spoed is het paspoort binnen een uur klaar tegen toeslag. Een paspoort kost € 84,40. [1]", 1, 1, "84,40", "spoed", 1},
	}
	for _, tt := range tests {
		res := answer.CheckSupport(answer.Answer{Text: tt.text, Citations: cites}, passages, terms)
		if res.Kept != tt.kept || res.Dropped != tt.dropped || len(res.Answer.Citations) != tt.cites {
			t.Errorf("%s: kept %d dropped %d citations %d (%q), want %d %d %d", tt.name, res.Kept, res.Dropped, len(res.Answer.Citations), res.Answer.Text, tt.kept, tt.dropped, tt.cites)
		}
		if tt.want != "" && !strings.Contains(res.Answer.Text, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, res.Answer.Text, tt.want)
		}
		if tt.mustMiss != "" && strings.Contains(res.Answer.Text, tt.mustMiss) {
			t.Errorf("%s: %q keeps %q", tt.name, res.Answer.Text, tt.mustMiss)
		}
	}
}
