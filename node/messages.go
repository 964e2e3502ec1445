package node

// Texts residents read in error responses (Dutch; English goes in the
// error's own text for operators).
const (
	msgEmptyQuestion  = "Stel een vraag. Het vraagveld is leeg."
	msgLongQuestion   = "Uw vraag is te lang. Gebruik maximaal %d tekens."
	msgInvalidText    = "Uw vraag bevat tekens die wij niet kunnen lezen."
	msgUnknownTenant  = "Deze gemeente is niet bekend bij deze assistent."
	msgBadRequest     = "Uw vraag kon niet worden gelezen. Probeer het opnieuw."
	msgTooLarge       = "Uw bericht is te groot. Stel een kortere vraag."
	msgInternal       = "Er ging iets mis. Probeer het later opnieuw of neem contact op met de gemeente."
	msgNotFound       = "Deze pagina bestaat niet."
	msgMethod         = "Deze actie is hier niet toegestaan."
	msgUnsupportedMed = "Stuur uw vraag als JSON."
	msgTooMany        = "U stelt veel vragen kort na elkaar. Wacht even en probeer het dan opnieuw."
	msgInvalidUTF8    = "Uw bericht bevat tekens die wij niet kunnen lezen."
	msgOrigin         = "Deze website is niet aangemeld bij de assistent van deze gemeente."
	msgBadFeedback    = "Geef aan of het antwoord u heeft geholpen (duim omhoog of omlaag)."
	msgLongFeedback   = "Uw opmerking is te lang. Gebruik maximaal 1000 tekens."
)

// Texts for feedback on a question the node does not know.
const (
	msgBadQuestionID   = "Uw beoordeling hoort niet bij een vraag van dit gesprek. Stel uw vraag opnieuw."
	msgUnknownQuestion = "Deze vraag is niet (meer) bekend. Gesprekken worden na een tijd verwijderd. Stel uw vraag opnieuw."
)
