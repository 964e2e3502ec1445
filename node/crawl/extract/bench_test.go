package extract_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/assistent-nl/assistent/node/crawl/extract"
)

// bigPage returns a gemeente page of about size bytes: the grofvuil
// fixture with its main content repeated as sections, plus a long menu.
func bigPage(tb testing.TB, size int) []byte {
	tb.Helper()
	page := string(readFixture(tb, "grofvuil.html"))
	var menu, sections strings.Builder
	for i := range 60 {
		fmt.Fprintf(&menu, `<li><a href="/onderwerp/%d">Onderwerp %d</a></li>`, i, i)
	}
	for i := 0; sections.Len()+len(page)+menu.Len() < size; i++ {
		fmt.Fprintf(&sections, `<section id="s%d"><h2>Regeling %d</h2>
<p>Inwoners van de gemeente kunnen voor regeling %d een aanvraag doen via <a href="/regeling/%d#aanvragen">het loket</a>.
De behandeltermijn is acht weken. <span aria-hidden="true">*</span> Neem uw DigiD mee.</p>
<ul><li>Voorwaarde A voor regeling %d</li><li>Voorwaarde B</li></ul>
<!-- versie %d --></section>
`, i, i, i, i, i, i)
	}
	page = strings.Replace(page, `<li><a href="/parkeren">Parkeren</a></li>`, menu.String(), 1)
	page = strings.Replace(page, "</main>", sections.String()+"</main>", 1)
	return []byte(page)
}

func BenchmarkHTML(b *testing.B) {
	body := bigPage(b, 50<<10)
	base := mustURL(b, "https://www.voorbeeld.nl/afval/grofvuil")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := extract.HTML(body, base, extract.Rules{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPDF(b *testing.B) {
	body := makePDF(b, func(f *fpdf.Fpdf, tr func(string) string) {
		for range 10 {
			afvalfolder(f, tr)
		}
	})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := extract.PDF(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBigPage(t *testing.T) {
	body := bigPage(t, 50<<10)
	p := extractHTML(t, string(body), "https://www.voorbeeld.nl/", extract.Rules{})
	if len(body) < 50<<10 || len(body) > 52<<10 {
		t.Errorf("page is %d bytes, want about 50 KiB", len(body))
	}
	// Every section heading and every distinct link comes back once.
	sections := strings.Count(string(body), "<section ")
	if got := len(p.Headings); got != 4+sections {
		t.Errorf("%d headings, want %d", got, 4+sections)
	}
	if !strings.Contains(p.HTML, "Voorwaarde A voor regeling 0") || strings.Contains(p.HTML, "versie") {
		t.Errorf("HTML lacks a section or holds a comment")
	}
	if got, want := len(p.Links), 3+60+1+sections+1; got != want {
		t.Errorf("%d links, want %d", got, want)
	}
}
