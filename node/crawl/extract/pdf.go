package extract

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// Limits of PDF extraction. A larger document is refused with ErrTooLarge;
// pages after MaxPDFPages and text after MaxPDFText bytes are left out
// without an error, so a long report still yields its beginning.
const (
	MaxPDFBytes = 50 << 20
	MaxPDFPages = 500
	MaxPDFText  = 16 << 20
)

// Errors of PDF, tested with errors.Is.
var (
	// ErrTooLarge: the PDF is larger than MaxPDFBytes.
	ErrTooLarge = errors.New("pdf too large")
	// ErrEncrypted: the PDF needs a password, or its encryption is not
	// supported.
	ErrEncrypted = errors.New("pdf is encrypted")
	// ErrMalformed: the bytes are not a PDF the reader understands
	// (truncated, damaged or not a PDF at all).
	ErrMalformed = errors.New("malformed pdf")
	// ErrNoText: the PDF holds no extractable text (a scan, or only
	// images).
	ErrNoText = errors.New("pdf has no text")
)

// PDF extracts the text (and the title from the document information, when
// present) of a PDF document.
//
// Text holds the pages in order, paragraphs separated by a blank line and
// the lines of a paragraph joined by a space (a word broken with a hyphen
// at the end of a line is joined again); white space is collapsed and
// invisible characters are removed. Paragraphs are found from the vertical
// gaps between lines and changes of font size. Title is the document
// information's Title, else the first line of text. Only the first
// MaxPDFPages pages and MaxPDFText bytes of text are read.
//
// Errors wrap ErrTooLarge, ErrEncrypted (a PDF that opens without a
// password is read when the reader can decrypt it; it cannot decrypt 40-bit
// RC4), ErrMalformed or ErrNoText. A page the reader cannot
// interpret is skipped while other pages yield text. PDF never panics:
// panics of the PDF library are recovered and returned as ErrMalformed.
func PDF(body []byte) (p Page, err error) {
	if len(body) > MaxPDFBytes {
		return Page{}, fmt.Errorf("extract: pdf of %d bytes, limit %d: %w", len(body), MaxPDFBytes, ErrTooLarge)
	}
	defer func() {
		if x := recover(); x != nil {
			p, err = Page{}, fmt.Errorf("extract: pdf: %w: %v", ErrMalformed, x)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(strings.ToLower(err.Error()), "encrypt") {
			return Page{}, fmt.Errorf("extract: pdf: %w: %v", ErrEncrypted, err)
		}
		return Page{}, fmt.Errorf("extract: pdf: %w: %v", ErrMalformed, err)
	}

	pages := pageList(r.Trailer().Key("Root").Key("Pages"))
	var (
		b        strings.Builder
		firstErr error
		failed   int
		title    string
	)
	for i, pg := range pages {
		paras, err := pageParagraphs(pg)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("page %d: %w", i+1, err)
			}
			continue
		}
		for _, para := range paras {
			if b.Len()+len(para.text) > MaxPDFText {
				break
			}
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(para.text)
			if title == "" {
				title = para.first
			}
		}
	}
	if b.Len() == 0 {
		if !r.Trailer().Key("Encrypt").IsNull() {
			// The reader opened it without a password but cannot decrypt
			// it (it mishandles 40-bit RC4, for one).
			return Page{}, fmt.Errorf("extract: pdf: %w: cannot decrypt its content", ErrEncrypted)
		}
		if firstErr != nil {
			return Page{}, fmt.Errorf("extract: pdf: %w: %d of %d pages unreadable, %v", ErrMalformed, failed, len(pages), firstErr)
		}
		return Page{}, fmt.Errorf("extract: pdf of %d pages: %w", len(pages), ErrNoText)
	}
	p.Text = b.String()
	p.Title = htmltext.Clean(r.Trailer().Key("Info").Key("Title").Text())
	if p.Title == "" {
		p.Title = title
	}
	return p, nil
}

// pageList returns the first MaxPDFPages leaves of the page tree in order.
// It visits a bounded number of nodes, so a cyclic tree ends.
func pageList(root pdf.Value) []pdf.Page {
	var out []pdf.Page
	budget := 4 * MaxPDFPages
	var visit func(v pdf.Value, depth int)
	visit = func(v pdf.Value, depth int) {
		if len(out) >= MaxPDFPages || budget <= 0 || depth > 32 {
			return
		}
		budget--
		switch v.Key("Type").Name() {
		case "Page":
			out = append(out, pdf.Page{V: v})
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len() && len(out) < MaxPDFPages; i++ {
				visit(kids.Index(i), depth+1)
			}
		}
	}
	visit(root, 0)
	return out
}

// paragraph is one paragraph of a page: its text and its first line.
type paragraph struct {
	text, first string
}

// textLine is one line of a page as the content stream draws it.
type textLine struct {
	text string
	y    float64 // baseline in text space
	size float64 // effective font size
}

// affine is a PDF matrix [a b c d e f].
type affine [6]float64

var identity = affine{1, 0, 0, 1, 0, 0}

// translate returns m moved by (tx, ty) in its own space.
func (m affine) translate(tx, ty float64) affine {
	m[4] += tx*m[0] + ty*m[2]
	m[5] += tx*m[1] + ty*m[3]
	return m
}

// pageParagraphs interprets the content stream of pg. It returns the
// library's panics as errors.
func pageParagraphs(pg pdf.Page) (paras []paragraph, err error) {
	defer func() {
		if x := recover(); x != nil {
			paras, err = nil, fmt.Errorf("%v", x)
		}
	}()
	content := pg.V.Key("Contents")
	if content.IsNull() {
		return nil, nil
	}
	var (
		lines   []textLine
		cur     strings.Builder
		curY    float64
		curSize float64
		open    bool // cur holds a line
		moved   bool // the position changed since the last text shown
		tm      = identity
		leading float64
		size    = 1.0
		enc     pdf.TextEncoding
		fonts   = map[string]pdf.TextEncoding{}
	)
	flush := func() {
		if open {
			if t := htmltext.Clean(cur.String()); t != "" {
				lines = append(lines, textLine{text: t, y: curY, size: curSize})
			}
		}
		cur.Reset()
		open = false
	}
	space := func() {
		if s := cur.String(); s != "" && !strings.HasSuffix(s, " ") {
			cur.WriteByte(' ')
		}
	}
	show := func(raw string) {
		eff := size * math.Hypot(tm[2], tm[3])
		if eff == 0 {
			eff = size
		}
		y := tm[5]
		if open && math.Abs(y-curY) > math.Max(eff, curSize)/2 {
			flush()
		}
		if !open {
			open, curY, curSize = true, y, eff
		} else if moved {
			space()
		}
		moved = false
		cur.WriteString(decode(enc, raw))
	}
	nextLine := func() {
		tm = tm.translate(0, -leading)
		moved = true
	}
	pdf.Interpret(content, func(stk *pdf.Stack, op string) {
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "BT":
			tm = identity
			moved = true
		case "Tf":
			if len(args) == 2 {
				name := args[0].Name()
				e, ok := fonts[name]
				if !ok {
					f := pg.Font(name)
					e = f.Encoder()
					fonts[name] = e
				}
				enc = e
				size = math.Abs(num(1))
			}
		case "TL":
			leading = num(0)
		case "Td":
			tm = tm.translate(num(0), num(1))
			moved = true
		case "TD":
			leading = -num(1)
			tm = tm.translate(num(0), num(1))
			moved = true
		case "Tm":
			if len(args) == 6 {
				for i := range tm {
					tm[i] = num(i)
				}
				moved = true
			}
		case "T*":
			nextLine()
		case "Tj":
			if len(args) == 1 {
				show(args[0].RawString())
			}
		case "'":
			if len(args) == 1 {
				nextLine()
				show(args[0].RawString())
			}
		case "\"":
			if len(args) == 3 {
				nextLine()
				show(args[2].RawString())
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			arr := args[0]
			for i := 0; i < arr.Len(); i++ {
				v := arr.Index(i)
				if v.Kind() == pdf.String {
					show(v.RawString())
				} else if v.Float64() < -200 && open {
					// A gap of a fifth of an em or more: a word space.
					space()
				}
			}
		}
	})
	flush()
	return paragraphs(lines), nil
}

// decode turns raw string bytes into UTF-8 with the font's encoding, or
// as Latin-1 when the font has none.
func decode(enc pdf.TextEncoding, raw string) string {
	if enc != nil {
		return enc.Decode(raw)
	}
	if utf8.ValidString(raw) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		b.WriteRune(rune(raw[i]))
	}
	return b.String()
}

// paragraphs groups lines: a new paragraph starts where the gap to the
// previous line is clearly larger than the page's usual line gap (or than
// 1.8 times the font size), where the font size changes by more than 15%,
// or where text goes back up the page.
func paragraphs(lines []textLine) []paragraph {
	if len(lines) == 0 {
		return nil
	}
	gaps := make([]float64, 0, len(lines))
	for i := 1; i < len(lines); i++ {
		if g := lines[i-1].y - lines[i].y; g > 0 {
			gaps = append(gaps, g)
		}
	}
	median := 0.0
	if len(gaps) > 0 {
		slices.Sort(gaps)
		median = gaps[len(gaps)/2]
	}
	var out []paragraph
	var b strings.Builder
	first := ""
	end := func() {
		if b.Len() > 0 {
			out = append(out, paragraph{text: b.String(), first: first})
		}
		b.Reset()
	}
	for i, l := range lines {
		if i > 0 {
			prev := lines[i-1]
			gap := prev.y - l.y
			size := math.Max(prev.size, l.size)
			newPara := gap <= 0 ||
				median > 0 && gap > 1.3*median ||
				size > 0 && gap > 1.8*size ||
				math.Abs(prev.size-l.size) > 0.15*size
			if newPara {
				end()
			}
		}
		if b.Len() == 0 {
			first = l.text
			b.WriteString(l.text)
			continue
		}
		s := b.String()
		r, _ := utf8.DecodeRuneInString(l.text)
		if before, ok := strings.CutSuffix(s, "-"); ok && unicode.IsLower(r) && endsWithLetter(before) {
			// "afval-" + "stoffenheffing": a word broken at the line end.
			b.Reset()
			b.WriteString(before)
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(l.text)
	}
	end()
	return out
}

func endsWithLetter(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r)
}
