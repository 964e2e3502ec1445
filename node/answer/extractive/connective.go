package extractive

import "regexp"

// leaning matches the words a Dutch sentence opens with when it leans on
// the sentence before it: a consequence ("Dan", "Dus", "Daarom"), a
// continuation ("En", "Maar", "Ook", "Verder", "Bovendien", "Toch"), an
// example or exception ("Bijvoorbeeld", "Zoals", "Tenzij"), a reason
// ("Want"), a demonstrative ("Dit", "Deze", "Dat", "Die") or a
// pronominal adverb ("Daarvoor", "Hiermee"). Such a sentence says little,
// or something wrong, without its predecessor.
var leaning = regexp.MustCompile(`^[("'„“]?(?:Dan|En|Maar|Ook|Dus|Dit|Deze|Dat|Die|Daar\p{Ll}*|Hier\p{Ll}*|Bijvoorbeeld|Zoals|Want|Toch|Bovendien|Verder|Tenzij)\b`)

// Leans reports whether sentence opens on a word that refers to the
// sentence before it ("Dan vraagt u ...", "Daarvoor betaalt u ..."), so
// that it must not open an answer or follow a sentence other than its own
// predecessor.
func Leans(sentence string) bool { return leaning.MatchString(sentence) }
