package main

import (
	"strings"
	"testing"
)

func TestRetrievalConfig(t *testing.T) {
	env := map[string]string{"ES_KEY": "c2VjcmV0", "ES_PASSWORD": "geheim"}
	getenv := func(k string) string { return env[k] }
	for _, tt := range []struct {
		name string
		r    *retrievalConfig
		want string // "" for a backend, "embedded" for none, else a part of the error
	}{
		{"no block", nil, "embedded"},
		{"embedded", &retrievalConfig{Backend: "embedded"}, "embedded"},
		{"empty backend", &retrievalConfig{}, "embedded"},
		{"qdrant", &retrievalConfig{Backend: "qdrant", URL: "http://127.0.0.1:6334", APIKeyEnv: "ES_KEY"}, ""},
		{"elastic", &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200", Name: "assistent-meppel", User: "assistent", PasswordEnv: "ES_PASSWORD"}, ""},
		{"unknown backend", &retrievalConfig{Backend: "solr", URL: "http://127.0.0.1:8983"}, `retrieval.backend: "solr" is no backend (want embedded, qdrant or elastic)`},
		{"embedded with url", &retrievalConfig{URL: "http://127.0.0.1:9200"}, `retrieval: url, name`},
		{"qdrant without url", &retrievalConfig{Backend: "qdrant"}, "retrieval.url: required for backend qdrant"},
		{"elastic without url", &retrievalConfig{Backend: "elastic"}, "retrieval.url: required for backend elastic"},
		{"qdrant with user", &retrievalConfig{Backend: "qdrant", URL: "http://127.0.0.1:6334", User: "x", PasswordEnv: "ES_PASSWORD"}, "retrieval.user and retrieval.password_env are for elastic"},
		{"user without password", &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200", User: "x"}, "retrieval.password_env: required with retrieval.user"},
		{"unset key", &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200", APIKeyEnv: "NOT_SET"}, "retrieval.api_key_env: the environment variable NOT_SET is empty"},
		{"unset password", &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200", User: "x", PasswordEnv: "NOT_SET"}, "retrieval.password_env: the environment variable NOT_SET is empty"},
		{"bad url", &retrievalConfig{Backend: "elastic", URL: "127.0.0.1:9200"}, `config: retrieval (url "127.0.0.1:9200"`},
		{"bad index name", &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200", Name: "Assistent"}, `name "Assistent"`},
		{"bad collection name", &retrievalConfig{Backend: "qdrant", URL: "http://127.0.0.1:6334", Name: "a b"}, `name "a b"`},
	} {
		b, err := fileConfig{Retrieval: tt.r}.backend(getenv, nil)
		switch tt.want {
		case "embedded":
			if b != nil || err != nil {
				t.Errorf("%s: %v, %v; want the embedded indexes", tt.name, b, err)
			}
		case "":
			if b == nil || err != nil {
				t.Errorf("%s: %v, %v; want a backend", tt.name, b, err)
			} else if want := tt.r.Backend + "/"; !strings.HasPrefix(b.Name(), want) {
				t.Errorf("%s: name %q", tt.name, b.Name())
			}
		default:
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "config: retrieval") {
				t.Errorf("%s: %v; want an error with %q", tt.name, err, tt.want)
			}
		}
	}
	if b, _ := (fileConfig{Retrieval: &retrievalConfig{Backend: "elastic", URL: "http://127.0.0.1:9200"}}).backend(getenv, nil); b == nil || b.Name() != "elastic/assistent" {
		t.Errorf("default name: %v", b)
	}
}

// A retrieval block in the file reaches serve: an invalid one stops it
// with the key named, before anything opens.
func TestServe_RetrievalConfigError(t *testing.T) {
	cfg := writeFile(t, "serve.json", `{"retrieval": {"backend": "qdrant"}}`)
	res := run(t, "", "serve", "--config", cfg, "--data", t.TempDir(), "--addr", "127.0.0.1:0")
	if res.code != 1 || !strings.Contains(res.stderr, "retrieval.url: required for backend qdrant") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
}
