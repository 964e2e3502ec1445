package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/models"
)

var rerankDocs = []string{
	"Het ophalen van grofvuil kost € 25.",
	"Een paspoort aanvragen doet u bij de balie.",
	"Een paspoort kost € 84,40 voor volwassenen.",
}

// newReranker returns a client of kind for srv with fast retries; edit
// adjusts the config.
func newReranker(tb testing.TB, kind string, srv *llmtest.RerankServer, edit func(*models.RerankConfig)) *models.RerankClient {
	tb.Helper()
	cfg := models.DefaultRerankConfig()
	cfg.BaseURL, cfg.Model, cfg.APIKey = srv.URL, "rerank-test", testKey
	cfg.Backoff = time.Millisecond
	cfg.Timeout = 5 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	c, err := models.NewRerankClient(kind, cfg)
	if err != nil {
		tb.Fatalf("NewRerankClient: %v", err)
	}
	return c
}

func TestRerankClient_Shapes(t *testing.T) {
	for _, kind := range []string{models.KindTEI, models.KindCohere, models.KindJina} {
		t.Run(kind, func(t *testing.T) {
			srv := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
			c := newReranker(t, kind, srv, func(c *models.RerankConfig) { c.BatchSize = 2 })
			scores, err := c.Rerank(context.Background(), "paspoort balie", rerankDocs)
			if err != nil {
				t.Fatal(err)
			}
			// Aligned with the documents, although the server sends the
			// best first.
			want := []float64{0, 1, 0.5}
			if fmt.Sprint(scores) != fmt.Sprint(want) {
				t.Errorf("scores %v, want %v", scores, want)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 || len(reqs[0].Docs) != 2 || len(reqs[1].Docs) != 1 {
				t.Fatalf("batches: %+v", reqs)
			}
			wantShape := llmtest.ShapeCohere
			if kind == models.KindTEI {
				wantShape = llmtest.ShapeTEI
			}
			r := reqs[0]
			if r.Shape != wantShape || r.Query != "paspoort balie" || r.Auth != "Bearer "+testKey {
				t.Errorf("request %+v", r)
			}
			if kind != models.KindTEI && (r.Model != "rerank-test" || r.TopN != 2) {
				t.Errorf("cohere fields %+v", r)
			}
		})
	}
	// No documents, no request.
	srv := llmtest.NewRerankServer(t, llmtest.Scores(llmtest.Overlap))
	if s, err := newReranker(t, models.KindTEI, srv, nil).Rerank(context.Background(), "q", nil); err != nil || len(s) != 0 || srv.Count() != 0 {
		t.Errorf("empty: %v, %v, %d requests", s, err, srv.Count())
	}
}

func TestRerankClient_Garbage(t *testing.T) {
	tests := []struct {
		kind, body string
	}{
		{models.KindTEI, `not json`},
		{models.KindTEI, `{"results":[]}`},
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2}]`},                          // 2 of 3
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":3,"score":0.3}]`},  // out of range
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":-1,"score":0.3}]`}, // negative
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":1,"score":0.3}]`},  // duplicate
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":2}]`},              // no score
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"score":0.3}]`},            // no index
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":2,"score":1e999}]`},
		{models.KindTEI, `[{"index":0,"score":0.1},{"index":1,"score":0.2},{"index":2,"score":"NaN"}]`},
		{models.KindCohere, `[{"index":0,"score":0.1}]`},
		{models.KindCohere, `{"results":[{"index":0,"relevance_score":0.1},{"index":1,"relevance_score":0.2}]}`},
		{models.KindCohere, `{"results":[{"index":0,"relevance_score":0.1},{"index":1,"relevance_score":0.2},{"index":2,"score":0.3}]}`},
		{models.KindCohere, `{"results":[{"index":0,"relevance_score":0.1},{"index":1,"relevance_score":0.2},{"index":2,"relevance_score":0.3},{"index":0,"relevance_score":0.3}]}`},
	}
	for _, tt := range tests {
		srv := llmtest.NewRerankServer(t, llmtest.RerankRaw(tt.body))
		s, err := newReranker(t, tt.kind, srv, nil).Rerank(context.Background(), "paspoort", rerankDocs)
		if !errors.Is(err, models.ErrMalformedRerank) {
			t.Errorf("%s %s: %v, %v; want ErrMalformedRerank", tt.kind, tt.body, s, err)
		}
		if srv.Count() != 1 {
			t.Errorf("%s %s: %d requests; garbage is not retried", tt.kind, tt.body, srv.Count())
		}
	}
}

func TestRerankClient_Retry(t *testing.T) {
	ok := llmtest.Scores(llmtest.Overlap)
	tests := []struct {
		name     string
		h        llmtest.RerankHandler
		retries  int
		requests int
		status   int // of the error; 0 for success
	}{
		{"429 with Retry-After then success", llmtest.RerankSequence(llmtest.RerankStatus(429, "0", `{"message":"slow down"}`), ok), 2, 2, 0},
		{"500 twice then success", llmtest.RerankSequence(llmtest.RerankStatus(500, "", "boom"), llmtest.RerankStatus(503, "", "boom"), ok), 2, 3, 0},
		{"500 beyond retries", llmtest.RerankStatus(500, "", "boom "+testKey), 1, 2, 500},
		{"400 not retried", llmtest.RerankStatus(400, "", `{"message":"bad"}`), 2, 1, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewRerankServer(t, tt.h)
			c := newReranker(t, models.KindCohere, srv, func(c *models.RerankConfig) { c.MaxRetries = tt.retries })
			s, err := c.Rerank(context.Background(), "paspoort kost", rerankDocs)
			if srv.Count() != tt.requests {
				t.Errorf("%d requests, want %d", srv.Count(), tt.requests)
			}
			if tt.status == 0 {
				if err != nil || len(s) != 3 || s[2] != 1 {
					t.Errorf("scores %v, %v", s, err)
				}
				return
			}
			var se *models.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Errorf("err %v, want status %d", err, tt.status)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("API key in error: %v", err)
			}
		})
	}
}

func TestRerankClient_HangTimesOut(t *testing.T) {
	srv := llmtest.NewRerankServer(t, llmtest.RerankHang())
	c := newReranker(t, models.KindTEI, srv, func(c *models.RerankConfig) { c.Timeout = 150 * time.Millisecond })
	start := time.Now()
	_, err := c.Rerank(context.Background(), "paspoort", rerankDocs)
	if el := time.Since(start); !errors.Is(err, models.ErrTimeout) || el > 2*time.Second {
		t.Fatalf("err %v after %s, want ErrTimeout", err, el)
	}
}

func TestRerankConfig(t *testing.T) {
	cfg := models.DefaultRerankConfig()
	cfg.BaseURL, cfg.APIKey = "http://127.0.0.1:1", testKey
	for _, s := range []string{cfg.String(), cfg.GoString(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), cfg.LogValue().String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("API key shown: %s", s)
		}
	}
	tests := []struct {
		kind string
		edit func(*models.RerankConfig)
		want string
	}{
		{"bm25", nil, "models.rerank.kind"},
		{models.KindTEI, func(c *models.RerankConfig) { c.BaseURL = "ftp://x" }, "models.rerank.base_url"},
		{models.KindCohere, nil, "models.rerank.model"},
		{models.KindTEI, func(c *models.RerankConfig) { c.Timeout = -1 }, "models.rerank.timeout"},
		{models.KindTEI, func(c *models.RerankConfig) { c.MaxRetries = 99 }, "models.rerank.max_retries"},
	}
	for _, tt := range tests {
		c := cfg
		if tt.edit != nil {
			tt.edit(&c)
		}
		if err := c.Validate(tt.kind); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Validate(%s) = %v, want %q", tt.kind, err, tt.want)
		}
	}
	if err := cfg.Validate(models.KindTEI); err != nil {
		t.Errorf("TEI without model: %v", err)
	}
}
