// Package llmtest runs local servers for tests of everything that talks
// to a model: Server speaks the OpenAI chat completions wire format (unary
// and streaming), EmbedServer OpenAI's embeddings, RerankServer the TEI and
// Cohere/Jina rerank shapes. They listen on loopback only.
package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is a chat completion request as the server received it.
type Request struct {
	Auth     string // the Authorization header
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature *float64 `json:"temperature"`
	MaxTokens   *int     `json:"max_tokens"`
	Stream      bool     `json:"stream"`
}

// Content returns the content of the first message with role, or "".
func (r Request) Content(role string) string {
	for _, m := range r.Messages {
		if m.Role == role {
			return m.Content
		}
	}
	return ""
}

// Handler writes the reply to request n (from 0).
type Handler func(w http.ResponseWriter, r *http.Request, n int, req Request)

// Server is a local OpenAI-compatible server on 127.0.0.1 that records
// every request to POST /v1/chat/completions.
type Server struct {
	URL string
	requestLog[Request]

	h    Handler
	done chan struct{} // closed at cleanup, ends hanging handlers
}

// NewServer starts a server that replies with h; it is closed at the end
// of the test.
func NewServer(tb testing.TB, h Handler) *Server {
	tb.Helper()
	s := &Server{h: h}
	s.URL, s.done = start(tb, s)
	return s
}

// requestLog records the requests a server received.
type requestLog[T any] struct {
	mu   sync.Mutex
	reqs []T
}

// Requests returns the requests received so far.
func (l *requestLog[T]) Requests() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.reqs...)
}

// Count returns the number of requests received so far.
func (l *requestLog[T]) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// add records req and returns its number, from 0.
func (l *requestLog[T]) add(req T) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, req)
	return len(l.reqs) - 1
}

// start serves h on loopback until the end of the test and returns its URL
// and a channel closed at cleanup, before the server closes, to end
// hanging handlers (see untilDone).
func start(tb testing.TB, h http.Handler) (string, chan struct{}) {
	done := make(chan struct{})
	hs := httptest.NewServer(h)
	tb.Cleanup(hs.Close)
	tb.Cleanup(func() { close(done) }) // runs first: cleanups are LIFO
	return hs.URL, done
}

// untilDone calls h with r's context also ended when done is closed, so
// that a hanging handler ends when the test ends.
func untilDone(done <-chan struct{}, r *http.Request, h func(*http.Request)) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	h(r.WithContext(ctx))
}

// ServeHTTP records the request and calls the handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	req.Auth = r.Header.Get("Authorization")
	n := s.add(req)
	untilDone(s.done, r, func(r *http.Request) { s.h(w, r, n, req) })
}

// Reply answers with content: as one chat completion, or as a stream of
// deltas of a few characters each when the request asked for a stream.
func Reply(content string) Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		if req.Stream {
			WriteStream(w, split(content, 4)...)
			return
		}
		WriteCompletion(w, req.Model, content)
	}
}

// Status answers with code, an optional Retry-After header (when
// retryAfter is not empty) and body.
func Status(code int, retryAfter, body string) Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		writeStatus(w, code, retryAfter, body)
	}
}

// writeStatus writes code with a JSON body and, when not empty, a
// Retry-After header.
func writeStatus(w http.ResponseWriter, code int, retryAfter, body string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// Raw answers 200 with the given content type and body.
func Raw(contentType, body string) Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	}
}

// Hang never answers; it returns when the client gives up or the server
// closes.
func Hang() Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		<-r.Context().Done()
	}
}

// Delay waits d (or until the client gives up), then replies with h.
func Delay(d time.Duration, h Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		select {
		case <-time.After(d):
			h(w, r, n, req)
		case <-r.Context().Done():
		}
	}
}

// Sequence replies to request n with hs[n], and to later ones with the
// last handler.
func Sequence(hs ...Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request, n int, req Request) {
		hs[min(n, len(hs)-1)](w, r, n, req)
	}
}

// WriteCompletion writes a unary chat completion with content.
func WriteCompletion(w http.ResponseWriter, model, content string) {
	w.Header().Set("Content-Type", "application/json")
	resp := map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": model,
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	}
	json.NewEncoder(w).Encode(resp)
}

// StreamHeader sets the headers of an event stream and flushes them.
func StreamHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

// WriteEvent writes one raw event line ("data: ...", ": comment") with the
// blank line after it, using "\r\n" line ends, and flushes.
func WriteEvent(w http.ResponseWriter, line string) {
	io.WriteString(w, line+"\r\n\r\n")
	w.(http.Flusher).Flush()
}

// Chunk returns the data line of a chunk with one content delta.
func Chunk(content string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1, "model": "test",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": content}, "finish_reason": nil}},
	})
	return "data: " + string(b)
}

// WriteStream writes a complete stream as OpenAI sends it: a role chunk, a
// keep-alive comment, one chunk per delta, a usage chunk and [DONE].
func WriteStream(w http.ResponseWriter, deltas ...string) {
	StreamHeader(w)
	WriteEvent(w, `data: {"id":"chatcmpl-test","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	WriteEvent(w, ": keep-alive")
	for _, d := range deltas {
		WriteEvent(w, Chunk(d))
	}
	WriteEvent(w, `data: {"id":"chatcmpl-test","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":`+fmt.Sprint(len(deltas))+`,"total_tokens":`+fmt.Sprint(10+len(deltas))+`}}`)
	WriteEvent(w, "data: [DONE]")
}

// split cuts s into pieces of at most n runes.
func split(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > 0 {
		k := min(n, len(r))
		out = append(out, string(r[:k]))
		r = r[k:]
	}
	return out
}
