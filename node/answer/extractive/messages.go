package extractive

// messages are the assistant's own words around the text it takes from
// pages, per language. Kept together for review and translation.
type messages struct {
	// AlsoOn labels the part of an answer taken from a second page; "%s"
	// is its title.
	AlsoOn string
}

var texts = map[string]messages{
	"nl": {AlsoOn: "Op de pagina „%s” staat ook:"},
	"en": {AlsoOn: "The page “%s” also says:"},
}

func textsFor(lang string) messages {
	if m, ok := texts[lang]; ok {
		return m
	}
	return texts["nl"]
}
