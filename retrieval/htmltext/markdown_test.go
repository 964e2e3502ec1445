package htmltext_test

import (
	"slices"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

func TestFromMarkdown(t *testing.T) {
	p := htmltext.FromMarkdown(readFixture(t, "afval.md"))
	if p.Title != "Afval en milieustraat" {
		t.Errorf("Title = %q", p.Title)
	}
	const a = "Afval en milieustraat"
	want := []string{
		"heading [" + a + "] " + a,
		"paragraph [" + a + "] De milieustraat is open op dinsdag en zaterdag. Zie ook de afvalkalender.",
		"heading [" + a + " > Wat mag u brengen?] Wat mag u brengen?",
		"list-item [" + a + " > Wat mag u brengen?] Grof huishoudelijk afval",
		"list-item [" + a + " > Wat mag u brengen?] Elektrische apparaten, zoals:",
		"list-item [" + a + " > Wat mag u brengen?] koelkasten",
		"list-item [" + a + " > Wat mag u brengen?] wasmachines",
		"list-item [" + a + " > Wat mag u brengen?] Snoeiafval tot 2 m³",
		"list-item [" + a + " > Wat mag u brengen?] Eerst wegen",
		"list-item [" + a + " > Wat mag u brengen?] Dan storten",
		"heading [" + a + " > Tarieven] Tarieven",
		"table-header [" + a + " > Tarieven] Soort | Prijs",
		"table-row [" + a + " > Tarieven] Grof afval | € 12,50 per m³",
		"table-row [" + a + " > Tarieven] Snoeiafval | gratis",
		"heading [" + a + " > Tarieven > Let op] Let op",
		"paragraph [" + a + " > Tarieven > Let op] Asbest neemt de milieustraat niet aan. Bel daarvoor 14 0522.",
		"preformatted [" + a + " > Tarieven > Let op] Openingstijden:\ndi 9.00 - 16.00",
		"paragraph [" + a + " > Tarieven > Let op] Het adres is Industrieweg_4, bestand_naam.pdf, 3 * 4 = 12, oud nieuw, code, https://www.holtewaard.nl.",
	}
	got := blockLines(p)
	if !slices.Equal(got, want) {
		t.Errorf("blocks:\n got %q\nwant %q", got, want)
	}
}

func TestFromMarkdown_inline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"**vet** en __ook vet__", "vet en ook vet"},
		{"*schuin* en _schuin_", "schuin en schuin"},
		{"[tekst](https://x.nl/a_(b)) na", "tekst na"},
		{"[geneste [haken]](u)", "geneste [haken]"},
		{"[ref link][r] en [kaal]", "ref link en [kaal]"},
		{"snake_case_naam blijft", "snake_case_naam blijft"},
		{"\\*geen nadruk\\*", "*geen nadruk*"},
		{"pas\u200bpoort", "paspoort"},
		{"tekst<br>meer <b>vet</b>", "tekst meer vet"},
		{"a < b > c", "a < b > c"},
	}
	for _, tt := range tests {
		p := htmltext.FromMarkdown(tt.in)
		if len(p.Blocks) != 1 || p.Blocks[0].Text != tt.want {
			t.Errorf("FromMarkdown(%q) = %q, want %q", tt.in, blockLines(p), tt.want)
		}
	}
}

func TestFromMarkdown_headings(t *testing.T) {
	p := htmltext.FromMarkdown("## Twee ##\ntekst\n#geen kop\n####### zeven\n\n# Een #\n### Drie\nx")
	want := []string{
		"heading [Twee] Twee",
		"paragraph [Twee] tekst #geen kop ####### zeven",
		"heading [Een] Een",
		"heading [Een > Drie] Drie",
		"paragraph [Een > Drie] x",
	}
	if got := blockLines(p); !slices.Equal(got, want) {
		t.Errorf("blocks:\n got %q\nwant %q", got, want)
	}
}

func TestFromText(t *testing.T) {
	in := "Eerste regel\ntweede regel.\n\n\n- item een\n  loopt door\n• item twee\n\nSlot\u200b tekst  \r\n"
	want := []string{
		"paragraph [] Eerste regel tweede regel.",
		"list-item [] item een loopt door",
		"list-item [] item twee",
		"paragraph [] Slot tekst",
	}
	p := htmltext.FromText(in)
	if got := blockLines(p); !slices.Equal(got, want) {
		t.Errorf("blocks:\n got %q\nwant %q", got, want)
	}
	if p.Title != "" {
		t.Errorf("Title = %q, want none", p.Title)
	}
}
