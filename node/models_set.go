package node

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
)

// SetModels replaces the node's model providers, routes, breaker settings
// and prompt templates while it runs (the federation distributes them).
// The overrides staff made in the beheerportaal (store.TemplateOverride,
// store.RouteOverride) are applied over cfg; one that no longer fits cfg
// (a route naming a provider cfg lacks) is left out and shown as not
// applied. Questions in flight finish with the routes they started with;
// breakers start closed. The embed route cannot change while the node runs
// (its vectors would no longer match): a cfg that changes it is refused
// with an error, as is an invalid one, and the node keeps what it has.
func (n *Node) SetModels(cfg models.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	if !reflect.DeepEqual(embedSetup(cfg), embedSetup(n.modelsBase)) {
		return errors.New("models: the embed route or its provider changed; that takes a restart, because every chunk is embedded again")
	}
	return n.applyModels(cfg)
}

// applyModels builds the router for base with the stored overrides over
// it and swaps it in. The caller holds modelsMu (or is Open).
func (n *Node) applyModels(base models.Config) error {
	tos, err := n.store.TemplateOverrides()
	if err != nil {
		return err
	}
	ros, err := n.store.RouteOverrides()
	if err != nil {
		return err
	}
	return n.install(base, tos, ros)
}

// install applies the overrides over base and swaps in the router.
func (n *Node) install(base models.Config, tos []store.TemplateOverride, ros []store.RouteOverride) error {
	eff, skipped := withOverrides(base, tos, ros)
	for key, err := range skipped {
		n.log.Warn("model override not applied", "override", key, "err", err)
	}
	r, err := models.NewRouter(eff, n.answerer, n.log, models.WithObserver(n.metrics.attempt))
	if err != nil {
		return fmt.Errorf("models: %w", err)
	}
	n.router.Store(r)
	n.modelsBase, n.cfg.Models, n.modelsSkipped = base, eff, skipped
	return nil
}

// withOverrides returns base with the route overrides, then the template
// overrides applied, and the overrides left out because the result would
// be invalid, by overrideKey.
func withOverrides(base models.Config, tos []store.TemplateOverride, ros []store.RouteOverride) (models.Config, map[string]error) {
	cfg := base
	cfg.Routes, cfg.Templates = slices.Clone(base.Routes), slices.Clone(base.Templates)
	skipped := map[string]error{}
	for _, o := range ros {
		cand := cfg
		cand.Routes = withRoute(cfg.Routes, routeOf(o))
		err := checkRouteTask(o.Task)
		if err == nil {
			err = cand.Validate()
		}
		if err != nil {
			skipped[routeKey(o.Tenant, o.Task)] = err
			continue
		}
		cfg = cand
	}
	for _, o := range tos {
		t := templateOf(o)
		if _, err := models.Builtin().With(t); err != nil {
			skipped[templateKey(o.Tenant, o.Name, o.Lang)] = err
			continue
		}
		cfg.Templates = append(cfg.Templates, models.TenantTemplate{Tenant: o.Tenant, Template: t})
	}
	return cfg, skipped
}

func templateKey(tenant, name, lang string) string {
	if lang == "" {
		lang = "*"
	}
	return "template " + tenant + "/" + name + "/" + lang
}

func routeKey(tenant, task string) string { return "route " + tenant + "/" + task }

func templateOf(o store.TemplateOverride) models.Template {
	return models.Template{Name: o.Name, Lang: o.Lang, Version: o.Version, Body: o.Body, Origin: models.OriginLocal}
}

func routeOf(o store.RouteOverride) models.Route {
	return models.Route{Task: o.Task, Tenant: o.Tenant, Providers: slices.Clone(o.Providers), Timeout: o.Timeout,
		DataPolicy: models.Policy{AllowedRegions: slices.Clone(o.AllowedRegions)}, Origin: models.OriginLocal}
}

// withRoute returns routes with rt in place of the route of its task and
// tenant, or added.
func withRoute(routes []models.Route, rt models.Route) []models.Route {
	out := slices.Clone(routes)
	for i, r := range out {
		if r.Task == rt.Task && r.Tenant == rt.Tenant {
			out[i] = rt
			return out
		}
	}
	return append(out, rt)
}

// checkRouteTask refuses an override of a task staff cannot route: an
// unknown one, or the embed route, which serves the whole node and takes
// a restart.
func checkRouteTask(task string) error {
	if task == models.TaskEmbed {
		return errors.New("the embed route serves the whole node and changes only with a restart")
	}
	if !slices.Contains(models.Tasks(), task) {
		return fmt.Errorf("unknown task %q", task)
	}
	return nil
}

// OverrideError is an override the node refuses; Field names the field
// of the override that is wrong ("name", "lang", "version", "body",
// "task", "providers", "timeout", "allowed_regions").
type OverrideError struct {
	Field string
	Err   error
}

func (e *OverrideError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *OverrideError) Unwrap() error { return e.Err }

// routeField finds the field in an error of models.Config.Validate about
// a route ("models.routes[2].providers: ...").
var routeField = regexp.MustCompile(`models\.routes\[\d+\]\.(\w+)`)

// PutTemplateOverride checks o (the template validation of
// models.Template), stores it as the tenant's own template of its name and
// language and applies it at once. It returns the override it replaced,
// if any. An invalid o is an *OverrideError and changes nothing.
func (n *Node) PutTemplateOverride(o store.TemplateOverride) (old *store.TemplateOverride, err error) {
	if _, err := models.Builtin().With(templateOf(o)); err != nil {
		field := "body"
		var te *models.TemplateError
		if errors.As(err, &te) {
			field = te.Field
		}
		return nil, &OverrideError{Field: field, Err: err}
	}
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	tos, err := n.store.TemplateOverrides()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(tos, func(t store.TemplateOverride) bool {
		return t.Tenant == o.Tenant && t.Name == o.Name && t.Lang == o.Lang
	})
	if i >= 0 {
		prev := tos[i]
		old = &prev
	}
	if err := n.store.PutTemplateOverride(o); err != nil {
		return nil, err
	}
	return old, n.applyModels(n.modelsBase)
}

// DeleteTemplateOverride removes the tenant's template override of name
// and lang, so the config's or federation's (or the built-in) applies
// again at once, and returns it; store.ErrNotFound when there is none.
func (n *Node) DeleteTemplateOverride(tenant, name, lang string) (store.TemplateOverride, error) {
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	old, err := n.store.DeleteTemplateOverride(tenant, name, lang)
	if err != nil {
		return old, err
	}
	return old, n.applyModels(n.modelsBase)
}

// PutRouteOverride checks o against the node's providers
// (models.Config.Validate), stores it as the tenant's own route for its
// task and applies it at once. It returns the override it replaced, if
// any. An invalid o is an *OverrideError and changes nothing; the embed
// route cannot be overridden.
func (n *Node) PutRouteOverride(o store.RouteOverride) (old *store.RouteOverride, err error) {
	if err := checkRouteTask(o.Task); err != nil {
		return nil, &OverrideError{Field: "task", Err: err}
	}
	if o.Timeout < 0 {
		return nil, &OverrideError{Field: "timeout", Err: errors.New("must not be negative")}
	}
	if o.Timeout > 10*time.Minute {
		return nil, &OverrideError{Field: "timeout", Err: errors.New("at most 10m")}
	}
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	tos, ros, err := n.overrides()
	if err != nil {
		return nil, err
	}
	cand := n.cfg.Models
	cand.Routes = withRoute(n.cfg.Models.Routes, routeOf(o))
	if err := cand.Validate(); err != nil {
		field := "providers"
		if m := routeField.FindStringSubmatch(err.Error()); m != nil && m[1] != "tenant" {
			field = m[1]
		}
		return nil, &OverrideError{Field: field, Err: err}
	}
	i := slices.IndexFunc(ros, func(r store.RouteOverride) bool { return r.Tenant == o.Tenant && r.Task == o.Task })
	if i >= 0 {
		prev := ros[i]
		old = &prev
	}
	if err := n.store.PutRouteOverride(o); err != nil {
		return nil, err
	}
	if i >= 0 {
		ros[i] = o
	} else {
		ros = append(ros, o)
	}
	return old, n.install(n.modelsBase, tos, ros)
}

// DeleteRouteOverride removes the tenant's route override for task, so
// the config's or federation's route applies again at once, and returns
// it; store.ErrNotFound when there is none.
func (n *Node) DeleteRouteOverride(tenant, task string) (store.RouteOverride, error) {
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	old, err := n.store.DeleteRouteOverride(tenant, task)
	if err != nil {
		return old, err
	}
	return old, n.applyModels(n.modelsBase)
}

func (n *Node) overrides() ([]store.TemplateOverride, []store.RouteOverride, error) {
	tos, err := n.store.TemplateOverrides()
	if err != nil {
		return nil, nil, err
	}
	ros, err := n.store.RouteOverrides()
	return tos, ros, err
}

// embedSetup is what decides the node's vectors: the embed routes and the
// providers they name.
func embedSetup(cfg models.Config) (out []any) {
	for _, rt := range cfg.Routes {
		if rt.Task != models.TaskEmbed {
			continue
		}
		out = append(out, rt)
		for _, name := range rt.Providers {
			for _, p := range cfg.Providers {
				if p.Name == name {
					out = append(out, p.Kind, p.Region, p.OpenAI.BaseURL, p.OpenAI.Model, p.OpenAI.EmbedDim)
				}
			}
		}
	}
	return out
}
