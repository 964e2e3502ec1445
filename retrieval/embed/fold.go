package embed

// Folding tables, one byte per code point: a lower-case ASCII letter, a digit
// naming a two-letter expansion (see expansions), or '.' for no folding.
const (
	// foldLatin1 covers U+00C0–U+00FF.
	foldLatin1 = "aaaaaa3ceeeeiiiidnooooo.ouuuuy54" + "aaaaaa3ceeeeiiiidnooooo.ouuuuy5y"
	// foldLatinA covers U+0100–U+017F (Latin Extended-A).
	foldLatinA = "aaaaaa" + "cccccccc" + "dddd" + "eeeeeeeeee" + "gggggggg" + "hhhh" +
		"iiiiiiiiii" + "11" + "jj" + "kkk" + "llllllllll" + "nnnnnnnnn" + "oooooo" + "22" +
		"rrrrrr" + "ssssssss" + "tttttt" + "uuuuuuuuuuuu" + "ww" + "yyy" + "zzzzzz" + "s"
	// expansions are the two-letter foldings, indexed by digit-'1'.
	expansions = "ij" + "oe" + "ae" + "ss" + "th"
)

// foldRune returns the lower-case ASCII letters r folds to (é → "e",
// ĳ → "ij", ß → "ss") and true, or false when r is outside the Latin
// tables.
func foldRune(r rune) (string, bool) {
	var f string
	switch {
	case r >= 0xC0 && r <= 0xFF:
		f = foldLatin1[r-0xC0 : r-0xC0+1]
	case r >= 0x100 && r <= 0x17F:
		f = foldLatinA[r-0x100 : r-0x100+1]
	default:
		return "", false
	}
	switch c := f[0]; {
	case c == '.':
		return "", false
	case c >= '1' && c <= '5':
		i := int(c-'1') * 2
		return expansions[i : i+2], true
	}
	return f, true
}
