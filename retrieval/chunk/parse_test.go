package chunk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// A piece keeps lists as "- " lines, tables as "| … |" rows with their
// header marked, merged headings as "#" lines and the anchor of its
// section; Parse reads all of it back.
func TestSplit_structure(t *testing.T) {
	p, err := htmltext.ExtractString(`<main><h1>Hondenbelasting</h1><p>Heeft u een hond? Dan betaalt u hondenbelasting.</p>
<h2 id="tarieven">Tarieven 2026</h2><table><tr><th></th><th>Per jaar</th></tr>
<tr><td>Eerste hond</td><td>€ 121,80</td></tr><tr><td>Tweede hond</td><td>€ 153,60</td></tr></table>
<h2 id="meenemen">Wat neemt u mee?</h2><ul><li>uw paspoort;</li><li>een pasfoto.</li></ul><h2 id="kort">Kort</h2><p>Ja.</p></main>`)
	if err != nil {
		t.Fatal(err)
	}
	pieces := chunk.Split(p, chunk.Options{MaxChars: 200, MinChars: 40})
	var got []string
	for _, pc := range pieces {
		got = append(got, strings.Join(pc.Headings, " > ")+"#"+pc.Anchor+": "+pc.Text)
	}
	want := []string{
		"Hondenbelasting#: Heeft u een hond? Dan betaalt u hondenbelasting.",
		"Hondenbelasting > Tarieven 2026#tarieven: |  | Per jaar |\n| --- | --- |\n| Eerste hond | € 121,80 |\n| Tweede hond | € 153,60 |",
		"Hondenbelasting#: ## Wat neemt u mee? {#meenemen}\n- uw paspoort;\n- een pasfoto.\n## Kort {#kort}\nJa.",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pieces:\n got %q\nwant %q", got, want)
	}
	var lines []string
	for _, pc := range pieces {
		for _, l := range chunk.Parse(pc.Text) {
			lines = append(lines, l.Kind.String()+" "+l.Text+l.Anchor)
		}
	}
	wantLines := []string{
		"paragraph Heeft u een hond? Dan betaalt u hondenbelasting.",
		"table-header  | Per jaar", "table-row Eerste hond | € 121,80", "table-row Tweede hond | € 153,60",
		"heading Wat neemt u mee?meenemen", "list-item uw paspoort;", "list-item een pasfoto.", "heading Kortkort", "paragraph Ja.",
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("Parse:\n got %q\nwant %q", lines, wantLines)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		want []chunk.Line
	}{
		{"", nil},
		{"### Kop\nTekst.", []chunk.Line{{Kind: htmltext.Heading, Text: "Kop", Level: 3}, {Kind: htmltext.Paragraph, Text: "Tekst."}}},
		{"## Kop {#kop-1}", []chunk.Line{{Kind: htmltext.Heading, Text: "Kop", Level: 2, Anchor: "kop-1"}}},
		{"#hashtag en meer", []chunk.Line{{Kind: htmltext.Paragraph, Text: "#hashtag en meer"}}},
		{"| a |  |\n| --- | --- |\n| b | c |", []chunk.Line{
			{Kind: htmltext.TableHeader, Text: "a | ", Cells: []string{"a", ""}},
			{Kind: htmltext.TableRow, Text: "b | c", Cells: []string{"b", "c"}}}},
		{"Dag | Open", []chunk.Line{{Kind: htmltext.TableRow, Text: "Dag | Open", Cells: []string{"Dag", "Open"}}}},
		{"- item\n-geen item", []chunk.Line{{Kind: htmltext.ListItem, Text: "item"}, {Kind: htmltext.Paragraph, Text: "-geen item"}}},
	}
	for _, tt := range tests {
		got := chunk.Parse(tt.text)
		if !slices.EqualFunc(got, tt.want, func(a, b chunk.Line) bool {
			return a.Kind == b.Kind && a.Text == b.Text && a.Level == b.Level && a.Anchor == b.Anchor && slices.Equal(a.Cells, b.Cells)
		}) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}
