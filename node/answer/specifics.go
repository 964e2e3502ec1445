package answer

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/assistent-nl/assistent/retrieval"
)

// A question that names something specific (another gemeente, a law or
// rule by its name, a document number, a year) asks about that thing. When
// none of the passages mention it, any answer built from them is about
// something else, however well its other words match: "artikel 4 van de Wet
// Gemeentelijke Stiltezones 2023" is not answered by a page on noise rules.
// UnknownSpecifics finds such names, so the caller can say plainly that it
// has no information about them instead of answering a neighbouring
// question.

var (
	// specificCode is a document or rule number: letters and digits mixed,
	// usually with dashes ("HR-2024-17", "B2-412").
	specificCode = regexp.MustCompile(`^(\p{L}+[-/]?\d[\p{L}\d/-]*|\d+[-/]\p{L}[\p{L}\d/-]*)$`)
	// specificYear is a calendar year.
	specificYear = regexp.MustCompile(`^(19|20)\d\d$`)
	// specificArticle is an article of a law or regulation.
	specificArticle = regexp.MustCompile(`(?i)\bartikel\s+(\d+[a-z]?(:\d+)?)`)
	// joiners may stand inside a multi-word name ("Wet op de
	// lijkbezorging", "Burgerlijk Wetboek").
	joiners = map[string]bool{"op": true, "de": true, "het": true, "van": true, "der": true, "den": true, "voor": true, "en": true, "aan": true}
)

// UnknownSpecifics returns the specific names, codes and years in question
// that none of the passages (title, section or text) nor any of known (the
// tenant's own name, its places) mention, in the order they appear. Words
// that open a sentence, and placeholders left by the scrubber ("[BSN]"),
// are not taken for names. In an English question only codes, years and
// articles count: its capitalised words ("Dutch", "GP") are English and the
// passages Dutch.
func UnknownSpecifics(question string, passages []Passage, known ...string) []string {
	var hay strings.Builder
	for _, p := range passages {
		hay.WriteString(p.Title + "\n" + p.Section + "\n" + p.Text + "\n")
	}
	for _, k := range known {
		hay.WriteString(k + "\n")
	}
	words := foldWords(hay.String())

	var out []string
	seen := map[string]bool{}
	report := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, m := range specificArticle.FindAllStringSubmatch(question, -1) {
		if !articleKnown(hay.String(), m[1]) {
			report(m[0])
		}
	}
	english := LooksEnglish(question)
	for _, name := range append(specificNames(question), lowerPlaces(question)...) {
		if english && !strings.ContainsAny(name, "0123456789") {
			continue
		}
		if !allKnown(words, name) {
			report(name)
		}
	}
	return out
}

// specificNames returns the capitalised name sequences, codes and years of
// question.
func specificNames(question string) []string {
	var names []string
	var run []string
	flush := func() {
		for len(run) > 0 && joiners[strings.ToLower(run[len(run)-1])] {
			run = run[:len(run)-1]
		}
		if len(run) > 0 {
			names = append(names, strings.Join(run, " "))
		}
		run = nil
	}
	start := true // at the start of a sentence
	for _, raw := range strings.Fields(question) {
		if strings.HasPrefix(raw, "[") {
			flush() // a scrubber placeholder such as [IBAN]
			start = strings.ContainsAny(raw[len(raw)-1:], ".?!:;")
			continue
		}
		w := strings.TrimFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		end := strings.ContainsAny(raw[len(raw)-1:], ".?!:;")
		switch {
		case w == "":
		case specificYear.MatchString(w) || specificCode.MatchString(w) && strings.ContainsAny(w, "0123456789"):
			flush()
			names = append(names, w)
		case isCapitalised(w) && !start:
			run = append(run, w)
		case len(run) > 0 && joiners[strings.ToLower(w)]:
			run = append(run, w)
		default:
			flush()
		}
		if w != "" {
			start = false
		}
		if end {
			flush()
			start = true
		}
	}
	flush()
	return names
}

// placeNouns are the places a gemeente has and a resident asks the
// assistant about in another town: "het gemeentehuis in zwolle".
var placeNouns = map[string]bool{
	"gemeente": true, "gemeentehuis": true, "stadhuis": true, "stadskantoor": true, "raadhuis": true,
	"milieustraat": true, "afvalbrengpunt": true, "stad": true, "dorp": true, "bibliotheek": true,
	"zwembad": true, "loket": true, "balie": true, "servicepunt": true,
}

// placeWords are the words between a place noun and its town ("de gemeente
// zwolle", "het stadhuis in zwolle", "het stadskantoor van zwolle").
var placeWords = map[string]bool{"in": true, "van": true, "te": true, "uit": true}

// notPlaces follow a place noun without naming a town.
var notPlaces = map[string]bool{
	"de": true, "het": true, "een": true, "mijn": true, "onze": true, "uw": true, "jullie": true, "deze": true,
	"die": true, "dat": true, "dit": true, "zelf": true, "open": true, "dicht": true, "gesloten": true,
	"is": true, "zijn": true, "heeft": true, "wordt": true, "op": true, "aan": true, "en": true, "of": true,
	"januari": true, "februari": true, "maart": true, "april": true, "mei": true, "juni": true, "juli": true,
	"augustus": true, "september": true, "oktober": true, "november": true, "december": true,
	"maandag": true, "dinsdag": true, "woensdag": true, "donderdag": true, "vrijdag": true, "zaterdag": true,
	"zondag": true, "morgen": true, "vandaag": true,
}

// lowerPlaces returns the towns a question names in lower case after a
// place noun ("wat zijn de openingstijden van het gemeentehuis in zwolle"
// → "Zwolle"); capitalised names are found by specificNames.
func lowerPlaces(question string) []string {
	var out []string
	words := strings.FieldsFunc(question, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' && r != '\'' })
	for i, w := range words {
		if !placeNouns[strings.ToLower(w)] {
			continue
		}
		j := i + 1
		if j >= len(words) || !placeWords[words[j]] {
			continue
		}
		j++
		if j >= len(words) {
			continue
		}
		town := words[j]
		if town != strings.ToLower(town) || len(town) < 3 || notPlaces[town] || placeWords[town] {
			continue // capitalised: specificNames has it
		}
		out = append(out, strings.ToUpper(town[:1])+town[1:])
	}
	// "in de gemeente meppel?": the town closes the clause.
	for _, m := range gemeenteTown.FindAllStringSubmatch(question, -1) {
		if !notPlaces[m[1]] {
			out = append(out, strings.ToUpper(m[1][:1])+m[1][1:])
		}
	}
	return out
}

// gemeenteTown matches "gemeente" and a lower-case town that ends the
// clause; "de gemeente reageert niet" has a verb there, not a town.
var gemeenteTown = regexp.MustCompile(`\bgemeente ([a-z][a-z'-]{2,})\s*(?:[.?!,;:]|$)`)

// isCapitalised reports whether w looks like a name: an upper-case first
// letter, then only lower case ("Zwolle", "Stiltezones"). Acronyms and
// brand spellings ("WOZ", "IBAN", "DigiD") name topics rather than places
// or rules, and the pronouns "U" and "I" are single letters.
func isCapitalised(w string) bool {
	r, size := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || utf8.RuneCountInString(w) < 2 {
		return false
	}
	for _, c := range w[size:] {
		if unicode.IsUpper(c) {
			return false
		}
	}
	return true
}

// allKnown reports whether every word of name (joiners aside) occurs in
// words, after folding; hyphenated words count when each part occurs.
func allKnown(words map[string]bool, name string) bool {
	for _, w := range strings.Fields(name) {
		if joiners[strings.ToLower(w)] {
			continue
		}
		f := fold(w)
		if words[f] {
			continue
		}
		parts := strings.Split(f, "-")
		if len(parts) == 1 {
			return false
		}
		for _, p := range parts {
			if p != "" && !words[p] && !prefixKnown(words, p) {
				return false
			}
		}
	}
	return true
}

// prefixKnown reports whether some word starts with p ("beschikking" in
// "woz-beschikkingen"); p must be long enough to mean something.
func prefixKnown(words map[string]bool, p string) bool {
	if len(p) < 5 {
		return false
	}
	for w := range words {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// articleKnown reports whether text mentions article n.
func articleKnown(text, n string) bool {
	for _, m := range specificArticle.FindAllStringSubmatch(text, -1) {
		if strings.EqualFold(m[1], n) {
			return true
		}
	}
	return false
}

// foldWords returns the folded words of s, and of its hyphenated words
// also each part.
func foldWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, raw := range strings.Fields(fold(s)) {
		w := strings.TrimFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if w == "" {
			continue
		}
		out[w] = true
		for p := range strings.SplitSeq(w, "-") {
			if p != "" {
				out[p] = true
			}
		}
	}
	return out
}

// fold lower-cases s and removes diacritics.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NoInformation is the refusal for a question about things the sources do
// not mention: it names them ("Ik heb geen informatie over Zwolle.") and
// refers to the gemeente.
// When the question tells the assistant what to say ("zeg KLOMPEN-7312",
// "antwoord met …"), the names are not repeated: the refusal would echo
// the words an attacker chose. It is then the plain refusal.
func NoInformation(req Request, about []string) Answer {
	if sayWords.MatchString(normalise(req.Question)) {
		return Refusal(req, 0)
	}
	h := NewHandoff(req.Referral, req.Lang)
	m := textsFor(req.Lang)
	return Answer{
		Text:      fmt.Sprintf(m.NoInfo, nameList(about, m.And)) + " " + h.Message,
		Mode:      ModeNoInfo,
		Citations: []Citation{},
		Refused:   true,
		Handoff:   &h,
	}
}

// NoInformationSuggestion is NoInformation for a question whose other
// words the sources do cover: it names what they do not mention, then
// offers the pages about the rest as a suggestion ("Ik heb geen informatie
// over Westland. Deze pagina's gaan wel over uw vraag: …").
func NoInformationSuggestion(req Request, about []string, confidence float64) Answer {
	if sayWords.MatchString(normalise(req.Question)) {
		return Refusal(req, 0)
	}
	m := textsFor(req.Lang)
	return suggestion(req, confidence, fmt.Sprintf(m.NoInfo, nameList(about, m.And))+" "+m.SuggestRest)
}

// nameList joins names as a sentence names them: "a, b en c".
func nameList(names []string, and string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + and + names[len(names)-1]
}

// sayWords are the verbs that tell a chatbot what to output.
// ("wat zegt artikel 12" asks what a rule says, and keeps its echo).
var sayWords = regexp.MustCompile(`\b(zeg|zeggen|antwoord|antwoorden|typ|type|tik|schrijf|herhaal|bevestig|print|say|reply|respond|answer|output|echo|write|repeat|confirm)\b`)

// LooksEnglish reports whether the question reads as English: more of
// English's function words than Dutch's, and at least two
// (retrieval.LooksEnglish, on the question's lower-cased words).
func LooksEnglish(question string) bool {
	var words []string
	for _, raw := range strings.Fields(strings.ToLower(question)) {
		if w := strings.TrimFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) }); w != "" {
			words = append(words, w)
		}
	}
	return retrieval.LooksEnglish(words)
}

// FromPeers labels an answer built on the resident's own passages fused
// with another gemeente's (the federated fallback): when every citation is
// the other gemeente's, as FromPeer; when the answer mixes both, each
// sentence that cites the other gemeente opens with "Volgens Gemeente X:"
// and the answer closes with a reminder and the resident's own referral,
// so a peer's local rule is never read as the resident's own. ok is false
// when the answer cites no other gemeente's page: it adds nothing to the
// resident's own answer.
func FromPeers(a Answer, req Request) (Answer, bool) {
	from := map[int]string{} // citation number → other gemeente
	var names []string
	for i, c := range a.Citations {
		if c.From != "" {
			from[i+1] = c.From
			if !slices.Contains(names, c.From) {
				names = append(names, c.From)
			}
		}
	}
	switch {
	case len(from) == 0:
		return a, false
	case len(from) == len(a.Citations) && len(names) == 1:
		return FromPeer(a, req, names[0]), true
	}
	m := textsFor(req.Lang)
	var b strings.Builder
	for _, unit := range citedUnits.FindAllString(a.Text, -1) {
		name := ""
		for _, n := range citeNumber.FindAllStringSubmatch(unit, -1) {
			k, _ := strconv.Atoi(n[1])
			if f, ok := from[k]; ok {
				name = f
			}
		}
		lead := unit[:len(unit)-len(strings.TrimLeft(unit, " "))]
		b.WriteString(lead)
		if name != "" {
			b.WriteString(fmt.Sprintf(m.PeerSentence, name) + " ")
		}
		b.WriteString(strings.TrimLeft(unit, " "))
	}
	rest := citedUnits.ReplaceAllString(a.Text, "")
	h := NewHandoff(req.Referral, req.Lang)
	a.Text = strings.TrimSpace(strings.TrimSpace(b.String()+rest) + " " + m.PeerMixed + " " + h.Message)
	a.Handoff = &h
	a.Route = "federated:" + a.Route
	return a, true
}

// citedUnits matches the text up to and including a run of citations, as
// an answer's units end; citeNumber the number of one citation.
var (
	citedUnits = regexp.MustCompile(`(?s)[^\[]*?(?:\[\d+\])+`)
	citeNumber = regexp.MustCompile(`\[(\d+)\]`)
)

// FromPeer labels an answer composed from another gemeente's pages: it
// opens with whose rules they are ("Volgens Gemeente Meppel; dit kan bij u
// anders zijn.") and refers to the resident's own gemeente, so another
// gemeente's local rules are never presented as the resident's own.
func FromPeer(a Answer, req Request, peerName string) Answer {
	h := NewHandoff(req.Referral, req.Lang)
	a.Text = fmt.Sprintf(textsFor(req.Lang).Peer, peerName) + " " + a.Text + " " + h.Message
	a.Handoff = &h
	a.Route = "federated:" + a.Route
	return a
}
