package guard_test

import (
	"testing"

	"github.com/assistent-nl/assistent/node/guard"
)

func TestUnpersonal(t *testing.T) {
	for in, want := range map[string]string{
		"Mijn BSN is [BSN], wanneer wordt mijn paspoort klaar?":                   "wanneer wordt mijn paspoort klaar?",
		"Ik woon op [ADRES]. Wanneer wordt het grofvuil opgehaald?":               "Wanneer wordt het grofvuil opgehaald?",
		"Hoe wijzig ik mijn rekeningnummer [IBAN] voor de belastingen?":           "Hoe wijzig ik mijn rekeningnummer voor de belastingen?",
		"Bel me op [TELEFOON] over mijn aanvraag":                                 "over mijn aanvraag",
		"Hoe vraag ik een paspoort aan?":                                          "Hoe vraag ik een paspoort aan?",
		"Mijn naam is [NAAM], ik ben geboren op [GEBOORTEDATUM]. Mag ik stemmen?": "Mag ik stemmen?",
		"Ik heet [NAAM] en wil verhuizen":                                         "en wil verhuizen",
		"Mijn e-mailadres is [EMAIL]; kan ik een afspraak per mail krijgen?":      "kan ik een afspraak per mail krijgen?",
	} {
		if got := guard.Unpersonal(in); got != want {
			t.Errorf("Unpersonal(%q) = %q, want %q", in, got, want)
		}
	}
}
