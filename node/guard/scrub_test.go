package guard_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/guard"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name, in, want string
		kinds          []guard.Kind
	}{
		// BSN: elfproef decides.
		{"bsn plain", "Mijn BSN is 111222333.", "Mijn BSN is [BSN].", []guard.Kind{guard.BSN}},
		{"bsn spaced", "bsn 123 456 782 graag", "bsn [BSN] graag", []guard.Kind{guard.BSN}},
		{"bsn dotted 4-2-3", "nummer 1234.56.782", "nummer [BSN]", []guard.Kind{guard.BSN}},
		{"bsn dashed", "123-456-782", "[BSN]", []guard.Kind{guard.BSN}},
		{"bsn 8 digits padded", "bsn 12345672", "bsn [BSN]", []guard.Kind{guard.BSN}},
		{"bsn next to other number", "bsn 123 456 782 12 keer", "bsn [BSN] 12 keer", []guard.Kind{guard.BSN}},
		{"not bsn: elfproef fails", "Zaak 123456789 en bedrag 123.456.789", "Zaak 123456789 en bedrag 123.456.789", nil},
		{"not bsn: all zeros", "000000000", "000000000", nil},
		{"not bsn: glued to letters", "code AB111222333", "code AB111222333", nil},
		// IBAN: mod-97 decides, any country, any case, groups of 4.
		{"iban nl", "IBAN NL91ABNA0417164300.", "IBAN [IBAN].", []guard.Kind{guard.IBAN}},
		{"iban grouped lower", "nl91 abna 0417 1643 00 is van mij", "[IBAN] is van mij", []guard.Kind{guard.IBAN}},
		{"iban be grouped then words", "BE68 5390 0754 7034 voor de huur", "[IBAN] voor de huur", []guard.Kind{guard.IBAN}},
		{"iban de", "DE89370400440532013000", "[IBAN]", []guard.Kind{guard.IBAN}},
		{"iban gb", "GB82 WEST 1234 5698 7654 32", "[IBAN]", []guard.Kind{guard.IBAN}},
		// An NL IBAN shape is personal data whatever its checksum: a typo
		// in one digit does not make an account number public.
		{"iban nl bad checksum", "rekening NL91ABNA0417164301 klopt", "rekening [IBAN] klopt", []guard.Kind{guard.IBAN}},
		{"iban nl bad checksum grouped", "NL12 RABO 0123 4567 89.", "[IBAN].", []guard.Kind{guard.IBAN}},
		{"iban nl bad checksum lower glued", "nl00abcd1234567890", "[IBAN]", []guard.Kind{guard.IBAN}},
		{"iban nl inside id", "conv-NL91ABNA0417164300-111222333", "conv-[IBAN]-[BSN]", []guard.Kind{guard.IBAN, guard.BSN}},
		{"not iban: other country checksum", "DE89370400440532013001", "DE89370400440532013001", nil},
		{"not iban: nl shape too short", "NL91ABNA041716430", "NL91ABNA041716430", nil},
		{"not iban: nl shape too long", "NL91ABNA04171643001", "NL91ABNA04171643001", nil},
		// Phone: Dutch personal numbers, not service numbers.
		{"mobile dash", "bel 06-12345678", "bel [TELEFOON]", []guard.Kind{guard.Phone}},
		{"mobile grouped", "06 1234 5678!", "[TELEFOON]!", []guard.Kind{guard.Phone}},
		{"mobile plain", "0612345678", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"mobile pairs", "Mijn nummer is 06 - 12 34 56 78.", "Mijn nummer is [TELEFOON].", []guard.Kind{guard.Phone}},
		{"mobile +31", "+31 6 12345678", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"mobile +31 (0)", "+31 (0)6 1234 5678", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"mobile 0031", "0031612345678", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"landline dash", "tel. 010-1234567", "tel. [TELEFOON]", []guard.Kind{guard.Phone}},
		{"landline spaced", "020 123 4567", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"landline parens", "(020) 123 4567", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"foreign", "+32 470 12 34 56", "[TELEFOON]", []guard.Kind{guard.Phone}},
		{"not phone: 14 number", "Bel 14 0123 of 140123", "Bel 14 0123 of 140123", nil},
		{"not phone: 0800/0900", "0800-1234567 en 0900 123 4567 en 0800-0432", "0800-1234567 en 0900 123 4567 en 0800-0432", nil},
		{"not phone: year, amount, date", "In 2024 kost het € 1.250,50 (01-02-2024)", "In 2024 kost het € 1.250,50 (01-02-2024)", nil},
		{"not phone: too long", "referentie 061234567890", "referentie 061234567890", nil},
		// E-mail.
		{"email", "Mail jan.de-vries+gemeente@voorbeeld.nl aub", "Mail [EMAIL] aub", []guard.Kind{guard.Email}},
		{"email accented end of sentence", "Mail café@voorbeeld.nl.", "Mail [EMAIL].", []guard.Kind{guard.Email}},
		{"not email: handle", "Volg @gemeente of mail naar info@ de balie", "Volg @gemeente of mail naar info@ de balie", nil},
		// Address: postcode + number, or street + number.
		{"postcode number", "Ik woon op 1234 AB 12.", "Ik woon op [ADRES].", []guard.Kind{guard.Address}},
		{"postcode glued toevoeging", "1234AB 12a", "[ADRES]", []guard.Kind{guard.Address}},
		{"postcode nr", "1234 ab, nr. 7", "[ADRES]", []guard.Kind{guard.Address}},
		{"street number postcode", "Kerkstraat 12, 1234 AB Holtewaard", "[ADRES] Holtewaard", []guard.Kind{guard.Address}},
		{"street lower", "ik woon aan de dorpsweg 5b", "ik woon aan de [ADRES]", []guard.Kind{guard.Address}},
		{"street accented", "Ruïnelaan 3", "[ADRES]", []guard.Kind{guard.Address}},
		{"not address: bare postcode", "welke afvaldag is 1234 AB", "welke afvaldag is 1234 AB", nil},
		{"not address: year and word", "in 2024 de 12 keer", "in 2024 de 12 keer", nil},
		{"not address: units", "in mijn loopbaan 12 jaar en het stadspark 3 keer", "in mijn loopbaan 12 jaar en het stadspark 3 keer", nil},
		{"not address: year after street word", "de woningmarkt 2024 is krap", "de woningmarkt 2024 is krap", nil},
		{"not address: street without number", "Welke woningen in de Hoofdstraat staan leeg?", "Welke woningen in de Hoofdstraat staan leeg?", nil},
		// Names after a cue word; the cue stays, the name goes.
		{"name mijn naam is", "Mijn naam is Jan de Vries, hoe vraag ik een paspoort aan?", "Mijn naam is [NAAM], hoe vraag ik een paspoort aan?", []guard.Kind{guard.Name}},
		{"name lower case", "mijn naam is piet jansen en ik wil verhuizen", "mijn naam is [NAAM] en ik wil verhuizen", []guard.Kind{guard.Name}},
		{"name ik heet", "Hallo, ik heet Fatima El Amrani. Wanneer is het stadhuis open?", "Hallo, ik heet [NAAM]. Wanneer is het stadhuis open?", []guard.Kind{guard.Name}},
		{"name initials tussenvoegsel", "Ik heet J.P. van der Berg-Özdemir en woon hier", "Ik heet [NAAM] en woon hier", []guard.Kind{guard.Name}},
		{"name colon", "Mijn naam: Sanne Bakker", "Mijn naam: [NAAM]", []guard.Kind{guard.Name}},
		{"name english", "Hi, my name is John Smith and I need a parking permit", "Hi, my name is [NAAM] and I need a parking permit", []guard.Kind{guard.Name}},
		{"not name: changed", "Mijn naam is veranderd, hoe pas ik de BRP aan?", "Mijn naam is veranderd, hoe pas ik de BRP aan?", nil},
		{"not name: wrong in register", "Mijn naam is in de BRP verkeerd gespeld", "Mijn naam is in de BRP verkeerd gespeld", nil},
		{"not name: no cue", "Hoe heet de wethouder van Holtewaard?", "Hoe heet de wethouder van Holtewaard?", nil},
		// Dates of birth after (or before) a cue word.
		{"dob geboren op", "Ik ben geboren op 12-03-1985, mag ik stemmen?", "Ik ben geboren op [GEBOORTEDATUM], mag ik stemmen?", []guard.Kind{guard.BirthDate}},
		{"dob words", "geboren op 3 maart 1990 in Utrecht", "geboren op [GEBOORTEDATUM] in Utrecht", []guard.Kind{guard.BirthDate}},
		{"dob geboortedatum", "Mijn geboortedatum is 1985-03-12.", "Mijn geboortedatum is [GEBOORTEDATUM].", []guard.Kind{guard.BirthDate}},
		{"dob geboortedatum colon", "geboortedatum: 7/11/62", "geboortedatum: [GEBOORTEDATUM]", []guard.Kind{guard.BirthDate}},
		{"dob before geboren", "ik ben op 1 januari 2001 geboren", "ik ben op [GEBOORTEDATUM] geboren", []guard.Kind{guard.BirthDate}},
		{"dob english", "I was born on March 5, 1979.", "I was born on [GEBOORTEDATUM].", []guard.Kind{guard.BirthDate}},
		{"not dob: other date", "Is het stadhuis open op 12-03-2025?", "Is het stadhuis open op 12-03-2025?", nil},
		{"not dob: no date", "Wat als mijn geboortedatum verkeerd in de BRP staat?", "Wat als mijn geboortedatum verkeerd in de BRP staat?", nil},
		{"name and dob", "Mijn naam is Eva Visser, geboren op 02.04.1970.", "Mijn naam is [NAAM], geboren op [GEBOORTEDATUM].", []guard.Kind{guard.Name, guard.BirthDate}},
		// Several at once, in order.
		{"mixed", "BSN 111222333, IBAN NL91ABNA0417164300, tel 0612345678, mail a@b.nl, adres 1234 AB 1",
			"BSN [BSN], IBAN [IBAN], tel [TELEFOON], mail [EMAIL], adres [ADRES]",
			[]guard.Kind{guard.BSN, guard.IBAN, guard.Phone, guard.Email, guard.Address}},
		// Overlap merges: the 8 digits inside +31 6 12345672 pass the
		// elfproef, the longer phone wins.
		{"overlap merges", "+31 6 12345672", "[TELEFOON]", []guard.Kind{guard.Phone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fs := guard.Scrub(tt.in)
			if got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
			var kinds []guard.Kind
			for _, f := range fs {
				kinds = append(kinds, f.Kind)
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
			}
			checkFindings(t, tt.in, got, fs)
			checkNoDigitsLeft(t, tt.in, got, fs)
		})
	}
}

// checkFindings asserts the invariants of Scrub: findings ordered, in
// bounds and not overlapping, and out is in with exactly the found spans
// replaced by their placeholders.
func checkFindings(tb testing.TB, in, out string, fs []guard.Finding) {
	tb.Helper()
	prev := 0
	var want strings.Builder
	for _, f := range fs {
		if f.Start < prev || f.End <= f.Start || f.End > len(in) {
			tb.Fatalf("bad finding %+v in %q (prev end %d)", f, in, prev)
		}
		want.WriteString(in[prev:f.Start])
		want.WriteString(f.Kind.Placeholder())
		prev = f.End
	}
	want.WriteString(in[prev:])
	if out != want.String() {
		tb.Fatalf("Scrub(%q) = %q, findings say %q", in, out, want.String())
	}
}

// checkNoDigitsLeft asserts that no digit run of a found item survives.
func checkNoDigitsLeft(tb testing.TB, in, out string, fs []guard.Finding) {
	tb.Helper()
	for _, f := range fs {
		if d := stripNonDigits(in[f.Start:f.End]); len(d) >= 4 && strings.Contains(stripNonDigits(out), d) {
			tb.Errorf("digits %s of %s finding survive in %q", d, f.Kind, out)
		}
	}
}

func stripNonDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func FuzzScrub(f *testing.F) {
	for _, s := range []string{
		"Mijn BSN is 111222333 en mijn IBAN NL91ABNA0417164300",
		"+31 (0)6 1234 5678 / 020-1234567 / 14 0123",
		"Kerkstraat 12, 1234 AB en 1234ab 5a",
		"a@b.nl 123-456-782 BE68 5390 0754 7034",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, fs := guard.Scrub(s)
		checkFindings(t, s, out, fs)
		if len(fs) == 0 && out != s {
			t.Fatalf("Scrub changed %q without findings", s)
		}
		guard.Check(s) // must not panic
	})
}
