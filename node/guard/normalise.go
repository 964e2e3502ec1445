package guard

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalise returns the form of s the injection and handoff rules read:
// Unicode tag characters decoded to the ASCII they hide, other invisible
// and format characters removed, compatibility forms (full-width letters,
// ligatures) and diacritics folded, common Cyrillic and Greek look-alikes
// mapped to Latin, lower case, leetspeak folded inside words that also hold
// letters (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s), runs of spaces collapsed
// to one space and runs of line breaks to one "\n". Pure numbers such as
// "2024" or "14 0123" are kept.
func Normalise(s string) string {
	t, _ := normalise(s)
	return t
}

// normalise is Normalise that also reports whether a '1' was folded to 'i',
// so the caller can try the 'l' reading too.
func normalise(s string) (string, bool) {
	s = fold(s)
	return foldLeet(s, 'i')
}

// fold does every step of Normalise except leetspeak.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFKD.String(decodeTags(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	space, line := false, false
	started := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f':
			line = true
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case r >= utf8.RuneSelf && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) ||
			unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) || r == '\u115f' || r == '\u1160' ||
			r == '\u3164' || r == '\uffa0' || r == '\u034f'):
			continue // combining marks, zero-width and other invisible characters
		case r < ' ' || r == 0x7f:
			continue
		}
		if started {
			if line {
				b.WriteByte('\n')
			} else if space {
				b.WriteByte(' ')
			}
		}
		space, line, started = false, false, true
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		if l, ok := lookalikes[r]; ok {
			r = l
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// decodeTags maps Unicode tag characters (U+E0020-U+E007E), which render as
// nothing but carry ASCII ("ASCII smuggling"), to that ASCII.
func decodeTags(s string) string {
	if !hasTags(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0xE0020 && r <= 0xE007E {
			r -= 0xE0000
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hasTags(s string) bool {
	// Tag characters are encoded as F3 A0 8x/81 xx in UTF-8.
	return strings.Contains(s, "\xf3\xa0\x80") || strings.Contains(s, "\xf3\xa0\x81")
}

// lookalikes maps Cyrillic and Greek letters that look like Latin ones.
var lookalikes = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o',
	'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j',
	'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ɡ': 'g', 'ӏ': 'l',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o',
	'Р': 'p', 'С': 'c', 'Т': 't', 'Х': 'x', 'І': 'i', 'Ј': 'j', 'Ѕ': 's',
	'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ι': 'i',
	'Κ': 'k', 'Μ': 'm', 'Ν': 'n', 'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Χ': 'x',
	'ı': 'i', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ß': 's', 'æ': 'a', 'œ': 'o',
}

// leet maps the characters leetspeak uses for letters; '1' is decided by
// the caller.
func leet(c byte, one byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1':
		return one
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	}
	return c
}

func isLeet(c byte) bool {
	switch c {
	case '0', '1', '3', '4', '5', '7', '@', '$':
		return true
	}
	return false
}

// foldLeet folds leetspeak in words that hold at least one letter, reading
// '1' as one. It reports whether any '1' was folded.
func foldLeet(s string, one byte) (string, bool) {
	var out []byte
	sawOne := false
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j, letter, lt := i, false, false
		for j < len(s) && isWordByte(s[j]) {
			c := s[j]
			if 'a' <= c && c <= 'z' || c >= utf8.RuneSelf {
				letter = true
			} else if isLeet(c) {
				lt = true
			}
			j++
		}
		if letter && lt {
			if out == nil {
				out = []byte(s)
			}
			for k := i; k < j; k++ {
				if isLeet(s[k]) {
					if s[k] == '1' {
						sawOne = true
					}
					out[k] = leet(s[k], one)
				}
			}
		}
		i = j
	}
	if out == nil {
		return s, false
	}
	return string(out), sawOne
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '@' || c == '$' || c >= utf8.RuneSelf
}
