package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketOverrides holds the prompt templates and model routes staff set
// for a tenant in the beheerportaal, applied over the node's config and
// the federation's. Created on first write.
var bucketOverrides = []byte("model_overrides")

// TemplateOverride is a tenant's own prompt template.
type TemplateOverride struct {
	Tenant  string    `json:"tenant"`
	Name    string    `json:"name"`
	Lang    string    `json:"lang"` // "" for every language
	Version string    `json:"version"`
	Body    string    `json:"body"`
	Updated time.Time `json:"updated"`
	By      string    `json:"by"` // who set it
}

// RouteOverride is a tenant's own model route for a task. It names
// providers only; their endpoints and keys stay in the config.
type RouteOverride struct {
	Tenant         string        `json:"tenant"`
	Task           string        `json:"task"`
	Providers      []string      `json:"providers"`
	Timeout        time.Duration `json:"timeout"`
	AllowedRegions []string      `json:"allowed_regions"`
	Updated        time.Time     `json:"updated"`
	By             string        `json:"by"`
}

func (o TemplateOverride) key() string {
	return "template\x00" + o.Tenant + "\x00" + o.Name + "\x00" + o.Lang
}

func (o RouteOverride) key() string { return "route\x00" + o.Tenant + "\x00" + o.Task }

// PutTemplateOverride stores o, replacing the tenant's override of the
// same name and language.
func (s *Store) PutTemplateOverride(o TemplateOverride) error { return s.putOverride(o.key(), o) }

// DeleteTemplateOverride removes the tenant's override of name and lang
// and returns it; ErrNotFound when there is none.
func (s *Store) DeleteTemplateOverride(tenant, name, lang string) (TemplateOverride, error) {
	o := TemplateOverride{Tenant: tenant, Name: name, Lang: lang}
	err := s.deleteOverride(o.key(), &o)
	return o, err
}

// TemplateOverrides returns every tenant's template overrides, by tenant,
// name and language.
func (s *Store) TemplateOverrides() ([]TemplateOverride, error) {
	return listOverrides[TemplateOverride](s, "template\x00")
}

// PutRouteOverride stores o, replacing the tenant's route for the task.
func (s *Store) PutRouteOverride(o RouteOverride) error { return s.putOverride(o.key(), o) }

// DeleteRouteOverride removes the tenant's route override for task and
// returns it; ErrNotFound when there is none.
func (s *Store) DeleteRouteOverride(tenant, task string) (RouteOverride, error) {
	o := RouteOverride{Tenant: tenant, Task: task}
	err := s.deleteOverride(o.key(), &o)
	return o, err
}

// RouteOverrides returns every tenant's route overrides, by tenant and
// task.
func (s *Store) RouteOverrides() ([]RouteOverride, error) {
	return listOverrides[RouteOverride](s, "route\x00")
}

func (s *Store) putOverride(key string, v any) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOverrides)
		if err != nil {
			return err
		}
		return PutJSON(b, []byte(key), v)
	})
}

// deleteOverride reads the override at key into v and removes it.
func (s *Store) deleteOverride(key string, v any) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOverrides)
		if b == nil {
			return ErrNotFound
		}
		if err := GetJSON(b, []byte(key), v); err != nil {
			return err
		}
		return b.Delete([]byte(key))
	})
}

func listOverrides[T any](s *Store, prefix string) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOverrides)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			var o T
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("override %q: %w", k, err)
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}
