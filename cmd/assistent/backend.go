package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/elastic"
	"github.com/assistent-nl/assistent/retrieval/qdrant"
)

// retrievalConfig is the "retrieval" key of the serve config file: which
// backend serves the node's searches. Secrets stand in environment
// variables the file names, as reindex takes them.
type retrievalConfig struct {
	Backend     string `json:"backend"`      // embedded (default), qdrant or elastic
	URL         string `json:"url"`          // Qdrant's gRPC port or an Elasticsearch node
	Name        string `json:"name"`         // collection or index; default "assistent"
	APIKeyEnv   string `json:"api_key_env"`  // variable holding the API key
	User        string `json:"user"`         // Elasticsearch basic authentication
	PasswordEnv string `json:"password_env"` // variable holding that user's password
}

// scaleOut says how to reach a Qdrant collection or an Elasticsearch
// index; reindex and serve share it.
type scaleOut struct {
	kind, url, name        string // kind: qdrant or elastic
	apiKey, user, password string
	log                    *slog.Logger
	bulk                   bool // writes need not be searchable until a Refresh (reindex)
}

// backendName is the name a backend's state has in the node's store:
// KIND/NAME (node.Backend).
func backendName(kind, name string) string { return kind + "/" + name }

// Name implements node.Backend.
func (s scaleOut) Name() string { return backendName(s.kind, s.name) }

// index returns the client for vectors of dim dimensions.
func (s scaleOut) index(dim int) (scaleOutIndex, error) {
	switch s.kind {
	case "qdrant":
		cfg := qdrant.DefaultConfig(s.name, dim)
		cfg.URL, cfg.APIKey = s.url, s.apiKey
		return qdrant.New(cfg, s.log)
	case "elastic":
		cfg := elastic.DefaultConfig(s.name, dim)
		cfg.URLs, cfg.APIKey, cfg.Username, cfg.Password = []string{s.url}, s.apiKey, s.user, s.password
		if s.bulk {
			cfg.Refresh = "false"
		}
		return elastic.New(cfg, s.log)
	}
	return nil, fmt.Errorf("no backend %q", s.kind)
}

// Open implements node.Backend: the client, and the collection or index
// made ready on the server.
func (s scaleOut) Open(ctx context.Context, dim int) (retrieval.Index, error) {
	x, err := s.index(dim)
	if err != nil {
		return nil, err
	}
	if err := x.Open(ctx); err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

// backend returns the node's search backend from the file's retrieval
// block: nil for the embedded indexes. Errors name the key.
func (c fileConfig) backend(getenv func(string) string, log *slog.Logger) (node.Backend, error) {
	r := c.Retrieval
	if r == nil {
		return nil, nil
	}
	switch r.Backend {
	case "", "embedded":
		if r.URL != "" || r.Name != "" || r.APIKeyEnv != "" || r.User != "" || r.PasswordEnv != "" {
			return nil, fmt.Errorf(`config: retrieval: url, name, api_key_env, user and password_env are for backend "qdrant" or "elastic", not the embedded indexes`)
		}
		return nil, nil
	case "qdrant", "elastic":
	default:
		return nil, fmt.Errorf("config: retrieval.backend: %q is no backend (want embedded, qdrant or elastic)", r.Backend)
	}
	s := scaleOut{kind: r.Backend, url: r.URL, name: r.Name, user: r.User, log: log}
	if s.name == "" {
		s.name = "assistent"
	}
	switch {
	case r.URL == "" && r.Backend == "qdrant":
		return nil, fmt.Errorf("config: retrieval.url: required for backend qdrant (its gRPC port, e.g. http://127.0.0.1:6334)")
	case r.URL == "":
		return nil, fmt.Errorf("config: retrieval.url: required for backend elastic (a node, e.g. http://127.0.0.1:9200)")
	case r.Backend == "qdrant" && (r.User != "" || r.PasswordEnv != ""):
		return nil, fmt.Errorf("config: retrieval.user and retrieval.password_env are for elastic; Qdrant takes retrieval.api_key_env")
	case r.User != "" && r.PasswordEnv == "":
		return nil, fmt.Errorf("config: retrieval.password_env: required with retrieval.user (the variable holding the password)")
	}
	for _, e := range []struct {
		key, env string
		dst      *string
	}{{"api_key_env", r.APIKeyEnv, &s.apiKey}, {"password_env", r.PasswordEnv, &s.password}} {
		if e.env == "" {
			continue
		}
		if *e.dst = getenv(e.env); *e.dst == "" {
			return nil, fmt.Errorf("config: retrieval.%s: the environment variable %s is empty: set it to the backend's secret", e.key, e.env)
		}
	}
	// The client checks url and name; the dimension comes from the
	// node's embedder when it opens.
	x, err := s.index(1)
	if err != nil {
		return nil, fmt.Errorf("config: retrieval (url %q, name %q): %v", r.URL, s.name, err)
	}
	x.Close()
	return s, nil
}
