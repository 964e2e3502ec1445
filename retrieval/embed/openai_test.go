package embed_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/retrieval/embed"
)

// startFake starts an embeddings server whose vectors have dim values,
// the first being the text's length, so that a test can check the order;
// it lists the data in reverse order. reply, when set, picks the reply to
// request n (see llmtest.EmbedServer.Reply).
func startFake(tb testing.TB, dim int, reply func(n int, h http.Header) (int, string)) *llmtest.EmbedServer {
	tb.Helper()
	srv := llmtest.NewEmbedServer(tb, func(text string) []float32 {
		v := make([]float32, dim)
		v[0] = float32(len(text))
		return v
	})
	srv.Reply(reply)
	return srv
}

func newClient(tb testing.TB, cfg embed.OpenAIConfig) *embed.OpenAI {
	tb.Helper()
	if cfg.Model == "" {
		cfg.Model = "test-embed"
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	o, err := embed.NewOpenAI(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func TestOpenAIConfig_Validate(t *testing.T) {
	ok := embed.DefaultOpenAIConfig()
	ok.BaseURL, ok.Model = "http://127.0.0.1:11434", "nomic-embed-text"
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*embed.OpenAIConfig)
		field string
	}{
		{"no url", func(c *embed.OpenAIConfig) { c.BaseURL = "" }, "embed.base_url"},
		{"ftp url", func(c *embed.OpenAIConfig) { c.BaseURL = "ftp://x" }, "embed.base_url"},
		{"no host", func(c *embed.OpenAIConfig) { c.BaseURL = "http://" }, "embed.base_url"},
		{"no model", func(c *embed.OpenAIConfig) { c.Model = " " }, "embed.model"},
		{"negative dim", func(c *embed.OpenAIConfig) { c.Dim = -1 }, "embed.dim"},
		{"huge batch", func(c *embed.OpenAIConfig) { c.BatchSize = 100000 }, "embed.batch_size"},
		{"many retries", func(c *embed.OpenAIConfig) { c.MaxRetries = 100 }, "embed.max_retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.field)
			}
			if _, err := embed.NewOpenAI(c); err == nil {
				t.Fatal("NewOpenAI accepted an invalid config")
			}
		})
	}
}

func TestOpenAI_Embed(t *testing.T) {
	ctx := context.Background()

	t.Run("batches in order with auth", func(t *testing.T) {
		f := startFake(t, 8, nil)
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL + "/v1/", APIKey: "sk-test", BatchSize: 3})
		if o.Dim() != 0 {
			t.Fatalf("Dim before a response = %d, want 0", o.Dim())
		}
		texts := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg"}
		vs, err := o.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != len(texts) {
			t.Fatalf("got %d vectors for %d texts", len(vs), len(texts))
		}
		for i, v := range vs {
			if len(v) != 8 || int(v[0]) != len(texts[i]) {
				t.Fatalf("vector %d is %v, not the one of %q", i, v, texts[i])
			}
		}
		if o.Dim() != 8 {
			t.Fatalf("Dim = %d, want 8 from the response", o.Dim())
		}
		if f.Count() != 3 {
			t.Fatalf("%d requests for 7 texts in batches of 3, want 3", f.Count())
		}
		for _, r := range f.Requests() {
			if r.Auth != "Bearer sk-test" || r.Model != "test-embed" || len(r.Input) > 3 {
				t.Fatalf("request %+v", r)
			}
		}
		if o.Name() != "openai:test-embed" {
			t.Fatalf("Name = %q", o.Name())
		}
	})

	t.Run("no auth header without key", func(t *testing.T) {
		f := startFake(t, 4, nil)
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL})
		if _, err := o.Embed(ctx, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		if f.Requests()[0].Auth != "" {
			t.Fatalf("Authorization %q sent without a key", f.Requests()[0].Auth)
		}
	})

	t.Run("429 then success", func(t *testing.T) {
		f := startFake(t, 4, func(n int, h http.Header) (int, string) {
			if n == 0 {
				h.Set("Retry-After", "0")
				return http.StatusTooManyRequests, "slow down"
			}
			return http.StatusOK, ""
		})
		// A large backoff shows that Retry-After: 0 is honoured.
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL, MaxRetries: 2, Backoff: time.Minute})
		start := time.Now()
		if _, err := o.Embed(ctx, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		if f.Count() != 2 || time.Since(start) > 10*time.Second {
			t.Fatalf("%d requests in %v, want 2 without waiting", f.Count(), time.Since(start))
		}
	})

	t.Run("500 exhausts retries", func(t *testing.T) {
		f := startFake(t, 4, func(int, http.Header) (int, string) {
			return http.StatusInternalServerError, `{"error":{"message":"model overloaded"}}`
		})
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL, MaxRetries: 2})
		_, err := o.Embed(ctx, []string{"x"})
		var se *embed.StatusError
		if !errors.As(err, &se) || se.StatusCode != 500 || !strings.Contains(err.Error(), "model overloaded") {
			t.Fatalf("err = %v, want a StatusError 500 with the body", err)
		}
		if f.Count() != 3 {
			t.Fatalf("%d requests, want 1 + 2 retries", f.Count())
		}
	})

	t.Run("400 is not retried", func(t *testing.T) {
		f := startFake(t, 4, func(int, http.Header) (int, string) { return http.StatusBadRequest, "bad" })
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL, MaxRetries: 3})
		if _, err := o.Embed(ctx, []string{"x"}); err == nil || f.Count() != 1 {
			t.Fatalf("err = %v after %d requests, want an error after 1", err, f.Count())
		}
	})

	bad := []struct {
		name, body, want string
	}{
		{"malformed JSON", `{"data": [`, "decode response"},
		{"too few embeddings", `{"data":[{"index":0,"embedding":[1,2,3,4]}]}`, "1 embeddings for 2 inputs"},
		{"index out of range", `{"data":[{"index":0,"embedding":[1,2,3,4]},{"index":5,"embedding":[1,2,3,4]}]}`, "index 5"},
		{"duplicate index", `{"data":[{"index":1,"embedding":[1,2,3,4]},{"index":1,"embedding":[1,2,3,4]}]}`, "twice"},
		{"wrong dimension", `{"data":[{"index":0,"embedding":[1,2,3,4]},{"index":1,"embedding":[1,2,3]}]}`, "dimension 3, want 4"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			o := newClient(t, embed.OpenAIConfig{BaseURL: srv.URL, Dim: 4})
			if _, err := o.Embed(ctx, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}

	t.Run("configured dimension is checked", func(t *testing.T) {
		o := newClient(t, embed.OpenAIConfig{BaseURL: startFake(t, 5, nil).URL, Dim: 4})
		if _, err := o.Embed(ctx, []string{"x"}); err == nil || !strings.Contains(err.Error(), "dimension 5, want 4") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("context deadline while the server hangs", func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			io.Copy(io.Discard, r.Body) // the server notices a hang-up only after the body
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		o := newClient(t, embed.OpenAIConfig{BaseURL: srv.URL, MaxRetries: 5})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := o.Embed(cctx, []string{"x"})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("err = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
		}
		if calls.Load() != 1 {
			t.Fatalf("%d calls, want 1", calls.Load())
		}
	})

	t.Run("cancel during backoff", func(t *testing.T) {
		f := startFake(t, 4, func(int, http.Header) (int, string) { return http.StatusServiceUnavailable, "" })
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL, MaxRetries: 5, Backoff: time.Minute})
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := o.Embed(cctx, []string{"x"})
		if !errors.Is(err, context.Canceled) || f.Count() != 1 {
			t.Fatalf("err = %v after %d requests, want Canceled after 1", err, f.Count())
		}
	})

	t.Run("per-attempt timeout is retried", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // the server notices a hang-up only after the body
			if calls.Add(1) == 1 {
				select { // hang until the client gives up
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
				return
			}
			w.Write([]byte(`{"data":[{"index":0,"embedding":[1,0]}]}`))
		}))
		t.Cleanup(srv.Close)
		o := newClient(t, embed.OpenAIConfig{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, MaxRetries: 1})
		if _, err := o.Embed(ctx, []string{"x"}); err != nil || calls.Load() != 2 {
			t.Fatalf("err = %v after %d calls, want success after 2", err, calls.Load())
		}
	})

	t.Run("empty input sends nothing", func(t *testing.T) {
		f := startFake(t, 4, nil)
		o := newClient(t, embed.OpenAIConfig{BaseURL: f.URL})
		vs, err := o.Embed(ctx, nil)
		if err != nil || len(vs) != 0 || f.Count() != 0 {
			t.Fatalf("Embed(nil) = %v, %v after %d requests", vs, err, f.Count())
		}
	})
}
