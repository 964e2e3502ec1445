package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/models"
)

// rerankProvider returns a rerank provider of kind for srv in region.
func rerankProvider(name, kind, region string, srv *llmtest.RerankServer) models.Provider {
	cfg := models.DefaultRerankConfig()
	cfg.BaseURL, cfg.Model, cfg.APIKey = srv.URL, name+"-model", testKey
	cfg.Backoff, cfg.MaxRetries = time.Millisecond, 0
	return models.Provider{Name: name, Kind: kind, Region: region, Rerank: cfg}
}

func TestConfig_ValidateRoutes(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("x"))
	rsrv := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
	providers := []models.Provider{provider("llm", "eu", srv), rerankProvider("tei", models.KindTEI, "nl", rsrv)}
	cfg := func(routes ...models.Route) models.Config {
		return models.Config{Providers: providers, Routes: routes}
	}
	tests := []struct {
		cfg  models.Config
		want string
	}{
		{cfg(models.Route{Task: "vertaal", Providers: []string{"llm"}}), `models.routes[0].task: unknown task "vertaal" (route vertaal/*)`},
		{cfg(models.Route{Task: models.TaskRerank, Tenant: "meppel", Providers: []string{"llm"}}),
			`models.routes[0].providers: provider "llm" of kind "openai" cannot serve task "rerank" (route rerank/meppel); it needs kind tei or cohere or jina`},
		{cfg(models.Route{Task: models.TaskAnswer, Providers: []string{"tei"}}), `models.routes[0].providers: provider "tei" of kind "tei" cannot serve task "answer" (route answer/*)`},
		{cfg(models.Route{Task: models.TaskRewrite, Providers: []string{"extractive"}}), `models.routes[0].providers: provider "extractive" of kind "extractive" cannot serve task "rewrite"`},
		{cfg(models.Route{Task: models.TaskEmbed, Providers: []string{"tei"}}), `models.routes[0].providers: provider "tei" of kind "tei" cannot serve task "embed"`},
		{cfg(models.Route{Task: models.TaskJudge}), `models.routes[0].providers: route judge/* names no provider`},
		{cfg(models.Route{Task: models.TaskRerank, Providers: []string{"tei"}}, models.Route{Task: models.TaskRerank, Tenant: "x", Providers: []string{"nope"}}),
			`models.routes[1].providers: unknown provider "nope" (route rerank/x)`},
		{cfg(models.Route{Task: models.TaskRewrite, Providers: []string{"llm"}, Timeout: -time.Second}), `models.routes[0].timeout: must not be negative (route rewrite/*)`},
		{models.Config{Providers: []models.Provider{{Name: "c", Kind: models.KindCohere, Rerank: models.RerankConfig{BaseURL: "http://127.0.0.1:1"}}}}, "models.providers[0] (c): models.rerank.model"},
		{models.Config{Providers: []models.Provider{{Name: "q", Kind: "qdrant"}}}, "models.providers[0].kind"},
		{models.Config{Breaker: models.BreakerConfig{Failures: -1}}, "models.breaker.failures"},
		{models.Config{Templates: []models.TenantTemplate{{Tenant: "meppel", Template: override("m-1", "Geen marker. {{.Gemeente}}")}}},
			"models.templates[0] (tenant meppel): template 0 (answer/* m-1): invalid prompt template"},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Validate = %v\nwant prefix %s", err, tt.want)
		}
	}
	ok := cfg(
		models.Route{Task: models.TaskAnswer, Providers: []string{"llm"}},
		models.Route{Task: models.TaskRewrite, Providers: []string{"llm"}},
		models.Route{Task: models.TaskJudge, Providers: []string{"llm"}},
		models.Route{Task: models.TaskEmbed, Providers: []string{"llm"}},
		models.Route{Task: models.TaskRerank, Tenant: "meppel", Providers: []string{"tei"}},
	)
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestRouter_RerankRoute(t *testing.T) {
	down := llmtest.NewRerankServer(t, llmtest.RerankStatus(500, "", "boom"))
	cohere := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
	us := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{
			rerankProvider("us", models.KindJina, "us", us),
			rerankProvider("down", models.KindTEI, "nl", down),
			rerankProvider("cohere", models.KindCohere, "eu", cohere),
		},
		Routes: []models.Route{{Task: models.TaskRerank, Tenant: "meppel", Providers: []string{"us", "down", "cohere"},
			DataPolicy: models.Policy{AllowedRegions: []string{"nl", "eu"}}}},
	}, newExtractive(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	rr, ok := r.Reranker("meppel")
	if !ok {
		t.Fatal("no reranker for meppel")
	}
	scores, err := rr.Rerank(context.Background(), "paspoort balie", rerankDocs)
	if err != nil || len(scores) != 3 || scores[1] != 1 {
		t.Fatalf("scores %v, %v", scores, err)
	}
	if us.Count() != 0 || down.Count() != 1 || cohere.Count() != 1 {
		t.Errorf("requests: us %d (outside policy), down %d, cohere %d", us.Count(), down.Count(), cohere.Count())
	}
	if _, ok := r.Reranker("lindewaarde"); ok {
		t.Error("reranker for a tenant without a rerank route")
	}
	if _, err := r.Rerank(context.Background(), "lindewaarde", "q", rerankDocs); !errors.Is(err, models.ErrNoRoute) {
		t.Errorf("no route: %v", err)
	}
	if st := r.Breakers(); len(st) != 3 || st["down"] != models.BreakerClosed {
		t.Errorf("breakers %v", st)
	}
}

func TestRouter_RewriteRoute(t *testing.T) {
	slow := llmtest.NewServer(t, llmtest.Hang())
	good := llmtest.NewServer(t, llmtest.Reply("Hoe vraag ik een paspoort aan voor mijn kind?"))
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{provider("slow", "eu", slow), provider("good", "eu", good)},
		Routes: []models.Route{
			{Task: models.TaskRewrite, Providers: []string{"slow", "good"}, Timeout: 150 * time.Millisecond},
			{Task: models.TaskJudge, Providers: []string{"good"}},
		},
		Templates: []models.TenantTemplate{{Tenant: "meppel", Template: models.Template{Name: models.TemplateRewrite, Version: "rewrite-meppel-1",
			Body: `{{define "system"}}Maak er één zoekvraag van voor Meppel.{{end}}{{define "user"}}{{.History}}{{.FollowUp}}{{end}}`}}},
	}, newExtractive(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	q, err := r.Rewrite(context.Background(), "meppel", []string{"Hoe vraag ik een paspoort aan?"}, "en voor mijn kind?")
	if err != nil || q != "Hoe vraag ik een paspoort aan voor mijn kind?" || time.Since(start) > 3*time.Second {
		t.Fatalf("Rewrite = %q, %v after %s", q, err, time.Since(start))
	}
	if sys := good.Requests()[0].Content("system"); sys != "Maak er één zoekvraag van voor Meppel." {
		t.Errorf("tenant template not used: %q", sys)
	}
	if _, err := r.Rewrite(context.Background(), "lindewaarde", nil, "en dan?"); err != nil {
		t.Errorf("default route: %v", err)
	}
	if sys := good.Requests()[1].Content("system"); !strings.Contains(sys, "Regels:") {
		t.Errorf("other tenant got the override: %q", sys)
	}
	if got, err := r.Complete(context.Background(), models.TaskJudge, "x", msgs()); err != nil || got == "" {
		t.Errorf("judge: %q, %v", got, err)
	}
	if _, err := r.Complete(context.Background(), models.TaskAnswer, "x", msgs()); err == nil {
		t.Error("Complete accepted the answer task")
	}
}

func TestRouter_TenantAnswerTemplate(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("Een paspoort kost € 84,40 [1]."))
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{provider("m", "eu", srv)},
		Routes:    []models.Route{{Task: models.TaskAnswer, Providers: []string{"m"}}},
		Templates: []models.TenantTemplate{
			{Template: override("federatie-3", strings.Replace(goodBody, "Meppel-stijl", "federatie-stijl", 1))},
			{Tenant: "meppel", Template: override("meppel-7", goodBody)},
		},
	}, newExtractive(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]string{"meppel": "answer@meppel-7", "lindewaarde": "answer@federatie-3"} {
		tr, err := r.Chain(models.TaskAnswer, tenant).Run(context.Background(), request())
		if err != nil || tr.Attempts[0].Prompt != want {
			t.Errorf("%s: prompt %q, %v; want %s", tenant, tr.Attempts[0].Prompt, err, want)
		}
	}
	if v := r.Templates("meppel").Versions()["answer/"]; v != "meppel-7" {
		t.Errorf("versions %v", r.Templates("meppel").Versions())
	}
}

func TestRouter_EmbedConfigs(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("x"))
	r, err := models.NewRouter(models.Config{
		Providers: []models.Provider{provider("us", "us", srv), provider("eu", "eu", srv)},
		Routes: []models.Route{{Task: models.TaskEmbed, Providers: []string{"us", "eu"}, Timeout: 7 * time.Second,
			DataPolicy: models.Policy{AllowedRegions: []string{"eu"}}}},
	}, newExtractive(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfgs, ok := r.EmbedConfigs("meppel")
	if !ok || len(cfgs) != 1 || cfgs[0].Model != "eu-model" || cfgs[0].BaseURL != srv.URL || cfgs[0].Timeout != 7*time.Second || cfgs[0].APIKey != testKey {
		t.Fatalf("EmbedConfigs = %+v, %v", cfgs, ok)
	}
	if err := cfgs[0].Validate(); err != nil {
		t.Errorf("embed config invalid: %v", err)
	}
}
