package chat

// Texts residents read in chat errors (Dutch).
const (
	msgUnknownTenant = "Deze gemeente is niet bekend bij deze assistent."
	msgBadMessage    = "Uw bericht kon niet worden gelezen. Probeer het opnieuw."
	msgUnknownType   = "Dit soort bericht kent de assistent niet."
	msgTooMany       = "U stelt veel vragen kort na elkaar. Wacht even en probeer het dan opnieuw."
	msgOrigin        = "Deze website is niet aangemeld bij de assistent van deze gemeente."
	msgBusy          = "De assistent is nu erg druk. Probeer het over een paar seconden opnieuw."
)
