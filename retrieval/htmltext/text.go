package htmltext

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textBuf collects the text of one block and normalises it on the way in:
// white space collapses to one space (or one line break where a break is
// wanted), leading and trailing space never appears, and invisible
// characters are dropped.
type textBuf struct {
	b     []byte
	space bool // a space is due before the next visible character
	brk   bool // a line break is due before the next visible character
}

// write appends s. With keepLines, a newline in s is a line break; else it
// is a space.
func (t *textBuf) write(s string, keepLines bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\n':
				if keepLines {
					t.brk = true
				} else {
					t.space = true
				}
			case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
				t.space = true
			case c < 0x20 || c == 0x7f:
				// control character: invisible
			default:
				t.due()
				t.b = append(t.b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			// Not UTF-8: most likely a Latin-1 page that was not
			// converted; keep the letter rather than lose it.
			r = rune(c)
			if r < 0xa0 {
				continue
			}
		}
		switch {
		case Invisible(r):
		case r == '\u2028' || r == '\u2029':
			if keepLines {
				t.brk = true
			} else {
				t.space = true
			}
		case unicode.IsSpace(r):
			t.space = true
		default:
			t.due()
			t.b = utf8.AppendRune(t.b, r)
		}
	}
}

// breakLine asks for a line break before the next visible character.
func (t *textBuf) breakLine() { t.brk = true }

// spaceOut asks for a space before the next visible character.
func (t *textBuf) spaceOut() { t.space = true }

func (t *textBuf) due() {
	if len(t.b) > 0 {
		if t.brk {
			t.b = append(t.b, '\n')
		} else if t.space {
			t.b = append(t.b, ' ')
		}
	}
	t.space, t.brk = false, false
}

// take returns the collected text and empties the buffer.
func (t *textBuf) take() string {
	s := string(t.b)
	t.b = t.b[:0]
	t.space, t.brk = false, false
	return s
}

// Invisible reports whether r is a character that takes no visible space:
// zero-width spaces and joiners, direction marks and bidi controls, the soft
// hyphen, word joiners and invisible operators, the byte order mark, C1
// controls, variation selectors and the Unicode tag characters (used to
// smuggle hidden instructions into text).
func Invisible(r rune) bool {
	switch {
	case r < 0x80:
		return false
	case r <= 0x9f, r == 0xad, r == 0x34f, r == 0x61c, r == 0x180e:
		return true
	case r >= 0x200b && r <= 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2060 && r <= 0x206f:
		return true
	case r == 0xfeff:
		return true
	case r >= 0xfe00 && r <= 0xfe0f:
		return true
	case r >= 0xe0000 && r <= 0xe007f, r >= 0xe0100 && r <= 0xe01ef:
		return true
	}
	return false
}

// Clean returns s with invisible characters removed, white space collapsed
// and trimmed; newlines become spaces.
func Clean(s string) string {
	var t textBuf
	t.write(s, false)
	return string(t.b)
}

// maxPlainTextRounds bounds the decode-and-strip rounds of PlainText: text
// escaped twice ("&amp;lt;svg&amp;gt;") needs two.
const maxPlainTextRounds = 4

// PlainText returns s as text only: HTML character references are decoded
// ("&amp;" → "&", "&lt;" → "<") and whatever then has the shape of markup
// is dropped: a tag ("<svg onload=...>", "</a>"), a comment, a
// declaration or processing instruction; a "<" that opens a tag that never
// closes is dropped alone. It repeats until nothing changes, so text
// escaped more than once comes out clean too. A "<" before a digit or a
// space ("< 18 jaar", "<5") is text and stays; white space left behind is
// collapsed within a line, and line breaks are kept. Text without "<" or
// "&" is returned as is.
func PlainText(s string) string {
	for range maxPlainTextRounds {
		if !strings.ContainsAny(s, "<&") {
			return s
		}
		t := dropMarkup(html.UnescapeString(s))
		if t == s {
			return t
		}
		s = t
	}
	// Still changing after several rounds: an adversarial nesting. Drop
	// every '<' that opens markup rather than decode any further.
	return strings.Map(func(r rune) rune {
		if r == '<' {
			return -1
		}
		return r
	}, dropMarkup(s))
}

// dropMarkup removes tags, comments and declarations from s (see
// PlainText) without decoding anything.
func dropMarkup(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '<' || !opensMarkup(s[i+1:]) {
			b.WriteByte(c)
			i++
			continue
		}
		end := -1
		if strings.HasPrefix(s[i:], "<!--") {
			if k := strings.Index(s[i+4:], "-->"); k >= 0 {
				end = i + 4 + k + 3
			}
		} else if k := strings.IndexByte(s[i+1:], '>'); k >= 0 {
			end = i + 1 + k + 1
		}
		if end < 0 {
			i++ // an unclosed tag: drop its '<', keep the words
			continue
		}
		// Keep one space where the markup stood between two words.
		prevSpace := b.Len() == 0 || isSpaceByte(lastByte(&b))
		if end < len(s) && isSpaceByte(s[end]) && prevSpace {
			end++
		}
		i = end
	}
	return b.String()
}

// opensMarkup reports whether the text after a '<' starts a tag ("svg",
// "/a"), a comment or declaration ("!"), or a processing instruction
// ("?").
func opensMarkup(rest string) bool {
	if rest == "" {
		return false
	}
	c := rest[0]
	switch {
	case c == '!' || c == '?':
		return true
	case c == '/':
		return len(rest) > 1 && isASCIILetter(rest[1])
	}
	return isASCIILetter(c)
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func lastByte(b *strings.Builder) byte {
	s := b.String()
	return s[len(s)-1]
}
