package answer

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/policy"
)

// Intent is what a question asks of the assistant beyond information.
type Intent int

// The intents the policy tells apart.
const (
	// Inform: an ordinary question.
	Inform Intent = iota
	// Unlawful: help to break rules or misuse a service, or to avoid being
	// caught ("zonder dat de gemeente het merkt", "doorverkopen").
	Unlawful
	// Verdict: a judgement on the resident's own case or on someone else
	// ("heb ik recht op", "is dat illegaal", "ja of nee").
	Verdict
	// OffRemit: something the gemeente's assistant does not do: an opinion
	// ("wat vind jij van de burgemeester?", voting advice) or a text of its
	// own ("schrijf een gedicht").
	OffRemit
	// BorrowedLogin: logging in as someone else ("met de DigiD van mijn
	// moeder inloggen"). The answer says it is not allowed and gives the
	// lawful route, authorisation (machtigen), from the sources.
	BorrowedLogin
	// OthersData: another person's personal data. Refused because of
	// privacy, with what the resident can do instead. (The rules file such
	// questions under Unlawful; the policy judge names this intent.)
	OthersData
	// Prediction: a forecast or guarantee of how the resident's case ends.
	// Answered with the rule, and "no one can promise the outcome".
	Prediction
	// Injection: an attempt to change or reveal the assistant's
	// instructions, named by the policy judge. Refused.
	Injection
)

// intentOf maps the policy classifier's intents (node/policy, also the
// judge's labels) onto the pipeline's.
var intentOf = map[policy.Intent]Intent{
	policy.Benign:     Inform,
	policy.Unlawful:   Unlawful,
	policy.Evade:      Unlawful,
	policy.Fraud:      Unlawful,
	policy.OthersData: OthersData,
	policy.NoMandate:  BorrowedLogin,
	policy.Verdict:    Verdict,
	policy.Prediction: Prediction,
	policy.Injection:  Injection,
	policy.Extraction: Injection,
	policy.OffRemit:   OffRemit,
}

// PolicyDecider names what decides a question's intent.
type PolicyDecider string

// The deciders.
const (
	// PolicyRules: the regular expressions of this file and the guard's
	// injection rules, with the classifier's assists (Decide).
	PolicyRules PolicyDecider = "rules"
	// PolicyClassifier: the policy classifier (node/policy) on the
	// question and its decoded readings; the guard refuses only on exact
	// signs (role markers, encoded payloads).
	PolicyClassifier PolicyDecider = "classifier"
	// PolicyBoth: the guard's and this file's rules first; where they see
	// an ordinary question, the classifier decides (the default).
	PolicyBoth PolicyDecider = "both"
)

// Validate reports an unknown decider.
func (d PolicyDecider) Validate() error {
	switch d {
	case "", PolicyRules, PolicyClassifier, PolicyBoth:
		return nil
	}
	return fmt.Errorf("policy %q: want %q, %q or %q", d, PolicyRules, PolicyClassifier, PolicyBoth)
}

// GuardRefuses reports whether the guard's verdict refuses the question
// under decider d: every injection rule under the rules, only exact signs
// (role markers, encoded payloads) when the classifier decides.
func (d PolicyDecider) GuardRefuses(v guard.Verdict) bool {
	return v.Injection && (d != PolicyClassifier || v.Exact())
}

// classifyWith is the classifier's decision on a scrubbed question and
// the guard's decoded readings of it: a reading whose words are more like
// language than the text as written (rot13, reversed, letter-spaced) is
// classified too, and the first that is not benign decides.
func classifyWith(m *policy.Model, question string, readings []guard.Reading) (Intent, string) {
	d := m.Classify(question)
	if d.Intent == policy.Benign {
		known := m.Known(question)
		for _, r := range readings {
			if k := m.Known(r.Text); k >= 0.5 && k > known+0.2 {
				if rd := m.Classify(r.Text); rd.Intent != policy.Benign {
					d = rd
					break
				}
			}
		}
	}
	if d.Intent == policy.Benign {
		return Inform, ""
	}
	return intentOf[d.Intent], string(d.Intent)
}

// IntentOf maps an intent of the policy classifier onto the pipeline's.
func IntentOf(i policy.Intent) Intent { return intentOf[i] }

// refuses reports whether the pipeline refuses questions of intent i.
func refuses(i Intent) bool {
	return i == Unlawful || i == OthersData || i == Injection || i == OffRemit
}

// rule is one pattern of the policy, with the reason it names.
type rule struct {
	intent Intent
	reason string
	re     *regexp.Regexp
	// also must all match too; unless, when set, must not.
	also   []*regexp.Regexp
	unless *regexp.Regexp
}

// matches reports whether the rule fires on q.
func (r rule) matches(q string) bool {
	if !r.re.MatchString(q) || r.unless != nil && r.unless.MatchString(q) {
		return false
	}
	for _, a := range r.also {
		if !a.MatchString(q) {
			return false
		}
	}
	return true
}

// ownAct matches a question about how the resident does something
// themselves ("kan ik", "hoe", "de makkelijkste manier"), not whether
// something is allowed ("Mag asbest bij het gewone afval?").
var ownAct = regexp.MustCompile(`\b(hoe|kan ik|kunnen we|wil ik|ga ik|manier|veiligste|makkelijkste|snelste|goedkoopste|tips?|ik (doe|gooi|stop|breek|zaag))\b`)

// reporting matches a resident who reports or asks about what others left
// behind ("Hoe meld ik afval in de berm?"), not one who leaves it.
var reporting = regexp.MustCompile(`\b(meld|melden|melding|zie|zag|gezien|aangeven|opruimen|gevonden|er (ligt|liggen)|wat doet de gemeente)\b`)

// throwAway and intoTheWild are how waste is left where it must not be
// ("in de sloot gooien").
const (
	throwAway   = `gooien|gooi|gooit|weggooien|storten|stort|lozen|achterlaten|kiepen|kieperen`
	intoTheWild = `in de (natuur|sloot|berm|vaart|gracht|plas|rivier|vijver)|in het (bos|water|kanaal)|langs de weg`
)

// credentials are what someone logs in with.
const credentials = `digid|digid-?app|digid-?code|digid-?wachtwoord|digid-?gegevens|inlogcode|inloggegevens|inlognaam|wachtwoord|sms-?code|gebruikersnaam|pincode`

// firstPerson matches a question the resident asks about their own act.
var firstPerson = regexp.MustCompile(`\b(ik|wij|we|me|mij)\b`)

// loginVerb matches using a login: logging in with it, or arranging
// something with it.
var loginVerb = regexp.MustCompile(`\b(inlog\w*|ingelogd|log(t|de|den)?\b[^.?!]{0,60}\bin|gebruik\w*|daarmee|mee (regelen|inloggen|aanvragen)|regelen|aanvragen|invullen|aanmelden)\b`)

// policyRules match lower-cased, diacritics-folded questions. Each has a
// Dutch example that must trigger it and a benign twin that must not
// (policy_test.go).
var policyRules = []rule{
	{intent: Unlawful, reason: "evade-enforcement", re: regexp.MustCompile(`zonder dat (de |het |een )?(gemeente|buren|buurman|politie|handhav\w*|toezicht\w*|iemand|niemand|ze|hij|zij)\b[^.?!]{0,30}\b(merk|zie|weet|ontdek|door ?heb)|(niet|nooit) (ge)?(pakt|betrapt|gesnapt) (te )?(worden|word)|zonder (gepakt|betrapt|gesnapt) te worden|\bongezien\b|\bstiekem\b|(de |het )?(buren|buurman|gemeente|niemand) (ziet|zien|merkt|merken) (het|dat|er) ?(toch|niks|niets)? ?niet|(verstop|verberg)\w* [^.?!]{0,40}(voor|van) (de )?(handhav|politie|gemeente|controle|buren)|(wanneer|hoe vaak|welke dagen|welke tijden|welke uren|op welke momenten|hoe laat)[^.?!]{0,40}(geen|minder|niet) (controle|gecontroleerd|handhav)|\bzonder (dat (het|het iets|iemand|ze|hij|zij) )?(op te vallen|opvalt|opvallen|gezien te worden|gezien wordt)\b|\bvoordat (het|de politie|de gemeente|iemand|de buren|handhaving) (iets )?(opvalt|merkt|ziet|doorheeft)\b|\b(ongemerkt|onopvallend|onopgemerkt)\b|\b(handhav\w*|boa'?s|controleurs|toezichthouders|politie)\b[^?]{0,30}\b(niet|geen|nooit) (werken|werkt|aanwezig|controleren|controleert|in dienst|dienst hebben)\b|\b(welke|wanneer|hoe laat)\b[^?]{0,30}\b(werken|werkt|controleren|controleert)\b[^?]{0,30}\b(handhav\w*|boa'?s|controleurs|toezichthouders)\b[^?]{0,15}\b(niet|nooit)\b|\b(zodat|zonder dat|voordat|als)\b (de |het |een |mijn |onze )?\w+ (het |er |dat )?(niet|niks|niets|nooit) (ziet|zien|merkt|merken|doorheeft|doorhebben|ontdekt|ontdekken|opvalt|klaagt|klagen)\b|\b(als|zolang) niemand (het |er )?(ziet|merkt|klaagt|doorheeft|iets zegt)\b|\b(pas later|later pas|pas achteraf|achteraf pas)\b[^?]{0,30}\w*(vergunning|melding)\b|\bachteraf\b[^?]{0,20}\w*(vergunning|melding)\b[^?]{0,15}\b(aanvragen|aanvraag|doen|regelen)\b|\bzonder\b[^?]{0,30}\w*(vergunning|melding)\b[^?]{0,40}\bzonder (een )?(boete|straf)\b`)},
	{intent: Unlawful, reason: "dumping", re: regexp.MustCompile(`\b(dump|dumpen|dumpt|dumpte|dumpten|gedumpt)\b|(afval|puin|bouwafval|asbest|troep)[^.?!]{0,40}\b(in de natuur|in het bos|in de sloot|langs de weg|in de berm)\b|illegaal (storten|lozen|afval)` +
		// Anything thrown into water, nature or the roadside: "mijn oude
		// koelkast in de sloot gooien".
		`|\b(` + throwAway + `)\b[^.?!]{0,30}\b(` + intoTheWild + `)\b` +
		`|\b(` + intoTheWild + `)\b[^.?!]{0,20}\b(` + throwAway + `|kwijt|verdwijnen)\b` +
		// "… kwijt in de natuur", "… in de vaart laten verdwijnen", "welk
		// stuk bos is rustig genoeg om het te storten", chemicals down the
		// drain.
		`|\b(kwijt|kwijtraken|verdwijnen)\b[^.?!]{0,30}\b(` + intoTheWild + `)\b` +
		`|\b(waar|welk|welke|hoe)\b[^?]{0,60}\b(bos|natuur|sloot|berm|vaart|plas|weiland|buitengebied|heide)\b[^.?!]{0,50}\b(storten|dumpen|lozen|achterlaten|kwijt|gooien)\b` +
		`|\b(chemicalien|chemisch afval|olie|verf|oplosmiddel\w*|afvalwater)\b[^.?!]{0,40}\b(in|door) (het |de )?(riool|gootsteen|toilet|wc|put|sloot)\b[^.?!]{0,20}\b(lozen|gooien|spoelen|gieten)\b|\b(lozen|gooien|spoelen|gieten)\b[^.?!]{0,20}\b(chemicalien|chemisch afval|olie|verf|oplosmiddel\w*)` +
		// Leaving waste somewhere without paying, or burning it.
		`|\b(achterlaten|achter te laten|dumpen|neerzetten|neer te zetten|lozen|storten)\b[^?]{0,40}\bzonder (te betalen|betalen|kosten)\b|\b(hoe|kan ik|manier|het beste|zodat)\b[^?]{0,50}\b(verbrand|verbranden|verbrandt|stoken|opstoken|in de fik)\b[^?]{0,40}\b(afval|bouwafval|plastic|banden|puin|autobanden|matras)|\b(hoe|kan ik|manier|het beste)\b[^?]{0,50}\b(afval|bouwafval|plastic|banden|puin|autobanden)\b[^?]{0,30}\b(verbranden|verbrand|stoken|opstoken)\b`), unless: reporting},
	{intent: Unlawful, reason: "dangerous-making", re: regexp.MustCompile(`(zelf|thuis|eigen)[^.?!]{0,20}\b(vuurwerk|explosie\w*|bom|wapen)\w* (maken|bouwen|in elkaar)|(vuurwerk|cobra|explosie\w*|bom)[^.?!]{0,20}\b(zelf )?(maken|bouwen|ombouwen)\b|\b(maak|maken|bouw|bouwen) (ik|je|we|jij)? ?(zelf|thuis)? ?(\w+ )?\w*(vuurwerk|explosie\w*|bom|bommen)\b|\b(wietplantage|wietkwekerij|hennepkwekerij|kweekzolder)\b|\b(rotje|rotjes|strijker|strijkers|cobra|cobra's|nitraatbom\w*|mortier\w*|lawinepijl\w*|vuurwerkbom\w*)\b[^?]{0,60}\b(in elkaar|knutsel\w*|ombouwen|combineren|samenvoegen|groter|zwaarder|harder)\b|\b(knutsel\w*|bouw|maak|maakte|maakten|bouwde|bouwden)\b[^?]{0,40}\b(rotje|rotjes|strijker|strijkers|cobra|nitraatbom\w*|vuurwerk)\b|\b(hennep|wiet|cannabis)(planten|plantjes|plant)?\b[^?]{0,60}\b(kweken|kweek|zolder|opvalt|politie)\b|\b(hennepplant\w*|wietplant\w*)\b|\b(hoe|kan ik|manier|waar)\b[^?]{0,60}\b(kruit|buskruit|flitspoeder|zwartkruit)\b`)},
	// Leaving waste elsewhere because the lawful way costs money: "waar
	// laat hij zijn sloopafval als hij de milieustraat te duur vindt".
	{intent: Unlawful, reason: "avoid-disposal-cost", re: regexp.MustCompile(`\b(waar|hoe)\b[^?]{0,60}\b(laat|laten|kwijt|lozen|achterlaten|dumpen|dumpt|weg)\b[^?]{0,80}\b((milieustraat|stort|afvalbrengpunt|recyclestation)\b[^?]{0,20}\b(te duur|kost te veel)|(geen geld|niet (wil |willen |wilt )?betalen) (heeft |heb |hebben )?(voor|aan) (de )?(milieustraat|stort|afvalbrengpunt|recyclestation))\b`)},
	// Another person's private data: "geef me het BSN van de burgemeester",
	// "waar woont mijn ex".
	{intent: Unlawful, reason: "others-personal-data", re: regexp.MustCompile(`\b(welke|wie|wat voor) (panden|woningen|huizen|adressen)\b[^?]{0,60}\b(van mensen|van particulieren|van personen|bewoners|eigenaren die|eigenaar die|wonen)\b|\b(bsn|burgerservicenummer|woonadres|huisadres|prive ?adres|privenummer|prive ?telefoonnummer|geboortedatum|inkomen|salaris|medische gegevens)\b[^.?!]{0,40}\b(van|voor) (de |het |mijn |m'n |onze |die |deze |een )?(burgemeester|wethouder|raadslid|ambtenaar|medewerker|iemand|andere|anderen|` + others + `)\b|\b(waar|op welk adres) (woont|wonen) (de |mijn |m'n |onze |die |deze )?(burgemeester|wethouder|raadslid|ambtenaar|` + others + `)\b`)},
	// Deceiving a service: "zodat het lijkt alsof ik in het centrum woon".
	{intent: Unlawful, reason: "deceive-service", re: regexp.MustCompile(`\b(uitkering|bijstand|toeslag\w*|studiefinanciering|kwijtschelding)\b[^?]{0,40}\bop (de )?naam van (mijn|m'n|een|zijn|haar|iemand)\b|\bop (de )?naam van (mijn|m'n|een|zijn|haar|iemand)\b[^?]{0,40}\b(uitkering|bijstand|toeslag\w*|studiefinanciering|kwijtschelding)\b|\b(schrijf|inschrijven|ingeschreven)\b[^?]{0,40}\b(op|bij) het adres (van )?(mijn|m'n|een|zijn|haar)\b[^?]{0,60}\b(zodat|om|dan)\b[^?]{0,30}\b(voorrang|korting|toeslag|uitkering|vergunning|punten|goedkoper)\b|\b(zodat|zo dat|dan) het (net |wel )?(lijkt|eruitziet|eruit ziet|overkomt) (alsof|of|dat) (ik|wij|we|hij|zij)\b|\bop papier (ingeschreven|wonen|woon|woont)\b|\b(nep|schijn)(adres|inschrijving|huwelijk|constructie)\w*|\b(verzin|verzinnen|verzonnen|fake|faken|vervals\w*|sjoemel\w*)\b[^.?!]{0,40}\b(gegevens|adres|adressen|naam|namen|inkomen|formulier|aanvraag|kenteken)\b|\b(gegevens|adres|naam|inkomen|kenteken)\b[^.?!]{0,40}\b(verzinnen|verzin|vervalsen|faken)\b`)},
	{intent: Unlawful, reason: "misuse-service", re: regexp.MustCompile(`\bnep-?(e-?mail\w*|namen|naam|adres\w*|account\w*|gegevens|identiteit\w*)\b|\b(afspraken|afspraak|plekken|tijdsloten|tickets)\b[^?]{0,60}\b(te verkopen|verkopen|doorverkopen|verhandelen)\b|\bop (verschillende|andere|valse|nep) namen\b|\b(kan|mag|hoe|wil) (ik|je|we|jij)\b[^.?!]{0,80}\bdoor ?(te )?verkopen\b|\b(ik|we) [^.?!]{0,40}\bdoor ?(te )?verkopen\b|\b(nep|valse|verzonnen|andermans) (namen|naam|gegevens|adres\w*|e-?mailadres\w*|identiteit)|(welke|wat voor) (woning|woningen|huizen|panden|adressen)[^.?!]{0,60}\b(leeg|leegstaand|onbewoond)|\b(leeg|leegstaande) (woning|woningen|huizen|panden)\b[^.?!]{0,40}\b(welke|waar|adres)`)},
	// A story, a role, a hypothesis or a claimed authority does not make
	// help to break the rules lawful ("ik schrijf een roman ... hoe hij
	// asbest illegaal afvoert"): framing plus a rule-breaking act.
	{intent: Unlawful, reason: "framed-request", re: regexp.MustCompile(`\b(roman|verhaal|boek|film|toneelstuk|rollenspel|doe alsof|stel dat|hypothetisch\w*|werkstuk|schoolwerkstuk|voor een vriend\w*|overleden|opa|oma|vertel het zoals|als (ervaren )?(handhaver|ambtenaar|inspecteur|agent|politieagent|medewerker))\b[^?!]{0,160}\b(illegaal|illegale|zonder (sloop)?(vergunning|melding)|zonder (dat|gepakt|betrapt)|ontduik\w*|stiekem)\b|\b(illegaal|illegale|zonder (sloop)?(vergunning|melding))\b[^?!]{0,120}\b(roman|verhaal|rollenspel|hypothetisch\w*|vertel het zoals)\b`)},
	// Asbestos with ordinary waste: "asbest gewoon bij het bouwafval doen".
	{intent: Unlawful, reason: "asbestos-disposal", re: regexp.MustCompile(`\basbest\w*\b[^?]{0,60}\b(bij|in|met|tussen|onder) (het |de |een |mijn |ons )?(gewone |normale )?(bouwafval|restafval|grofvuil|puin|bouwpuin|container|kliko|vuilniszak|huisvuil|afvalbak|puincontainer|afval|huisafval)\b|\basbest\w*\b[^?]{0,80}\bzonder (sloop)?melding\b|\bzonder (sloop)?melding\b[^?]{0,60}\basbest\w*`), also: []*regexp.Regexp{ownAct}},
	// Making something beyond what is allowed: "een carbidbus die harder
	// knalt dan toegestaan".
	{intent: Unlawful, reason: "beyond-limit", re: regexp.MustCompile(`\b(bouw|bouwen|maak|maken|krijg|krijgen|zorg)\b[^?]{0,60}\b(harder|zwaarder|groter|hoger|sterker|luider|meer|verder)\b[^?]{0,25}\bdan (is |wettelijk )?(toegestaan|mag|de regels toestaan|de norm)\b`)},
	// Dodging a duty: "hoe ontduik ik de hondenbelasting".
	{intent: Unlawful, reason: "evade-duty", re: regexp.MustCompile(`\b(hoe|waarmee|manier|tips?|kan ik|kun je|kunnen we|wil ik|help me)\b[^?]{0,50}\b(ontduik|ontduiken|ontloop|ontlopen|ontwijk|ontwijken)\b[^.?!]{0,50}\b(\w*belasting\w*|\w*heffing\w*|boete\w*|leges|parkeergeld|plicht\w*|inschrijving|aangifte|melding\w*|controle\w*)\b|\b(hoe|waarmee|manier|tips?|kan ik|kun je|kunnen we|wil ik|help me)\b[^?]{0,50}\b(\w*belasting\w*|\w*heffing\w*|boete\w*|leges|parkeergeld)\b[^.?!]{0,30}\b(ontduiken|ontlopen|ontwijken)\b|\bontduik (ik|we)\b`)},
	{intent: Unlawful, reason: "evade-enforcement", re: regexp.MustCompile(`\b(controle\w*|controleert|handhav\w*|gecontroleerd)\b[^.?!]{0,60}\b(en )?(wanneer|waar|hoe laat|op welke dagen) (niet|nooit)\b`)},
	{intent: OffRemit, reason: "opinion", re: regexp.MustCompile(`\bwat (vind|denk) (jij|je)\b[^.?!]{0,40}\b(van|over)\b|\b(jouw|je) (eigen )?(mening|oordeel|standpunt|voorkeur)\b|\b(op|voor) (wie|welke partij) (moet|zal|kan) ik (het beste )?stemmen\b|\bwelke partij (is (het )?beste|moet ik kiezen)\b`)},
	{intent: OffRemit, reason: "own-text", re: regexp.MustCompile(`^\s*(schrijf|maak|verzin|dicht|componeer)( (me|mij|ons))? (een|nog een) (gedicht|verhaal|verhaaltje|lied|liedje|songtekst|mop|grap|rap|haiku|limerick|sprookje)\b|\bvertel (me |mij |ons )?(een|nog een) (mop|grap|verhaaltje|sprookje)\b`)},
	// Someone else's login: "de DigiD van mijn moeder", "zijn DigiD-
	// wachtwoord", said by the resident who wants to use it.
	{intent: BorrowedLogin, reason: "borrowed-login", re: regexp.MustCompile(`\b(` + credentials + `)\b(\s+\S+){0,2}\s+van\s+(mijn|m'n|onze|ons|zijn|haar|hun|iemand|een ander|anderen)\b|\b(zijn|haar|hun) (` + credentials + `)\b`), also: []*regexp.Regexp{firstPerson, loginVerb}},
	{intent: Verdict, reason: "own-entitlement", re: regexp.MustCompile(`\b(heb|hebben|krijg|kom) (ik|wij|we)\b[^.?!]{0,30}\b(recht op|in aanmerking)\b`)},
	// "Dat hoef ik toch niet door te geven?": a hoped-for answer on the
	// resident's own duty.
	{intent: Verdict, reason: "own-obligation", re: regexp.MustCompile(`\b(dat|dit|het|die|deze) (hoef|hoeven) (ik|wij|we) (toch |dus |ook |eigenlijk )?niet\b|\b(dat|dit|het) (hoef|hoeft|hoeven|moet|mag) toch\b|\b(hoef|hoeven|moet|moeten|mag|mogen) (ik|wij|we)\b[^.?!]{0,40}\btoch\b|\b(ik|wij|we) (hoef|hoeven|moet|moeten|mag|mogen)\b[^.?!]{0,40}\btoch\b[^.!]*\?`)},
	// "…, dat is toch prima?", "dat kan toch gewoon?": the resident asks
	// for a blessing of their own situation, not for a fact.
	{intent: Verdict, reason: "own-confirmation", re: regexp.MustCompile(`\b(dat|dit|het) is toch( wel| gewoon| ook| zeker)? (prima|goed|oke|ok|geen probleem|toegestaan|in orde|niet erg|normaal|legaal|niet verboden|niet strafbaar|geen overtreding|mogelijk)\b|\b(dat|dit|het) kan toch( wel| gewoon| zomaar| ook)?\s*\?`)},
	{intent: Verdict, reason: "judge-third-party", re: regexp.MustCompile(`\b(mijn|m'n|onze|de) (` + others + `)\b[^.?!]{0,120}\b(mag|mogen) (dat|dit|hij|zij|ze|die)\b|\b(is|was) (dat|dit|het|hij|zij|die)[^.?!]{0,25}\b(illegaal|legaal|verboden|strafbaar|toegestaan)\b|\b(mag|mogen) (hij|zij|mijn buurman|mijn buurvrouw|de buren)\b`)},
	{intent: Verdict, reason: "moral-judgement", re: regexp.MustCompile(`\b(moreel|ethisch)\b|\b(is het|vind je( het| dat)?|vindt u( het| dat)?|was het)( dan| wel| niet| echt| erg| heel| zo)* (oke|ok|goed|fout|verkeerd|slecht|egoistisch|gemeen|asociaal|laf|netjes)( van (me|mij|ons))?\b[^.?!]{0,10}\b(om|als|dat)\b|\bben ik (dan )?(een )?(slecht|slechte|egoistisch|egoistische|gemeen|gemene|asociaal|asociale|laf|laffe|fout|foute)\b`)},
	{intent: Verdict, reason: "yes-or-no", re: yesOrNo},
}

// yesOrNo matches a demand for a bare yes or no ("zeg gewoon ja of nee",
// "geef me een simpel ja of nee", "alleen ja/nee graag"); CaseTopic drops
// it from the topic.
var yesOrNo = regexp.MustCompile(`\b(zeg|antwoord|geef|graag|alleen|gewoon|simpel|simpele|kort|kortweg|enkel|uitsluitend)\b[^.?!:]{0,25}\b(ja of nee|ja\/nee|nee of ja)\b|\b(ja of nee|ja\/nee)\s*(graag|alsjeblieft|aub|a\.u\.b\.)?\s*[:.!]`)

// Classify returns the intent of a question and the rule that decided it.
// Unlawful wins over the others; the first other rule that matches decides.
func Classify(question string) (Intent, string) {
	q := normalise(question)
	best, reason := Inform, ""
	for _, r := range policyRules {
		if !r.matches(q) {
			continue
		}
		if r.reason == "others-personal-data" {
			// Refused like unlawful help, but with why (privacy) and
			// what the resident can do instead.
			return OthersData, r.reason
		}
		if r.intent == Unlawful {
			return Unlawful, r.reason
		}
		if best == Inform {
			best, reason = r.intent, r.reason
		}
	}
	return best, reason
}

// normalise lower-cases and folds diacritics so rules are written once.
func normalise(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("é", "e", "ë", "e", "è", "e", "ï", "i", "ö", "o", "ü", "u", "á", "a", "à", "a", "’", "'").Replace(s)
}

// RefuseUnlawful returns the refusal for a request for unlawful help, in
// req.Lang: it points to the lawful route when the sources have a page on
// the topic (the best passage: a gemeente or Rijksoverheid page describes
// how it is done properly, "Slopen en asbest verwijderen: sloopmelding"),
// then to the gemeente.
func RefuseUnlawful(req Request) Answer {
	h := NewHandoff(req.Referral, req.Lang)
	m := textsFor(req.Lang)
	a := Answer{Text: m.Unlawful, Mode: ModeRefuse, Citations: []Citation{}, Refused: true, Handoff: &h}
	if len(req.Passages) > 0 {
		p := req.Passages[0]
		a.Citations = append(a.Citations, citationOf(p))
		a.Text += " " + fmt.Sprintf(m.Lawful, p.Title) + " [1]"
	}
	a.Text += " " + h.Message
	return a
}

// AnswerBorrowedLogin answers a question about logging in as someone else,
// in req.Lang: that is not allowed, and the page of the sources on
// authorisation (the first passage that speaks of machtigen) says how it
// is done properly. Without such a page it is the refusal of unlawful
// help.
func AnswerBorrowedLogin(req Request) Answer {
	for _, p := range req.Passages {
		if !strings.Contains(normalise(p.Title+" "+p.Section+" "+p.Text), "machtig") {
			continue
		}
		m := textsFor(req.Lang)
		return Answer{
			Text:       m.BorrowedLogin + " " + fmt.Sprintf(m.Lawful, p.Title) + " [1]",
			Mode:       ModeAnswer,
			Citations:  []Citation{citationOf(p)},
			Confidence: 1,
		}
	}
	return RefuseUnlawful(req)
}

// RefuseOthersData refuses a request for another person's personal data,
// in req.Lang: why (privacy), what the resident can do instead, and the
// referral. It cites nothing: no page makes the request lawful.
func RefuseOthersData(req Request) Answer {
	h := NewHandoff(req.Referral, req.Lang)
	return Answer{Text: textsFor(req.Lang).OthersData + " " + h.Message, Mode: ModeRefuse, Citations: []Citation{}, Refused: true, Handoff: &h}
}

// RefuseInjection answers an attempt to change or reveal the assistant's
// instructions, in req.Lang: what it does instead.
func RefuseInjection(req Request) Answer {
	name := req.Referral.Name
	if name == "" {
		name = textsFor(req.Lang).Gemeente
	}
	return Answer{Text: fmt.Sprintf(textsFor(req.Lang).Injection, name), Mode: ModeRefuse, Citations: []Citation{}, Refused: true}
}

// RefuseOffRemit returns the answer to a request the assistant does not
// serve (an opinion, a text of its own), in req.Lang: what it does do.
func RefuseOffRemit(req Request) Answer {
	name := req.Referral.Name
	if name == "" {
		name = textsFor(req.Lang).Gemeente
	}
	return Answer{Text: fmt.Sprintf(textsFor(req.Lang).OffRemit, name), Mode: ModeRefuse, Citations: []Citation{}, Refused: true}
}

// WithoutVerdict adds to an answer on a resident's own case that the
// gemeente decides, and how to reach it.
func WithoutVerdict(a Answer, req Request) Answer {
	return withReferral(a, req, textsFor(req.Lang).Verdict)
}

// WithoutGuarantee adds to an answer on how the resident's case will end
// that nobody can promise the outcome, and how to reach the gemeente.
func WithoutGuarantee(a Answer, req Request) Answer {
	return withReferral(a, req, textsFor(req.Lang).NoGuarantee)
}

// withReferral appends note and the referral to a.
func withReferral(a Answer, req Request, note string) Answer {
	h := NewHandoff(req.Referral, req.Lang)
	a.Text = strings.TrimSpace(a.Text + " " + note + " " + h.Message)
	if a.Handoff == nil {
		a.Handoff = &h
	}
	return a
}
