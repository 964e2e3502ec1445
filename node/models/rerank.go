package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/internal/llmhttp"
)

// Reranker scores documents against a query with a cross-encoder: higher
// is more relevant. Scores are aligned with docs.
type Reranker interface {
	Rerank(ctx context.Context, query string, docs []string) ([]float64, error)
}

// Rerank provider kinds: the wire shape a RerankClient speaks.
const (
	// KindTEI is Hugging Face text-embeddings-inference: POST /rerank with
	// {"query","texts"}, answering [{"index","score"}].
	KindTEI = "tei"
	// KindCohere is the Cohere shape: POST /v1/rerank with
	// {"model","query","documents","top_n"}, answering
	// {"results":[{"index","relevance_score"}]}.
	KindCohere = "cohere"
	// KindJina is Jina's rerank API, which speaks the Cohere shape.
	KindJina = "jina"
)

// ErrMalformedRerank is wrapped when a rerank response is not what was
// asked: not JSON, an index out of range or twice, a missing or non-finite
// score, or a document without a score.
var ErrMalformedRerank = errors.New("malformed rerank response")

// RerankConfig configures a RerankClient.
type RerankConfig struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:8080"; TEI
	// requests go to BaseURL + "/rerank", Cohere-shaped ones to BaseURL +
	// "/v1/rerank" (a trailing "/v1" is accepted).
	BaseURL string
	// Model is sent with Cohere-shaped requests, where it is required; TEI
	// serves one model and ignores it.
	Model string
	// APIKey is sent as "Authorization: Bearer ..." when not empty; the
	// config file names the environment variable that holds it
	// (api_key_env). It never appears in errors, logs or String.
	APIKey string
	// Timeout bounds a whole call, retries included; <= 0 means 10s.
	Timeout time.Duration
	// MaxRetries is the number of retries after a 429, a 5xx or a
	// transport error; < 0 means none.
	MaxRetries int
	// Backoff is the delay before the first retry, doubled for each next
	// one (with jitter); <= 0 means 200ms. A Retry-After header takes
	// precedence.
	Backoff time.Duration
	// BatchSize is the number of documents per request; <= 0 means 32
	// (TEI's default client batch limit).
	BatchSize  int
	HTTPClient *http.Client // nil means a client without its own timeout
}

// DefaultRerankConfig returns the defaults: 10s per call, 2 retries
// starting at 200ms, batches of 32. BaseURL (and Model for Cohere) must
// still be set.
func DefaultRerankConfig() RerankConfig {
	return RerankConfig{Timeout: 10 * time.Second, MaxRetries: 2, Backoff: 200 * time.Millisecond, BatchSize: 32}
}

// Validate reports the first invalid field for a client of kind, named as
// in the config file ("models.rerank.base_url: must be an http(s) URL").
func (c RerankConfig) Validate(kind string) error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case kind != KindTEI && kind != KindCohere && kind != KindJina:
		return fmt.Errorf("models.rerank.kind: must be %q, %q or %q", KindTEI, KindCohere, KindJina)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("models.rerank.base_url: must be an http(s) URL")
	case kind != KindTEI && strings.TrimSpace(c.Model) == "":
		return fmt.Errorf("models.rerank.model: must not be empty for kind %q", kind)
	case c.Timeout < 0:
		return errors.New("models.rerank.timeout: must not be negative")
	case c.MaxRetries > 20:
		return errors.New("models.rerank.max_retries: must be at most 20")
	case c.BatchSize > 1000:
		return errors.New("models.rerank.batch_size: must be at most 1000")
	}
	return nil
}

// String describes the config with the API key redacted.
func (c RerankConfig) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	base := "(invalid)"
	if u, err := url.Parse(c.BaseURL); err == nil {
		base = u.Redacted()
	}
	return fmt.Sprintf("{BaseURL:%s Model:%s APIKey:%s Timeout:%s MaxRetries:%d Backoff:%s BatchSize:%d}",
		base, c.Model, key, c.Timeout, c.MaxRetries, c.Backoff, c.BatchSize)
}

// GoString is String, so that %#v does not print the API key either.
func (c RerankConfig) GoString() string { return "models.RerankConfig" + c.String() }

// LogValue logs the config with the API key redacted.
func (c RerankConfig) LogValue() slog.Value {
	return slog.StringValue(c.String())
}

var _ Reranker = (*RerankClient)(nil)

// RerankClient calls a rerank server of the TEI or Cohere shape. It is
// safe for concurrent use.
type RerankClient struct {
	kind string
	cfg  RerankConfig
	http *llmhttp.Client
}

// NewRerankClient returns a client of kind (KindTEI, KindCohere or
// KindJina) for cfg, with defaults filled in, or the validation error.
func NewRerankClient(kind string, cfg RerankConfig) (*RerankClient, error) {
	if err := cfg.Validate(kind); err != nil {
		return nil, err
	}
	def := DefaultRerankConfig()
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	if cfg.Backoff <= 0 {
		cfg.Backoff = def.Backoff
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	endpoint := base + "/rerank"
	if kind != KindTEI {
		endpoint = strings.TrimSuffix(base, "/v1") + "/v1/rerank"
	}
	return &RerankClient{kind: kind, cfg: cfg, http: &llmhttp.Client{
		URL:         endpoint,
		APIKey:      cfg.APIKey,
		Op:          "post rerank",
		ReadOp:      "read rerank response",
		HTTPClient:  cfg.HTTPClient,
		MaxRetries:  cfg.MaxRetries,
		Backoff:     cfg.Backoff,
		MaxResponse: maxResponse,
		Malformed:   ErrMalformedRerank,
	}}, nil
}

// Name returns the kind and the model, e.g. "cohere:rerank-v3.5" ("tei"
// alone for TEI without a model name).
func (c *RerankClient) Name() string {
	if c.cfg.Model == "" {
		return c.kind
	}
	return c.kind + ":" + c.cfg.Model
}

type teiRerankRequest struct {
	Query    string   `json:"query"`
	Texts    []string `json:"texts"`
	Truncate bool     `json:"truncate"`
}

type teiRerankItem struct {
	Index *int     `json:"index"`
	Score *float64 `json:"score"`
}

type cohereRerankRequest struct {
	Model     string   `json:"model"`
	Query     string   `json:"query"`
	Documents []string `json:"documents"`
	TopN      int      `json:"top_n"`
}

type cohereRerankResponse struct {
	Results []struct {
		Index          *int     `json:"index"`
		RelevanceScore *float64 `json:"relevance_score"`
	} `json:"results"`
}

// Rerank returns one score per document, in the order of docs; no docs
// make no request. Documents are sent in batches of BatchSize. It retries
// after a 429, a 5xx or a transport error (at most MaxRetries times per
// batch, within Timeout). Errors wrap a *StatusError for a bad status,
// ErrMalformedRerank, ErrTimeout, or ctx's error when ctx ended the call.
func (c *RerankClient) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	if len(docs) == 0 {
		return []float64{}, nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, fmt.Errorf("%w: no rerank within %s", ErrTimeout, c.cfg.Timeout))
	defer cancel()
	scores := make([]float64, 0, len(docs))
	for start := 0; start < len(docs); start += c.cfg.BatchSize {
		batch := docs[start:min(start+c.cfg.BatchSize, len(docs))]
		s, err := c.batch(ctx, query, batch)
		if err != nil {
			return nil, fmt.Errorf("rerank %s: %w", c.Name(), err)
		}
		scores = append(scores, s...)
	}
	return scores, nil
}

func (c *RerankClient) batch(ctx context.Context, query string, docs []string) ([]float64, error) {
	var body []byte
	var err error
	if c.kind == KindTEI {
		body, err = json.Marshal(teiRerankRequest{Query: query, Texts: docs, Truncate: true})
	} else {
		body, err = json.Marshal(cohereRerankRequest{Model: c.cfg.Model, Query: query, Documents: docs, TopN: len(docs)})
	}
	if err != nil {
		return nil, fmt.Errorf("encode rerank request: %w", err)
	}
	var data []byte
	err = c.http.Retry(ctx, func(ctx context.Context) (a llmhttp.Attempt) {
		data, a = c.http.PostJSON(ctx, body)
		return a
	})
	if err != nil {
		return nil, err
	}
	return c.decode(data, len(docs))
}

// decode checks a response for n documents and returns the scores in
// document order.
func (c *RerankClient) decode(data []byte, n int) ([]float64, error) {
	type pair struct {
		index *int
		score *float64
	}
	var pairs []pair
	if c.kind == KindTEI {
		var items []teiRerankItem
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("%w (%s): %v", ErrMalformedRerank, snippet(c.redactString(string(data))), err)
		}
		for _, it := range items {
			pairs = append(pairs, pair{it.Index, it.Score})
		}
	} else {
		var cr cohereRerankResponse
		if err := json.Unmarshal(data, &cr); err != nil {
			return nil, fmt.Errorf("%w (%s): %v", ErrMalformedRerank, snippet(c.redactString(string(data))), err)
		}
		for _, it := range cr.Results {
			pairs = append(pairs, pair{it.Index, it.RelevanceScore})
		}
	}
	scores := make([]float64, n)
	seen := make([]bool, n)
	for i, p := range pairs {
		switch {
		case p.index == nil:
			return nil, fmt.Errorf("%w: result %d has no index", ErrMalformedRerank, i)
		case *p.index < 0 || *p.index >= n:
			return nil, fmt.Errorf("%w: index %d out of range [0, %d)", ErrMalformedRerank, *p.index, n)
		case seen[*p.index]:
			return nil, fmt.Errorf("%w: index %d twice", ErrMalformedRerank, *p.index)
		case p.score == nil:
			return nil, fmt.Errorf("%w: result %d has no score", ErrMalformedRerank, i)
		case math.IsNaN(*p.score) || math.IsInf(*p.score, 0):
			return nil, fmt.Errorf("%w: score of index %d is not finite", ErrMalformedRerank, *p.index)
		}
		seen[*p.index] = true
		scores[*p.index] = *p.score
	}
	if len(pairs) != n {
		return nil, fmt.Errorf("%w: %d scores for %d documents", ErrMalformedRerank, len(pairs), n)
	}
	return scores, nil
}

// redactString removes the API key from a text.
func (c *RerankClient) redactString(s string) string { return c.http.RedactString(s) }
