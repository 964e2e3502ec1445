package guard

// placeholders are the Dutch texts that replace personal data in a scrubbed
// question. Staff read them in logs and the model reads them in prompts, so
// they are kept together here for review and translation.
var placeholders = map[Kind]string{
	BSN:       "[BSN]",
	IBAN:      "[IBAN]",
	Phone:     "[TELEFOON]",
	Email:     "[EMAIL]",
	Address:   "[ADRES]",
	Name:      "[NAAM]",
	BirthDate: "[GEBOORTEDATUM]",
}
