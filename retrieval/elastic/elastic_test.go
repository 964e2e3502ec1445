package elastic_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/elastic"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// request is what the fake server received.
type request struct {
	Method, Path, Query string
	Body                []byte
}

// fakeES is an HTTP server on 127.0.0.1 that answers like Elasticsearch
// with recorded responses (testdata/) chosen by answer.
type fakeES struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	answer   func(r request) (status int, file string)
}

func newFake(t *testing.T, answer func(r request) (int, string)) *fakeES {
	t.Helper()
	f := &fakeES{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		status, file := f.answer(req)
		// The client refuses servers that do not say they are
		// Elasticsearch (a header every 8.x response carries).
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if strings.HasPrefix(file, "{") { // a body made by the test
			w.Write([]byte(file))
		} else if file != "" {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Errorf("fake: %v", err)
			}
			w.Write(data)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeES) received() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func open(t *testing.T, f *fakeES, tune func(*elastic.Config)) *elastic.Index {
	t.Helper()
	cfg := elastic.DefaultConfig("assistent-test", 3)
	cfg.URLs = []string{f.URL}
	cfg.RetryBase = time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	x, err := elastic.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// jsonEqual compares two JSON documents as values.
func jsonEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	norm := func(v any) any {
		var b []byte
		switch v := v.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			b, _ = json.Marshal(v)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v: %s", what, err, b)
		}
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := elastic.DefaultConfig("assistent-meppel", 256)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		tune  func(*elastic.Config)
	}{
		{"urls", func(c *elastic.Config) { c.URLs = nil }},
		{"urls", func(c *elastic.Config) { c.URLs = []string{"127.0.0.1:9200"} }},
		{"index", func(c *elastic.Config) { c.Index = "Assistent" }},
		{"index", func(c *elastic.Config) { c.Index = "_x" }},
		{"dim", func(c *elastic.Config) { c.Dim = 0 }},
		{"refresh", func(c *elastic.Config) { c.Refresh = "soon" }},
		{"batch_size", func(c *elastic.Config) { c.BatchSize = 0 }},
	}
	for _, tt := range tests {
		c := ok
		tt.tune(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Validate() = %v, want an error naming %s", err, tt.field)
		}
	}
}

// The template, exactly; the decompounder's word list is the municipal
// list of package retrieval.
func TestIndexTemplate(t *testing.T) {
	cfg := elastic.DefaultConfig("assistent-meppel", 256)
	tmpl := elastic.IndexTemplate(cfg)
	b, _ := json.Marshal(tmpl)
	var got map[string]any
	json.Unmarshal(b, &got)
	filters := got["template"].(map[string]any)["settings"].(map[string]any)["analysis"].(map[string]any)["filter"].(map[string]any)
	words := filters["nl_compounds"].(map[string]any)["word_list"].([]any)
	if len(words) != len(retrieval.CompoundParts()) || len(words) < 100 || words[0] != retrieval.CompoundParts()[0] {
		t.Errorf("word_list has %d words, want the %d of retrieval.CompoundParts", len(words), len(retrieval.CompoundParts()))
	}
	filters["nl_compounds"].(map[string]any)["word_list"] = "…"
	jsonEqual(t, "template", got, `{
	  "index_patterns": ["assistent-meppel"],
	  "priority": 200,
	  "_meta": {"managed_by": "assistent", "version": 1},
	  "template": {
	    "settings": {
	      "number_of_shards": 1,
	      "number_of_replicas": 0,
	      "analysis": {
	        "filter": {
	          "nl_compounds": {"type": "dictionary_decompounder", "word_list": "…", "min_subword_size": 4, "only_longest_match": true},
	          "nl_stop": {"type": "stop", "stopwords": "_dutch_"},
	          "nl_stem": {"type": "stemmer", "language": "dutch"}
	        },
	        "analyzer": {
	          "nl_municipal": {"type": "custom", "tokenizer": "standard",
	            "filter": ["lowercase", "asciifolding", "nl_compounds", "nl_stop", "nl_stem"]}
	        }
	      }
	    },
	    "mappings": {
	      "dynamic": "strict",
	      "properties": {
	        "scope": {"type": "keyword"},
	        "doc_key": {"type": "keyword"},
	        "title": {"type": "text", "analyzer": "nl_municipal"},
	        "body": {"type": "text", "analyzer": "nl_municipal"},
	        "vector": {"type": "dense_vector", "dims": 256, "index": true, "similarity": "cosine"}
	      }
	    }
	  }
	}`)
}

func TestQueries(t *testing.T) {
	q := retrieval.Query{Text: "paspoort aanvragen", Expansion: "reisdocument", Vector: []float32{0.5, 0, -0.5},
		Scopes: []string{"t:meppel", "n:rijksoverheid"}, K: 5}
	jsonEqual(t, "lexical", elastic.LexicalQuery(q, 40), `{
	  "size": 40, "_source": false, "track_total_hits": false,
	  "query": {"bool": {
	    "filter": [{"terms": {"scope": ["t:meppel", "n:rijksoverheid"]}}],
	    "should": [
	      {"match": {"title": {"query": "paspoort aanvragen"}}},
	      {"match": {"body": {"query": "paspoort aanvragen"}}},
	      {"match": {"body": {"query": "reisdocument", "boost": 0.35}}}
	    ],
	    "minimum_should_match": 1
	  }}
	}`)
	q.Expansion = ""
	if should := elastic.LexicalQuery(q, 40)["query"].(map[string]any)["bool"].(map[string]any)["should"].([]any); len(should) != 2 {
		t.Errorf("no expansion: %d clauses, want 2", len(should))
	}
	jsonEqual(t, "vector", elastic.VectorQuery(q, 40, 80), `{
	  "size": 40, "_source": false, "track_total_hits": false,
	  "knn": {"field": "vector", "query_vector": [0.5, 0, -0.5], "k": 40, "num_candidates": 80,
	    "filter": {"terms": {"scope": ["t:meppel", "n:rijksoverheid"]}}}
	}`)
}

// Open puts the template, finds no index and creates it.
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/indices-put-template.html,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/indices-get-mapping.html,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/indices-create-index.html.
func TestIndex_Open(t *testing.T) {
	f := newFake(t, func(r request) (int, string) {
		switch {
		case r.Method == "PUT" && r.Path == "/_index_template/assistent-test":
			return 200, "acknowledged.json"
		case r.Method == "GET" && r.Path == "/assistent-test/_mapping":
			return 404, "index-not-found.json"
		case r.Method == "PUT" && r.Path == "/assistent-test":
			return 200, "create-index.json"
		}
		return 400, ""
	})
	x := open(t, f, nil)
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := f.received()
	var seq []string
	for _, r := range reqs {
		seq = append(seq, r.Method+" "+r.Path)
	}
	if want := []string{"PUT /_index_template/assistent-test", "GET /assistent-test/_mapping", "PUT /assistent-test"}; !slices.Equal(seq, want) {
		t.Fatalf("requests %v, want %v", seq, want)
	}
	jsonEqual(t, "template sent", reqs[0].Body, elastic.IndexTemplate(elastic.Config{Index: "assistent-test", Dim: 3}))

	// An index built for other vectors is refused.
	f.answer = func(r request) (int, string) {
		if r.Method == "GET" {
			return 200, "mapping-dims-128.json"
		}
		return 200, "acknowledged.json"
	}
	if err := x.Open(context.Background()); !errors.Is(err, elastic.ErrMismatch) {
		t.Errorf("Open on an index of 128 dimensions: %v, want ErrMismatch", err)
	}
}

func chunks(ids ...string) []retrieval.Chunk {
	var out []retrieval.Chunk
	for _, id := range ids {
		out = append(out, retrieval.Chunk{ID: id, DocKey: "t:meppel/" + id, DocID: id, Scope: "t:meppel",
			Title: "Titel " + id, Headings: []string{"Kop"}, Text: "Tekst over " + id, Vector: []float32{1, 0, 0}})
	}
	return out
}

// ndjson splits a bulk body into its lines, decoded.
func ndjson(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bulk line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		t.Error("a bulk body must end in a newline")
	}
	return lines
}

// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/docs-bulk.html
func TestIndex_Index(t *testing.T) {
	f := newFake(t, func(r request) (int, string) { return 200, "bulk-ok.json" })
	x := open(t, f, func(c *elastic.Config) { c.BatchSize = 2 })
	// Two batches of two; the fake answers two items each time.
	if err := x.Index(context.Background(), chunks("paspoort", "verhuizing", "a", "b")); err != nil {
		t.Fatal(err)
	}
	reqs := f.received()
	if len(reqs) != 2 {
		t.Fatalf("%d bulk requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != "POST" || r.Path != "/assistent-test/_bulk" || !strings.Contains(r.Query, "refresh=wait_for") {
			t.Errorf("request %s %s?%s", r.Method, r.Path, r.Query)
		}
	}
	lines := ndjson(t, reqs[0].Body)
	jsonEqual(t, "action", lines[0], `{"index": {"_index": "assistent-test", "_id": "paspoort"}}`)
	jsonEqual(t, "source", lines[1], `{"scope": "t:meppel", "doc_key": "t:meppel/paspoort", "title": "Titel paspoort",
	  "body": "Titel paspoort\nKop\nTekst over paspoort", "vector": [1, 0, 0]}`)
	if len(lines) != 4 {
		t.Errorf("%d lines, want 4", len(lines))
	}

	// A vector of the wrong dimension never reaches the server.
	bad := chunks("x")
	bad[0].Vector = []float32{1, 2}
	if err := x.Index(context.Background(), bad); err == nil {
		t.Error("a vector of 2 dimensions in an index of 3 was accepted")
	}
	// A zero vector is left out (cosine similarity refuses it).
	f.requests = nil
	zero := chunks("paspoort", "verhuizing")
	zero[0].Vector = []float32{0, 0, 0}
	if err := x.Index(context.Background(), zero); err != nil {
		t.Fatal(err)
	}
	if src := ndjson(t, f.received()[0].Body)[1]; src["vector"] != nil {
		t.Errorf("zero vector sent: %v", src)
	}
}

// Chunks rejected for load (429 per item) are sent again, alone; other
// failures fail the call with the chunk and the reason.
func TestIndex_Rejected(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, func(r request) (int, string) {
		if calls.Add(1) == 1 {
			return 200, "bulk-rejected.json"
		}
		return 200, "bulk-retried.json"
	})
	x := open(t, f, nil)
	if err := x.Index(context.Background(), chunks("paspoort", "verhuizing")); err != nil {
		t.Fatal(err)
	}
	reqs := f.received()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if lines := ndjson(t, reqs[1].Body); len(lines) != 2 || lines[0]["index"].(map[string]any)["_id"] != "verhuizing" {
		t.Errorf("retry sent %v, want only verhuizing", lines)
	}

	// Always rejected: gives up after MaxRetries. (Each answer has one
	// item per action, as in testdata/bulk-rejected.json.)
	f.answer = func(r request) (int, string) {
		n := bytes.Count(r.Body, []byte("\n")) / 2
		items := strings.Repeat(`{"index":{"_index":"assistent-test","_id":"x","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}},`, n)
		return 200, `{"took":1,"errors":true,"items":[` + strings.TrimSuffix(items, ",") + `]}`
	}
	x = open(t, f, func(c *elastic.Config) { c.MaxRetries = 2 })
	err := x.Index(context.Background(), chunks("paspoort", "verhuizing"))
	if err == nil || !strings.Contains(err.Error(), "rejected for load") {
		t.Errorf("always rejected: %v", err)
	}

	f.answer = func(request) (int, string) { return 200, "bulk-mapping-error.json" }
	err = x.Index(context.Background(), chunks("paspoort"))
	if err == nil || !strings.Contains(err.Error(), "paspoort") || !strings.Contains(err.Error(), "document_parsing_exception") {
		t.Errorf("mapping error: %v", err)
	}

	// A whole request refused with 429 is retried by the transport.
	var n atomic.Int32
	f.answer = func(request) (int, string) {
		if n.Add(1) == 1 {
			return 429, ""
		}
		return 200, "bulk-retried.json"
	}
	if err := x.Index(context.Background(), chunks("verhuizing")); err != nil {
		t.Errorf("after a 429: %v", err)
	}
}

// No more than MaxInflight bulk requests are on the wire at once, however
// many callers write: the others wait.
func TestIndex_Backpressure(t *testing.T) {
	var cur, peak atomic.Int32
	f := newFake(t, func(request) (int, string) {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		return 200, "bulk-retried.json"
	})
	x := open(t, f, func(c *elastic.Config) { c.MaxInflight = 2; c.BatchSize = 1 })
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if err := x.Index(context.Background(), chunks(fmt.Sprint("c", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("peak of %d bulk requests in flight, want 2", p)
	}
}

// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/docs-bulk.html (delete)
func TestIndex_Delete(t *testing.T) {
	f := newFake(t, func(request) (int, string) { return 200, "bulk-delete.json" })
	x := open(t, f, nil)
	if err := x.Delete(context.Background(), []string{"paspoort", "bestaat-niet"}); err != nil {
		t.Fatal(err)
	}
	lines := ndjson(t, f.received()[0].Body)
	jsonEqual(t, "delete", lines, `[{"delete": {"_index": "assistent-test", "_id": "paspoort"}}, {"delete": {"_index": "assistent-test", "_id": "bestaat-niet"}}]`)
	if err := x.Delete(context.Background(), nil); err != nil {
		t.Errorf("Delete(nil): %v", err)
	}
	if n := len(f.received()); n != 1 {
		t.Errorf("Delete(nil) sent a request")
	}
}

// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/search-search.html,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/knn-search.html
func TestIndex_Search(t *testing.T) {
	f := newFake(t, func(r request) (int, string) {
		if bytes.Contains(r.Body, []byte(`"knn"`)) {
			return 200, "search-knn.json"
		}
		return 200, "search-bm25.json"
	})
	x := open(t, f, func(c *elastic.Config) { c.VectorWeight = 1 })
	q := retrieval.Query{Text: "paspoort", Vector: []float32{1, 0, 0}, Scopes: []string{"t:meppel", "n:rijksoverheid"}, K: 3}
	hits, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	lex := []retrieval.Hit{{ChunkID: "paspoort"}, {ChunkID: "n-paspoort"}, {ChunkID: "trouwen"}}
	vec := []retrieval.Hit{{ChunkID: "n-paspoort"}, {ChunkID: "paspoort"}, {ChunkID: "verhuizing"}}
	want := hybrid.Fuse(60, 1, lex, vec)[:3]
	if len(hits) != 3 {
		t.Fatalf("hits %v, want %v", hits, want)
	}
	for i := range want {
		if hits[i].ChunkID != want[i].ChunkID || math.Abs(hits[i].Score-want[i].Score) > 1e-12 {
			t.Errorf("hit %d = %v, want %v", i, hits[i], want[i])
		}
	}
	reqs := f.received()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want a BM25 and a kNN search", len(reqs))
	}
	for _, r := range reqs {
		if r.Path != "/assistent-test/_search" {
			t.Errorf("search at %s", r.Path)
		}
		if bytes.Contains(r.Body, []byte(`"knn"`)) {
			jsonEqual(t, "kNN body", r.Body, elastic.VectorQuery(q, 40, 80))
		} else {
			jsonEqual(t, "BM25 body", r.Body, elastic.LexicalQuery(q, 40))
		}
	}

	// No scopes: nothing to search, no request. No vector: BM25 alone.
	f.requests = nil
	if hits, err := x.Search(context.Background(), retrieval.Query{Text: "paspoort"}); err != nil || len(hits) != 0 || len(f.received()) != 0 {
		t.Errorf("no scopes: %v %v, %d requests", hits, err, len(f.received()))
	}
	hits, err = x.Search(context.Background(), retrieval.Query{Text: "paspoort", Scopes: []string{"t:meppel"}})
	if err != nil || len(hits) != 3 || hits[0].ChunkID != "paspoort" || len(f.received()) != 1 {
		t.Errorf("BM25 alone: %v %v", hits, err)
	}
	if _, err := x.Search(context.Background(), retrieval.Query{Text: "x", Vector: []float32{1}, Scopes: []string{"t:meppel"}}); err == nil {
		t.Error("a query vector of the wrong dimension was sent")
	}

	// A failing search names the server's reason.
	f.answer = func(request) (int, string) { return 400, "search-shard-failure.json" }
	_, err = x.Search(context.Background(), q)
	var se *elastic.ServerError
	if !errors.As(err, &se) || se.Status != 400 || se.Type != "search_phase_execution_exception" {
		t.Errorf("failed search: %v", err)
	}
}

// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/search-count.html
func TestIndex_CountAndClose(t *testing.T) {
	f := newFake(t, func(request) (int, string) { return 200, "count.json" })
	x := open(t, f, nil)
	if n, err := x.Count(); err != nil || n != 8 {
		t.Errorf("Count() = %d, %v, want 8", n, err)
	}
	if r := f.received()[0]; r.Path != "/assistent-test/_count" {
		t.Errorf("count at %s", r.Path)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := x.Search(ctx, retrieval.Query{Text: "x", Scopes: []string{"t:a"}}); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Search after Close: %v", err)
	}
	if err := x.Index(ctx, chunks("a")); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Index after Close: %v", err)
	}
	if err := x.Delete(ctx, []string{"a"}); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Delete after Close: %v", err)
	}
	if _, err := x.Count(); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Count after Close: %v", err)
	}
}
