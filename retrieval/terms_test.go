package retrieval_test

import (
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func TestStem(t *testing.T) {
	tests := map[string]string{
		"vragen": "vraag", "vraag": "vraag", "kosten": "kost", "vergunningen": "vergunning",
		"mogelijkheden": "mogelijkheid", "containers": "container", "grote": "groot",
		"huren": "huur", "paspoort": "paspoor", "vraagt": "vraag", "paspoord": "paspoor", "woont": "woon", "adres": "adres", "kinderen": "kinder",
		"wonen": "woon", "nieuwe": "nieuw",
		"geven": "geef", "geeft": "geef", "huizen": "huis", "huis": "huis", "prijzen": "prijs",
		"blijven": "blijf", "leren": "leer", "regelen": "regel", "wandelen": "wandel", "nemen": "neem",
	}
	for in, want := range tests {
		if got := retrieval.Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAnalyzer_Terms(t *testing.T) {
	a := retrieval.NewAnalyzer()
	tests := []struct{ in, want string }{
		{"Hoe vraag ik een paspoort aan?", "vraag paspoor"},
		{"Omgevingsvergunningen aanvragen", "omgevingsvergunning vergunning omgeving aanvraag"},
		// The first part of a compound, without the linking -s, meets the
		// words of a title that spells it apart ("Parkeervergunning voor
		// bewoners").
		{"bewonersvergunning", "bewonersvergunning vergunning bewoner"},
		{"Café's en TERRASSEN", "cafe terras"},
		{"Wat kost een ID-kaart?", "kost id kaar"},
	}
	for _, tt := range tests {
		if got := strings.Join(a.Terms(tt.in), " "); got != tt.want {
			t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkAnalyzer_Terms(b *testing.B) {
	a := retrieval.NewAnalyzer()
	text := strings.Repeat("U vraagt een omgevingsvergunning aan bij de gemeente. Neem uw paspoort en identiteitskaart mee naar de balie. ", 6)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		a.Terms(text)
	}
}

func TestDefaultLemmas(t *testing.T) {
	l := retrieval.DefaultLemmas()
	if l.Len() < 100000 {
		t.Fatalf("DefaultLemmas().Len() = %d, want the whole table", l.Len())
	}
	for form, want := range map[string]string{"gebouwd": "bouwen", "huizen": "huis", "vragen": "vraag", "paspoorten": "paspoort"} {
		if got, ok := l.Lemma(form); !ok || got != want {
			t.Errorf("Lemma(%q) = %q, %v; want %q", form, got, ok, want)
		}
	}
	if got, ok := l.Lemma("huis"); ok {
		t.Errorf("Lemma(huis) = %q, true; want false: a lemma is not in the table", got)
	}
}
