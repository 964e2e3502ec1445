package node_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// With a rewrite route, a follow-up is turned into a standalone question
// by the model, which sees both turns without personal data; when the
// model fails, the topic words carry over as before.
func TestConverse_RewriteRoute(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply llmtest.Handler
	}{
		{"model rewrites", llmtest.Reply("Wat kost een paspoort aanvragen?")},
		{"model fails", llmtest.Status(500, "", "kapot")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, tt.reply)
			cfg := node.DefaultConfig()
			cfg.DataDir = filepath.Join(t.TempDir(), "data")
			oc := models.DefaultOpenAIConfig()
			oc.BaseURL, oc.Model, oc.MaxRetries = srv.URL, "rewriter", 0
			cfg.Models.Providers = []models.Provider{{Name: "rw", Kind: models.KindOpenAI, Region: "nl", OpenAI: oc}}
			cfg.Models.Routes = append(cfg.Models.Routes, models.Route{Task: models.TaskRewrite, Providers: []string{"rw"}})
			n, err := node.Open(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef"}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), pages, nil); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			first, err := n.Converse(ctx, "proef", "", "hoe vraag ik een paspoort aan")
			if err != nil {
				t.Fatal(err)
			}
			second, err := n.Converse(ctx, "proef", first.Conversation, "en wat kost dat? mijn BSN is 111222333")
			if err != nil {
				t.Fatal(err)
			}
			if second.Refused {
				t.Errorf("follow-up refused: %+v", second)
			}
			reqs := srv.Requests()
			if len(reqs) == 0 {
				t.Fatal("the rewrite route was not asked")
			}
			prompt := reqs[len(reqs)-1].Content("user") + reqs[len(reqs)-1].Content("system")
			if !strings.Contains(prompt, "hoe vraag ik een paspoort aan") || !strings.Contains(prompt, "en voor mijn kind") {
				t.Errorf("rewrite prompt lacks the turns: %q", prompt)
			}
			if strings.Contains(prompt, "111222333") {
				t.Error("personal data reached the model")
			}
		})
	}
}
