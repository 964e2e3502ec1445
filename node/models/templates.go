package models

import (
	"embed"
	"errors"
	"fmt"
	"github.com/assistent-nl/assistent/node/policy"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/assistent-nl/assistent/node/answer"
)

// Template names.
const (
	// TemplateAnswer is the prompt that answers a resident's question from
	// passages. Its data: .Gemeente, .Lang, .RefusalMarker, .N (number of
	// passages), .Passages (the rendered <bron> blocks) and .Question (the
	// rendered <vraag> block).
	TemplateAnswer = "answer"
	// TemplateRewrite is the prompt that turns a follow-up question into a
	// standalone search question. Its data: .Gemeente, .Lang, .History (the
	// rendered <eerdere_vragen> block) and .FollowUp (the rendered
	// <vervolgvraag> block).
	TemplateRewrite = "rewrite"
	// TemplatePolicy is the prompt of the policy judge: it names the
	// intent of a resident's message (node/policy's labels). Its data:
	// .Gemeente, .Lang, .Labels (the labels, comma-separated) and
	// .Question (the rendered <bericht> block).
	TemplatePolicy = "policy"
)

// MaxTemplateSize bounds the body of a template.
const MaxTemplateSize = 16 << 10

// ErrInvalidTemplate is wrapped by every error of a template refused at
// load.
var ErrInvalidTemplate = errors.New("invalid prompt template")

// Template is a named, versioned prompt in Go text/template syntax.
//
// Body defines the messages as {{define "system"}}…{{end}} and
// {{define "user"}}…{{end}}. A body without these definitions is the system
// message alone, and the built-in user message of Name is used with it.
// The data blocks (.Passages, .Question, .History, .FollowUp) are rendered
// and escaped by the engine: a template places them but cannot change what
// is inside the data markers. The user message must contain every data
// block of its kind exactly as rendered, an answer prompt must mention
// .RefusalMarker, and the system message must contain no data block. A
// body is at most MaxTemplateSize bytes and may not use {{range}},
// {{template}}, {{block}} or the functions that cut or reformat values
// (slice, index, print, printf, println, call, html, js, urlquery).
type Template struct {
	Name    string // TemplateAnswer, TemplateRewrite or TemplatePolicy
	Version string // e.g. "answer-nl-3"; carried by every rendered prompt
	Lang    string // "nl", "en", or "" for every language without its own
	Body    string
	// Origin says where the template comes from, for staff to see
	// (OriginBuiltin, OriginConfig, OriginFederation, OriginLocal; ""
	// reads as OriginConfig). It does not change how it renders.
	Origin string
}

// Where a template or route comes from (Template.Origin, Route.Origin).
const (
	OriginBuiltin    = "builtin"    // embedded in the binary
	OriginConfig     = "config"     // the node's config file
	OriginFederation = "federation" // the federation's registry
	OriginLocal      = "local"      // an override staff made in the beheerportaal
)

// TemplateError is a template refused at load: Field names what is wrong
// ("name", "lang", "version" or "body"). It wraps ErrInvalidTemplate.
type TemplateError struct {
	Field string
	err   error
}

func (e *TemplateError) Error() string { return e.err.Error() }
func (e *TemplateError) Unwrap() error { return e.err }

// invalidTemplate returns a *TemplateError for field, with the message
// format and args after ErrInvalidTemplate's.
func invalidTemplate(field, format string, args ...any) error {
	return &TemplateError{Field: field, err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidTemplate}, args...)...)}
}

// Rendered is a prompt ready to send, with the template that made it.
type Rendered struct {
	Name     string
	Version  string
	Messages []Message
	// Skipped is non-nil when the selected template failed at render time
	// (or dropped a data block for this input): the built-in template was
	// used instead, and Version is the built-in's.
	Skipped error
}

// ID returns "name@version", the prompt's trace in logs and metrics.
func (r Rendered) ID() string { return r.Name + "@" + r.Version }

// parsed is a validated template.
type parsed struct {
	Template
	tmpl *template.Template
}

// Templates is an immutable set of templates by name and language. It is
// safe for concurrent use.
type Templates struct {
	byKey map[string]*parsed // name + "\x00" + lang
}

//go:embed prompts/*.tmpl
var builtinFS embed.FS

// builtinVersions are the versions of the embedded templates; change one
// with every change to its text.
var builtinVersions = map[string]string{
	TemplateAnswer:  PromptVersion,
	TemplateRewrite: "rewrite-nl-1",
	TemplatePolicy:  "policy-nl-1",
}

// builtin parses the embedded templates once; they are fixed at build
// time, so the result never changes.
var builtin = sync.OnceValue(func() *Templates {
	t := &Templates{byKey: map[string]*parsed{}}
	for _, name := range []string{TemplateAnswer, TemplateRewrite, TemplatePolicy} {
		body, err := builtinFS.ReadFile("prompts/" + name + ".tmpl")
		if err != nil {
			panic(fmt.Sprintf("models: embedded template %s: %v", name, err))
		}
		p, err := compile(Template{Name: name, Version: builtinVersions[name], Body: string(body), Origin: OriginBuiltin}, nil)
		if err != nil {
			panic(fmt.Sprintf("models: embedded template %s: %v", name, err))
		}
		t.byKey[key(name, "")] = p
	}
	return t
})

// Builtin returns the embedded Dutch templates "answer" (PromptVersion)
// and "rewrite", for every language.
func Builtin() *Templates { return builtin() }

func key(name, lang string) string { return name + "\x00" + lang }

// With returns a new set with overrides replacing the templates of the
// same name and language; t is unchanged. An override for every language
// (Lang "") replaces all of t's templates of its name, whatever their
// language: a tenant's own template is not undercut by a language-specific
// one it inherited. An override is parsed and validated first (see
// Template); the first that fails gives an error naming it and wrapping
// ErrInvalidTemplate.
func (t *Templates) With(overrides ...Template) (*Templates, error) {
	out := &Templates{byKey: maps.Clone(t.byKey)}
	for _, o := range overrides {
		if o.Lang != "" {
			continue
		}
		for k, p := range t.byKey {
			if p.Name == o.Name {
				delete(out.byKey, k)
			}
		}
	}
	for i, o := range overrides {
		p, err := compile(o, Builtin())
		if err != nil {
			lang := o.Lang
			if lang == "" {
				lang = "*"
			}
			return nil, fmt.Errorf("template %d (%s/%s %s): %w", i, o.Name, lang, o.Version, err)
		}
		out.byKey[key(o.Name, o.Lang)] = p
	}
	return out, nil
}

// Lookup returns the template used for name in lang: the one for lang,
// else the one for every language.
func (t *Templates) Lookup(name, lang string) (Template, bool) {
	p := t.lookup(name, lang)
	if p == nil {
		return Template{}, false
	}
	return p.Template, true
}

func (t *Templates) lookup(name, lang string) *parsed {
	if p, ok := t.byKey[key(name, lang)]; ok {
		return p
	}
	return t.byKey[key(name, "")]
}

// All returns every template of the set, sorted by name and language.
func (t *Templates) All() []Template {
	out := make([]Template, 0, len(t.byKey))
	for _, k := range slices.Sorted(maps.Keys(t.byKey)) {
		out = append(out, t.byKey[k].Template)
	}
	return out
}

// Versions returns "name/lang" → version for every template in the set
// ("answer/" is the one for every language).
func (t *Templates) Versions() map[string]string {
	out := make(map[string]string, len(t.byKey))
	for _, p := range t.byKey {
		out[p.Name+"/"+p.Lang] = p.Version
	}
	return out
}

// answerData is the data of an answer template.
type answerData struct {
	Gemeente      string
	Lang          string
	RefusalMarker string
	N             int
	Passages      string
	Question      string
	// Topic is the question reduced to its topic (<onderwerp>…</onderwerp>)
	// when the resident asks about their own case, else "".
	Topic string
}

// rewriteData is the data of a rewrite template.
type rewriteData struct {
	Gemeente string
	Lang     string
	History  string
	FollowUp string
}

// policyData is the data of a policy template.
type policyData struct {
	Gemeente string
	Lang     string
	Labels   string
	Question string
}

// blocks returns the data blocks a template of name must place in the
// user message, for data.
func blocks(data any) []string {
	switch d := data.(type) {
	case answerData:
		return []string{d.Passages, d.Question}
	case rewriteData:
		return []string{d.History, d.FollowUp}
	case policyData:
		return []string{d.Question}
	}
	return nil
}

// Answer renders the answer prompt for req in req.Lang: the system message
// with the rules, then one user message with the passages, each as
// <bron n="1" titel="…" url="…">…</bron> with markup in it escaped, and the
// question as <vraag>…</vraag>. Passage n is req.Passages[n-1].
func (t *Templates) Answer(req answer.Request) Rendered {
	name := req.Referral.Name
	if strings.TrimSpace(name) == "" {
		name = defaultName
	}
	lang := req.Lang
	if lang == "" {
		lang = "nl"
	}
	return t.render(TemplateAnswer, lang, answerData{
		Gemeente:      escapeText(name),
		Lang:          lang,
		RefusalMarker: RefusalMarker,
		N:             len(req.Passages),
		Passages:      sourceBlocks(req.Passages),
		Question:      "<vraag>" + escapeText(strings.TrimSpace(req.Question)) + "</vraag>",
		Topic:         topicBlock(req),
	})
}

// topicBlock renders the topic of a question on the resident's own case
// (its Focus, else the question itself), or "" for other questions (whose
// Focus, if any, is only for scoring).
func topicBlock(req answer.Request) string {
	if !req.PersonalCase {
		return ""
	}
	topic := strings.TrimSpace(req.Focus)
	if topic == "" {
		topic = strings.TrimSpace(req.Question)
	}
	return "<onderwerp>" + escapeText(topic) + "</onderwerp>"
}

// Rewrite renders the rewrite prompt for the previous questions (oldest
// first) and a follow-up, for the gemeente named gemeente ("" for a
// generic name).
func (t *Templates) Rewrite(gemeente string, history []string, followUp string) Rendered {
	if strings.TrimSpace(gemeente) == "" {
		gemeente = defaultName
	}
	var b strings.Builder
	b.WriteString("<eerdere_vragen>\n")
	for _, q := range history {
		if q = strings.TrimSpace(q); q != "" {
			b.WriteString("<vraag>" + escapeText(strings.Join(strings.Fields(q), " ")) + "</vraag>\n")
		}
	}
	b.WriteString("</eerdere_vragen>")
	return t.render(TemplateRewrite, "nl", rewriteData{
		Gemeente: escapeText(gemeente),
		Lang:     "nl",
		History:  b.String(),
		FollowUp: "<vervolgvraag>" + escapeText(strings.Join(strings.Fields(followUp), " ")) + "</vervolgvraag>",
	})
}

// Policy renders the policy judge's prompt for a scrubbed question, for the
// gemeente named gemeente ("" for a generic name).
func (t *Templates) Policy(gemeente, question string) Rendered {
	if strings.TrimSpace(gemeente) == "" {
		gemeente = defaultName
	}
	labels := make([]string, len(policy.Intents))
	for i, c := range policy.Intents {
		labels[i] = string(c)
	}
	return t.render(TemplatePolicy, "nl", policyData{
		Gemeente: escapeText(gemeente),
		Lang:     "nl",
		Labels:   strings.Join(labels, ", "),
		Question: "<bericht>" + escapeText(strings.Join(strings.Fields(question), " ")) + "</bericht>",
	})
}

// render executes the template for name and lang, falling back to the
// built-in one when it fails for this data.
func (t *Templates) render(name, lang string, data any) Rendered {
	p := t.lookup(name, lang)
	if p == nil {
		p = Builtin().lookup(name, lang)
	}
	msgs, err := p.execute(data)
	if err == nil {
		return Rendered{Name: p.Name, Version: p.Version, Messages: msgs}
	}
	b := Builtin().lookup(name, lang)
	msgs, berr := b.execute(data)
	if berr != nil {
		// The embedded templates are tested for every kind of data.
		panic(fmt.Sprintf("models: built-in template %s: %v", name, berr))
	}
	return Rendered{Name: b.Name, Version: b.Version, Messages: msgs,
		Skipped: fmt.Errorf("template %s/%s %s: %w", p.Name, p.Lang, p.Version, err)}
}

// execute renders the system and user messages and checks that the data
// blocks are in the user message, unchanged, and not in the system
// message.
func (p *parsed) execute(data any) ([]Message, error) {
	var sys, user strings.Builder
	if err := p.tmpl.ExecuteTemplate(&sys, "system", data); err != nil {
		return nil, fmt.Errorf("render system message: %w", err)
	}
	if err := p.tmpl.ExecuteTemplate(&user, "user", data); err != nil {
		return nil, fmt.Errorf("render user message: %w", err)
	}
	s, u := strings.TrimSpace(sys.String()), strings.TrimSpace(user.String())
	for _, b := range blocks(data) {
		if b == "" {
			continue
		}
		if !strings.Contains(u, b) {
			return nil, errors.New("the user message lacks a data block (.Passages, .Question, .History or .FollowUp) or changes it")
		}
		if strings.Contains(s, b) {
			return nil, errors.New("the system message must not contain a data block")
		}
	}
	if d, ok := data.(answerData); ok && !strings.Contains(s+u, d.RefusalMarker) {
		return nil, errors.New("the prompt must name the refusal marker {{.RefusalMarker}}")
	}
	return []Message{{Role: "system", Content: s}, {Role: "user", Content: u}}, nil
}

// restricted replaces the builtin functions that could cut or reshape a
// data block; a template only places the blocks.
var restricted = template.FuncMap{
	"slice":    refuse("slice"),
	"printf":   refuse("printf"),
	"print":    refuse("print"),
	"println":  refuse("println"),
	"index":    refuse("index"),
	"call":     refuse("call"),
	"html":     refuse("html"),
	"js":       refuse("js"),
	"urlquery": refuse("urlquery"),
}

func refuse(name string) func(...any) (string, error) {
	return func(...any) (string, error) {
		return "", fmt.Errorf("function %s is not available in prompt templates", name)
	}
}

// compile validates tpl and compiles it. base gives the built-in user
// message for a body that defines only the system message; nil for the
// built-ins themselves.
func compile(tpl Template, base *Templates) (*parsed, error) {
	switch {
	case tpl.Name != TemplateAnswer && tpl.Name != TemplateRewrite && tpl.Name != TemplatePolicy:
		return nil, invalidTemplate("name", "name: must be %q, %q or %q", TemplateAnswer, TemplateRewrite, TemplatePolicy)
	case !slices.Contains([]string{"", "nl", "en"}, tpl.Lang):
		return nil, invalidTemplate("lang", "lang: must be \"nl\", \"en\" or empty")
	case strings.TrimSpace(tpl.Version) == "" || len(tpl.Version) > 64 || strings.ContainsAny(tpl.Version, " \t\r\n"):
		return nil, invalidTemplate("version", "version: must be 1 to 64 characters without spaces")
	case strings.TrimSpace(tpl.Body) == "":
		return nil, invalidTemplate("body", "body: must not be empty")
	case len(tpl.Body) > MaxTemplateSize:
		return nil, invalidTemplate("body", "body: %d bytes, at most %d allowed", len(tpl.Body), MaxTemplateSize)
	}
	t, err := template.New(tpl.Name).Option("missingkey=error").Funcs(restricted).Parse(tpl.Body)
	if err != nil {
		return nil, invalidTemplate("body", "parse: %w", err)
	}
	if base != nil {
		// Loops and template calls could make rendering endless; a prompt
		// needs neither.
		for _, d := range t.Templates() {
			if err := plain(d.Root); err != nil {
				return nil, invalidTemplate("body", "%s: %w", d.Name(), err)
			}
		}
	}
	hasSys, hasUser := t.Lookup("system") != nil, t.Lookup("user") != nil
	switch {
	case hasUser && !hasSys:
		return nil, invalidTemplate("body", "defines \"user\" but not \"system\"")
	case !hasSys:
		// The whole body is the system message.
		if _, err := t.New("system").Parse(tpl.Body); err != nil {
			return nil, invalidTemplate("body", "parse: %w", err)
		}
	}
	if !hasUser {
		if base == nil {
			return nil, invalidTemplate("body", "defines no \"user\" message")
		}
		user := base.lookup(tpl.Name, "").tmpl.Lookup("user")
		if _, err := t.AddParseTree("user", user.Tree); err != nil {
			return nil, invalidTemplate("body", "%w", err)
		}
	}
	p := &parsed{Template: tpl, tmpl: t}
	// Probe renders: the template must place every data block, unchanged,
	// for a few shapes of input.
	for _, data := range probes(tpl.Name) {
		if _, err := p.execute(data); err != nil {
			return nil, invalidTemplate("body", "%w", err)
		}
	}
	return p, nil
}

// plain reports an error for a range or a template call in the tree at n.
func plain(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := plain(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return errors.New("{{range}} is not allowed in prompt templates")
	case *parse.TemplateNode:
		return fmt.Errorf("{{template %q}} is not allowed in prompt templates", n.Name)
	case *parse.IfNode:
		return errors.Join(plain(n.List), plain(n.ElseList))
	case *parse.WithNode:
		return errors.Join(plain(n.List), plain(n.ElseList))
	}
	return nil
}

// probes returns sample data for a template of name, with marks in every
// field so that a dropped or cut block shows.
func probes(name string) []any {
	if name == TemplatePolicy {
		return []any{policyData{Gemeente: "Gemeente Proef", Lang: "nl", Labels: "benign, unlawful", Question: "<bericht>proefbericht</bericht>"}}
	}
	if name == TemplateRewrite {
		return []any{
			rewriteData{Gemeente: "Gemeente Proef", Lang: "nl",
				History:  "<eerdere_vragen>\n<vraag>proefvraag één</vraag>\n</eerdere_vragen>",
				FollowUp: "<vervolgvraag>en proef twee?</vervolgvraag>"},
			rewriteData{Gemeente: "de gemeente", Lang: "nl",
				History:  "<eerdere_vragen>\n</eerdere_vragen>",
				FollowUp: "<vervolgvraag>proef drie</vervolgvraag>"},
		}
	}
	var out []any
	for _, lang := range []string{"nl", "en"} {
		for _, n := range []int{1, 3} {
			ps := make([]answer.Passage, n)
			for i := range ps {
				ps[i] = answer.Passage{Title: fmt.Sprintf("Proef %d", i), URL: fmt.Sprintf("https://proef.example/%d", i), Text: fmt.Sprintf("Proeftekst %d.", i)}
			}
			out = append(out, answerData{Gemeente: "Gemeente Proef", Lang: lang, RefusalMarker: RefusalMarker, N: n,
				Passages: sourceBlocks(ps), Question: "<vraag>Proefvraag " + lang + "?</vraag>"})
		}
	}
	return out
}
