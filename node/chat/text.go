package chat

import "unicode/utf8"

// ValidJSONText reports whether data, a JSON text, holds only valid
// Unicode: valid UTF-8, and no \u escape of a lone UTF-16 surrogate.
// encoding/json turns either into U+FFFD without a word; a client's text
// that cannot be read is refused instead of answered as something else.
func ValidJSONText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' || i+1 >= len(data) {
			continue
		}
		if data[i+1] != 'u' {
			i++ // an escape of two bytes, "\\" included
			continue
		}
		r, ok := hex4(data[i+2:])
		switch {
		case !ok:
			return true // not JSON at all; the decoder says so
		case r >= 0xD800 && r < 0xDC00: // a high surrogate needs a low one
			if len(data) < i+12 || data[i+6] != '\\' || data[i+7] != 'u' {
				return false
			}
			lo, ok := hex4(data[i+8:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
