package answer

import (
	"regexp"
	"strings"
)

// A question about a resident's own case tells a story around its topic:
// who ("bij mijn vriendin", "mijn buurman"), how long ("al een half
// jaar"), how much ("1.900 euro", "van 4 meter hoog") and what verdict is
// hoped for ("dat hoef ik toch niet", "is dat illegaal?"). The pages that
// hold the rule use none of those words, so they drown the topic in
// retrieval and pull the answerer's confidence under its threshold. Since
// the answer on a case gives the rule and leaves the verdict to the
// gemeente, it is found and scored on the topic alone.

// The people a resident's story names: family, and others whose acts a
// resident may ask the assistant to judge (policy rule judge-third-party).
const (
	family = `vriend|vriendin|vriendje|vriendinnetje|partner|man|vrouw|echtgenoot|echtgenote|ouders|moeder|vader|pa|ma|zoon|dochter|kind|kinderen|broer|zus|zussen|broers|opa|oma|oom|tante|neef|nicht|schoonmoeder|schoonvader|schoonouders|vriendinnen|vrienden`
	others = `buurman|buurvrouw|buren|buurjongen|buurmeisje|huisgenoot|huisgenoten|huisbaas|verhuurder|werkgever|baas|collega|ex|overbuurman|overbuurvrouw|onderburen|bovenburen`
)

// circumstance matches the parts of a lower-cased, folded question that
// describe the asker's situation rather than the topic. Each alternative
// names a kind of circumstance, not a topic, so it holds for questions
// never seen.
var circumstance = []*regexp.Regexp{
	// Relations: "bij mijn vriendin", "mijn buurman", "van onze verhuurder".
	regexp.MustCompile(`\b((bij|van|met|voor|aan|door|tegen) )?(mijn|m'n|onze|ons|zijn|haar|hun) (ex-?)?(` + family + `|` + others + `)\b`),
	// Durations: "al een half jaar", "sinds drie maanden", "twee weken".
	regexp.MustCompile(`\b(al|sinds|nu al) (jaren|maanden|weken|dagen)\b`),
	regexp.MustCompile(`\b((al|nu|sinds|sindsdien|ongeveer|bijna|ruim|meer dan|minder dan) )*((een|1|\d+|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|paar|aantal|half|halve|anderhalf|anderhalve)\s+)+(half |halve )?(jaar|jaren|maand|maanden|week|weken|dag|dagen|uur|uren)\b`),
	// Amounts and sizes: "1.900 euro", "van 4 meter hoog", "€ 2000".
	regexp.MustCompile(`(\b(van|voor|met|op) )?(€\s*)?\d[\d.,]*\s*(euro|eur|meter|m2|m²|m|cm|km|kilo|kg|procent|%)?( (hoog|breed|lang|diep|groot|netto|bruto|per maand|per jaar|per week))*`),
	// The verdict hoped for, and the words that press for it.
	regexp.MustCompile(`\b(is|was) (dat|dit|het|hij|zij|die|zoiets)( nou| nu| dan| eigenlijk| wel| niet| gewoon)* (illegaal|legaal|verboden|strafbaar|toegestaan|erg|een probleem|normaal|terecht)\b`),
	regexp.MustCompile(`\b(dat|dit|het) (is|kan|mag) (toch )?((wel|gewoon|ook|zeker|zomaar) )?(prima|goed|oke|ok|geen probleem|toegestaan|in orde|niet erg|normaal|legaal|niet verboden|niet strafbaar|geen overtreding|mogelijk)\b`),
	yesOrNo,
	regexp.MustCompile(`\b(toch|eigenlijk|gewoon|nou|echt|zomaar|nog steeds|nog|hoef|hoeft|hoeven)\b|\bklopt (dat|dit|het)( wel| toch| nou)?\b|\bof (niet|wel)\s*\?`),
	// The asker's own condition: "als ik student ben", "omdat wij samenwonen";
	// the rule's page names the conditions itself.
	regexp.MustCompile(`\b(als|omdat|terwijl|aangezien|want|sinds|nu) (ik|wij|we) [^,.?!;]*`),
	// The asker's story verbs around the topic: "ik verdien", "ik heb gehoord".
	regexp.MustCompile(`\bik (verdien|ben|heb|had|was|woonde)\b( net| nu| al)?`),
}

// caseWords is the least number of words the topic must keep; with fewer,
// the reduction took the question itself and the full text is used.
const caseWords = 2

// CaseTopic reduces a question about the resident's own case to its topic
// ("Ik woon al een half jaar bij mijn vriendin maar sta nog bij mijn ouders
// ingeschreven; dat hoef ik toch niet door te geven?" → "ik woon maar sta
// ingeschreven; dat hoef ik niet door te geven?"), for retrieval and for
// scoring the extractive answer. It returns question unchanged when the
// reduction leaves too little.
func CaseTopic(question string) string {
	t := normalise(question)
	for _, re := range circumstance {
		t = re.ReplaceAllString(t, " ")
	}
	t = strings.Join(strings.Fields(t), " ")
	content := 0
	for _, w := range strings.FieldsFunc(t, func(r rune) bool { return !(r >= 'a' && r <= 'z') }) {
		if len(w) > 3 {
			content++
		}
	}
	if content < caseWords {
		return question
	}
	return t
}

// causative matches "laat" used to have something done ("Hoe laat ik
// asbest verwijderen?"): it tells nothing about the topic, yet it is a rare
// word in the pages, so a sentence that merely says "laat uw cv-ketel
// controleren" would outscore the topic.
var causative = regexp.MustCompile(`(?i)\b(laat|laten) (ik|u|je|jij|we|wij|hij|zij|ze)\b`)

// DropCausative returns question without a causative "laat" ("Hoe laat ik
// asbest verwijderen?" → "Hoe ik asbest verwijderen?"), for scoring the
// answer; "Hoe laat is de milieustraat open?" is a question about time and
// stays.
func DropCausative(question string) string {
	return causative.ReplaceAllString(question, "$2")
}
