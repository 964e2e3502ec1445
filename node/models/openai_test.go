package models_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/models"
)

const testKey = "sk-test-SECRET-4711"

// newClient returns a client for srv with fast retries; edit adjusts the
// config.
func newClient(tb testing.TB, srv *llmtest.Server, edit func(*models.OpenAIConfig)) *models.ChatClient {
	tb.Helper()
	cfg := models.DefaultOpenAIConfig()
	cfg.BaseURL = srv.URL
	cfg.Model = "test-model"
	cfg.APIKey = testKey
	cfg.Backoff = time.Millisecond
	cfg.Timeout = 5 * time.Second
	cfg.FirstTokenTimeout = 2 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	c, err := models.NewChatClient(cfg)
	if err != nil {
		tb.Fatalf("NewChatClient: %v", err)
	}
	return c
}

// msgs is a short conversation.
func msgs() []models.Message {
	return []models.Message{{Role: "system", Content: "Wees kort."}, {Role: "user", Content: "Hoe laat?"}}
}

// collector gathers deltas.
type collector struct {
	mu     sync.Mutex
	deltas []string
}

func (c *collector) add(d string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deltas = append(c.deltas, d)
	return nil
}

func (c *collector) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.deltas...)
}

func TestChatClient_Complete(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("Het stadhuis is open van 9 tot 17 uur."))
	c := newClient(t, srv, nil)
	text, usage, err := c.Complete(context.Background(), msgs())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if text != "Het stadhuis is open van 9 tot 17 uur." {
		t.Errorf("text = %q", text)
	}
	if usage.TotalTokens != 15 || usage.PromptTokens != 10 {
		t.Errorf("usage = %+v", usage)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "Bearer "+testKey {
		t.Errorf("Authorization = %q", r.Auth)
	}
	if r.Model != "test-model" || r.Stream || r.Temperature == nil || *r.Temperature != 0.2 || r.MaxTokens == nil || *r.MaxTokens != 512 {
		t.Errorf("request = %+v", r)
	}
	if len(r.Messages) != 2 || r.Content("system") != "Wees kort." || r.Content("user") != "Hoe laat?" {
		t.Errorf("messages = %+v", r.Messages)
	}
	if c.Name() != "openai:test-model" {
		t.Errorf("Name = %q", c.Name())
	}
}

func TestChatClient_Stream(t *testing.T) {
	t.Run("deltas in order", func(t *testing.T) {
		want := "Neem uw oude paspoort mee naar de balie."
		srv := llmtest.NewServer(t, llmtest.Reply(want))
		c := newClient(t, srv, nil)
		var col collector
		text, usage, err := c.Stream(context.Background(), msgs(), col.add)
		if err != nil {
			t.Fatalf("Stream: %v", err)
		}
		got := col.got()
		if text != want || strings.Join(got, "") != want || len(got) < 5 {
			t.Errorf("text %q, deltas %q", text, got)
		}
		if got[0] != "Neem" || got[1] != " uw " {
			t.Errorf("deltas out of order: %q", got)
		}
		if usage.CompletionTokens != len(got) {
			t.Errorf("usage = %+v, want %d completion tokens", usage, len(got))
		}
		if r := srv.Requests()[0]; !r.Stream || r.Auth != "Bearer "+testKey {
			t.Errorf("request = %+v", r)
		}
	})
	t.Run("bare LF lines, no space after colon, other fields", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Raw("text/event-stream",
			"event: message\nid: 1\ndata:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"+
				": ping\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n"))
		text, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), nil)
		if err != nil || text != "ab" {
			t.Fatalf("Stream = %q, %v", text, err)
		}
	})
	t.Run("JSON reply to a stream request", func(t *testing.T) {
		srv := llmtest.NewServer(t, func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
			llmtest.WriteCompletion(w, req.Model, "in een keer")
		})
		var col collector
		text, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), col.add)
		if err != nil || text != "in een keer" || len(col.got()) != 1 {
			t.Fatalf("Stream = %q, %v, deltas %q", text, err, col.got())
		}
	})
	t.Run("onDelta error ends the call", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Reply("een twee drie vier"))
		stop := errors.New("widget gone")
		_, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), func(string) error { return stop })
		if !errors.Is(err, stop) || srv.Count() != 1 {
			t.Fatalf("err = %v after %d requests, want widget gone after 1", err, srv.Count())
		}
	})
}

func TestChatClient_Retry(t *testing.T) {
	t.Run("429 then success honours Retry-After", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Sequence(
			llmtest.Status(http.StatusTooManyRequests, "1", `{"error":{"message":"rate limited"}}`),
			llmtest.Reply("gelukt"),
		))
		c := newClient(t, srv, nil)
		start := time.Now()
		text, _, err := c.Complete(context.Background(), msgs())
		if err != nil || text != "gelukt" {
			t.Fatalf("= %q, %v", text, err)
		}
		if el := time.Since(start); el < 900*time.Millisecond {
			t.Errorf("retried after %s, want Retry-After 1s", el)
		}
		if srv.Count() != 2 {
			t.Errorf("%d requests, want 2", srv.Count())
		}
	})
	t.Run("429 then streamed success", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Sequence(
			llmtest.Status(http.StatusTooManyRequests, "", `{}`),
			llmtest.Reply("gelukt"),
		))
		text, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), nil)
		if err != nil || text != "gelukt" || srv.Count() != 2 {
			t.Fatalf("= %q, %v after %d requests", text, err, srv.Count())
		}
	})
	t.Run("500 exhausts retries", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Status(http.StatusInternalServerError, "", strings.Repeat("x", 1000)))
		_, _, err := newClient(t, srv, func(c *models.OpenAIConfig) { c.MaxRetries = 3 }).Complete(context.Background(), msgs())
		var se *models.StatusError
		if !errors.As(err, &se) || se.StatusCode != 500 {
			t.Fatalf("err = %v, want a 500 StatusError", err)
		}
		if srv.Count() != 4 {
			t.Errorf("%d requests, want 1 + 3 retries", srv.Count())
		}
		if len(se.Body) > 200+len("…") {
			t.Errorf("body snippet has %d bytes", len(se.Body))
		}
	})
	t.Run("400 is not retried", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Status(http.StatusBadRequest, "", `{"error":{"message":"bad"}}`))
		_, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), nil)
		var se *models.StatusError
		if !errors.As(err, &se) || se.StatusCode != 400 || srv.Count() != 1 {
			t.Fatalf("err = %v after %d requests", err, srv.Count())
		}
	})
	t.Run("Retry-After past the deadline gives up at once", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Status(http.StatusServiceUnavailable, "20", `{}`))
		start := time.Now()
		_, _, err := newClient(t, srv, nil).Complete(context.Background(), msgs())
		var se *models.StatusError
		if !errors.As(err, &se) || time.Since(start) > time.Second || srv.Count() != 1 {
			t.Fatalf("err = %v after %s and %d requests", err, time.Since(start), srv.Count())
		}
	})
	t.Run("dropped connection is retried", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Sequence(
			func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
			},
			llmtest.Reply("na een storing"),
		))
		text, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), nil)
		if err != nil || text != "na een storing" || srv.Count() != 2 {
			t.Fatalf("= %q, %v after %d requests", text, err, srv.Count())
		}
	})
	t.Run("no retry once a delta went out", func(t *testing.T) {
		// A chunked body cut off mid-chunk: a transport error after the
		// first delta.
		srv := llmtest.NewServer(t, func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			ev := llmtest.Chunk("Eerst") + "\n\n"
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n50\r\ndata: {", len(ev), ev)
			buf.Flush()
		})
		var col collector
		_, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), col.add)
		if !errors.Is(err, io.ErrUnexpectedEOF) || srv.Count() != 1 || len(col.got()) != 1 {
			t.Fatalf("err = %v after %d requests, deltas %q", err, srv.Count(), col.got())
		}
	})
}

func TestChatClient_Timeout(t *testing.T) {
	t.Run("server never answers", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Hang())
		c := newClient(t, srv, func(c *models.OpenAIConfig) { c.Timeout = 300 * time.Millisecond; c.FirstTokenTimeout = 0 })
		start := time.Now()
		_, _, err := c.Complete(context.Background(), msgs())
		el := time.Since(start)
		if !errors.Is(err, models.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if el < 300*time.Millisecond || el > time.Second {
			t.Errorf("gave up after %s, want ~300ms", el)
		}
	})
	t.Run("slow first token", func(t *testing.T) {
		srv := llmtest.NewServer(t, func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
			llmtest.StreamHeader(w)
			// Keep-alives are not tokens.
			for range 10 {
				llmtest.WriteEvent(w, ": keep-alive")
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
			llmtest.WriteEvent(w, llmtest.Chunk("te laat"))
			llmtest.WriteEvent(w, "data: [DONE]")
		})
		c := newClient(t, srv, func(c *models.OpenAIConfig) { c.FirstTokenTimeout = 200 * time.Millisecond; c.MaxRetries = 1 })
		start := time.Now()
		var col collector
		_, _, err := c.Stream(context.Background(), msgs(), col.add)
		el := time.Since(start)
		if !errors.Is(err, models.ErrTimeout) || len(col.got()) != 0 {
			t.Fatalf("err = %v, deltas %q; want ErrTimeout and none", err, col.got())
		}
		if srv.Count() != 2 || el > 1500*time.Millisecond {
			t.Errorf("%d requests in %s, want 2 (one retry) of ~200ms each", srv.Count(), el)
		}
	})
	t.Run("slow first token once, then fast", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Sequence(
			llmtest.Delay(time.Second, llmtest.Reply("te laat")),
			llmtest.Reply("op tijd"),
		))
		c := newClient(t, srv, func(c *models.OpenAIConfig) { c.FirstTokenTimeout = 200 * time.Millisecond })
		text, _, err := c.Stream(context.Background(), msgs(), nil)
		if err != nil || text != "op tijd" {
			t.Fatalf("= %q, %v", text, err)
		}
	})
	t.Run("caller's context", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Hang())
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := newClient(t, srv, nil).Stream(ctx, msgs(), nil)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, models.ErrTimeout) {
			t.Fatalf("err = %v, want the caller's deadline, not ErrTimeout", err)
		}
	})
}

func TestChatClient_MalformedStream(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		deltas int
	}{
		{"bad JSON mid-stream", llmtest.Chunk("Goed") + "\n\ndata: {\"choices\":[{\"delta\":\n\n" + llmtest.Chunk("nooit") + "\n\ndata: [DONE]\n\n", 1},
		{"cut without DONE", llmtest.Chunk("Half") + "\n\n" + llmtest.Chunk(" antwoord") + "\n\n", 2},
		{"empty stream", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Raw("text/event-stream", tt.body))
			var col collector
			_, _, err := newClient(t, srv, nil).Stream(context.Background(), msgs(), col.add)
			if !errors.Is(err, models.ErrMalformedStream) {
				t.Fatalf("err = %v, want ErrMalformedStream", err)
			}
			if len(col.got()) != tt.deltas || srv.Count() != 1 {
				t.Errorf("deltas %q after %d requests", col.got(), srv.Count())
			}
		})
	}
	t.Run("garbage unary reply", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Raw("application/json", "<html>proxy error</html>"))
		_, _, err := newClient(t, srv, nil).Complete(context.Background(), msgs())
		if !errors.Is(err, models.ErrMalformedResponse) {
			t.Fatalf("err = %v, want ErrMalformedResponse", err)
		}
	})
}

func TestChatClient_APIKeyNeverShown(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Status(http.StatusUnauthorized, "",
		`{"error":{"message":"Incorrect API key provided: `+testKey+`"}}`))
	c := newClient(t, srv, nil)
	_, _, err := c.Complete(context.Background(), msgs())
	var se *models.StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 || srv.Count() != 1 {
		t.Fatalf("err = %v after %d requests, want one 401", err, srv.Count())
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(se.Body, testKey) {
		t.Errorf("error shows the key: %v", err)
	}

	cfg := models.DefaultOpenAIConfig()
	cfg.BaseURL, cfg.Model, cfg.APIKey = "https://user:pw@llm.example/v1", "m", testKey
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("config", "cfg", cfg)
	shown := []string{
		cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(&cfg),
		fmt.Sprintf("%+v", models.Provider{Name: "p", OpenAI: cfg}), log.String(),
	}
	for _, s := range shown {
		if strings.Contains(s, testKey) || strings.Contains(s, ":pw@") {
			t.Errorf("secret shown in %q", s)
		}
	}
}

func TestOpenAIConfig_Validate(t *testing.T) {
	valid := models.DefaultOpenAIConfig()
	valid.BaseURL, valid.Model = "http://127.0.0.1:11434", "mistral-small"
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		edit func(*models.OpenAIConfig)
		want string
	}{
		{func(c *models.OpenAIConfig) { c.BaseURL = "127.0.0.1:11434" }, "models.openai.base_url: must be an http(s) URL"},
		{func(c *models.OpenAIConfig) { c.BaseURL = "ftp://x" }, "models.openai.base_url"},
		{func(c *models.OpenAIConfig) { c.Model = " " }, "models.openai.model"},
		{func(c *models.OpenAIConfig) { c.Timeout = -1 }, "models.openai.timeout"},
		{func(c *models.OpenAIConfig) { c.FirstTokenTimeout = time.Minute }, "models.openai.first_token_timeout"},
		{func(c *models.OpenAIConfig) { c.MaxRetries = 21 }, "models.openai.max_retries"},
		{func(c *models.OpenAIConfig) { c.Temperature = 2.5 }, "models.openai.temperature"},
		{func(c *models.OpenAIConfig) { c.MaxTokens = -1 }, "models.openai.max_tokens"},
	}
	for _, tt := range tests {
		c := valid
		tt.edit(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
	if _, err := models.NewChatClient(models.OpenAIConfig{}); err == nil {
		t.Error("NewChatClient accepted an empty config")
	}
}
