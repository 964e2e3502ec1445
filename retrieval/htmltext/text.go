package htmltext

import (
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
