// Package guard inspects a resident's question before anything else sees
// it: Scrub replaces personal data (BSN, IBAN, phone, e-mail, address, and
// a name or date of birth after a cue word) by placeholders, and Check also
// recognises prompt injection and requests for a human.
//
// The rules are deliberately plain: regular expressions over a normalised
// text (see Normalise), behind cheap substring prefilters, plus a few
// decoders (base64, rot13, reversed text, letter-spaced text, Unicode tag
// characters) so that encoded attacks meet the same rules. They aim at the
// usual attack families, in Dutch and English, not at a list of known
// texts; a question that slips through still meets the answer pipeline's
// own defences (passages-only answers, output checks).
//
// Everything here is pure and safe for concurrent use; the rule tables are
// package-level values that are never modified.
package guard

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reason names the family of an injection attempt.
type Reason string

// The injection families Check recognises.
const (
	ReasonOverride         Reason = "override"          // "negeer alle vorige instructies"
	ReasonPersona          Reason = "persona"           // "je bent nu ...", "doe alsof je ..."
	ReasonJailbreak        Reason = "jailbreak"         // "developer mode", "DAN", "jailbreak"
	ReasonRoleMarker       Reason = "role-marker"       // "system:", "<|im_start|>", "[INST]"
	ReasonJSONRole         Reason = "json-role"         // {"role":"system", ...}
	ReasonPromptExtraction Reason = "prompt-extraction" // "wat zijn je instructies"
	ReasonEncoded          Reason = "encoded"           // base64, rot13, reversed, hidden characters
)

// Verdict is what Check concludes about one question.
type Verdict struct {
	// Injection reports an attempt to steer the assistant away from its
	// instructions, to adopt a role, or to reveal its prompt.
	Injection bool
	// Reason is the family of the first rule that fired; empty when
	// Injection is false.
	Reason Reason
	// Rule names the rule that fired, for logs and metrics, e.g.
	// "override" or, when it fired on decoded text, "base64:override",
	// "rot13:…", "reversed:…", "spaced:…". "base64-text" and
	// "unicode-tags" mark encoded content that matched no other rule.
	Rule string
	// WantsHuman reports an explicit request to talk to, be called by or be
	// connected to a person. Questions about how to contact the gemeente
	// ("hoe bel ik de gemeente?") are not: they are answered from sources.
	WantsHuman bool
	// HumanRule names the handoff rule that fired.
	HumanRule string
	// PII holds the personal data found, as byte offsets in the original
	// question (see Scrub).
	PII []Finding
	// Scrubbed is the question with personal data replaced: the only form
	// that may be logged, stored, or sent to a model or a peer.
	Scrubbed string
	// Normalised is Normalise(Scrubbed), the text the rules read. It holds
	// no personal data either.
	Normalised string
	// Readings are decoded forms of the question (see Reading), for the
	// policy classifier. They hold no personal data.
	Readings []Reading
}

// Exact reports whether the injection verdict rests on an exact sign (a
// chat-template role marker, a JSON system message, an encoded payload)
// rather than on the wording of a request, which the policy classifier
// reads instead when it decides.
func (v Verdict) Exact() bool {
	switch v.Reason {
	case ReasonRoleMarker, ReasonJSONRole, ReasonEncoded:
		return true
	}
	return false
}

// Check scrubs the question, then looks for injection and for a request
// for a human in the scrubbed, normalised text and in decoded forms of it.
// It never fails and is safe for concurrent use.
func Check(question string) Verdict {
	scrubbed, pii := Scrub(question)
	folded := fold(scrubbed)
	t, sawOne := foldLeet(folded, 'i')
	v := Verdict{PII: pii, Scrubbed: scrubbed, Normalised: t}

	v.Readings = readings(scrubbed, folded, t, sawOne)
	x := newIndexed(t)
	if r := firstRule(injectionRules, x, scrubbed, false); r != nil {
		v.Injection, v.Reason, v.Rule = true, r.reason, r.name
	} else if r, via := injectionVariants(t, v.Readings); r != "" {
		v.Injection, v.Reason, v.Rule = true, via, r
	} else if hasTags(question) {
		v.Injection, v.Reason, v.Rule = true, ReasonEncoded, "unicode-tags"
	}
	if r := firstRule(humanRules, x, scrubbed, false); r != nil {
		v.WantsHuman, v.HumanRule = true, r.name
	}
	return v
}

// Reading is another way to read a question: decoded, or with its
// letter-spacing removed.
type Reading struct {
	How  string // "leet-l", "spaced", "rot13", "reversed" or "base64"
	Text string // normalised
}

// readings returns the decoded readings of a scrubbed question: '1' read as
// 'l', letter-spaced or dotted words joined, rot13, reversed, and every
// base64 token decoded.
func readings(scrubbed, folded, t string, sawOne bool) []Reading {
	var out []Reading
	if sawOne {
		tl, _ := foldLeet(folded, 'l')
		out = append(out, Reading{"leet-l", tl})
	}
	if obfuscated(t) {
		out = append(out, Reading{"spaced", Normalise(unspace(scrubbed))})
	}
	out = append(out, Reading{"rot13", rot13(t)}, Reading{"reversed", reverse(t)})
	for _, tok := range base64Tokens(scrubbed) {
		if dec, ok := decodeBase64(tok); ok {
			d, _ := normalise(dec)
			out = append(out, Reading{"base64", d})
		}
	}
	return out
}

// unspace joins letter-spaced words ("n e g e e r  a l l e" → "negeer
// alle", where two spaces part words) and words broken by dots, dashes,
// underscores, stars, bars or slashes ("i.g.n.o.r.e" → "ignore").
func unspace(s string) string {
	var b strings.Builder
	run := false // inside a run of single letters
	for i, tok := range strings.Split(s, " ") {
		if tok == "" {
			// Two spaces in a row: a word boundary inside a spaced run.
			if run {
				b.WriteByte(' ')
				run = false
			}
			continue
		}
		if j := strings.Trim(tok, ".-_*|/"); len(j) > 2 && brokenWord(j) {
			tok = strings.Map(func(r rune) rune {
				if strings.ContainsRune(".-_*|/", r) {
					return -1
				}
				return r
			}, j)
		}
		single := utf8.RuneCountInString(tok) == 1
		switch {
		case single && run:
			b.WriteString(tok)
		case i > 0:
			b.WriteByte(' ')
			b.WriteString(tok)
		default:
			b.WriteString(tok)
		}
		run = single
	}
	return b.String()
}

// brokenWord reports whether tok is single letters joined by one kind of
// separator: "i.g.n.o.r.e", "j-a-i-l".
func brokenWord(tok string) bool {
	r := []rune(tok)
	if len(r) < 3 || len(r)%2 == 0 {
		return false
	}
	for i, c := range r {
		if i%2 == 0 && !unicode.IsLetter(c) || i%2 == 1 && !strings.ContainsRune(".-_*|/", c) {
			return false
		}
	}
	return true
}

// firstRule returns the first rule in rules that fires on t, or nil.
// Decoded variants skip raw rules.
func firstRule(rules []*rule, x *indexed, raw string, decoded bool) *rule {
	for _, r := range rules {
		if decoded && r.raw {
			continue
		}
		if r.match(x, raw) {
			return r
		}
	}
	return nil
}

// injectionVariants tries the rules on other readings of the text: '1' as
// 'l', letters only, rot13, reversed, and base64 tokens decoded. It returns
// the rule name (prefixed with the decoding) and the reason, or "".
func injectionVariants(t string, rs []Reading) (string, Reason) {
	// The rules see the readings in this order: '1' as 'l', the letters
	// alone (compactHit), rot13, reversed, then each base64 token.
	fire := func(how string) *rule {
		for _, r := range rs {
			if r.How == how {
				if rule := firstRule(injectionRules, newIndexed(r.Text), r.Text, true); rule != nil {
					return rule
				}
			}
		}
		return nil
	}
	if r := fire("leet-l"); r != nil {
		return r.name, r.reason
	}
	if kw := compactHit(t); kw != "" {
		return "spaced:" + kw, ReasonEncoded
	}
	for _, how := range []string{"rot13", "reversed"} {
		if r := fire(how); r != nil {
			return how + ":" + r.name, ReasonEncoded
		}
	}
	textual := false
	for _, r := range rs {
		if r.How != "base64" {
			continue
		}
		if rule := firstRule(injectionRules, newIndexed(r.Text), r.Text, true); rule != nil {
			return "base64:" + rule.name, ReasonEncoded
		}
		if kw := compactHit(r.Text); kw != "" {
			return "base64:spaced:" + kw, ReasonEncoded
		}
		if strings.Count(r.Text, " ") >= 2 {
			textual = true
		}
	}
	if textual {
		// Residents do not write sentences in base64; a model might decode
		// and follow one, so it is refused even without a known pattern.
		return "base64-text", ReasonEncoded
	}
	return "", ""
}

// compactHit returns the compactKeywords entry found in t with everything
// but letters removed, or "". It only looks when t shows letter-spacing or
// punctuation inside words, so ordinary text is not glued across words.
func compactHit(t string) string {
	if !obfuscated(t) {
		return ""
	}
	b := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		if c := t[i]; 'a' <= c && c <= 'z' {
			b = append(b, c)
		}
	}
	c := string(b)
	for _, kw := range compactKeywords {
		if strings.Contains(c, kw) {
			return kw
		}
	}
	if m := compactOverride.FindString(c); m != "" {
		return m
	}
	return ""
}

// obfuscated reports whether t has three single letters in a row ("n e g")
// or a word broken by dots, dashes, underscores or stars ("i.g.n.o.r.e").
func obfuscated(t string) bool {
	singles, broken := 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		letter := 'a' <= c && c <= 'z'
		if letter {
			prevSep := i == 0 || !('a' <= t[i-1] && t[i-1] <= 'z')
			nextSep := i+1 == len(t) || !('a' <= t[i+1] && t[i+1] <= 'z')
			if prevSep && nextSep {
				singles++
				if singles >= 3 {
					return true
				}
			} else if prevSep {
				singles = 0
			}
			continue
		}
		if (c == '.' || c == '-' || c == '_' || c == '*' || c == '|' || c == '/') &&
			i > 0 && i+1 < len(t) && 'a' <= t[i-1] && t[i-1] <= 'z' && 'a' <= t[i+1] && t[i+1] <= 'z' {
			broken++
			if broken >= 3 {
				return true
			}
		}
	}
	return false
}

func rot13(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case 'A' <= c && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		}
	}
	return string(b)
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func isBase64Byte(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

// base64Tokens returns runs of base64 characters of at least 16 bytes that
// mix letters with digits or both cases, as encoded text does.
func base64Tokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isBase64Byte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Byte(s[j]) {
			j++
		}
		if j-i >= 16 {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

// decodeBase64 decodes tok in the standard or URL alphabet, with or without
// padding, and reports whether the result is mostly printable UTF-8 text.
func decodeBase64(tok string) (string, bool) {
	raw := strings.TrimRight(tok, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(raw, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(raw)
	if err != nil || len(b) < 8 || !utf8.Valid(b) {
		return "", false
	}
	s := string(b)
	printable, n := 0, 0
	for _, r := range s {
		n++
		if unicode.IsPrint(r) || r == '\n' || r == '\t' {
			printable++
		}
	}
	return s, printable*10 >= n*9
}
