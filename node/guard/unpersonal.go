package guard

import (
	"regexp"
	"strings"
)

// statedData matches a placeholder with the words that state it ("mijn BSN
// is [BSN]", "ik woon op [ADRES]", "bel me op [TELEFOON]", "ik heet
// [NAAM]", "geboren op [GEBOORTEDATUM]"), or a placeholder alone: the
// resident's data, which says nothing about the topic. A kind of data named without stating it ("mijn rekeningnummer
// [IBAN] wijzigen") stays: it may be the topic.
var statedData = regexp.MustCompile(`(?i)(\b(mijn|m'n|ons|onze|my|our)\s+(bsn|burgerservicenummer|iban|rekeningnummer|bankrekening(nummer)?|telefoonnummer|(mobiele )?nummer|mobiel|e-?mail(adres)?|mailadres|adres|postcode|phone( number)?|address|account( number)?)\s*(is|=|:)\s*|\b(ik woon|wij wonen|we wonen|i live)\s+(op|aan|in|at)\s+|\b(bel|mail|app)\s+(me|mij|ons)\s+(op|via|at)?\s*|\b(ik|wij|we)\s+he(et|ten)\s+|\b(mijn|m'n|my)\s+(naam|name)\s*(is|:|=)?\s*|\b(ik\s+ben\s+|i\s+was\s+)?(geboren(\s+op)?|geboortedatum(\s+is)?\s*:?|born(\s+on)?)\s*)?\[(BSN|IBAN|TELEFOON|EMAIL|ADRES|NAAM|GEBOORTEDATUM)\]`)

// Unpersonal returns a scrubbed question without the personal data it
// states, for finding pages: "Mijn BSN is [BSN], wanneer wordt mijn
// paspoort klaar?" → "wanneer wordt mijn paspoort klaar?". The placeholder
// words would otherwise find pages about BSNs instead of the question's
// topic. Text without placeholders comes back unchanged.
func Unpersonal(scrubbed string) string {
	if !strings.Contains(scrubbed, "[") {
		return scrubbed
	}
	t := statedData.ReplaceAllString(scrubbed, " ")
	t = strings.Join(strings.Fields(t), " ")
	return strings.TrimLeft(t, " ,;:.-")
}
