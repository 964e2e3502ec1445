package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin/audit"
)

// Models is what the portal uses of the node's prompt templates and model
// routes. A tenant's local overrides are applied over the node's config
// and the federation's at once, without a restart. An unknown override is
// an error wrapping ErrNotFound; a value the node refuses is a
// *FieldError.
type Models interface {
	// Models returns what the tenant's questions use now, where each part
	// comes from, and the tenant's overrides beside the values they
	// replace.
	Models(tenant string) (ModelsView, error)
	// PutTemplate stores t as the tenant's own template of its name and
	// language and applies it; old is the override it replaced, if any.
	PutTemplate(tenant, by string, t TemplateOverride) (old *TemplateOverride, err error)
	// DeleteTemplate removes the tenant's template override of name and
	// lang ("" for every language) and returns it.
	DeleteTemplate(tenant, name, lang string) (TemplateOverride, error)
	// PutRoute stores r as the tenant's own route for its task and
	// applies it; old is the override it replaced, if any.
	PutRoute(tenant, by string, r RouteOverride) (old *RouteOverride, err error)
	// DeleteRoute removes the tenant's route override for task and
	// returns it.
	DeleteRoute(tenant, task string) (RouteOverride, error)
}

// TemplateOverride is a tenant's own prompt template (Go text/template,
// see node/models.Template).
type TemplateOverride struct {
	Name    string    `json:"name"`
	Lang    string    `json:"lang"` // "nl", "en", or "" for every language
	Version string    `json:"version"`
	Body    string    `json:"body"`
	Updated time.Time `json:"updated,omitzero"`
	By      string    `json:"by,omitempty"`
}

// RouteOverride is a tenant's own model route for a task. It names the
// node's providers; their endpoints and keys are not the portal's to see.
type RouteOverride struct {
	Task           string    `json:"task"`
	Providers      []string  `json:"providers"`
	Timeout        string    `json:"timeout"` // a duration, "20s"; "" leaves it to the providers
	AllowedRegions []string  `json:"allowed_regions"`
	Updated        time.Time `json:"updated,omitzero"`
	By             string    `json:"by,omitempty"`
}

// Where a template or route comes from.
const (
	OriginBuiltin    = "builtin"
	OriginConfig     = "config"
	OriginFederation = "federation"
	OriginLocal      = "local"
)

// TemplateView is a prompt template the tenant's questions use.
type TemplateView struct {
	Name    string `json:"name"`
	Lang    string `json:"lang"`
	Version string `json:"version"`
	Origin  string `json:"origin"` // OriginBuiltin, OriginConfig, OriginFederation or OriginLocal
	Body    string `json:"body"`
}

// RouteView is the model route of a task for the tenant.
type RouteView struct {
	Task string `json:"task"`
	// AllTenants is true for the node's default route of the task, false
	// for the tenant's own.
	AllTenants     bool     `json:"all_tenants"`
	Providers      []string `json:"providers"`
	Timeout        string   `json:"timeout"`
	AllowedRegions []string `json:"allowed_regions"`
	Origin         string   `json:"origin"`
}

// ProviderView is a model provider a route may name.
type ProviderView struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Region string `json:"region,omitempty"`
}

// TemplateOverrideView is a local template override with the value it
// replaces. Active is false when the node could not apply it; Error says
// why.
type TemplateOverrideView struct {
	TemplateOverride
	Active   bool          `json:"active"`
	Error    string        `json:"error,omitempty"`
	Replaces *TemplateView `json:"replaces"`
}

// RouteOverrideView is a local route override with the route it replaces
// (nil: the task had none).
type RouteOverrideView struct {
	RouteOverride
	Active   bool       `json:"active"`
	Error    string     `json:"error,omitempty"`
	Replaces *RouteView `json:"replaces"`
}

// ModelsView is what a tenant's questions use: templates, routes and the
// providers they may name, with the local overrides.
type ModelsView struct {
	Templates         []TemplateView         `json:"templates"`
	Routes            []RouteView            `json:"routes"`
	Providers         []ProviderView         `json:"providers"`
	TemplateOverrides []TemplateOverrideView `json:"template_overrides"`
	RouteOverrides    []RouteOverrideView    `json:"route_overrides"`
	Tasks             []string               `json:"tasks"` // the tasks an override may route
}

// FieldError is a value the node refuses: Field names the field, Detail
// says why in the node's words (English).
type FieldError struct {
	Field, Detail string
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Detail }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// errNoModels: the node gave the portal no models.
var errNoModels = errors.New("no models on this node")

func (a *Admin) models() (Models, error) {
	if a.deps.Models == nil {
		return nil, errNoModels
	}
	return a.deps.Models, nil
}

// templateNames are the templates a tenant may override.
var templateNames = []string{"answer", "rewrite", "policy"}

// pathLang is the language of a template in a path: "all" is every
// language ("").
func pathLang(s string) string {
	if s == "all" {
		return ""
	}
	return s
}

// putTemplate stores a template override and audits it.
func (a *Admin) putTemplate(r *http.Request, p *principal, tenant string, t TemplateOverride) error {
	m, err := a.models()
	if err != nil {
		return err
	}
	old, err := m.PutTemplate(tenant, p.user.Email, t)
	if err != nil {
		return err
	}
	e := audit.Entry{Action: "template.put", Tenant: tenant, Target: t.Name + "/" + langName(t.Lang), After: audit.Value(auditTemplate(t))}
	if old != nil {
		e.Before = audit.Value(auditTemplate(*old))
	}
	a.record(r, p, e)
	return nil
}

// deleteTemplate removes a template override and audits it.
func (a *Admin) deleteTemplate(r *http.Request, p *principal, tenant, name, lang string) error {
	m, err := a.models()
	if err != nil {
		return err
	}
	old, err := m.DeleteTemplate(tenant, name, lang)
	if err != nil {
		return err
	}
	a.record(r, p, audit.Entry{Action: "template.delete", Tenant: tenant, Target: name + "/" + langName(lang), Before: audit.Value(auditTemplate(old))})
	return nil
}

// putRoute stores a route override and audits it.
func (a *Admin) putRoute(r *http.Request, p *principal, tenant string, rt RouteOverride) error {
	m, err := a.models()
	if err != nil {
		return err
	}
	old, err := m.PutRoute(tenant, p.user.Email, rt)
	if err != nil {
		return err
	}
	e := audit.Entry{Action: "route.put", Tenant: tenant, Target: rt.Task, After: audit.Value(auditRoute(rt))}
	if old != nil {
		e.Before = audit.Value(auditRoute(*old))
	}
	a.record(r, p, e)
	return nil
}

// deleteRoute removes a route override and audits it.
func (a *Admin) deleteRoute(r *http.Request, p *principal, tenant, task string) error {
	m, err := a.models()
	if err != nil {
		return err
	}
	old, err := m.DeleteRoute(tenant, task)
	if err != nil {
		return err
	}
	a.record(r, p, audit.Entry{Action: "route.delete", Tenant: tenant, Target: task, Before: audit.Value(auditRoute(old))})
	return nil
}

// auditTemplate and auditRoute are what the audit log keeps of an
// override: its values, not who set it when (the entry says that).
func auditTemplate(t TemplateOverride) TemplateOverride {
	t.Updated, t.By = time.Time{}, ""
	return t
}

func auditRoute(r RouteOverride) RouteOverride {
	r.Updated, r.By = time.Time{}, ""
	return r
}

func langName(l string) string {
	if l == "" {
		return "all"
	}
	return l
}

// failModels answers the errors of templates and routes: a refused value
// 400 naming the field, unknown 404, anything else 500.
func (a *Admin) failModels(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		if isAPI(r) {
			writeInvalidParam(w, r, fe, "models.invalid."+fe.Field)
			return
		}
		a.fail(w, r, err)
	case errors.Is(err, ErrNotFound), errors.Is(err, errNoModels):
		a.notFound(w, r)
	default:
		a.fail(w, r, err)
	}
}

// InvalidParam names a field of a refused request (NLGov API Design
// Rules' invalidParams).
type InvalidParam struct {
	Name   string `json:"name"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// writeInvalidParam answers 400 for a refused field: the translated text
// with the node's words after it, and the field in invalidParams.
func writeInvalidParam(w http.ResponseWriter, r *http.Request, fe *FieldError, key string) {
	lang := apiLang(r)
	if !hasMsg(key) {
		key = "models.invalid"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(struct {
		Problem
		InvalidParams []InvalidParam `json:"invalidParams"`
	}{
		Problem{Type: "about:blank", Title: "invalid " + fe.Field, Status: http.StatusBadRequest,
			Detail: msg(lang, key) + " (" + fe.Field + ": " + fe.Detail + ")", Code: "invalid"},
		[]InvalidParam{{Name: fe.Field, Code: "invalid", Reason: fe.Detail}},
	})
}

// Portal.

type modelsData struct {
	ModelsView
	Template TemplateOverride // the template form: an override to edit, or a copy of a template
	Route    RouteOverride    // the route form
	Detail   string           // the node's words on a refused value
	Field    string           // the refused field
	CanEdit  bool
	Names    []string // the templates a tenant may override
}

func (a *Admin) modelsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	t := TemplateOverride{Name: q.Get("name"), Lang: pathLang(q.Get("lang"))}
	rt := RouteOverride{Task: q.Get("task")}
	a.showModels(w, r, p, http.StatusOK, &t, &rt, nil)
}

// showModels renders the page with the template and route forms filled
// from t and rt: an existing template or route of that name is copied in
// when t.Body (rt.Providers) is empty.
func (a *Admin) showModels(w http.ResponseWriter, r *http.Request, p *principal, status int, t *TemplateOverride, rt *RouteOverride, fe *FieldError) {
	m, err := a.models()
	if err != nil {
		a.failModels(w, r, err)
		return
	}
	mv, err := m.Models(r.PathValue("tenant"))
	if err != nil {
		a.failModels(w, r, err)
		return
	}
	d := modelsData{ModelsView: mv, CanEdit: p.user.Can(PermEditModels), Template: TemplateOverride{Name: "answer"}, Names: templateNames}
	if t.Name != "" {
		d.Template = *t
	}
	if d.Template.Body == "" {
		for _, tv := range mv.Templates {
			if tv.Name == d.Template.Name && tv.Lang == d.Template.Lang {
				d.Template.Version, d.Template.Body = tv.Version, tv.Body
			}
		}
	}
	d.Route = *rt
	if d.Route.Task == "" {
		d.Route.Task = "answer"
	}
	if len(d.Route.Providers) == 0 {
		for _, rv := range mv.Routes {
			if rv.Task == d.Route.Task {
				d.Route = RouteOverride{Task: rv.Task, Providers: rv.Providers, Timeout: rv.Timeout, AllowedRegions: rv.AllowedRegions}
			}
		}
	}
	v := a.newView(w, r, p, "models.title", "models")
	if fe != nil {
		key := "models.invalid." + fe.Field
		if !hasMsg(key) {
			key = "models.invalid"
		}
		v.Error = msg(v.Lang, key)
		d.Detail, d.Field = fe.Detail, fe.Field
	}
	v.Data = d
	a.render(w, r, status, "models", v)
}

// list splits a form field of names on commas, spaces and lines.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// modelsForm handles the forms of the page: save-template,
// delete-template, save-route, delete-route.
func (a *Admin) modelsForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	f := r.PostFormValue
	t := TemplateOverride{Name: f("name"), Lang: pathLang(f("lang")), Version: strings.TrimSpace(f("version")), Body: strings.ReplaceAll(f("body"), "\r\n", "\n")}
	rt := RouteOverride{Task: f("task"), Providers: list(f("providers")), Timeout: strings.TrimSpace(f("timeout")), AllowedRegions: list(f("allowed_regions"))}
	var err error
	ok := ""
	switch f("action") {
	case "save-template":
		err, ok = a.putTemplate(r, p, tenant, t), "templatesaved"
	case "delete-template":
		err, ok = a.deleteTemplate(r, p, tenant, t.Name, t.Lang), "templatedeleted"
	case "save-route":
		err, ok = a.putRoute(r, p, tenant, rt), "routesaved"
	case "delete-route":
		err, ok = a.deleteRoute(r, p, tenant, rt.Task), "routedeleted"
	default:
		a.notFound(w, r)
		return
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		if !strings.HasSuffix(f("action"), "-template") {
			t = TemplateOverride{}
		}
		a.showModels(w, r, p, http.StatusBadRequest, &t, &rt, fe)
		return
	}
	if err != nil {
		a.failModels(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/models", ok)
}

// Admin API.

// TemplateList is the tenant's templates and its overrides.
type TemplateList struct {
	Templates []TemplateView         `json:"templates"`
	Overrides []TemplateOverrideView `json:"overrides"`
}

// RouteList is the tenant's routes, the providers and its overrides.
type RouteList struct {
	Routes    []RouteView         `json:"routes"`
	Providers []ProviderView      `json:"providers"`
	Overrides []RouteOverrideView `json:"overrides"`
}

func (a *Admin) modelsView(w http.ResponseWriter, r *http.Request) (ModelsView, bool) {
	m, err := a.models()
	if err == nil {
		var mv ModelsView
		if mv, err = m.Models(r.PathValue("tenant")); err == nil {
			return mv, true
		}
	}
	a.failModels(w, r, err)
	return ModelsView{}, false
}

func (a *Admin) apiModels(w http.ResponseWriter, r *http.Request, p *principal) {
	if mv, ok := a.modelsView(w, r); ok {
		writeJSON(w, http.StatusOK, mv)
	}
}

func (a *Admin) apiTemplates(w http.ResponseWriter, r *http.Request, p *principal) {
	if mv, ok := a.modelsView(w, r); ok {
		writeJSON(w, http.StatusOK, TemplateList{Templates: mv.Templates, Overrides: mv.TemplateOverrides})
	}
}

func (a *Admin) apiRoutes(w http.ResponseWriter, r *http.Request, p *principal) {
	if mv, ok := a.modelsView(w, r); ok {
		writeJSON(w, http.StatusOK, RouteList{Routes: mv.Routes, Providers: mv.Providers, Overrides: mv.RouteOverrides})
	}
}

// apiPutTemplate sets the tenant's template of {name} in {lang} ("all":
// every language): {"version", "body"}.
func (a *Admin) apiPutTemplate(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		Version string `json:"version"`
		Body    string `json:"body"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	tenant := r.PathValue("tenant")
	t := TemplateOverride{Name: r.PathValue("name"), Lang: pathLang(r.PathValue("lang")), Version: strings.TrimSpace(body.Version), Body: body.Body}
	if err := a.putTemplate(r, p, tenant, t); err != nil {
		a.failModels(w, r, err)
		return
	}
	a.apiTemplates(w, r, p)
}

func (a *Admin) apiDeleteTemplate(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.deleteTemplate(r, p, r.PathValue("tenant"), r.PathValue("name"), pathLang(r.PathValue("lang"))); err != nil {
		a.failModels(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiPutRoute sets the tenant's route for {task}: {"providers",
// "timeout", "allowed_regions"}.
func (a *Admin) apiPutRoute(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		Providers      []string `json:"providers"`
		Timeout        string   `json:"timeout"`
		AllowedRegions []string `json:"allowed_regions"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	rt := RouteOverride{Task: r.PathValue("task"), Providers: body.Providers, Timeout: strings.TrimSpace(body.Timeout), AllowedRegions: body.AllowedRegions}
	if err := a.putRoute(r, p, r.PathValue("tenant"), rt); err != nil {
		a.failModels(w, r, err)
		return
	}
	a.apiRoutes(w, r, p)
}

func (a *Admin) apiDeleteRoute(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.deleteRoute(r, p, r.PathValue("tenant"), r.PathValue("task")); err != nil {
		a.failModels(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
