package answer

import "testing"

func TestCaseTopic(t *testing.T) {
	tests := []struct{ in, want string }{
		// The story goes, the topic stays.
		{"Ik woon al een half jaar bij mijn vriendin maar sta nog bij mijn ouders ingeschreven; dat hoef ik toch niet door te geven?",
			"ik woon maar sta ingeschreven; dat ik niet door te geven?"},
		{"Mijn buurman bouwt een schuur van 4 meter hoog, is dat illegaal?", "bouwt een schuur , ?"},
		{"Heb ik recht op bijzondere bijstand? Ik verdien 1.900 euro.", "heb ik recht op bijzondere bijstand? ."},
		{"Mijn verhuurder verhoogt sinds drie maanden de huur met 10 procent, mag hij dat?", "verhoogt de huur , mag hij dat?"},
		{"Heb ik recht op kwijtschelding als ik student ben?", "heb ik recht op kwijtschelding ?"},
		{"Ik slaap al maanden bij mijn vriend maar ben nog op mijn oude adres ingeschreven, dat is toch prima?", "ik slaap maar ben op mijn oude adres ingeschreven, ?"},
		{"Ik heb een bijbaantje en krijg bijstand; dat hoef ik niet te melden, klopt dat?", "een bijbaantje en krijg bijstand; dat ik niet te melden, ?"},
		// Too little left: the question itself.
		{"Mijn buurman, is dat illegaal?", "Mijn buurman, is dat illegaal?"},
	}
	for _, tt := range tests {
		if got := CaseTopic(tt.in); got != tt.want {
			t.Errorf("CaseTopic(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDropCausative(t *testing.T) {
	for in, want := range map[string]string{
		"Hoe laat ik asbest veilig verwijderen door een bedrijf?": "Hoe ik asbest veilig verwijderen door een bedrijf?",
		"Laat u de boom kappen?":                                  "u de boom kappen?",
		"Hoe laat is de milieustraat open?":                       "Hoe laat is de milieustraat open?",
		"Wat als ik te laat betaal?":                              "Wat als ik te laat betaal?",
	} {
		if got := DropCausative(in); got != want {
			t.Errorf("DropCausative(%q) = %q, want %q", in, got, want)
		}
	}
}
