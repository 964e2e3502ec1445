package answer

// messages are the texts residents read in a referral, per language. Kept
// together for review and translation.
type messages struct {
	NoAnswer string // the honest refusal
	Contact  string // "%s" is the gemeente's name
	Call     string // "%s" is the phone number
	Hours    string // "%s" is the opening hours
	Form     string // "%s" is the contact form URL
	Or       string
	Gemeente string // used when the tenant has no name
}

var texts = map[string]messages{
	"nl": {
		NoAnswer: "Daar kan ik geen betrouwbaar antwoord op geven.",
		Contact:  "Neem contact op met %s:",
		Call:     "bel %s",
		Hours:    " (%s)",
		Form:     "gebruik het contactformulier: %s",
		Or:       " of ",
		Gemeente: "de gemeente",
	},
	"en": {
		NoAnswer: "I cannot give a reliable answer to that.",
		Contact:  "Please contact %s:",
		Call:     "call %s",
		Hours:    " (%s)",
		Form:     "use the contact form: %s",
		Or:       " or ",
		Gemeente: "the municipality",
	},
}

func textsFor(lang string) messages {
	if m, ok := texts[lang]; ok {
		return m
	}
	return texts["nl"]
}
