package extractive_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// pageOf extracts and chunks a page as ingestion does and returns it
// whole, its passages in reading order.
func pageOf(tb testing.TB, id, url, title, html string) answer.Page {
	tb.Helper()
	p, err := htmltext.ExtractString(html)
	if err != nil {
		tb.Fatal(err)
	}
	pg := answer.Page{DocID: id, URL: url, Title: title}
	for i, pc := range chunk.Split(p, chunk.DefaultOptions()) {
		sec := ""
		if len(pc.Headings) > 0 {
			sec = pc.Headings[len(pc.Headings)-1]
		}
		pg.Passages = append(pg.Passages, answer.Passage{DocID: id, URL: url, Title: title, Section: sec, Anchor: pc.Anchor, Ord: i, Text: pc.Text})
	}
	return pg
}

// testPages returns the pages of testdata/pages.jsonl by id.
func testPages(tb testing.TB) map[string]answer.Page {
	tb.Helper()
	f, err := os.Open("testdata/pages.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]answer.Page{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct{ ID, URL, Title, HTML string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatal(err)
		}
		out[l.ID] = pageOf(tb, l.ID, l.URL, l.Title, l.HTML)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// request stands in for retrieval: the passages of pages ranked by how
// many of the question's terms they share with it (page title and
// heading included), the four best with that count as score, and the
// pages whole in the order given.
func request(question string, pages ...answer.Page) answer.Request {
	terms := retrieval.NewAnalyzer().Terms
	q := map[string]bool{}
	for _, t := range terms(question) {
		q[t] = true
	}
	var ps []answer.Passage
	for _, pg := range pages {
		for _, p := range pg.Passages {
			seen := map[string]bool{}
			for _, t := range terms(p.Title + " " + p.Section + " " + p.Text) {
				if q[t] && !seen[t] {
					seen[t] = true
					p.Score++
				}
			}
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Score > ps[j].Score })
	return answer.Request{Question: question, Referral: referral, Passages: ps[:min(4, len(ps))], Pages: pages}
}

func ask(tb testing.TB, question string, pages ...answer.Page) answer.Answer {
	tb.Helper()
	a, err := newExtractive(tb).Generate(context.Background(), request(question, pages...))
	if err != nil {
		tb.Fatal(err)
	}
	if a.Refused {
		tb.Fatalf("%q refused: %+v", question, a)
	}
	return a
}

var citeMark = regexp.MustCompile(`\s*\[\d+\]`)

// lines returns the lines of an answer without citations and list marks.
func lines(a answer.Answer) []string {
	var out []string
	for _, l := range strings.Split(citeMark.ReplaceAllString(a.Text, ""), "\n") {
		if l = strings.TrimPrefix(strings.TrimSpace(l), "- "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sentences returns the sentences of a text, one per list item and line,
// marks and trailing punctuation removed.
func sentences(text string) []string {
	var out []string
	for _, l := range strings.Split(citeMark.ReplaceAllString(text, ""), "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), "- ")
		for _, s := range chunk.Sentences(l) {
			if s = strings.TrimRight(s, ".;:, "); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func pageSentences(pg answer.Page) []string {
	var out []string
	for _, p := range pg.Passages {
		out = append(out, sentences(p.Text)...)
	}
	return out
}

// A question on the fee for a second dog gets the row of the second dog
// with its header, not the raw row, the header alone or the other rows.
func TestGenerate_TableRow(t *testing.T) {
	pages := testPages(t)
	a := ask(t, "wat kost de hondenbelasting voor twee honden", pages["hw-hondenbelasting"])
	if !strings.Contains(a.Text, "Tweede hond: € 153,60 per jaar") {
		t.Errorf("answer lacks the matching row with its header: %q", a.Text)
	}
	if strings.Contains(a.Text, "|") || strings.Contains(a.Text, "Kennel") {
		t.Errorf("answer prints a raw row or rows that do not match: %q", a.Text)
	}
	a = ask(t, "wat kost een ID-kaart", pages["hw-paspoort-id-kaart"])
	for _, want := range []string{"ID-kaart, 18 jaar en ouder (10 jaar geldig): € 77,20", "ID-kaart, jonger dan 18 jaar (5 jaar geldig): € 45,35"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("answer lacks row %q: %q", want, a.Text)
		}
	}
	if strings.Contains(a.Text, "|") || strings.Contains(a.Text, "84,40") || strings.Contains(a.Text, "Document") {
		t.Errorf("answer prints a raw row, the header or a passport row: %q", a.Text)
	}
}

// A sentence that leans on the one before it ("Dan ...", "Daarom ...",
// "Dit ...") appears only right after that sentence, as on the page.
func TestGenerate_NoLeaningOpener(t *testing.T) {
	pages := testPages(t)
	tests := []struct{ question, page string }{
		{"waarom zijn er strenge regels voor asbest", "hw-sloopmelding-asbest"},
		{"krijg ik afvalstoffenheffing terug als ik verhuis", "hw-afvalstoffenheffing-2026"},
		{"wat als ik mijn hond niet aanmeld", "hw-hondenbelasting"},
		{"wat kost een nieuwe id kaart voor mijn dochter van 12", "hw-paspoort-id-kaart"},
		{"termijn verlopen bezwaar te laat", "hw-bezwaar-maken"},
		{"heb ik een vergunning nodig voor een dakkapel", "hw-omgevingsvergunning"},
		{"wat gebeurt er na mijn bezwaar", "hw-bezwaar-maken"},
		{"kan ik kwijtschelding krijgen voor mijn tweede hond", "hw-hondenbelasting"},
	}
	for _, tt := range tests {
		pg := pages[tt.page]
		a := ask(t, tt.question, pg)
		ps := pageSentences(pg)
		ss := sentences(a.Text)
		for i, s := range ss {
			if !extractive.Leans(s) {
				continue
			}
			k := slices.Index(ps, s)
			if i == 0 || k <= 0 || ps[k-1] != ss[i-1] {
				t.Errorf("%q: %q does not follow the sentence it leans on: %q", tt.question, s, a.Text)
			}
		}
	}
}

func TestLeans(t *testing.T) {
	for s, want := range map[string]bool{
		"Dan vraagt u een paspoort aan.": true, "Daarvoor betaalt u afvalstoffenheffing.": true,
		"Dit heet een sloopmelding.": true, "En een geldig identiteitsbewijs.": true,
		"Bijvoorbeeld voor een bril.": true, "Hierdoor kunt u huurtoeslag krijgen.": true,
		"Dankzij de pas komt u binnen.": false, "Dezelfde regels gelden.": false,
		"U betaalt hondenbelasting.": false, "Enkele gemeenten doen dat.": false,
		"Meld uw hond dan binnen 1 maand aan.": true, "Vraag dan een uittreksel aan.": true,
		"U betaalt dan € 58,10 extra.": true, "Zo kunt u met DigiD inloggen.": true,
		"Of een andere overeenkomst tegen beloning?": true, "Of u recht heeft, hangt af van uw inkomen.": false,
		"Meer dan 10 m³ is te veel.": false, "Het kost meer dan € 10.": false, "Langer dan 4 maanden blijven.": false,
	} {
		if got := extractive.Leans(s); got != want {
			t.Errorf("Leans(%q) = %v, want %v", s, got, want)
		}
	}
}

// A list comes back as a list: its announcing sentence, then one line per
// item.
func TestGenerate_ListStaysList(t *testing.T) {
	pages := testPages(t)
	a := ask(t, "welke pasfoto neem ik mee voor een paspoort", pages["hw-paspoort-id-kaart"])
	for _, want := range []string{"\n- uw huidige paspoort of ID-kaart, ook als die verlopen is\n", "\n- bij een kind jonger dan 18 jaar: toestemming van beide ouders met gezag. Het kind komt zelf mee"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("list item %q not on a line of its own: %q", want, a.Text)
		}
	}
	a = ask(t, "openingstijden milieustraat zaterdag", pages["hw-milieustraat"])
	if !strings.Contains(a.Text, "Openingstijden:\n") || !strings.Contains(a.Text, "\n- zaterdag: 9.00 tot 15.00 uur") {
		t.Errorf("opening hours not kept as a list under their heading: %q", a.Text)
	}
}

// An answer takes its sentences from one page: no sentence of another
// page that was retrieved along with it, and every line is on the cited
// page (a table row as its cells).
func TestGenerate_OnePage(t *testing.T) {
	pages := testPages(t)
	tests := []struct {
		question string
		pages    []string
	}{
		{"moet ik mijn afvalpas meenemen naar de milieustraat", []string{"hw-milieustraat", "hw-paspoort-id-kaart", "hw-afvalstoffenheffing-2026"}},
		{"wat kost een paspoort en moet ik een pasfoto meenemen", []string{"hw-paspoort-id-kaart", "hw-hondenbelasting", "hw-milieustraat"}},
		{"hoe vraag ik een sloopmelding aan", []string{"hw-sloopmelding-asbest", "6cfbff7b-f314-4df1-b378-1c10f2625471", "hw-omgevingsvergunning"}},
	}
	for _, tt := range tests {
		var pgs []answer.Page
		for _, id := range tt.pages {
			pg, ok := pages[id]
			if !ok {
				t.Fatalf("no test page %s", id)
			}
			pgs = append(pgs, pg)
		}
		a := ask(t, tt.question, pgs...)
		if len(a.Citations) != 1 {
			t.Errorf("%q: %d citations, want the one page: %+v", tt.question, len(a.Citations), a.Citations)
			continue
		}
		var cited answer.Page
		for _, pg := range pgs {
			if pg.DocID == a.Citations[0].ID {
				cited = pg
			}
		}
		var text strings.Builder
		for _, p := range cited.Passages {
			text.WriteString(p.Section + "\n" + p.Text + "\n")
		}
		for _, l := range lines(a) {
			if !grounded(l, text.String()) {
				t.Errorf("%q: line %q is not on the cited page %s", tt.question, l, cited.DocID)
			}
		}
	}
}

// grounded reports whether an answer line stands on the page: verbatim
// (modulo the full stop a rendered line gets), as the lines of an address
// joined with commas, or as a table row whose cells all do.
func grounded(line, page string) bool {
	if strings.Contains(page, strings.TrimRight(line, ".:")) {
		return true
	}
	if parts := strings.Split(strings.TrimRight(line, "."), ", "); len(parts) > 1 && !slices.ContainsFunc(parts, func(p string) bool {
		return !strings.Contains(page, p+"\n")
	}) {
		return true // the lines of an address
	}
	label, rest, ok := strings.Cut(line, ": ")
	if !ok || !strings.Contains(page, "| "+label+" |") {
		return false
	}
	for _, v := range strings.Split(strings.TrimSuffix(rest, "."), ", ") {
		if !strings.Contains(strings.ToLower(page), strings.ToLower(v)) && !strings.Contains(page, strings.Fields(v)[0]) {
			return false
		}
	}
	return true
}

// The citation links to the section the answer comes from when the page
// gives its heading an id.
func TestGenerate_Anchor(t *testing.T) {
	b, err := os.ReadFile("testdata/hondenbelasting-anchors.html")
	if err != nil {
		t.Fatal(err)
	}
	pg := pageOf(t, "hond", "https://www.holtewaard.example/belastingen/hondenbelasting", "Hondenbelasting", string(b))
	a := ask(t, "wat kost de hondenbelasting voor twee honden", pg)
	if len(a.Citations) != 1 || a.Citations[0].URL != "https://www.holtewaard.example/belastingen/hondenbelasting#tarieven-2026" || a.Citations[0].ID != "hond" {
		t.Errorf("citations %+v, want the page with #tarieven-2026", a.Citations)
	}
	a = ask(t, "hond aanmelden", pg)
	if len(a.Citations) != 1 || !strings.HasSuffix(a.Citations[0].URL, "#hond-aanmelden-en-afmelden") {
		t.Errorf("citations %+v, want #hond-aanmelden-en-afmelden", a.Citations)
	}
	// Short sections share a passage; each keeps its own anchor.
	pg = pageOf(t, "ms", "https://www.proef.example/milieustraat", "Milieustraat", `<main><h1>Milieustraat</h1>
<p>Op de milieustraat kunt u afval brengen dat niet in uw containers past, zoals grofvuil en snoeiafval.</p>
<h2 id="adres">Adres</h2><p>Industrieweg 14</p><h2 id="open">Openingstijden</h2><ul><li>zaterdag: 9.00 tot 15.00 uur</li></ul></main>`)
	if len(pg.Passages) != 1 {
		t.Fatalf("the short sections should share one passage: %+v", pg.Passages)
	}
	a = ask(t, "openingstijden milieustraat zaterdag", pg)
	if len(a.Citations) != 1 || !strings.HasSuffix(a.Citations[0].URL, "/milieustraat#open") {
		t.Errorf("citations %+v, want #open", a.Citations)
	}
}

// An English question gets the same page sections; the words around them
// are English.
func TestGenerate_English(t *testing.T) {
	pages := testPages(t)
	req := request("hondenbelasting tweede hond", pages["hw-hondenbelasting"])
	req.Question, req.Lang, req.Focus = "How much is the dog tax for a second dog?", "en", "hondenbelasting tweede hond"
	a, err := newExtractive(t).Generate(context.Background(), req)
	if err != nil || a.Refused || !strings.Contains(a.Text, "Tweede hond: € 153,60 per jaar") {
		t.Fatalf("english: %+v, %v", a, err)
	}
	req.Question, req.Focus = "Who wins the world cup?", ""
	if a, _ := newExtractive(t).Generate(context.Background(), req); !a.Refused || !strings.Contains(a.Text, "cannot") {
		t.Errorf("english refusal: %q", a.Text)
	}
}

// A list longer than a whole answer keeps each item's first sentence:
// still a list, and short.
func TestGenerate_LongList(t *testing.T) {
	more := " Dit staat in de regels van het Activiteitenbesluit milieubeheer. U vindt de regels op de website van het Omgevingsloket. Vraag bij twijfel de gemeente om advies over uw situatie."
	html := "<p>Welk type milieuvergunning heeft uw bedrijf nodig? Dat hangt af van hoe zwaar uw bedrijf het milieu belast:</p><ul>" +
		"<li>Type A: geen milieuvergunning nodig." + more + "</li>" +
		"<li>Type B: een melding doen." + more + "</li>" +
		"<li>Type C: een milieuvergunning aanvragen." + more + "</li></ul>"
	pg := pageOf(t, "milieu", "https://www.proef.example/milieu", "Milieuvergunning voor bedrijven", html)
	a := ask(t, "welk type milieuvergunning heeft mijn bedrijf nodig", pg)
	for _, want := range []string{"\n- Type A: geen milieuvergunning nodig\n", "\n- Type B: een melding doen\n", "\n- Type C: een milieuvergunning aanvragen [1]"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("item %q missing or not cut to its first sentence: %q", want, a.Text)
		}
	}
	if n := len(strings.Fields(a.Text)); n > 60 {
		t.Errorf("answer of %d words: %q", n, a.Text)
	}
}

// When the best page lacks the fact asked for and the next page on the
// same topic has it, that page adds a part of its own, labelled with its
// title and cited apart; the parts never mix.
func TestGenerate_SecondPageLabelled(t *testing.T) {
	pages := testPages(t)
	rijk, hw := pages["6cfbff7b-f314-4df1-b378-1c10f2625471"], pages["hw-sloopmelding-asbest"]
	a := ask(t, "wat kost een sloopmelding doen", rijk, hw)
	if len(a.Citations) != 2 || a.Citations[0].ID != rijk.DocID || a.Citations[1].ID != hw.DocID {
		t.Fatalf("citations %+v, want the national page and then the gemeente's", a.Citations)
	}
	first, second, ok := strings.Cut(a.Text, "\nOp de pagina „Slopen en asbest verwijderen: sloopmelding” staat ook:\n")
	if !ok || !strings.Contains(second, "De melding is gratis. [2]") {
		t.Fatalf("no labelled second part with the fee: %q", a.Text)
	}
	if strings.Contains(first, "[2]") || strings.Contains(second, "[1]") {
		t.Errorf("the parts mix their pages: %q", a.Text)
	}
	// Without the question for a fee, the first page answers alone.
	if a := ask(t, "hoe doe ik een sloopmelding", rijk, hw); len(a.Citations) != 1 {
		t.Errorf("a second page joined without adding anything: %q", a.Text)
	}
}

// A number in the question finds the row that names it, cardinal or
// ordinal, in words or digits.
func TestGenerate_TableRowByNumber(t *testing.T) {
	pg := testPages(t)["hw-hondenbelasting"]
	for q, want := range map[string]string{
		"wat kost de derde hond":                 "Derde en elke volgende hond: € 186,00 per hond per jaar",
		"wat kost hondenbelasting voor 2 honden": "Tweede hond: € 153,60 per jaar",
		"tarief hondenbelasting mijn 1e hond":    "Eerste hond: € 121,80 per jaar",
	} {
		if a := ask(t, q, pg); !strings.Contains(a.Text, want) || strings.Contains(a.Text, "Kennel") {
			t.Errorf("%q: want %q, got %q", q, want, a.Text)
		}
	}
}
