package guard

import (
	"regexp"
	"sort"
	"strings"
)

// Kind names a type of personal data.
type Kind string

// The kinds of personal data Scrub removes. The value is the placeholder's
// name without brackets.
const (
	BSN     Kind = "BSN"      // burgerservicenummer that passes the elfproef
	IBAN    Kind = "IBAN"     // bank account number that passes mod-97
	Phone   Kind = "TELEFOON" // personal phone number (not 14 xxxx, 0800, 0900)
	Email   Kind = "EMAIL"    // e-mail address
	Address Kind = "ADRES"    // postcode + huisnummer, or street + huisnummer
)

// Placeholder returns the text that replaces data of kind k, e.g. "[BSN]".
func (k Kind) Placeholder() string {
	if p, ok := placeholders[k]; ok {
		return p
	}
	return "[" + string(k) + "]"
}

// Finding is one piece of personal data: Start and End are byte offsets in
// the scrubbed input, End exclusive.
type Finding struct {
	Kind  Kind
	Start int
	End   int
}

// Scrub replaces personal data in text by placeholders ([BSN], [IBAN],
// [TELEFOON], [EMAIL], [ADRES]) and returns the scrubbed text with the
// findings, ordered by Start. Overlapping findings are merged into one that
// takes the kind of its longest part, so every byte of a found item is
// replaced and none of its digits survive. Numbers that fail their checksum
// (elfproef, mod-97), public service numbers (14 + netnummer, 0800, 0900),
// years, amounts and bare postcodes are left alone. Scrub is safe for
// concurrent use and never fails; text without findings is returned as is.
func Scrub(text string) (string, []Finding) {
	fs := Find(text)
	if len(fs) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, f := range fs {
		b.WriteString(text[prev:f.Start])
		b.WriteString(f.Kind.Placeholder())
		prev = f.End
	}
	b.WriteString(text[prev:])
	return b.String(), fs
}

// Find returns the personal data in text as Scrub would replace it, merged
// and ordered by Start, without building the scrubbed text.
func Find(text string) []Finding {
	if !strings.ContainsAny(text, "0123456789@") {
		return nil // every kind needs a digit, except e-mail which needs an @
	}
	var fs []Finding
	fs = findEmails(text, fs)
	fs = findIBANs(text, fs)
	fs = findBSNs(text, fs)
	fs = findPhones(text, fs)
	fs = findAddresses(text, fs)
	return merge(fs)
}

// merge sorts findings and joins overlapping ones; the joined finding takes
// the kind of its longest part.
func merge(fs []Finding) []Finding {
	if len(fs) < 2 {
		return fs
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		return fs[i].End > fs[j].End
	})
	out := fs[:1]
	longest := fs[0].End - fs[0].Start
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.Start >= last.End {
			out = append(out, f)
			longest = f.End - f.Start
			continue
		}
		if n := f.End - f.Start; n > longest {
			last.Kind, longest = f.Kind, n
		}
		last.End = max(last.End, f.End)
	}
	return out
}

// findEmails reports local@domain.tld around every '@': a local part of
// letters (accented too), digits and ._%+'- and a dotted domain whose last
// label has at least two ASCII letters.
func findEmails(s string, fs []Finding) []Finding {
	for at := strings.IndexByte(s, '@'); at >= 0; {
		b := at
		for b > 0 && (isAlnum(s[b-1]) || s[b-1] >= 0x80 || strings.IndexByte("._%+'-", s[b-1]) >= 0) {
			b--
		}
		e := at + 1
		for e < len(s) && (isAlnum(s[e]) || s[e] >= 0x80 || s[e] == '.' || s[e] == '-') {
			e++
		}
		for e > at+1 && (s[e-1] == '.' || s[e-1] == '-') {
			e-- // a sentence may end right after the address
		}
		dom := s[at+1 : e]
		dot := strings.LastIndexByte(dom, '.')
		if b < at && dot > 0 && len(dom)-dot > 2 && allLetters(dom[dot+1:]) && !strings.Contains(dom, "..") {
			fs = append(fs, Finding{Email, b, e})
		}
		next := strings.IndexByte(s[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return fs
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z'
}

// --- BSN ---

// digitGroup is a run of digits in a chain like "123 456 782"; sep is the
// byte that joins it to the previous group (0 for the first).
type digitGroup struct {
	start, end int
	sep        byte
}

// findBSNs scans chains of digit groups joined by single spaces, dots or
// dashes and reports 9-digit stretches (or a bare 8-digit number, padded
// with a leading zero) that pass the elfproef.
func findBSNs(s string, fs []Finding) []Finding {
	var chain []digitGroup
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && (isAlnum(s[i-1]) || s[i-1] == '+')) {
			i++
			continue
		}
		chain = chain[:0]
		var sep byte
		for {
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			chain = append(chain, digitGroup{i, j, sep})
			if j+1 < len(s) && (s[j] == ' ' || s[j] == '.' || s[j] == '-') && isDigit(s[j+1]) {
				sep, i = s[j], j+1
				continue
			}
			i = j
			break
		}
		if i < len(s) && isAlnum(s[i]) {
			// glued to a letter: a code like "123456782ab", not a BSN
			i++
			continue
		}
		fs = bsnInChain(s, chain, fs)
	}
	return fs
}

func bsnInChain(s string, chain []digitGroup, fs []Finding) []Finding {
	if f, ok := bsnSpan(s, chain); ok {
		return append(fs, f)
	}
	// A longer chain may hold a BSN next to other numbers ("bsn 123 456 782
	// 12 keer"); only spaces are weak enough joins to split on.
	for i := range chain {
		if i > 0 && chain[i].sep != ' ' {
			continue
		}
		for j := i; j < len(chain); j++ {
			if i == 0 && j == len(chain)-1 {
				continue
			}
			if j+1 < len(chain) && chain[j+1].sep != ' ' {
				continue
			}
			if f, ok := bsnSpan(s, chain[i:j+1]); ok {
				fs = append(fs, f)
				break
			}
		}
	}
	return fs
}

func bsnSpan(s string, groups []digitGroup) (Finding, bool) {
	var d [9]byte
	n := 0
	for k, g := range groups {
		l := g.end - g.start
		if len(groups) > 1 && (l < 2 || l > 4 || (k > 1 && g.sep != groups[1].sep)) {
			return Finding{}, false
		}
		if n+l > 9 {
			return Finding{}, false
		}
		copy(d[n:], s[g.start:g.end])
		n += l
	}
	switch {
	case n == 8 && len(groups) == 1:
		copy(d[1:], d[:8])
		d[0] = '0'
	case n != 9:
		return Finding{}, false
	}
	if !elfproef(d) {
		return Finding{}, false
	}
	return Finding{BSN, groups[0].start, groups[len(groups)-1].end}, true
}

// elfproef reports whether the nine ASCII digits pass the BSN check:
// 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11, and not all are zero.
func elfproef(d [9]byte) bool {
	sum, zero := 0, true
	for i, c := range d {
		v := int(c - '0')
		if v != 0 {
			zero = false
		}
		if i == 8 {
			sum -= v
		} else {
			sum += (9 - i) * v
		}
	}
	return !zero && sum%11 == 0
}

// --- IBAN ---

// ibanRE is tried only where a word starts with two letters and two
// digits, so it is anchored.
var ibanRE = regexp.MustCompile(`^[a-zA-Z]{2}\d{2}(?: ?[a-zA-Z0-9]{4}){2,7}(?: ?[a-zA-Z0-9]{1,4})?\b`)

// ibanLengths holds the IBAN length of countries residents are likely to
// mention; other country codes are accepted with any length from 15 to 34.
var ibanLengths = map[string]int{
	"AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
	"DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27,
	"HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}

func findIBANs(s string, fs []Finding) []Finding {
	for i := 0; i+15 <= len(s); i++ {
		if !isLetter(s[i]) || !isLetter(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		m := ibanRE.FindStringIndex(s[i:])
		if m == nil {
			continue
		}
		// The pattern may run on into following words ("BE68 5390 0754
		// 7034 voor de"); drop trailing groups until the checksum holds.
		end := i + m[1]
		for end-i >= 15 {
			if validIBAN(s[i:end]) {
				fs = append(fs, Finding{IBAN, i, end})
				i = end - 1
				break
			}
			sp := strings.LastIndexByte(s[i:end], ' ')
			if sp < 0 {
				break
			}
			end = i + sp
		}
	}
	return fs
}

// validIBAN checks the length and the mod-97 checksum of an IBAN that may
// contain single spaces.
func validIBAN(raw string) bool {
	var buf [34]byte
	n := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == ' ' {
			continue
		}
		if n == len(buf) {
			return false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	if n < 15 {
		return false
	}
	if want, ok := ibanLengths[string(buf[:2])]; ok && n != want {
		return false
	}
	rem := 0
	for i := range n {
		c := buf[(i+4)%n]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// --- phone ---

// findPhones scans for Dutch phone numbers (06-12345678, 020 123 4567,
// +31 (0)6 1234 5678, 0031 ...) and other international ones written with
// a plus. Numbers must start at a word boundary and end where the digits do.
func findPhones(s string, fs []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '+' && c != '(' && c != '0' {
			continue
		}
		if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '+' || s[i-1] == '(') {
			continue
		}
		if end, ok := phoneAt(s, i); ok {
			fs = append(fs, Finding{Phone, i, end})
			i = end - 1
		}
	}
	return fs
}

// phoneAt parses a phone number starting at s[i] and returns its end.
func phoneAt(s string, i int) (int, bool) {
	j := i
	national := make([]byte, 0, 16)
	switch {
	case strings.HasPrefix(s[j:], "+31") || strings.HasPrefix(s[j:], "0031"):
		if s[j] == '+' {
			j += 3
		} else {
			j += 4
		}
		j = skipSep(s, j)
		if strings.HasPrefix(s[j:], "(0)") {
			j = skipSep(s, j+3)
		}
		national = append(national, '0')
	case s[j] == '+':
		// another country: E.164 allows up to 15 digits after the plus
		j = skipSep(s, j+1)
		end, n := collectDigits(s, j, 15, &national)
		if n < 8 || n > 15 || (end < len(s) && isDigit(s[end])) {
			return 0, false
		}
		return end, true
	case strings.HasPrefix(s[j:], "(0)"):
		national = append(national, '0')
		j = skipSep(s, j+3)
	}
	end, _ := collectDigits(s, j, 10, &national)
	if len(national) != 10 || national[0] != '0' || national[1] == '0' {
		return 0, false
	}
	if end < len(s) && (isAlnum(s[end])) {
		return 0, false
	}
	switch string(national[:4]) {
	case "0800", "0900", "0906", "0909":
		return 0, false // free or paid service numbers are public, not personal
	}
	return end, true
}

func skipSep(s string, j int) int {
	if j < len(s) && (s[j] == ' ' || s[j] == '-' || s[j] == '.') {
		return j + 1
	}
	return j
}

// collectDigits appends digits from s[j:] to *dst until it holds want
// digits, allowing a short separator between groups (" ", "-", " - ",
// ". ") and one pair of parentheses round the area code. It returns the
// end of the last digit taken and how many digits were taken; at most six
// groups.
func collectDigits(s string, j, want int, dst *[]byte) (end, n int) {
	groups, open := 0, false
	if j < len(s) && s[j] == '(' {
		open = true
		j++
	}
	end = j
	for j < len(s) && len(*dst) < want {
		if !isDigit(s[j]) {
			return end, n
		}
		groups++
		if groups > 6 {
			return end, n
		}
		for j < len(s) && isDigit(s[j]) && len(*dst) < want {
			*dst = append(*dst, s[j])
			n++
			j++
		}
		end = j
		if j < len(s) && s[j] == ')' && open {
			open = false
			j++
			if j < len(s) && (s[j] == ' ' || s[j] == '-') {
				j++
			}
			continue
		}
		if k := sepRun(s, j); k > j && k < len(s) && isDigit(s[k]) {
			j = k
		}
	}
	return end, n
}

// sepRun returns the end of a separator between digit groups at s[j:]:
// spaces around at most one dash, dot or slash, three bytes at most.
func sepRun(s string, j int) int {
	k, mark := j, false
	for k < len(s) && k-j < 3 {
		switch s[k] {
		case ' ':
		case '-', '.', '/':
			if mark {
				return k
			}
			mark = true
		default:
			return k
		}
		k++
	}
	return k
}

// --- address ---

// streetSuffixes end Dutch street names: "Kerkstraat", "Dorpsweg".
var streetSuffixes = []string{"straat", "laan", "weg", "plein", "gracht", "kade", "dijk", "singel",
	"hof", "pad", "steeg", "dreef", "plantsoen", "markt", "wal", "haven", "veld", "boulevard",
	"allee", "kamp", "park", "baan", "erf", "brink", "hoeve", "akker", "oord", "zoom"}

// postcodeWords are Dutch two-letter words that make "2024 de 12" or
// "1500 en 12" look like a postcode when written in lower case with a space.
var postcodeWords = map[string]bool{
	"aa": true, "af": true, "al": true, "an": true, "as": true, "bv": true,
	"da": true, "de": true, "di": true, "do": true, "en": true, "er": true,
	"ga": true, "ik": true, "in": true, "is": true, "ja": true, "je": true,
	"ma": true, "na": true, "nl": true, "nu": true, "of": true, "om": true,
	"on": true, "op": true, "pa": true, "te": true, "to": true, "uw": true,
	"vr": true, "wo": true, "za": true, "zo": true, "ze": true, "we": true,
	"at": true, "it": true, "or": true, "by": true, "no": true, "so": true,
	"up": true, "ca": true, "km": true, "cm": true, "mm": true, "kg": true,
	"eu": true, "et": true, "pm": true, "am": true, "ct": true, "st": true,
}

// unitWords after a number mean the number is a quantity, not a house
// number: "loopbaan 12 jaar", "stadspark 3 keer".
var unitWords = map[string]bool{
	"jaar": true, "jaren": true, "keer": true, "euro": true, "uur": true,
	"dag": true, "dagen": true, "week": true, "weken": true, "maand": true,
	"maanden": true, "minuten": true, "minuut": true, "procent": true,
	"km": true, "meter": true, "m": true, "m2": true, "cm": true, "kg": true,
	"stuks": true, "mensen": true, "personen": true, "kinderen": true,
	"woningen": true, "huizen": true, "auto's": true, "seconden": true,
}

// houseNumberPrefixes may stand between a postcode and its number.
var houseNumberPrefixes = []string{"huisnummer", "huisnr", "nummer", "nr", "no"}

// findAddresses reports a postcode followed by a house number ("1234 AB
// 12", "1234ab, nr. 7") and a street name followed by a house number and
// an optional postcode ("Kerkstraat 12, 1234 AB"). It is a hand-written
// scan from each digit run, which keeps it linear and cheap.
func findAddresses(s string, fs []Finding) []Finding {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if i > 0 && isAlnum(s[i-1]) {
			i = j
			continue
		}
		if end, ok := postcodeWithNumber(s, i, j); ok {
			fs = append(fs, Finding{Address, i, end})
		}
		if start, ok := streetBefore(s, i); ok && j-i <= 5 {
			end := numberSuffix(s, j)
			if e, ok := postcodeAt(s, skipCommaSpace(s, end)); ok && skipCommaSpace(s, end) > end {
				end = e
			} else if j-i == 4 && (s[i:i+2] == "19" || s[i:i+2] == "20") && end == j {
				i = j
				continue // "woningmarkt 2024" is a year
			}
			if end < len(s) && isAlnum(s[end]) || isUnit(s, end) {
				i = j
				continue
			}
			fs = append(fs, Finding{Address, start, end})
		}
		i = j
	}
	return fs
}

// postcodeAt parses a postcode ("1234 AB", "1234ab") at s[i:] and returns
// its end. Lower-case letters after a space must not be a common word.
func postcodeAt(s string, i int) (int, bool) {
	if i+6 > len(s) || s[i] < '1' || s[i] > '9' || (i > 0 && isAlnum(s[i-1])) {
		return 0, false
	}
	for k := i + 1; k < i+4; k++ {
		if !isDigit(s[k]) {
			return 0, false
		}
	}
	j := i + 4
	spaced := s[j] == ' '
	if spaced {
		j++
	}
	if j+2 > len(s) || !isLetter(s[j]) || !isLetter(s[j+1]) || (j+2 < len(s) && isAlnum(s[j+2])) {
		return 0, false
	}
	letters := s[j : j+2]
	upper := s[j] <= 'Z' && s[j+1] <= 'Z'
	if spaced && !upper && postcodeWords[strings.ToLower(letters)] {
		return 0, false
	}
	return j + 2, true
}

// postcodeWithNumber parses "postcode [,] [nr.] number[toevoeging]" whose
// digits are s[i:j].
func postcodeWithNumber(s string, i, j int) (int, bool) {
	if j-i != 4 {
		return 0, false
	}
	pe, ok := postcodeAt(s, i)
	if !ok {
		return 0, false
	}
	k := skipCommaSpace(s, pe)
	if k == pe {
		return 0, false
	}
	for _, p := range houseNumberPrefixes {
		if len(s)-k > len(p) && strings.EqualFold(s[k:k+len(p)], p) && !isLetter(s[k+len(p)]) {
			k += len(p)
			if k < len(s) && s[k] == '.' {
				k++
			}
			if k < len(s) && s[k] == ' ' {
				k++
			}
			break
		}
	}
	n := k
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n == k || n-k > 5 {
		return 0, false
	}
	end := numberSuffix(s, n)
	if end < len(s) && isAlnum(s[end]) || isUnit(s, end) {
		return 0, false
	}
	return end, true
}

// numberSuffix extends a house number ending at j with a toevoeging:
// "12a", "12-b", "12-3".
func numberSuffix(s string, j int) int {
	k := j
	if k < len(s) && s[k] == '-' {
		k++
		n := k
		for n < len(s) && isDigit(s[n]) && n-k < 4 {
			n++
		}
		if n > k && (n == len(s) || !isAlnum(s[n])) {
			return n
		}
	}
	n := k
	for n < len(s) && isLetter(s[n]) && n-k < 3 {
		n++
	}
	if n > k && n-k <= 2 && (n == len(s) || !isAlnum(s[n])) {
		return n
	}
	return j
}

// streetBefore reports whether the digits at s[i] follow a street name
// ("Kerkstraat 12", "Dorpsweg. 5") and returns the start of that name.
func streetBefore(s string, i int) (int, bool) {
	e := i - 1
	if e < 1 || s[e] != ' ' {
		return 0, false
	}
	if s[e-1] == '.' {
		e--
	}
	b := e
	for b > 0 && (isLetter(s[b-1]) || s[b-1] >= 0x80 || s[b-1] == '\'' || s[b-1] == '-') {
		b--
	}
	w := s[b:e]
	for _, suf := range streetSuffixes {
		if len(w) > len(suf) && strings.EqualFold(w[len(w)-len(suf):], suf) {
			return b, true
		}
	}
	return 0, false
}

func skipCommaSpace(s string, j int) int {
	k := j
	for k < len(s) && k-j < 3 && (s[k] == ' ' || s[k] == ',') {
		k++
	}
	return k
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isUnit reports whether the word after s[end:] is a unit of measure.
func isUnit(s string, end int) bool {
	rest := strings.TrimLeft(s[end:], " ")
	if len(rest) == len(s[end:]) {
		return false
	}
	w := rest
	if k := strings.IndexAny(rest, " ,.?!;:\n"); k >= 0 {
		w = rest[:k]
	}
	return unitWords[strings.ToLower(w)]
}
