package extract_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/assistent-nl/assistent/node/crawl/extract"
)

// makePDF builds an A4 PDF with the core Helvetica font; write draws the
// pages and gets a translator from UTF-8 to the font's code page.
func makePDF(tb testing.TB, write func(f *fpdf.Fpdf, tr func(string) string)) []byte {
	tb.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetFont("Helvetica", "", 12)
	write(f, f.UnicodeTranslatorFromDescriptor(""))
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		tb.Fatalf("fpdf: %v", err)
	}
	return buf.Bytes()
}

// afvalfolder is a two-page leaflet: a heading, a wrapped paragraph, a
// paragraph with a word broken at the line end, and a second page.
func afvalfolder(f *fpdf.Fpdf, tr func(string) string) {
	f.AddPage()
	f.SetFont("Helvetica", "B", 16)
	f.Cell(0, 10, "Grofvuil ophalen")
	f.Ln(14)
	f.SetFont("Helvetica", "", 12)
	f.MultiCell(120, 6, tr("U kunt grofvuil gratis laten ophalen, maximaal vier keer per jaar. "+
		"Maak daarvoor een afspraak via de website of bel het Klant Contact Centrum."), "", "L", false)
	f.Ln(6)
	f.Cell(0, 6, "De afvalstoffen-")
	f.Ln(6)
	f.Cell(0, 6, tr("heffing betaalt u één keer per jaar, ook voor het café."))
	f.Ln(6)
	f.AddPage()
	f.Cell(0, 6, "Pagina twee: Milieustraat open op zaterdag.")
}

func TestPDF_text(t *testing.T) {
	body := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetTitle("Afvalwijzer 2025 – Gemeente Voorbeeld", true)
		afvalfolder(f, tr)
	})
	p, err := extract.PDF(body)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	if p.Title != "Afvalwijzer 2025 – Gemeente Voorbeeld" {
		t.Errorf("Title = %q", p.Title)
	}
	paras := strings.Split(p.Text, "\n\n")
	want := []string{
		"Grofvuil ophalen",
		"U kunt grofvuil gratis laten ophalen, maximaal vier keer per jaar. Maak daarvoor een afspraak via de website of bel het Klant Contact Centrum.",
		"De afvalstoffenheffing betaalt u één keer per jaar, ook voor het café.",
		"Pagina twee: Milieustraat open op zaterdag.",
	}
	if len(paras) != len(want) {
		t.Fatalf("Text has %d paragraphs, want %d:\n%s", len(paras), len(want), p.Text)
	}
	for i := range want {
		if paras[i] != want[i] {
			t.Errorf("paragraph %d = %q, want %q", i, paras[i], want[i])
		}
	}
	if p.HTML != "" || p.Links != nil {
		t.Errorf("HTML, Links = %q, %q; want none for a PDF", p.HTML, p.Links)
	}
}

func TestPDF_titleFromFirstLine(t *testing.T) {
	body := makePDF(t, afvalfolder)
	p, err := extract.PDF(body)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	if p.Title != "Grofvuil ophalen" {
		t.Errorf("Title = %q, want the first line", p.Title)
	}
}

func TestPDF_pageLimit(t *testing.T) {
	body := makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) {
		for i := 1; i <= extract.MaxPDFPages+2; i++ {
			f.AddPage()
			f.Cell(0, 6, fmt.Sprintf("Pagina %d van de raadsstukken", i))
		}
	})
	p, err := extract.PDF(body)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	last := fmt.Sprintf("Pagina %d van", extract.MaxPDFPages)
	over := fmt.Sprintf("Pagina %d van", extract.MaxPDFPages+1)
	if !strings.Contains(p.Text, last) || strings.Contains(p.Text, over) {
		t.Errorf("Text does not stop after page %d: ends with %q", extract.MaxPDFPages, p.Text[max(0, len(p.Text)-80):])
	}
	if n := strings.Count(p.Text, "\n\n") + 1; n != extract.MaxPDFPages {
		t.Errorf("Text has %d paragraphs, want one per page (%d)", n, extract.MaxPDFPages)
	}
}

func TestPDF_errors(t *testing.T) {
	valid := makePDF(t, afvalfolder)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	encrypted := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetProtection(fpdf.CnProtectPrint, "geheim", "eigenaar")
		afvalfolder(f, tr)
	})
	noText := makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) {
		f.AddPage()
		f.Rect(20, 20, 50, 50, "F")
	})
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"empty", nil, extract.ErrMalformed},
		{"truncated", valid[:len(valid)/2], extract.ErrMalformed},
		{"cut before EOF", valid[:len(valid)-10], extract.ErrMalformed},
		{"random bytes", random, extract.ErrMalformed},
		{"random after header", append([]byte("%PDF-1.4\n"), random...), extract.ErrMalformed},
		{"html", []byte("<html><body>Dit is geen PDF</body></html>"), extract.ErrMalformed},
		{"user password", encrypted, extract.ErrEncrypted},
		{"no text", noText, extract.ErrNoText},
		{"too large", make([]byte, extract.MaxPDFBytes+1), extract.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := extract.PDF(tt.body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("PDF error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "extract: pdf") {
				t.Errorf("error %q does not say where it comes from", err)
			}
			if p.Text != "" || p.Title != "" {
				t.Errorf("failed PDF yields %+v", p)
			}
		})
	}
}

func TestPDF_ownerPasswordOnly(t *testing.T) {
	// No user password, so anyone may open it; but fpdf encrypts with
	// 40-bit RC4, whose object keys the PDF reader derives wrongly. The
	// result must be the encryption error, not "malformed".
	body := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetProtection(fpdf.CnProtectPrint, "", "eigenaar")
		afvalfolder(f, tr)
	})
	_, err := extract.PDF(body)
	if !errors.Is(err, extract.ErrEncrypted) {
		t.Fatalf("PDF error = %v, want ErrEncrypted", err)
	}
}

// TestPDF_damaged flips bytes all over a valid PDF: every result is an
// error or valid text, never a panic.
func TestPDF_damaged(t *testing.T) {
	valid := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetCompression(false) // damage reaches the operators, not only zlib
		afvalfolder(f, tr)
	})
	rng := rand.New(rand.NewPCG(3, 4))
	okCount := 0
	for i := range 300 {
		b := bytes.Clone(valid)
		for range 1 + i%8 {
			b[rng.IntN(len(b))] = byte(rng.UintN(256))
		}
		p, err := extract.PDF(b)
		if err != nil {
			continue
		}
		okCount++
		if !utf8.ValidString(p.Text) || p.Text == "" {
			t.Fatalf("damaged PDF %d: Text = %q", i, p.Text)
		}
	}
	t.Logf("%d of 300 damaged PDFs still yielded text", okCount)
}
