package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// Rerank wire shapes, named by the path the server received.
const (
	ShapeTEI    = "tei"    // POST /rerank {"query","texts"} → [{"index","score"}]
	ShapeCohere = "cohere" // POST /v1/rerank {"model","query","documents","top_n"} → {"results":[…]}
)

// RerankRequest is a rerank request as the server received it, in either
// shape.
type RerankRequest struct {
	Shape string // ShapeTEI or ShapeCohere
	Auth  string // the Authorization header
	Model string
	Query string
	Docs  []string // "texts" (TEI) or "documents" (Cohere)
	TopN  int      // Cohere's "top_n"; 0 when absent
}

// RerankHandler writes the reply to rerank request n (from 0).
type RerankHandler func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest)

// RerankServer is a local rerank server on 127.0.0.1 that speaks the TEI
// shape on POST /rerank and the Cohere/Jina shape on POST /v1/rerank, and
// records every request.
type RerankServer struct {
	URL string
	requestLog[RerankRequest]

	h    RerankHandler
	done chan struct{}
}

// NewRerankServer starts a server that replies with h; it is closed at the
// end of the test.
func NewRerankServer(tb testing.TB, h RerankHandler) *RerankServer {
	tb.Helper()
	s := &RerankServer{h: h}
	s.URL, s.done = start(tb, s)
	return s
}

// ServeHTTP records the request and calls the handler.
func (s *RerankServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var shape string
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/rerank":
		shape = ShapeTEI
	case r.Method == http.MethodPost && r.URL.Path == "/v1/rerank":
		shape = ShapeCohere
	default:
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	var body struct {
		Model     string   `json:"model"`
		Query     *string  `json:"query"`
		Texts     []string `json:"texts"`
		Documents []string `json:"documents"`
		TopN      int      `json:"top_n"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Query == nil {
		http.Error(w, `{"error":"bad json"}`, http.StatusUnprocessableEntity)
		return
	}
	req := RerankRequest{Shape: shape, Auth: r.Header.Get("Authorization"), Model: body.Model, Query: *body.Query, TopN: body.TopN}
	req.Docs = body.Texts
	if shape == ShapeCohere {
		req.Docs = body.Documents
	}
	n := s.add(req)
	untilDone(s.done, r, func(r *http.Request) { s.h(w, r, n, req) })
}

// Overlap scores a document by the share of the query's words in it, a
// stand-in for a cross-encoder that is easy to reason about in tests.
func Overlap(query, doc string) float64 {
	q := strings.Fields(strings.ToLower(query))
	if len(q) == 0 {
		return 0
	}
	d := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(doc)) {
		d[strings.Trim(w, ".,;:!?")] = true
	}
	hits := 0
	for _, w := range q {
		if d[strings.Trim(w, ".,;:!?")] {
			hits++
		}
	}
	return float64(hits) / float64(len(q))
}

// Scores answers in the request's shape with score(query, doc) for every
// document, best first as real servers sort them (Cohere: at most top_n).
func Scores(score func(query, doc string) float64) RerankHandler {
	return func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest) {
		scores := make([]float64, len(req.Docs))
		for i, d := range req.Docs {
			scores[i] = score(req.Query, d)
		}
		WriteRerank(w, req.Shape, scores, req.TopN)
	}
}

// WriteRerank writes scores (aligned with the documents) in shape, sorted
// by score, at most topN of them when topN > 0.
func WriteRerank(w http.ResponseWriter, shape string, scores []float64, topN int) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	if topN > 0 && topN < len(idx) {
		idx = idx[:topN]
	}
	w.Header().Set("Content-Type", "application/json")
	if shape == ShapeTEI {
		out := make([]map[string]any, len(idx))
		for k, i := range idx {
			out[k] = map[string]any{"index": i, "score": scores[i]}
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	results := make([]map[string]any, len(idx))
	for k, i := range idx {
		results[k] = map[string]any{"index": i, "relevance_score": scores[i]}
	}
	json.NewEncoder(w).Encode(map[string]any{"id": "rerank-test", "results": results,
		"meta": map[string]any{"billed_units": map[string]int{"search_units": 1}}})
}

// RerankStatus answers with code, an optional Retry-After header (when
// retryAfter is not empty) and body.
func RerankStatus(code int, retryAfter, body string) RerankHandler {
	return func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest) {
		writeStatus(w, code, retryAfter, body)
	}
}

// RerankRaw answers 200 with a JSON content type and body as is, e.g.
// garbage.
func RerankRaw(body string) RerankHandler {
	return func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

// RerankHang never answers; it returns when the client gives up or the
// server closes.
func RerankHang() RerankHandler {
	return func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest) {
		<-r.Context().Done()
	}
}

// RerankSequence replies to request n with hs[n], and to later ones with
// the last handler.
func RerankSequence(hs ...RerankHandler) RerankHandler {
	return func(w http.ResponseWriter, r *http.Request, n int, req RerankRequest) {
		hs[min(n, len(hs)-1)](w, r, n, req)
	}
}
