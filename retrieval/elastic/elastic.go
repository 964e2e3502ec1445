// Package elastic is a retrieval.Index on Elasticsearch 8, for nodes that
// outgrow one machine's embedded indexes.
//
// One index per node holds every scope's chunks (the scope is a keyword
// field every search filters on). A search runs a BM25 query with the Dutch
// analyzer chain of IndexTemplate and an approximate kNN query, and fuses
// the two lists in Go with hybrid.Fuse, the reciprocal rank fusion the
// embedded searcher uses: Elasticsearch's own rrf retriever needs a paid
// licence. Writes go through the bulk API in batches, at most MaxInflight
// bulk requests at a time per Index (callers wait: backpressure), and
// chunks the cluster rejects for load (429) are sent again with backoff.
//
// It speaks the low-level esapi client of github.com/elastic/go-elasticsearch/v8,
// not the typed API (which adds ~23 MB and slow builds). The tests check the
// requests it sends and its handling of responses recorded from the
// documented formats; the shared conformance suite runs against a real
// server only when ASSISTENT_ELASTIC_URL is set.
package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/assistent-nl/assistent/internal/httpretry"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// Config configures the connection and the index.
type Config struct {
	URLs     []string // Elasticsearch nodes, e.g. http://10.0.0.7:9200
	Index    string   // index name, one per node, e.g. "assistent-meppel-1"
	Username string   // basic authentication, or
	Password string
	APIKey   string // an API key (base64), which wins over a password
	Dim      int    // dimension of the chunks' vectors
	Replicas int    // number_of_replicas of the index

	BatchSize   int           // chunks per bulk request
	BatchBytes  int           // and at most about this many bytes
	MaxInflight int           // bulk requests in flight per Index at once
	MaxRetries  int           // retries of a rejected (429) or failed (502-504) request or chunk
	RetryBase   time.Duration // first backoff; doubled per retry, with jitter
	// Refresh is the bulk API's refresh parameter: "wait_for" (default)
	// returns once the writes are searchable, as retrieval.Index promises;
	// "false" is faster for a bulk rebuild followed by a refresh.
	Refresh string

	Candidates   int     // hits taken from each list before fusion, at least the K asked for
	RRFK         float64 // reciprocal rank fusion constant
	VectorWeight float64 // the vector list's weight in the fusion (the lexical list's is 1)

	// Transport, when set, carries the requests (tests, custom TLS).
	Transport http.RoundTripper
}

// DefaultConfig returns the defaults for the index named index with
// vectors of dim dimensions: batches of 500 chunks or 5 MB, 2 bulk
// requests in flight, 5 retries from 200 ms, and the embedded searcher's
// fusion (hybrid.DefaultConfig).
func DefaultConfig(index string, dim int) Config {
	h := hybrid.DefaultConfig()
	return Config{
		URLs: []string{"http://127.0.0.1:9200"}, Index: index, Dim: dim,
		BatchSize: 500, BatchBytes: 5 << 20, MaxInflight: 2, MaxRetries: 5, RetryBase: 200 * time.Millisecond,
		Refresh: "wait_for", Candidates: h.Candidates, RRFK: h.RRFK, VectorWeight: h.VectorWeight,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case len(c.URLs) == 0:
		return errors.New("retrieval.elastic.urls: at least one URL is required")
	case c.Index == "" || strings.ToLower(c.Index) != c.Index || strings.ContainsAny(c.Index, `\/*?"<>| ,#:`) || strings.HasPrefix(c.Index, "_"):
		return fmt.Errorf("retrieval.elastic.index: %q is no valid index name (lower case, no \\/*?\"<>| ,#: and not starting with _)", c.Index)
	case c.Dim < 1 || c.Dim > 4096:
		return errors.New("retrieval.elastic.dim: must be 1 to 4096")
	case c.Replicas < 0:
		return errors.New("retrieval.elastic.replicas: must not be negative")
	case c.BatchSize < 1 || c.BatchBytes < 1 || c.MaxInflight < 1:
		return errors.New("retrieval.elastic: batch_size, batch_bytes and max_inflight must be positive")
	case c.MaxRetries < 0 || c.RetryBase < 0:
		return errors.New("retrieval.elastic: max_retries and retry_base must not be negative")
	case c.Refresh != "wait_for" && c.Refresh != "true" && c.Refresh != "false":
		return errors.New(`retrieval.elastic.refresh: want "wait_for", "true" or "false"`)
	case c.Candidates < 1 || c.RRFK <= 0 || c.VectorWeight < 0:
		return errors.New("retrieval.elastic: candidates and rrf_k must be positive, vector_weight not negative")
	}
	for _, u := range c.URLs {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("retrieval.elastic.urls: %q is no http(s) URL", u)
		}
	}
	return nil
}

// ErrMismatch is returned by Open when the index exists with vectors of
// another dimension (another embedder): it must be deleted and rebuilt.
var ErrMismatch = errors.New("elastic: the index was built for other vectors")

// Index is a retrieval.Index on one Elasticsearch index. It is safe for
// concurrent use.
type Index struct {
	cfg      Config
	log      *slog.Logger
	es       *elasticsearch.Client
	inflight chan struct{}
	closed   atomic.Bool
}

var _ retrieval.Index = (*Index)(nil)

// New returns an Index for cfg; Open prepares the index on the server.
func New(cfg Config, log *slog.Logger) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey,
		Transport:     cfg.Transport,
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    cfg.MaxRetries,
		RetryBackoff:  func(attempt int) time.Duration { return httpretry.Backoff(cfg.RetryBase, attempt-1) },
	})
	if err != nil {
		return nil, fmt.Errorf("elastic: client: %w", err)
	}
	return &Index{cfg: cfg, log: log, es: es, inflight: make(chan struct{}, cfg.MaxInflight)}, nil
}

// Open puts the index template (IndexTemplate) and creates the index when
// it does not exist. An existing index built for vectors of another
// dimension fails with ErrMismatch.
func (x *Index) Open(ctx context.Context) error {
	body, _ := json.Marshal(IndexTemplate(x.cfg))
	if _, err := x.do(ctx, esapi.IndicesPutIndexTemplateRequest{Name: x.cfg.Index, Body: bytes.NewReader(body)}); err != nil {
		return fmt.Errorf("elastic: put index template %s: %w", x.cfg.Index, err)
	}
	data, err := x.do(ctx, esapi.IndicesGetMappingRequest{Index: []string{x.cfg.Index}})
	var se *ServerError
	switch {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		_, err = x.do(ctx, esapi.IndicesCreateRequest{Index: x.cfg.Index})
		if errors.As(err, &se) && se.Type == "resource_already_exists_exception" {
			err = nil // another process made it meanwhile
		}
		if err != nil {
			return fmt.Errorf("elastic: create index %s: %w", x.cfg.Index, err)
		}
		x.log.Info("elastic: index created", "index", x.cfg.Index, "dim", x.cfg.Dim)
		return nil
	case err != nil:
		return fmt.Errorf("elastic: get mapping of %s: %w", x.cfg.Index, err)
	}
	var mappings map[string]struct {
		Mappings struct {
			Properties map[string]struct {
				Dims int `json:"dims"`
			} `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(data, &mappings); err != nil {
		return fmt.Errorf("elastic: mapping of %s: %w", x.cfg.Index, err)
	}
	for name, m := range mappings {
		if dims := m.Mappings.Properties[fieldVector].Dims; dims != x.cfg.Dim {
			return fmt.Errorf("%w: index %s has %d dimensions, want %d: delete it and rebuild", ErrMismatch, name, dims, x.cfg.Dim)
		}
	}
	return nil
}

// Drop deletes the index on the server (a rebuild starts from nothing);
// a missing index is no error.
func (x *Index) Drop(ctx context.Context) error {
	_, err := x.do(ctx, esapi.IndicesDeleteRequest{Index: []string{x.cfg.Index}})
	var se *ServerError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("elastic: delete index %s: %w", x.cfg.Index, err)
	}
	return nil
}

// Refresh makes every write so far searchable (after writes with
// Refresh "false").
func (x *Index) Refresh(ctx context.Context) error {
	if _, err := x.do(ctx, esapi.IndicesRefreshRequest{Index: []string{x.cfg.Index}}); err != nil {
		return fmt.Errorf("elastic: refresh %s: %w", x.cfg.Index, err)
	}
	return nil
}

// Close marks the index closed; later calls fail with retrieval.ErrClosed.
// The server's index is kept.
func (x *Index) Close() error {
	x.closed.Store(true)
	return nil
}

// Delete removes the chunks with these IDs; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	if x.closed.Load() {
		return retrieval.ErrClosed
	}
	items := make([]bulkItem, len(ids))
	for i, id := range ids {
		items[i] = bulkItem{id: id}
	}
	return x.bulk(ctx, items)
}

// Index adds chunks, replacing those with the same ID.
func (x *Index) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	if x.closed.Load() {
		return retrieval.ErrClosed
	}
	items := make([]bulkItem, len(chunks))
	for i, c := range chunks {
		src, err := json.Marshal(document(c))
		if err != nil {
			return fmt.Errorf("elastic: chunk %s: %w", c.ID, err)
		}
		if len(c.Vector) > 0 && len(c.Vector) != x.cfg.Dim {
			return fmt.Errorf("elastic: chunk %s has a vector of %d dimensions, the index %d", c.ID, len(c.Vector), x.cfg.Dim)
		}
		items[i] = bulkItem{id: c.ID, source: src}
	}
	return x.bulk(ctx, items)
}

// Search returns the best q.Limit() chunks of q.Scopes: the BM25 and kNN
// lists fused by reciprocal rank.
func (x *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Hit, error) {
	if x.closed.Load() {
		return nil, retrieval.ErrClosed
	}
	if len(q.Scopes) == 0 {
		return nil, nil
	}
	k := q.Limit()
	n := max(x.cfg.Candidates, k)
	var lex, vec []retrieval.Hit
	var lexErr, vecErr error
	var wg sync.WaitGroup
	if strings.TrimSpace(q.Text+q.Expansion) != "" {
		wg.Go(func() { lex, lexErr = x.search(ctx, LexicalQuery(q, n)) })
	}
	if nonZero(q.Vector) {
		if len(q.Vector) != x.cfg.Dim {
			return nil, fmt.Errorf("elastic: query vector of %d dimensions, the index %d", len(q.Vector), x.cfg.Dim)
		}
		wg.Go(func() { vec, vecErr = x.search(ctx, VectorQuery(q, n, 2*n)) })
	}
	wg.Wait()
	if err := errors.Join(lexErr, vecErr); err != nil {
		return nil, err
	}
	hits := hybrid.Fuse(x.cfg.RRFK, x.cfg.VectorWeight, lex, vec)
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

// Count returns the number of chunks in the index.
func (x *Index) Count() (int, error) {
	if x.closed.Load() {
		return 0, retrieval.ErrClosed
	}
	data, err := x.do(context.Background(), esapi.CountRequest{Index: []string{x.cfg.Index}})
	if err != nil {
		return 0, fmt.Errorf("elastic: count: %w", err)
	}
	var resp struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || resp.Count == nil {
		return 0, fmt.Errorf("elastic: count: unexpected answer %.200q", data)
	}
	return *resp.Count, nil
}

// search runs one search body and returns its hits in order.
//
// Response format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/search-search.html#search-api-response-body.
func (x *Index) search(ctx context.Context, body map[string]any) ([]retrieval.Hit, error) {
	b, _ := json.Marshal(body)
	data, err := x.do(ctx, esapi.SearchRequest{Index: []string{x.cfg.Index}, Body: bytes.NewReader(b)})
	if err != nil {
		return nil, fmt.Errorf("elastic: search: %w", err)
	}
	var resp struct {
		Hits struct {
			Hits []struct {
				ID    string   `json:"_id"`
				Score *float64 `json:"_score"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("elastic: search: %w", err)
	}
	hits := make([]retrieval.Hit, 0, len(resp.Hits.Hits))
	for _, h := range resp.Hits.Hits {
		s := 0.0
		if h.Score != nil {
			s = *h.Score
		}
		hits = append(hits, retrieval.Hit{ChunkID: h.ID, Score: s})
	}
	return hits, nil
}

// ServerError is an error answer of Elasticsearch.
//
// Format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/common-options.html#common-options-error-options.
type ServerError struct {
	Status int
	Type   string // e.g. index_not_found_exception
	Reason string
}

func (e *ServerError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch answered %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch answered %d: %s: %s", e.Status, e.Type, e.Reason)
}

// do runs req and returns the body of a 2xx answer; any other answer is a
// *ServerError.
func (x *Index) do(ctx context.Context, req esapi.Request) ([]byte, error) {
	resp, err := req.Do(ctx, x.es)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	se := &ServerError{Status: resp.StatusCode}
	var e struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		se.Type, se.Reason = e.Error.Type, e.Error.Reason
	}
	return nil, se
}

func nonZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}
