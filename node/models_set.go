package node

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/assistent-nl/assistent/node/models"
)

// SetModels replaces the node's model providers, routes, breaker settings
// and prompt templates while it runs (the federation distributes them).
// Questions in flight finish with the routes they started with; breakers
// start closed. The embed route cannot change while the node runs (its
// vectors would no longer match): a cfg that changes it is refused with an
// error, as is an invalid one, and the node keeps what it has.
func (n *Node) SetModels(cfg models.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	n.modelsMu.Lock()
	defer n.modelsMu.Unlock()
	if !reflect.DeepEqual(embedSetup(cfg), embedSetup(n.cfg.Models)) {
		return errors.New("models: the embed route or its provider changed; that takes a restart, because every chunk is embedded again")
	}
	r, err := models.NewRouter(cfg, n.answerer, n.log, models.WithObserver(n.metrics.attempt))
	if err != nil {
		return fmt.Errorf("models: %w", err)
	}
	n.router.Store(r)
	n.cfg.Models = cfg
	return nil
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
