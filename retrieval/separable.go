package retrieval

import "strings"

// Dutch splits separable verbs in a main clause: the page says "aanvragen",
// "doorgeven" or "weghalen", the resident asks "Hoe vraag ik een paspoort
// aan?", "Hoe geef ik mijn verhuizing door?", "Hoe haal ik een muur weg?".
// The words "vraag" and "aan" apart meet nothing. SeparableVerbs finds such
// a split verb and returns the infinitive the pages use, so that the search
// and the answerer can add it to the question.

// particles are the separable prefixes that end a clause on their own.
var particles = map[string]bool{
	"aan": true, "af": true, "bij": true, "door": true, "in": true, "mee": true, "na": true,
	"om": true, "op": true, "terug": true, "toe": true, "uit": true, "weg": true, "los": true,
	"binnen": true, "buiten": true, "neer": true,
}

// subjects are the pronouns a finite verb stands next to.
var subjects = map[string]bool{
	"ik": true, "u": true, "je": true, "jij": true, "we": true, "wij": true, "hij": true,
	"zij": true, "ze": true, "men": true, "jullie": true,
}

// modals and auxiliaries take an infinitive that stays whole ("Hoe kan ik
// een paspoort aanvragen?"), and "heb"/"ben" a participle.
var modals = map[string]bool{
	"kan": true, "kunt": true, "kun": true, "kunnen": true, "moet": true, "moeten": true,
	"mag": true, "mogen": true, "wil": true, "wilt": true, "willen": true, "zal": true,
	"zult": true, "zullen": true, "ga": true, "gaat": true, "gaan": true, "heb": true,
	"hebt": true, "heeft": true, "hebben": true, "ben": true, "bent": true, "is": true,
	"zijn": true, "word": true, "wordt": true, "worden": true, "hoef": true, "hoeft": true,
	"hoeven": true, "laat": true, "laten": true, "doe": true, "doet": true,
}

// clauseWords start a new clause.
var clauseWords = map[string]bool{
	"zonder": true, "omdat": true, "als": true, "zodat": true, "want": true, "maar": true,
	"terwijl": true, "dat": true, "en": true, "of": true, "wanneer": true, "nadat": true,
	"voordat": true, "waarna": true,
}

// SeparableVerbs returns the infinitives of the separable verbs split in
// text ("Hoe vraag ik een paspoort aan?" → "aanvragen"), in order, each
// once.
func SeparableVerbs(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, clause := range clauses(text) {
		n := len(clause)
		if n < 3 || !particles[clause[n-1]] {
			continue
		}
		verb := finiteVerb(clause[:n-1])
		if verb == "" {
			continue
		}
		inf := clause[n-1] + infinitive(verb)
		if !seen[inf] {
			seen[inf] = true
			out = append(out, inf)
		}
	}
	return out
}

// clauses splits folded text into clauses of words at punctuation and at
// the words that open a subordinate or coordinate clause.
func clauses(text string) [][]string {
	var out [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, w := range strings.FieldsFunc(Fold(text), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '"' || r == '(' || r == ')'
	}) {
		end := strings.TrimRight(w, ".,;:!?")
		stop := end != w
		if clauseWords[end] {
			flush()
			continue
		}
		if end != "" {
			cur = append(cur, end)
		}
		if stop {
			flush()
		}
	}
	flush()
	return out
}

// finiteVerb returns the verb before a subject pronoun ("hoe vraag ik"), or
// after one that opens the clause ("ik vraag"), unless it is a modal.
func finiteVerb(words []string) string {
	for i, w := range words {
		if !subjects[w] {
			continue
		}
		var v string
		switch {
		case i > 0:
			v = words[i-1]
		case i+1 < len(words):
			v = words[i+1]
		}
		if v == "" || modals[v] || subjects[v] || len(v) < 2 {
			return ""
		}
		if w != "ik" && len(v) > 3 && v[len(v)-1] == 't' && !isVowel(v[len(v)-2]) && v[len(v)-2] != 't' {
			v = v[:len(v)-1] // "vraagt u", "u vraagt"
		}
		return v
	}
	return ""
}

// infinitive spells the infinitive of a verb stem as Dutch does: "haal" →
// "halen", "geef" → "geven", "zeg" → "zeggen", "meld" → "melden".
func infinitive(stem string) string {
	n := len(stem)
	if n < 2 {
		return stem + "en"
	}
	last := stem[n-1]
	if isVowel(last) {
		return stem + "n" // "ga" → "gaan" is a modal; "doe" → "doen"
	}
	voiced := last
	switch last {
	case 'f':
		voiced = 'v'
	case 's':
		voiced = 'z'
	}
	switch {
	case n >= 3 && isVowel(stem[n-2]) && stem[n-2] == stem[n-3]:
		// A long vowel written double loses a letter: "haal" → "halen",
		// "geef" → "geven".
		return stem[:n-2] + string(voiced) + "en"
	case isVowel(stem[n-2]) && (n < 3 || !isVowel(stem[n-3])) && last != 'w' && last != 'j':
		// A short vowel keeps its sound with a doubled consonant: "zeg" →
		// "zeggen".
		return stem + string(last) + "en"
	case n >= 3 && isVowel(stem[n-2]) && isVowel(stem[n-3]):
		// A diphthong or ie: "kies" → "kiezen", "sluit" → "sluiten".
		return stem[:n-1] + string(voiced) + "en"
	case stem[n-2] == 'j' && (last == 'f' || last == 's'):
		// After ij: "schrijf" → "schrijven", "reis" is a diphthong above.
		return stem[:n-1] + string(voiced) + "en"
	}
	return stem + "en"
}
