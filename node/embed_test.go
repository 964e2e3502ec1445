package node_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/embed"
)

// embedRoute routes the node's embed task to srv, with timeout.
func embedRoute(url string, timeout time.Duration) models.Config {
	mc := models.DefaultConfig()
	oc := models.DefaultOpenAIConfig()
	oc.BaseURL, oc.Model, oc.MaxRetries = url, "test-embed", 0
	mc.Providers = []models.Provider{{Name: "vectors", Kind: models.KindOpenAI, Region: "nl", OpenAI: oc}}
	mc.Routes = append(mc.Routes, models.Route{Task: models.TaskEmbed, Providers: []string{"vectors"}, Timeout: timeout})
	return mc
}

func openWith(t *testing.T, dir string, mc models.Config) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.Models = dir, mc
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The embed route replaces the built-in embedder: switching to it embeds
// every chunk again with the model, questions are embedded by it, a model
// that fails costs the vector list only, and switching back rebuilds the
// lexical vectors.
func TestEmbedRoute(t *testing.T) {
	ctx := context.Background()
	lexical := embed.NewLexical(64)
	srv := llmtest.NewEmbedServer(t, func(text string) []float32 {
		v, _ := lexical.Embed(ctx, []string{text})
		return v[0]
	})
	dir2 := filepath.Join(t.TempDir(), "data")
	n := openWith(t, dir2, models.DefaultConfig())
	if _, err := n.Ingest(ctx, retrieval.TenantScope("proef"), pages, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999"}); err != nil {
		t.Fatal(err)
	}
	id, err := n.Store().Embedder()
	if err != nil || !strings.HasPrefix(id, "lexical-") {
		t.Fatalf("store embedder %q, %v; want the built-in one", id, err)
	}
	chunks, _ := n.Store().ChunkCount()
	n.Close()

	n = openWith(t, dir2, embedRoute(srv.URL, time.Second))
	if id, _ := n.Store().Embedder(); id != "openai:test-embed/64" {
		t.Errorf("store embedder %q after the switch, want openai:test-embed/64", id)
	}
	// One probe for the dimension, then every chunk.
	if got := len(srv.Inputs()); got != chunks+1 {
		t.Errorf("model embedded %d texts at the switch, want %d chunks + 1 probe", got, chunks)
	}
	a, err := n.Ask(ctx, "proef", "Hoe vraag ik een paspoort aan?")
	if err != nil || a.Refused {
		t.Fatalf("ask with the model's vectors: %+v, %v", a, err)
	}
	if !slices.ContainsFunc(srv.Inputs(), func(s string) bool { return strings.Contains(s, "paspoort aan") }) {
		t.Error("the question was not embedded by the model")
	}

	// The model fails: the answer comes from the lexical list, and the
	// metrics say so.
	srv.Fail(http.StatusServiceUnavailable)
	b, err := n.Ask(ctx, "proef", "Hoe vraag ik een paspoort aan?")
	if err != nil || b.Refused || len(b.Citations) == 0 || b.Citations[0].URL != a.Citations[0].URL {
		t.Errorf("ask with the model down: %+v, %v; want the same first source as before", b, err)
	}
	hs := httptest.NewServer(n.Handler(nil))
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hs.Close()
	for _, want := range []string{
		`assistent_model_attempts_total{outcome="error",provider="openai:test-embed",task="embed"} 1`,
		`assistent_model_attempts_total{outcome="ok",provider="openai:test-embed",task="embed"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "model_attempts"))
		}
	}
	n.Close()

	// A restart with the model down and vectors in place needs no model.
	before := len(srv.Inputs())
	n = openWith(t, dir2, func() models.Config {
		c := embedRoute(srv.URL, time.Second)
		c.Providers[0].OpenAI.EmbedDim = 64
		return c
	}())
	if len(srv.Inputs()) != before {
		t.Error("a restart with the same embedder embedded chunks again")
	}
	n.Close()

	// Back to the built-in embedder: its vectors are rebuilt.
	n = openWith(t, dir2, models.DefaultConfig())
	defer n.Close()
	if id, _ := n.Store().Embedder(); !strings.HasPrefix(id, "lexical-") {
		t.Errorf("store embedder %q after switching back", id)
	}
	if c, err := n.Ask(ctx, "proef", "Hoe vraag ik een paspoort aan?"); err != nil || c.Refused {
		t.Errorf("ask after switching back: %+v, %v", c, err)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
