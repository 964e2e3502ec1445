package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// EmbedServer is a local server on 127.0.0.1 that speaks the OpenAI
// POST /v1/embeddings wire format: {"model","input":[...]} in,
// {"object":"list","data":[{"object":"embedding","index","embedding"}],
// "model","usage"} out, the data in reverse order (a server is free to
// order them; the index counts). It records every request.
type EmbedServer struct {
	URL string
	requestLog[EmbedRequest]

	vector func(text string) []float32
	status atomic.Int32 // non-zero: answer every request with this status

	mu     sync.Mutex
	reply  func(n int, h http.Header) (int, string)
	inputs []string
}

// EmbedRequest is an embeddings request as the server received it.
type EmbedRequest struct {
	Auth  string // the Authorization header
	Model string
	Input []string
}

// NewEmbedServer starts a server that embeds each text with vector; it is
// closed at the end of the test.
func NewEmbedServer(tb testing.TB, vector func(text string) []float32) *EmbedServer {
	tb.Helper()
	s := &EmbedServer{vector: vector}
	s.URL, _ = start(tb, s)
	return s
}

// Fail makes every next request fail with status code (0: serve again).
func (s *EmbedServer) Fail(code int) { s.status.Store(int32(code)) }

// Reply picks the reply to each next request n (counted from 0 over all
// requests): a status other than 200 is sent with the headers reply set on
// h and the body it returned; 200 embeds as usual. nil embeds every request.
func (s *EmbedServer) Reply(reply func(n int, h http.Header) (code int, body string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = reply
}

// Inputs returns the texts embedded so far, in order.
func (s *EmbedServer) Inputs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.inputs...)
}

// ServeHTTP answers POST /v1/embeddings.
func (s *EmbedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	var texts []string
	if err := json.Unmarshal(req.Input, &texts); err != nil {
		var one string
		if err := json.Unmarshal(req.Input, &one); err != nil {
			http.Error(w, `{"error":{"message":"input must be a string or an array of strings"}}`, http.StatusBadRequest)
			return
		}
		texts = []string{one}
	}
	n := s.add(EmbedRequest{Auth: r.Header.Get("Authorization"), Model: req.Model, Input: texts})
	s.mu.Lock()
	reply := s.reply
	s.mu.Unlock()
	if code := s.status.Load(); code != 0 {
		http.Error(w, `{"error":{"message":"embedding model unavailable"}}`, int(code))
		return
	}
	if reply != nil {
		if code, body := reply(n, w.Header()); code != http.StatusOK {
			w.WriteHeader(code)
			io.WriteString(w, body)
			return
		}
	}
	s.mu.Lock()
	s.inputs = append(s.inputs, texts...)
	s.mu.Unlock()
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	out := struct {
		Object string         `json:"object"`
		Data   []item         `json:"data"`
		Model  string         `json:"model"`
		Usage  map[string]int `json:"usage"`
	}{Object: "list", Model: req.Model, Usage: map[string]int{"prompt_tokens": len(texts), "total_tokens": len(texts)}}
	for i := len(texts) - 1; i >= 0; i-- {
		out.Data = append(out.Data, item{Object: "embedding", Index: i, Embedding: s.vector(texts[i])})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
