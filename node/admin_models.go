package node

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
)

// adminModels shows the portal a tenant's templates and routes and lets
// it set the tenant's overrides.
type adminModels struct{ n *Node }

var _ admin.Models = adminModels{}

func origin(o string) string {
	if o == "" {
		return models.OriginConfig
	}
	return o
}

func duration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func templateView(t models.Template) admin.TemplateView {
	return admin.TemplateView{Name: t.Name, Lang: t.Lang, Version: t.Version, Origin: origin(t.Origin), Body: t.Body}
}

// routeFor returns the route of task that serves tenant in cfg: its own,
// else the node's default.
func routeFor(cfg models.Config, task, tenant string) (admin.RouteView, bool) {
	i := slices.IndexFunc(cfg.Routes, func(r models.Route) bool { return r.Task == task && r.Tenant == tenant })
	if i < 0 {
		i = slices.IndexFunc(cfg.Routes, func(r models.Route) bool { return r.Task == task && r.Tenant == "" })
	}
	if i < 0 {
		return admin.RouteView{}, false
	}
	r := cfg.Routes[i]
	return admin.RouteView{Task: r.Task, AllTenants: r.Tenant == "", Providers: slices.Clone(r.Providers), Timeout: duration(r.Timeout),
		AllowedRegions: slices.Clone(r.DataPolicy.AllowedRegions), Origin: origin(r.Origin)}, true
}

func (m adminModels) Models(tenant string) (admin.ModelsView, error) {
	n := m.n
	n.modelsMu.Lock()
	base, eff, skipped := n.modelsBase, n.cfg.Models, n.modelsSkipped
	n.modelsMu.Unlock()
	tos, ros, err := n.overrides()
	if err != nil {
		return admin.ModelsView{}, err
	}
	effT, err := eff.TemplatesFor(tenant)
	if err != nil {
		return admin.ModelsView{}, err
	}
	baseT, err := base.TemplatesFor(tenant)
	if err != nil {
		return admin.ModelsView{}, err
	}
	out := admin.ModelsView{Templates: []admin.TemplateView{}, Routes: []admin.RouteView{}, Providers: []admin.ProviderView{},
		TemplateOverrides: []admin.TemplateOverrideView{}, RouteOverrides: []admin.RouteOverrideView{}}
	for _, t := range effT.All() {
		out.Templates = append(out.Templates, templateView(t))
	}
	for _, task := range models.Tasks() {
		if rv, ok := routeFor(eff, task, tenant); ok {
			out.Routes = append(out.Routes, rv)
		}
		if checkRouteTask(task) == nil {
			out.Tasks = append(out.Tasks, task)
		}
	}
	out.Providers = append(out.Providers, admin.ProviderView{Name: models.KindExtractive, Kind: models.KindExtractive})
	for _, p := range eff.Providers {
		if p.Name != models.KindExtractive {
			out.Providers = append(out.Providers, admin.ProviderView{Name: p.Name, Kind: p.Kind, Region: p.Region})
		}
	}
	for _, o := range tos {
		if o.Tenant != tenant {
			continue
		}
		v := admin.TemplateOverrideView{TemplateOverride: adminTemplate(o), Active: true}
		if err := skipped[templateKey(o.Tenant, o.Name, o.Lang)]; err != nil {
			v.Active, v.Error = false, err.Error()
		}
		if t, ok := baseT.Lookup(o.Name, o.Lang); ok {
			tv := templateView(t)
			v.Replaces = &tv
		}
		out.TemplateOverrides = append(out.TemplateOverrides, v)
	}
	for _, o := range ros {
		if o.Tenant != tenant {
			continue
		}
		v := admin.RouteOverrideView{RouteOverride: adminRoute(o), Active: true}
		if err := skipped[routeKey(o.Tenant, o.Task)]; err != nil {
			v.Active, v.Error = false, err.Error()
		}
		if rv, ok := routeFor(base, o.Task, tenant); ok {
			v.Replaces = &rv
		}
		out.RouteOverrides = append(out.RouteOverrides, v)
	}
	return out, nil
}

func adminTemplate(o store.TemplateOverride) admin.TemplateOverride {
	return admin.TemplateOverride{Name: o.Name, Lang: o.Lang, Version: o.Version, Body: o.Body, Updated: o.Updated, By: o.By}
}

func adminRoute(o store.RouteOverride) admin.RouteOverride {
	return admin.RouteOverride{Task: o.Task, Providers: o.Providers, Timeout: duration(o.Timeout), AllowedRegions: o.AllowedRegions,
		Updated: o.Updated, By: o.By}
}

// adminError turns the node's errors into the portal's: a refused value
// is an *admin.FieldError, an unknown override admin.ErrNotFound.
func adminError(err error) error {
	var oe *OverrideError
	switch {
	case errors.As(err, &oe):
		return &admin.FieldError{Field: oe.Field, Detail: oe.Err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return errors.Join(err, admin.ErrNotFound)
	}
	return err
}

func (m adminModels) PutTemplate(tenant, by string, t admin.TemplateOverride) (*admin.TemplateOverride, error) {
	old, err := m.n.PutTemplateOverride(store.TemplateOverride{Tenant: tenant, Name: t.Name, Lang: t.Lang, Version: t.Version, Body: t.Body,
		Updated: time.Now().UTC(), By: by})
	if err != nil || old == nil {
		return nil, adminError(err)
	}
	o := adminTemplate(*old)
	return &o, nil
}

func (m adminModels) DeleteTemplate(tenant, name, lang string) (admin.TemplateOverride, error) {
	old, err := m.n.DeleteTemplateOverride(tenant, name, lang)
	return adminTemplate(old), adminError(err)
}

func (m adminModels) PutRoute(tenant, by string, r admin.RouteOverride) (*admin.RouteOverride, error) {
	var timeout time.Duration
	if s := strings.TrimSpace(r.Timeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, &admin.FieldError{Field: "timeout", Detail: err.Error()}
		}
		timeout = d
	}
	var providers, regions []string
	for _, p := range r.Providers {
		if p = strings.TrimSpace(p); p != "" {
			providers = append(providers, p)
		}
	}
	for _, g := range r.AllowedRegions {
		if g = strings.TrimSpace(g); g != "" {
			regions = append(regions, g)
		}
	}
	old, err := m.n.PutRouteOverride(store.RouteOverride{Tenant: tenant, Task: r.Task, Providers: providers, Timeout: timeout,
		AllowedRegions: regions, Updated: time.Now().UTC(), By: by})
	if err != nil || old == nil {
		return nil, adminError(err)
	}
	o := adminRoute(*old)
	return &o, nil
}

func (m adminModels) DeleteRoute(tenant, task string) (admin.RouteOverride, error) {
	old, err := m.n.DeleteRouteOverride(tenant, task)
	return adminRoute(old), adminError(err)
}
