package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assistent-nl/assistent/internal/llmhttp"
	"github.com/assistent-nl/assistent/retrieval"
)

var _ retrieval.Embedder = (*OpenAI)(nil)

// OpenAIConfig configures an OpenAI client.
type OpenAIConfig struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:11434"; requests go
	// to BaseURL + "/v1/embeddings". A trailing "/v1" is accepted as well.
	BaseURL string
	Model   string // model name sent with every request
	APIKey  string // sent as "Authorization: Bearer ..." when not empty
	// Dim is the expected vector dimension; 0 takes it from the first
	// response.
	Dim        int
	BatchSize  int           // texts per request; <= 0 means 64
	Timeout    time.Duration // per HTTP attempt; <= 0 means 30s
	MaxRetries int           // retries after a 429, a 5xx or a transport error; < 0 means none
	// Backoff is the delay before the first retry, doubled for each next
	// one (with jitter, at most 30s); <= 0 means 500ms. A Retry-After header
	// from the server takes precedence.
	Backoff    time.Duration
	HTTPClient *http.Client // nil means a client without its own timeout
}

// DefaultOpenAIConfig returns the defaults: batches of 64, 30s per attempt,
// 3 retries starting at 500ms. BaseURL and Model must still be set.
func DefaultOpenAIConfig() OpenAIConfig {
	return OpenAIConfig{BatchSize: 64, Timeout: 30 * time.Second, MaxRetries: 3, Backoff: 500 * time.Millisecond}
}

// Validate reports the first invalid field, named as in the config file
// ("embed.base_url: must be an http(s) URL").
func (c OpenAIConfig) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("embed.base_url: must be an http(s) URL")
	}
	if strings.TrimSpace(c.Model) == "" {
		return errors.New("embed.model: must not be empty")
	}
	if c.Dim < 0 {
		return errors.New("embed.dim: must not be negative")
	}
	if c.BatchSize > 2048 {
		return errors.New("embed.batch_size: must be at most 2048")
	}
	if c.MaxRetries > 20 {
		return errors.New("embed.max_retries: must be at most 20")
	}
	return nil
}

// OpenAI embeds texts through an OpenAI-compatible POST /v1/embeddings
// endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, text-embeddings-inference,
// ...). It is safe for concurrent use.
type OpenAI struct {
	cfg  OpenAIConfig
	http *llmhttp.Client
	dim  atomic.Int64
}

// NewOpenAI returns a client for cfg, with defaults filled in, or the
// validation error.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	def := DefaultOpenAIConfig()
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = def.Backoff
	}
	base := strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1")
	endpoint := base + "/v1/embeddings"
	o := &OpenAI{cfg: cfg, http: &llmhttp.Client{
		URL:            endpoint,
		APIKey:         cfg.APIKey,
		Op:             "post " + endpoint,
		ReadOp:         "read response",
		HTTPClient:     cfg.HTTPClient,
		MaxRetries:     cfg.MaxRetries,
		Backoff:        cfg.Backoff,
		AttemptTimeout: cfg.Timeout,
		MaxResponse:    maxResponse,
		// Unlike the chat and rerank clients, a retry waits even past
		// ctx's deadline, so that a call cut short ends with ctx's error,
		// and a body over maxResponse is retried (no Malformed).
		WaitPastDeadline: true,
	}}
	o.dim.Store(int64(cfg.Dim))
	return o, nil
}

// Dim returns the vector dimension: the configured one, or the one of the
// first response, or 0 before any response when none was configured.
func (o *OpenAI) Dim() int { return int(o.dim.Load()) }

// Name returns "openai:" followed by the model name.
func (o *OpenAI) Name() string { return "openai:" + o.cfg.Model }

// StatusError is a response with a status other than 200. Body holds the
// start of the response body (at most 200 bytes, API key redacted). The
// embeddings, chat and rerank clients share it.
type StatusError = llmhttp.StatusError

// Embed returns one vector per text, in the order of texts, sending them in
// batches of BatchSize. It retries a batch after a 429, a 5xx or a transport
// error, at most MaxRetries times, and stops when ctx is done. Errors wrap
// a *StatusError for a bad status, and ctx's error when it ended the call.
// Every vector must have the dimension Dim.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += o.cfg.BatchSize {
		batch := texts[start:min(start+o.cfg.BatchSize, len(texts))]
		vs, err := o.embedBatch(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed texts %d-%d of %d: %w", start, start+len(batch)-1, len(texts), err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

type embeddingsRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embeddingsResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// maxResponse bounds the response body read into memory.
const maxResponse = 256 << 20

func (o *OpenAI) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(embeddingsRequest{Model: o.cfg.Model, Input: texts})
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	var data []byte
	err = o.http.Retry(ctx, func(ctx context.Context) (a llmhttp.Attempt) {
		data, a = o.http.PostJSON(ctx, body)
		return a
	})
	if err != nil {
		return nil, err
	}
	return o.decode(data, len(texts))
}

// decode checks a 200 response and returns its vectors in input order.
func (o *OpenAI) decode(data []byte, n int) ([][]float32, error) {
	var resp embeddingsResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("decode response (%s): %w", llmhttp.Snippet(string(data)), err)
	}
	if len(resp.Data) != n {
		return nil, fmt.Errorf("response has %d embeddings for %d inputs", len(resp.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= n {
			return nil, fmt.Errorf("response has embedding index %d for %d inputs", d.Index, n)
		}
		if out[d.Index] != nil {
			return nil, fmt.Errorf("response has embedding index %d twice", d.Index)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("response has an empty embedding at index %d", d.Index)
		}
		want := o.dim.Load()
		if want == 0 {
			// The first response fixes the dimension, for all callers.
			o.dim.CompareAndSwap(0, int64(len(d.Embedding)))
			want = o.dim.Load()
		}
		if int64(len(d.Embedding)) != want {
			return nil, fmt.Errorf("embedding %d has dimension %d, want %d", d.Index, len(d.Embedding), want)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}
