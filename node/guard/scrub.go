package guard

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names a type of personal data.
type Kind string

// The kinds of personal data Scrub removes. The value is the placeholder's
// name without brackets.
const (
	BSN       Kind = "BSN"           // burgerservicenummer that passes the elfproef
	IBAN      Kind = "IBAN"          // bank account number that passes mod-97, or any NL IBAN shape
	Phone     Kind = "TELEFOON"      // personal phone number (not 14 xxxx, 0800, 0900)
	Email     Kind = "EMAIL"         // e-mail address
	Address   Kind = "ADRES"         // postcode + huisnummer, or street + huisnummer
	Name      Kind = "NAAM"          // a name after "mijn naam is", "ik heet", "my name is"
	BirthDate Kind = "GEBOORTEDATUM" // a date after "geboren op", "geboortedatum", "born on"
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
// [TELEFOON], [EMAIL], [ADRES], [NAAM], [GEBOORTEDATUM]) and returns the
// scrubbed text with the findings, ordered by Start. Overlapping findings
// are merged into one that takes the kind of its longest part, so every
// byte of a found item is replaced and none of its digits survive. Numbers
// that fail their checksum (elfproef, mod-97; but every Dutch IBAN shape is
// personal data), public service numbers (14 + netnummer, 0800, 0900),
// years, amounts and bare postcodes are left alone. Names and dates of
// birth are found only where a cue word introduces them ("mijn naam is",
// "ik heet", "geboren op", "geboortedatum", "my name is", "born on"): a
// name or a date without one cannot be told from any other word or date.
// Scrub is safe for concurrent use and never fails; text without findings
// is returned as is.
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
	digits := strings.ContainsAny(text, "0123456789@")
	names := hasNameCue(text)
	if !digits && !names {
		return nil // every kind needs a digit, except e-mail (an @) and a name (its cue)
	}
	var fs []Finding
	if digits {
		fs = findEmails(text, fs)
		fs = findIBANs(text, fs)
		fs = findBSNs(text, fs)
		fs = findPhones(text, fs)
		fs = findAddresses(text, fs)
		fs = findBirthDates(text, fs)
	}
	if names {
		fs = findNames(text, fs)
	}
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
		if i > 0 && isAlnum(s[i-1]) {
			continue
		}
		if end, ok := nlIBANShape(s, i); ok {
			// A Dutch account number with a typo is still the resident's
			// (or nearly so): its shape alone makes it personal data.
			fs = append(fs, Finding{IBAN, i, end})
			i = end - 1
			continue
		}
		if !isLetter(s[i]) || !isLetter(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
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

// nlIBANShape reports whether s[i:] starts with the shape of a Dutch IBAN,
// "NL" + 2 digits + 4 letters + 10 digits in any case, with single spaces
// allowed between any of its characters ("NL91 ABNA 0417 1643 00"), and
// returns its end. The shape must end at a word boundary; the checksum is
// not looked at.
func nlIBANShape(s string, i int) (int, bool) {
	if i+18 > len(s) || s[i]|0x20 != 'n' || s[i+1]|0x20 != 'l' {
		return 0, false
	}
	j := i + 2
	for k := range 16 {
		if j+1 < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) {
			return 0, false
		}
		switch c := s[j]; {
		case k < 2 || k >= 6:
			if !isDigit(c) {
				return 0, false
			}
		default:
			if !isLetter(c) {
				return 0, false
			}
		}
		j++
	}
	if j < len(s) && isAlnum(s[j]) {
		return 0, false
	}
	return j, true
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

// --- names and dates of birth ---

// nameCueRE finds the words that introduce a resident's own name. Only
// these are looked at: a name without a cue cannot be told from any other
// capitalised word.
var nameCueRE = regexp.MustCompile(`(?i)\b(?:(?:mijn|m'n|my)\s+(?:naam|name)\s*(?:is\b|:|=)|(?:ik|wij|we)\s+he(?:et|ten)\b|i\s+am\s+called\b|(?:ik\s+ben|i\s+am)\s+genaamd\b)[ \t]*`)

// nameCueWords are the lower-case words hasNameCue looks for before the
// regular expression runs.
var nameCueWords = []string{"naam", "name", "heet", "heten", "called", "genaamd"}

// hasNameCue reports cheaply whether text may hold a name cue or a date of
// birth cue, so that text without one skips the regular expressions.
func hasNameCue(text string) bool {
	for _, w := range nameCueWords {
		if containsFold(text, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 != w[0] {
			continue
		}
		k := 1
		for k < len(w) && s[i+k]|0x20 == w[k] {
			k++
		}
		if k == len(w) {
			return true
		}
	}
	return false
}

// tussenvoegsels are the lower-case particles inside Dutch (and some other)
// surnames: "van der Berg", "de Vries", "in 't Veld". One belongs to a name
// only when a name word follows it.
var tussenvoegsels = map[string]bool{
	"van": true, "de": true, "der": true, "den": true, "het": true, "'t": true,
	"ter": true, "ten": true, "te": true, "in": true, "op": true, "la": true,
	"le": true, "du": true, "da": true, "di": true, "von": true, "vd": true,
	"el": true, "al": true, "bin": true, "ben": true, "dos": true, "del": true,
}

// notNameWords are words that follow a name cue without being a name
// ("mijn naam is veranderd", "ik heet u welkom") or that end one ("ik heet
// Jan en ik wil ..."): function words, common verbs and the words for a
// name's state, in Dutch and English.
var notNameWords = map[string]bool{
	// Dutch function words.
	"en": true, "of": true, "maar": true, "want": true, "dus": true, "als": true, "dat": true,
	"die": true, "wat": true, "hoe": true, "waar": true, "wanneer": true, "waarom": true,
	"wie": true, "welke": true, "ik": true, "je": true, "jij": true, "u": true, "hij": true,
	"zij": true, "ze": true, "wij": true, "we": true, "mijn": true, "m'n": true, "uw": true,
	"een": true, "niet": true, "geen": true, "nog": true, "ook": true, "al": true, "wel": true,
	"toch": true, "dan": true, "daar": true, "hier": true, "er": true, "nu": true, "sinds": true,
	"na": true, "door": true, "voor": true, "bij": true, "met": true, "aan": true, "uit": true,
	"om": true, "tot": true, "per": true, "zo": true, "erg": true, "heel": true, "zeer": true,
	"graag": true, "hallo": true, "dag": true, "goedemorgen": true, "goedemiddag": true,
	"goedenavond": true, "bedankt": true, "dank": true,
	// Dutch verbs that follow a name.
	"is": true, "ben": true, "bent": true, "was": true, "wil": true, "wilde": true, "heb": true,
	"hebben": true, "heeft": true, "had": true, "woon": true, "woont": true, "wonen": true,
	"kan": true, "kunnen": true, "moet": true, "moeten": true, "mag": true, "zou": true,
	"ga": true, "gaat": true, "ging": true, "kom": true, "kwam": true, "vraag": true,
	"vroeg": true, "zoek": true, "zie": true, "weet": true, "word": true, "wordt": true,
	"werd": true, "sta": true, "staat": true, "stond": true,
	// A name's state ("mijn naam is veranderd").
	"veranderd": true, "gewijzigd": true, "aangepast": true, "verkeerd": true, "fout": true,
	"onjuist": true, "juist": true, "goed": true, "anders": true, "bekend": true,
	"onbekend": true, "gespeld": true, "geschreven": true, "geregistreerd": true,
	"ingeschreven": true, "vermeld": true, "opgenomen": true, "hetzelfde": true,
	"dezelfde": true, "lang": true, "kort": true, "dubbel": true, "nieuw": true, "oud": true,
	"welkom": true, "zoals": true, "volgens": true, "officieel": true,
	// English.
	"and": true, "or": true, "but": true, "so": true, "i": true, "am": true, "my": true,
	"the": true, "a": true, "an": true, "not": true, "still": true, "also": true, "now": true,
	"how": true, "what": true, "when": true, "where": true, "why": true, "who": true,
	"need": true, "live": true, "have": true, "would": true,
	"could": true, "can": true, "will": true, "changed": true, "wrong": true, "spelled": true,
	"misspelled": true, "registered": true, "listed": true, "different": true, "hello": true,
	"hi": true, "thanks": true,
}

// maxNameWords bounds the words of one name, tussenvoegsels included.
const maxNameWords = 6

// findNames reports the name after each name cue: the words up to
// punctuation, a word that is no name (notNameWords), an abbreviation in
// capitals ("BRP") or a placeholder. Initials ("J.P.") and tussenvoegsels
// are part of it; a tussenvoegsel counts only before a name word.
func findNames(s string, fs []Finding) []Finding {
	for _, m := range nameCueRE.FindAllStringIndex(s, -1) {
		if end, ok := nameAt(s, m[1]); ok {
			fs = append(fs, Finding{Name, m[1], end})
		}
	}
	return fs
}

// nameAt returns the end of the name that starts at s[i].
func nameAt(s string, i int) (int, bool) {
	end, words := i, 0
	for j := i; words < maxNameWords; {
		w, next := nameWord(s, j)
		if w == "" {
			break
		}
		lw := strings.ToLower(strings.TrimSuffix(w, "."))
		switch {
		case isInitial(w):
			end = next
		case tussenvoegsels[lw]:
			// Part of the name only if a name word follows.
		case notNameWords[lw] || isAcronym(w):
			return end, end > i
		default:
			end = next
		}
		words++
		if next >= len(s) || s[next] != ' ' {
			break
		}
		j = next + 1
	}
	return end, end > i
}

// nameWord returns the word at s[j:] and its end: letters (any script),
// apostrophes and hyphens, plus the dot of an initial ("J.", "J.P.").
// A word glued to other punctuation ends there.
func nameWord(s string, j int) (string, int) {
	k := j
	for k < len(s) {
		r, n := utf8.DecodeRuneInString(s[k:])
		if unicode.IsLetter(r) || ((r == '\'' || r == '-' || r == '’') && k > j) || (r == '\'' && k == j) {
			k += n
			continue
		}
		if r == '.' && k > j && isInitialBody(s[j:k]) {
			k += n
			continue
		}
		break
	}
	if k == j {
		return "", j
	}
	w := strings.TrimRight(s[j:k], "-'’")
	return w, j + len(w)
}

// isInitialBody reports whether w is a run of initials so far: "J" or
// "J.P".
func isInitialBody(w string) bool {
	for _, part := range strings.Split(w, ".") {
		r, n := utf8.DecodeRuneInString(part)
		if n != len(part) || !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// isInitial reports whether w is one or more initials with dots ("J.").
func isInitial(w string) bool {
	return strings.HasSuffix(w, ".") && isInitialBody(strings.TrimSuffix(w, "."))
}

// isAcronym reports whether w is an abbreviation in capitals ("BRP",
// "DigiD" is not): two or more letters, no lower case.
func isAcronym(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

// Months in Dutch and English, full and abbreviated, for dates of birth
// written in words.
const monthNames = `januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|` +
	`january|february|march|may|june|july|august|october|` +
	`jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec`

// dateExpr matches a calendar date: 12-03-1985, 12/3/85, 12.03.1985,
// 1985-03-12, 12 maart 1985, 3 jan. 1990, 5th of March 1979, March 5,
// 1979.
const dateExpr = `(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|` +
	`\d{1,2}(?:e|ste|de|st|nd|rd|th)?\s+(?:of\s+)?(?:` + monthNames + `)\.?(?:,?\s+\d{4})?|` +
	`(?:` + monthNames + `)\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?)`

// birthDateRE finds a date with the words that say it is a date of birth,
// before it ("geboren op", "geboortedatum:", "born on", "date of birth")
// or after it ("op 1 mei 2001 geboren"). Group 1 or 2 is the date.
var birthDateRE = regexp.MustCompile(`(?i)\b(?:geboren(?:\s+(?:op|den))?|geboortedatum(?:\s+is)?|geb\.|born(?:\s+on)?|date\s+of\s+birth(?:\s+is)?|birth\s?date(?:\s+is)?|d\.o\.b\.?|dob)\s*[:=]?\s*(?:the\s+)?(` +
	dateExpr + `)\b|\b(` + dateExpr + `)\s+(?:(?:ben|bent|is|was|werd)\s+)?geboren\b`)

// birthCueWords are the lower-case words hasBirthCue looks for.
var birthCueWords = []string{"geb", "born", "birth", "dob", "d.o.b"}

// findBirthDates reports dates of birth: dates next to a word that says
// so. Other dates (an appointment, an election) are left alone.
func findBirthDates(s string, fs []Finding) []Finding {
	cue := false
	for _, w := range birthCueWords {
		if containsFold(s, w) {
			cue = true
			break
		}
	}
	if !cue {
		return fs
	}
	for _, m := range birthDateRE.FindAllStringSubmatchIndex(s, -1) {
		switch {
		case m[2] >= 0:
			fs = append(fs, Finding{BirthDate, m[2], m[3]})
		case m[4] >= 0:
			fs = append(fs, Finding{BirthDate, m[4], m[5]})
		}
	}
	return fs
}
