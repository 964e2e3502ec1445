package main

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/models"
)

// The federation distributes model providers (without secrets), routes and
// prompt templates. A node applies them under its own configuration: a
// local provider, route (same task and tenant) or template (same tenant,
// name and language) wins over the federation's. The embed route stays
// local: changing it means embedding every chunk again, which is the
// gemeente's decision and needs a restart.

// withFederation returns c with the registry's providers, routes and
// templates in w's cache merged under its own.
func (c fileConfig) withFederation(w *client.Watcher) (fileConfig, error) {
	var fed fileConfig
	var keys map[string]string
	if c.Federation != nil {
		keys = c.Federation.ProviderKeys
	}
	objs, err := w.List(registry.KindProvider)
	if err != nil {
		return c, err
	}
	for _, o := range objs {
		var p registry.Provider
		if err := o.Decode(&p); err != nil {
			return c, fmt.Errorf("provider %s: %w", o.Key, err)
		}
		fed.Providers = append(fed.Providers, providerConfig{Name: p.Name, Kind: p.Kind, Region: p.Region,
			BaseURL: p.BaseURL, Model: p.Model, APIKeyEnv: keys[p.Name]})
	}
	if objs, err = w.List(registry.KindRoute); err != nil {
		return c, err
	}
	for _, o := range objs {
		var r registry.Route
		if err := o.Decode(&r); err != nil {
			return c, fmt.Errorf("route %s: %w", o.Key, err)
		}
		if r.Task == models.TaskEmbed {
			continue
		}
		fed.Routes = append(fed.Routes, routeConfig{Task: r.Task, Tenant: r.Tenant, Providers: r.Providers,
			Timeout: duration(r.Timeout), AllowedRegions: r.AllowedRegions, origin: models.OriginFederation})
	}
	if objs, err = w.List(registry.KindTemplate); err != nil {
		return c, err
	}
	for _, o := range objs {
		var t registry.Template
		if err := o.Decode(&t); err != nil {
			return c, fmt.Errorf("template %s: %w", o.Key, err)
		}
		fed.Templates = append(fed.Templates, templateConfig{Name: t.Name, Lang: t.Lang,
			Version: fmt.Sprintf("federatie-%d", t.Version), body: t.Body, origin: models.OriginFederation})
	}

	out := c
	out.Providers = slices.Clone(c.Providers)
	for _, p := range fed.Providers {
		if !slices.ContainsFunc(c.Providers, func(l providerConfig) bool { return l.Name == p.Name }) {
			out.Providers = append(out.Providers, p)
		}
	}
	out.Routes = nil
	for _, r := range fed.Routes {
		if !slices.ContainsFunc(c.Routes, func(l routeConfig) bool { return l.Task == r.Task && l.Tenant == r.Tenant }) {
			out.Routes = append(out.Routes, r)
		}
	}
	out.Routes = append(out.Routes, c.Routes...)
	// The federation's templates first: the local ones are applied over
	// them.
	out.Templates = append(fed.Templates, c.Templates...)
	return out, nil
}

// applyFederationModels sets the node's models from the local config and
// the federation's, and keeps what the node has when the result is
// invalid (a route naming a provider the registry does not describe, a
// template that does not compile, a key missing from the environment).
func (c fileConfig) applyFederationModels(n *node.Node, w *client.Watcher, getenv func(string) string, log *slog.Logger) {
	merged, err := c.withFederation(w)
	if err == nil {
		var mc models.Config
		if mc, err = merged.models(getenv); err == nil {
			if err = n.SetModels(mc); err == nil {
				log.Info("federation: model routes and templates applied", "index", w.Index(),
					"routes", len(mc.Routes), "templates", len(mc.Templates))
				return
			}
		}
	}
	log.Error("federation: model routes and templates refused; the node keeps its current ones", "index", w.Index(), "err", err)
}
