package retrieval_test

import (
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func TestSeparableVerbs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hoe vraag ik een paspoort aan?", "aanvragen"},
		{"Hoe geef ik mijn verhuizing door?", "doorgeven"},
		{"Hoe haal ik een dragende muur weg zonder dat ik een vergunning of melding hoef te doen?", "weghalen"},
		{"Wanneer haalt u uw rijbewijs op?", "ophalen"},
		{"Ik zeg mijn parkeervergunning op, wat nu?", "opzeggen"},
		{"Hoe dien ik een Woo-verzoek in?", "indienen"},
		{"Hoe vul ik het formulier in en meld ik mijn hond aan?", "invullen aanmelden"},
		{"Hoe schrijf ik mijn kind in?", "inschrijven"},
		{"Wie sluit de weg af?", ""}, // no subject pronoun: not a question about the asker's act
		// Nothing split.
		{"Hoe kan ik een paspoort aanvragen?", ""},
		{"Waar kan ik terecht met vragen?", ""},
		{"Wat kost een paspoort?", ""},
		{"Ik woon in Holtewaard en werk in Zwolle", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(retrieval.SeparableVerbs(tt.in), " "); got != tt.want {
			t.Errorf("SeparableVerbs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSeparableVerbs: any text is split without a panic, and every verb
// returned is a particle and a verb (longer than any particle alone).
func FuzzSeparableVerbs(f *testing.F) {
	for _, s := range []string{"Hoe vraag ik een paspoort aan?", "ik a aan", "u t op", "Hoe x ik y in.", "", "ik", "aan aan aan", "Wat doe ik mee?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range retrieval.SeparableVerbs(s) {
			if len(v) < 5 {
				t.Fatalf("SeparableVerbs(%q) gave %q", s, v)
			}
		}
	})
}
