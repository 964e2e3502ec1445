package chunk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/chunk"
)

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"amounts", "Een paspoort kost € 84,40. Een ID-kaart kost € 77,85.", []string{"Een paspoort kost € 84,40.", "Een ID-kaart kost € 77,85."}},
		{"thousands and decimals", "Het bedrag is 1.250 euro. Versie 3.5 is nieuw.", []string{"Het bedrag is 1.250 euro.", "Versie 3.5 is nieuw."}},
		{"abbreviations", "Neem bijv. uw paspoort mee. Neem o.a. uw pasfoto mee, d.w.z. een recente. Bel tel. 14 0522. Zie art. 3 en nr. 5. Ca. 3 weken. Daarna bericht.",
			[]string{"Neem bijv. uw paspoort mee.", "Neem o.a. uw pasfoto mee, d.w.z. een recente.", "Bel tel. 14 0522.", "Zie art. 3 en nr. 5.", "Ca. 3 weken.", "Daarna bericht."}},
		{"more abbreviations", "Dit geldt incl. btw en excl. verzendkosten, e.d. Bijv. Mr. Smit. Dr. Ir. Drs. Jansen. Het is ca. Twee uur.",
			[]string{"Dit geldt incl. btw en excl. verzendkosten, e.d. Bijv. Mr. Smit.", "Dr. Ir. Drs. Jansen.", "Het is ca. Twee uur."}},
		{"lone lower-case letter ends", "Wij helpen u. Bel ons. Kies optie a. Of b.", []string{"Wij helpen u.", "Bel ons.", "Kies optie a.", "Of b."}},
		{"enz. does not end", "Paspoort, rijbewijs enz. Neem ze mee. Klaar.", []string{"Paspoort, rijbewijs enz. Neem ze mee.", "Klaar."}},
		{"titles and initials", "Dhr. J. de Vries helpt u. Mevr. A. Jansen ook. Vraag naar J.P. Bakker.",
			[]string{"Dhr. J. de Vries helpt u.", "Mevr. A. Jansen ook.", "Vraag naar J.P. Bakker."}},
		{"quotes and brackets", `Hij zei: "Kom morgen." Daarna ging hij. (Zie ook de website.) Dan weet u meer. Schrijf ‘Bezwaar.’ Op de envelop.`,
			[]string{`Hij zei: "Kom morgen."`, "Daarna ging hij.", "(Zie ook de website.)", "Dan weet u meer.", "Schrijf ‘Bezwaar.’", "Op de envelop."}},
		{"question and exclamation", "Wat kost het? Dat leest u hieronder! Echt?! Ja…  Goed.", []string{"Wat kost het?", "Dat leest u hieronder!", "Echt?!", "Ja…", "Goed."}},
		{"lower case goes on", `Wacht even... en dan verder. De vraag "Wat kost het?" is vaak gesteld.`, []string{"Wacht even... en dan verder.", `De vraag "Wat kost het?" is vaak gesteld.`}},
		{"lines are sentences", "Neem mee:\n- uw paspoort\n- een pasfoto\n\n1. Vul het formulier in.\n2. Stuur het op.",
			[]string{"Neem mee:", "- uw paspoort", "- een pasfoto", "1. Vul het formulier in.", "2. Stuur het op."}},
		{"web addresses", "Ga naar www.holtewaard.nl. Daar staat meer. Mail info@holtewaard.nl.", []string{"Ga naar www.holtewaard.nl.", "Daar staat meer.", "Mail info@holtewaard.nl."}},
		{"times and dates", "Open van 9.00 tot 17.00 uur. Op 1 jan. 2025 dicht. Op 5 mei ook.", []string{"Open van 9.00 tot 17.00 uur.", "Op 1 jan. 2025 dicht.", "Op 5 mei ook."}},
		{"apostrophe start", "Het is dicht. ’s Avonds open. 's Morgens ook.", []string{"Het is dicht.", "’s Avonds open.", "'s Morgens ook."}},
		{"no stop", "  Eén zin zonder punt  ", []string{"Eén zin zonder punt"}},
		{"blank", " \n\t\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chunk.Sentences(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(%q):\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if a, b := strings.Fields(strings.Join(got, " ")), strings.Fields(tt.in); !slices.Equal(a, b) {
				t.Errorf("sentences do not give back the text: %q", got)
			}
		})
	}
}
