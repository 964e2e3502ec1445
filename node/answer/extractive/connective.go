package extractive

import (
	"regexp"
	"strings"
)

// leaning matches the words a Dutch sentence opens with when it leans on
// the sentence before it: a consequence ("Dan", "Dus", "Daarom", "Zo"), a
// continuation ("En", "Maar", "Ook", "Verder", "Bovendien", "Toch"), an
// example or exception ("Bijvoorbeeld", "Zoals", "Tenzij"), a reason
// ("Want"), a demonstrative ("Dit", "Deze", "Dat", "Die") or a
// pronominal adverb ("Daarvoor", "Hiermee"). Such a sentence says little,
// or something wrong, without its predecessor.
var leaning = regexp.MustCompile(`^[("'„“]?(?:Dan|En|Maar|Ook|Dus|Zo|Dit|Deze|Dat|Die|Daar\p{Ll}*|Hier\p{Ll}*|Bijvoorbeeld|Zoals|Want|Toch|Bovendien|Verder|Tenzij)\b`)

// thenSecond matches a sentence with "dan" as its second or third word:
// the imperative or inverted clause that answers a question before it
// ("Heeft u een hond gekregen? Meld uw hond dan aan.").
var thenSecond = regexp.MustCompile(`^\p{Lu}\p{Ll}*(?: (\p{Ll}+))?? (\p{Ll}+) dan\b|^(\p{Lu}\p{Ll}*) dan\b`)

// Leans reports whether sentence opens on a word that refers to the
// sentence before it ("Dan vraagt u ...", "Daarvoor betaalt u ...", "Of
// een andere overeenkomst?"), or answers it with "dan" ("Vraag dan een
// uittreksel aan."), so that it must not open an answer or follow a
// sentence other than its own predecessor. A sentence that opens on "Of"
// and has a comma ("Of u recht heeft, hangt af van ...") stands alone.
func Leans(sentence string) bool {
	if leaning.MatchString(sentence) {
		return true
	}
	if strings.HasPrefix(sentence, "Of ") && !strings.Contains(sentence, ", ") {
		return true
	}
	m := thenSecond.FindStringSubmatch(sentence)
	if m == nil {
		return false
	}
	before := m[2] // the word before "dan"
	if before == "" {
		before = m[3]
	}
	return !comparative(strings.ToLower(before))
}

// comparative reports whether w is a comparative, after which "dan" means
// "than" ("meer dan 10 m³", "langer dan 4 maanden").
func comparative(w string) bool {
	switch w {
	case "meer", "minder", "anders", "liever", "eerder", "later", "niet", "ander", "andere":
		return true
	}
	return strings.HasSuffix(w, "er")
}
