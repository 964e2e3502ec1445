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
	Unlawful string // refusal of help to break rules or misuse a service
	OffRemit string // "%s" is the gemeente: a request outside what it does
	Verdict  string // added to answers on a resident's own case
	NoInfo   string // "%s" names what the sources do not mention
	Lawful   string // "%s" is the title of the page with the lawful route
	Peer     string // "%s" is the other gemeente whose pages answer
	// PeerSentence opens a sentence from another gemeente's page in an
	// answer that also uses the resident's own; PeerMixed closes it.
	PeerSentence string
	PeerMixed    string
	// BorrowedLogin opens the answer to a question about logging in with
	// someone else's DigiD or login details.
	BorrowedLogin string
	// OthersData refuses another person's personal data: why, and what
	// the resident can do instead.
	OthersData string
	// Injection answers an attempt to change or reveal the instructions;
	// "%s" is the gemeente.
	Injection string
	// NoGuarantee is added to answers on how a resident's case will end.
	NoGuarantee string
	// Unconfirmed opens an answer to a claim the sources do not confirm.
	Unconfirmed string
	And         string // joins the last two items of a list
	// Suggest opens a reply in mode suggest; the pages follow it as a list.
	Suggest string
	// SuggestRest introduces the pages after NoInfo in a suggestion.
	SuggestRest string
}

var texts = map[string]messages{
	"nl": {
		NoAnswer:     "Daar kan ik geen betrouwbaar antwoord op geven.",
		Contact:      "Neem contact op met %s:",
		Call:         "bel %s",
		Hours:        " (%s)",
		Form:         "gebruik het contactformulier: %s",
		Or:           " of ",
		Gemeente:     "de gemeente",
		Unlawful:     "Daar kan ik u niet mee helpen: dat is niet toegestaan of kan anderen schaden.",
		OffRemit:     "Daar help ik niet mee: ik geef geen mening en maak geen teksten. Ik beantwoord vragen over de diensten en regels van %s.",
		Verdict:      "Of dit in uw situatie zo is, kan ik niet beoordelen. Dat beoordeelt de gemeente. Bent u het niet eens met een besluit, dan kunt u bezwaar maken; gratis juridisch advies krijgt u bij het Juridisch Loket.",
		NoInfo:       "Ik heb geen informatie over %s.",
		Lawful:       "Hoe het wel mag, leest u op de pagina „%s”.",
		Peer:         "Volgens %s; dit kan bij u anders zijn.",
		PeerSentence: "Volgens %s:",
		PeerMixed:    "Wat volgens een andere gemeente is, kan bij u anders zijn.",
		Unconfirmed:  "Dat kan ik niet bevestigen met de informatie die ik heb. Dit weet ik wel:",
		BorrowedLogin: "Een DigiD is persoonlijk: met die van een ander mag u niet inloggen, ook niet om te helpen. " +
			"Wilt u zaken regelen voor iemand anders? Dan kan die persoon u machtigen.",
		OthersData: "Gegevens van iemand anders geef ik niet: die zijn privé. " +
			"Wilt u iemand bereiken, vraag het dan aan de persoon zelf. Gaat het om overlast of een probleem op een adres? Doe dan een melding bij de gemeente. " +
			"Uw eigen gegevens kunt u wel opvragen.",
		Injection:   "Daar help ik niet mee. Ik volg mijn eigen instructies en deel die niet. Ik beantwoord vragen over de diensten en regels van %s.",
		NoGuarantee: "Hoe het in uw geval afloopt, kan ik niet voorspellen of beloven. Dat beslist de gemeente.",
		And:         " en ",
		Suggest:     "Ik weet niet zeker of dit uw vraag beantwoordt. Deze pagina's gaan erover:",
		SuggestRest: "Deze pagina's gaan wel over de rest van uw vraag:",
	},
	"en": {
		NoAnswer:     "I cannot give a reliable answer to that.",
		Contact:      "Please contact %s:",
		Call:         "call %s",
		Hours:        " (%s)",
		Form:         "use the contact form: %s",
		Or:           " or ",
		Gemeente:     "the municipality",
		Unlawful:     "I cannot help you with that: it is not allowed or could harm others.",
		OffRemit:     "I do not help with that: I give no opinions and write no texts. I answer questions about the services and rules of %s.",
		Verdict:      "I cannot judge whether this applies to your situation. The municipality decides that. If you disagree with a decision, you can object (bezwaar); free legal advice is available from the Juridisch Loket.",
		NoInfo:       "I have no information about %s.",
		Lawful:       "How to do it properly is explained on the page “%s”.",
		Peer:         "According to %s; this may be different where you live.",
		PeerSentence: "According to %s:",
		PeerMixed:    "What another municipality says may be different where you live.",
		Unconfirmed:  "I cannot confirm that with the information I have. This is what I know:",
		BorrowedLogin: "A DigiD is personal: you may not log in with someone else's, not even to help. " +
			"Do you want to arrange things for someone else? Then that person can authorise you (machtigen).",
		OthersData: "I do not give out other people's personal data: it is private. " +
			"If you want to reach someone, ask that person. Is it about a nuisance or a problem at an address? Then report it to the municipality. " +
			"You can request your own data.",
		Injection:   "I do not help with that. I follow my own instructions and do not share them. I answer questions about the services and rules of %s.",
		NoGuarantee: "I cannot predict or promise how your case will end. The municipality decides that.",
		And:         " and ",
		Suggest:     "I am not sure this answers your question. These pages are about it:",
		SuggestRest: "These pages are about the rest of your question:",
	},
}

func textsFor(lang string) messages {
	if m, ok := texts[lang]; ok {
		return m
	}
	return texts["nl"]
}
