package hybrid

import (
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func TestRespellFrom(t *testing.T) {
	chunks := []retrieval.Chunk{
		{Title: "Rijbewijs verlengen", Text: "Uw rijbewijs is tien jaar geldig. Rijbewijzen en stembureaus."},
		{Title: "Stembureau", Text: "Het stembureau is open. Uw rijbewijs of paspoort meenemen."},
		{Title: "Rijbeweging", Text: "Een zeldzaam woord."},
	}
	tests := []struct {
		text    string
		unknown []string
		want    string
	}{
		// The closest, then the most common word; case and punctuation stay.
		{"Rijbeweis verlengen?", []string{"rijbeweis"}, "rijbewijs verlengen?"},
		{"waar is het stembureua, en mijn rijbewjs", []string{"stembureua", "rijbewjs"}, "waar is het stembureau, en mijn rijbewijs"},
		// Out of reach (another first letter, too many edits): unchanged.
		{"ijbewijs kwijt", []string{"ijbewijs"}, "ijbewijs kwijt"},
		{"rbwjs kwijt", []string{"rbwjs"}, "rbwjs kwijt"},
		// A word the hits have is not respelt.
		{"zeldzaam", []string{"zeldzaam"}, "zeldzaam"},
	}
	for _, tt := range tests {
		got, changed := respellFrom(tt.text, tt.unknown, chunks)
		if got != tt.want || changed != (tt.want != tt.text) {
			t.Errorf("respellFrom(%q) = %q, %v; want %q", tt.text, got, changed, tt.want)
		}
	}
}
