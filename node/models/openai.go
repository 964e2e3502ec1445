// Package models routes generation tasks to language models and falls back
// along a chain that always ends in the built-in extractive answerer.
//
// ChatClient speaks the OpenAI-compatible POST /v1/chat/completions wire
// format (OpenAI, Ollama, vLLM, Mistral, Azure OpenAI's v1 API, ...), unary
// and streaming. Router picks the providers for a task and tenant, honours
// the data policy's allowed regions, and turns a model reply into an
// answer.Answer with checked citations.
package models

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/internal/llmhttp"
)

// Sentinel errors of the chat client, tested with errors.Is.
var (
	// ErrTimeout is wrapped when the client's own Timeout or
	// FirstTokenTimeout ran out. Errors that wrap it also wrap
	// context.DeadlineExceeded.
	ErrTimeout = errors.New("model timeout")
	// ErrMalformedStream is wrapped when a streaming reply has a chunk that
	// is not valid JSON, or ends without "data: [DONE]".
	ErrMalformedStream = errors.New("malformed event stream")
	// ErrMalformedResponse is wrapped when a unary reply is not a valid chat
	// completion (not JSON, or without choices).
	ErrMalformedResponse = errors.New("malformed chat completion")
)

// OpenAIConfig configures a ChatClient.
type OpenAIConfig struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:11434"; requests go
	// to BaseURL + "/v1/chat/completions". A trailing "/v1" is accepted.
	BaseURL string
	Model   string // model name sent with every request
	// APIKey is sent as "Authorization: Bearer ..." when not empty. It never
	// appears in errors, logs or the config's String and LogValue.
	APIKey string
	// Timeout bounds a whole call, retries and the full stream included;
	// <= 0 means 30s.
	Timeout time.Duration
	// FirstTokenTimeout bounds, per attempt of Stream, the time from sending
	// the request to the first non-empty content delta; <= 0 means no bound
	// other than Timeout. A stream that stays silent that long is a timeout
	// (retried like a transport error, since nothing was delivered yet).
	FirstTokenTimeout time.Duration
	// MaxRetries is the number of retries after a 429, a 5xx, a transport
	// error or a first-token timeout, as long as no delta was delivered;
	// < 0 means none.
	MaxRetries int
	// Backoff is the delay before the first retry, doubled for each next one
	// (with jitter, at most 30s); <= 0 means 500ms. A Retry-After header
	// from the server takes precedence.
	Backoff     time.Duration
	Temperature float64      // sent as is; 0 is greedy decoding
	MaxTokens   int          // "max_tokens"; 0 leaves it to the server
	HTTPClient  *http.Client // nil means a client without its own timeout
	// EmbedDim is, for the embed task, the dimension of the model's
	// vectors; 0 learns it from the first reply.
	EmbedDim int
}

// DefaultOpenAIConfig returns the defaults: 30s per call, 10s to the first
// token, 2 retries starting at 500ms, temperature 0.2, at most 512 tokens.
// BaseURL and Model must still be set.
func DefaultOpenAIConfig() OpenAIConfig {
	return OpenAIConfig{
		Timeout:           30 * time.Second,
		FirstTokenTimeout: 10 * time.Second,
		MaxRetries:        2,
		Backoff:           500 * time.Millisecond,
		Temperature:       0.2,
		MaxTokens:         512,
	}
}

// Validate reports the first invalid field, named as in the config file
// ("models.openai.base_url: must be an http(s) URL").
func (c OpenAIConfig) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("models.openai.base_url: must be an http(s) URL")
	case strings.TrimSpace(c.Model) == "":
		return errors.New("models.openai.model: must not be empty")
	case c.Timeout < 0:
		return errors.New("models.openai.timeout: must not be negative")
	case c.FirstTokenTimeout < 0:
		return errors.New("models.openai.first_token_timeout: must not be negative")
	case c.Timeout > 0 && c.FirstTokenTimeout > c.Timeout:
		return errors.New("models.openai.first_token_timeout: must not exceed timeout")
	case c.MaxRetries > 20:
		return errors.New("models.openai.max_retries: must be at most 20")
	case c.Temperature < 0 || c.Temperature > 2:
		return errors.New("models.openai.temperature: must be in [0, 2]")
	case c.MaxTokens < 0:
		return errors.New("models.openai.max_tokens: must not be negative")
	}
	return nil
}

// redactedURL returns BaseURL without a password in it.
func (c OpenAIConfig) redactedURL() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return "(invalid)"
	}
	return u.Redacted()
}

// String describes the config with the API key redacted.
func (c OpenAIConfig) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("{BaseURL:%s Model:%s APIKey:%s Timeout:%s FirstTokenTimeout:%s MaxRetries:%d Backoff:%s Temperature:%g MaxTokens:%d}",
		c.redactedURL(), c.Model, key, c.Timeout, c.FirstTokenTimeout, c.MaxRetries, c.Backoff, c.Temperature, c.MaxTokens)
}

// GoString is String, so that %#v does not print the API key either.
func (c OpenAIConfig) GoString() string { return "models.OpenAIConfig" + c.String() }

// LogValue logs the config with the API key redacted.
func (c OpenAIConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.redactedURL()),
		slog.String("model", c.Model),
		slog.Bool("api_key_set", c.APIKey != ""),
		slog.Duration("timeout", c.Timeout),
		slog.Duration("first_token_timeout", c.FirstTokenTimeout),
		slog.Int("max_retries", c.MaxRetries),
	)
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Usage counts the tokens of a call, as reported by the server; zero when
// it reported none (many servers leave usage out of a stream).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// StatusError is a response with a status other than 200. Body holds the
// start of the response body (at most 200 bytes, API key redacted). The
// chat, rerank and embeddings clients share it.
type StatusError = llmhttp.StatusError

// ChatClient calls an OpenAI-compatible POST /v1/chat/completions endpoint.
// It is safe for concurrent use.
type ChatClient struct {
	cfg  OpenAIConfig
	http *llmhttp.Client
}

// NewChatClient returns a client for cfg, with defaults filled in, or the
// validation error.
func NewChatClient(cfg OpenAIConfig) (*ChatClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	def := DefaultOpenAIConfig()
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
	return &ChatClient{cfg: cfg, http: &llmhttp.Client{
		URL:         base + "/v1/chat/completions",
		APIKey:      cfg.APIKey,
		Op:          "post chat completion",
		ReadOp:      "read chat completion",
		HTTPClient:  cfg.HTTPClient,
		MaxRetries:  cfg.MaxRetries,
		Backoff:     cfg.Backoff,
		MaxResponse: maxResponse,
		Malformed:   ErrMalformedResponse,
	}}, nil
}

// Name returns "openai:" followed by the model name.
func (c *ChatClient) Name() string { return "openai:" + c.cfg.Model }

type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Stream      bool      `json:"stream"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
}

type chatChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Complete sends msgs without streaming and returns choices[0].message.content.
// It retries after a 429, a 5xx or a transport error (at most MaxRetries
// times, within Timeout). Errors wrap a *StatusError for a bad status,
// ErrMalformedResponse, ErrTimeout, or ctx's error when ctx ended the call.
func (c *ChatClient) Complete(ctx context.Context, msgs []Message) (string, Usage, error) {
	return c.call(ctx, msgs, false, nil)
}

// Stream sends msgs with "stream": true and calls onDelta (when not nil)
// with each content delta, in order; it returns the whole text. Retries
// happen as in Complete, and also after a first-token timeout, but never
// once a delta was delivered. An error from onDelta ends the call and is
// wrapped. A chunk that is not JSON, or a stream that ends without
// "data: [DONE]", gives ErrMalformedStream.
func (c *ChatClient) Stream(ctx context.Context, msgs []Message, onDelta func(string) error) (string, Usage, error) {
	return c.call(ctx, msgs, true, onDelta)
}

func (c *ChatClient) call(ctx context.Context, msgs []Message, stream bool, onDelta func(string) error) (string, Usage, error) {
	if len(msgs) == 0 {
		return "", Usage{}, errors.New("chat completion: no messages")
	}
	body, err := json.Marshal(chatRequest{Model: c.cfg.Model, Messages: msgs, Temperature: c.cfg.Temperature, MaxTokens: c.cfg.MaxTokens, Stream: stream})
	if err != nil {
		return "", Usage{}, fmt.Errorf("encode chat request: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, fmt.Errorf("%w: no complete reply within %s", ErrTimeout, c.cfg.Timeout))
	defer cancel()
	var last result
	err = c.http.Retry(ctx, func(ctx context.Context) llmhttp.Attempt {
		last = c.attempt(ctx, body, stream, onDelta)
		return llmhttp.Attempt{Err: last.err, Retry: last.retry && !last.delivered, RetryAfter: last.retryAfter}
	})
	if err != nil {
		return "", last.usage, err
	}
	return last.text, last.usage, nil
}

// result is the outcome of one attempt.
type result struct {
	text       string
	usage      Usage
	err        error
	retry      bool          // err may pass when tried again
	delivered  bool          // a delta went out to onDelta
	retryAfter time.Duration // the server's Retry-After, or -1
}

// maxResponse bounds a unary response read into memory; maxLine bounds one
// line of an event stream.
const (
	maxResponse = 8 << 20
	maxLine     = 1 << 20
)

func (c *ChatClient) attempt(ctx context.Context, body []byte, stream bool, onDelta func(string) error) result {
	actx, acancel := context.WithCancelCause(ctx)
	defer acancel(nil)
	var first *time.Timer
	if stream && c.cfg.FirstTokenTimeout > 0 {
		ftErr := fmt.Errorf("%w: no token within %s: %w", ErrTimeout, c.cfg.FirstTokenTimeout, context.DeadlineExceeded)
		first = time.AfterFunc(c.cfg.FirstTokenTimeout, func() { acancel(ftErr) })
		defer first.Stop()
	}
	// failed classifies an error of the transport or of reading the body.
	failed := func(res result, err error) result {
		if ctx.Err() == nil {
			if cause := context.Cause(actx); cause != nil && errors.Is(cause, ErrTimeout) {
				err = cause // the first-token timer fired
			}
			res.retry = true
		}
		res.err, res.retryAfter = err, -1
		return res
	}

	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	resp, a := c.http.Post(actx, body, accept)
	if a.Err != nil {
		var se *StatusError
		if a.Retry && !errors.As(a.Err, &se) {
			return failed(result{}, a.Err) // a transport error
		}
		return result{err: a.Err, retry: a.Retry, retryAfter: a.RetryAfter}
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if !stream || strings.HasPrefix(ct, "application/json") {
		// A server may answer a streaming request with one JSON reply;
		// then its content is the only delta.
		data, a := c.http.ReadBody(resp.Body)
		switch {
		case a.Err != nil && a.Retry: // a read error
			return failed(result{}, a.Err)
		case a.Err != nil: // too large
			return result{err: a.Err, retryAfter: -1}
		}
		res := c.decode(data)
		if res.err == nil && stream && res.text != "" && onDelta != nil {
			if first != nil && !first.Stop() {
				return failed(result{}, context.Cause(actx))
			}
			res.delivered = true
			if err := onDelta(res.text); err != nil {
				res.err = fmt.Errorf("deliver delta: %w", err)
			}
		}
		return res
	}
	return c.readStream(actx, resp.Body, first, onDelta, failed)
}

// decode reads a unary chat completion.
func (c *ChatClient) decode(data []byte) result {
	res := result{retryAfter: -1}
	var cr chatResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		res.err = fmt.Errorf("%w (%s): %v", ErrMalformedResponse, snippet(c.redactString(string(data))), err)
		return res
	}
	if cr.Usage != nil {
		res.usage = *cr.Usage
	}
	if len(cr.Choices) == 0 {
		res.err = fmt.Errorf("%w: no choices", ErrMalformedResponse)
		return res
	}
	res.text = cr.Choices[0].Message.Content
	return res
}

// readStream parses a server-sent event stream of chat completion chunks.
// Each "data:" line carries one JSON chunk, as every OpenAI-compatible
// server sends; comment lines (":") and other fields are ignored.
func (c *ChatClient) readStream(actx context.Context, body io.Reader, first *time.Timer, onDelta func(string) error, failed func(result, error) result) result {
	res := result{retryAfter: -1}
	var text strings.Builder
	br := bufio.NewReaderSize(body, 16<<10)
	for {
		line, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			if errors.Is(rerr, errLineTooLong) {
				res.err = fmt.Errorf("%w: %v", ErrMalformedStream, rerr)
				return res
			}
			// A line cut off by a transport error is incomplete: drop it.
			return failed(res, fmt.Errorf("read event stream: %w", rerr))
		}
		if rerr != nil && line == "" {
			break
		}
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		if field != "data" {
			continue
		}
		value = strings.TrimPrefix(value, " ")
		if strings.TrimSpace(value) == "[DONE]" {
			res.text = text.String()
			return res
		}
		var ch chatChunk
		if err := json.Unmarshal([]byte(value), &ch); err != nil {
			res.err = fmt.Errorf("%w: chunk %q: %v", ErrMalformedStream, snippet(c.redactString(value)), err)
			return res
		}
		if ch.Error != nil {
			res.err = fmt.Errorf("server error in stream: %s", snippet(c.redactString(ch.Error.Message)))
			return res
		}
		if ch.Usage != nil {
			res.usage = *ch.Usage
		}
		if len(ch.Choices) == 0 || ch.Choices[0].Delta.Content == "" {
			continue
		}
		d := ch.Choices[0].Delta.Content
		if !res.delivered && first != nil && !first.Stop() {
			// The first-token timer fired while this delta arrived.
			return failed(res, context.Cause(actx))
		}
		res.delivered = true
		text.WriteString(d)
		if onDelta != nil {
			if err := onDelta(d); err != nil {
				res.err = fmt.Errorf("deliver delta: %w", err)
				return res
			}
		}
	}
	res.err = fmt.Errorf("%w: ended without [DONE]", ErrMalformedStream)
	return res
}

// errLineTooLong is returned by readLine for a line over maxLine bytes.
var errLineTooLong = fmt.Errorf("event stream line longer than %d bytes", maxLine)

// readLine returns the next line without its "\n" or "\r\n". At the end
// of the stream it returns the last, unterminated line (possibly "") with
// io.EOF; on another error it returns that error.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > maxLine {
			return "", errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return string(buf), err
		}
		buf = buf[:len(buf)-1]
		if n := len(buf); n > 0 && buf[n-1] == '\r' {
			buf = buf[:n-1]
		}
		return string(buf), nil
	}
}

// redactString removes the API key from a text, should a server ever echo
// it.
func (c *ChatClient) redactString(s string) string { return c.http.RedactString(s) }

// snippet returns the start of a response body for an error message.
func snippet(s string) string { return llmhttp.Snippet(s) }
