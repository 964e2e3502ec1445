// Package llmhttp is the HTTP core of the project's clients of model
// servers (chat completions and rerank in node/models, embeddings in
// retrieval/embed): a JSON POST with the bearer key, the status mapped to
// one StatusError, response size limits, and the retry loop with backoff
// and the server's Retry-After (timing from internal/httpretry). The API
// key never appears in the errors it returns.
//
// The wire formats stay with the callers: a caller encodes its request,
// calls Retry with a function that makes one attempt (Post, then reading
// the body its own way), and decodes the reply.
package llmhttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/internal/httpretry"
)

// StatusError is a response with a status other than 200. Body holds the
// start of the response body (at most 200 bytes, API key redacted).
type StatusError struct {
	StatusCode int
	Body       string
}

// Error returns the status and the body snippet.
func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d: %s", e.StatusCode, e.Body)
}

// Retryable reports whether a request that got this status may pass when
// tried again: 429 and 5xx.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// plainClient sends for a Client without an HTTPClient.
var plainClient = &http.Client{}

// errorBodyLimit bounds what is read of a response with a bad status; the
// error keeps only its start.
const errorBodyLimit = 4096

// Client posts JSON to one endpoint. Its fields are set once; it is safe for
// concurrent use.
type Client struct {
	URL    string // the endpoint
	APIKey string // sent as "Authorization: Bearer ..." when not empty
	// Op and ReadOp prefix the errors of sending and of reading a 200's
	// body, e.g. "post rerank" and "read rerank response".
	Op, ReadOp string
	// HTTPClient sends the requests; nil means a client without its own
	// timeout.
	HTTPClient *http.Client
	// MaxRetries is the number of retries after a retryable failure; <= 0
	// means none.
	MaxRetries int
	// Backoff is the delay before the first retry, doubled for each next
	// one with jitter (httpretry.Backoff); a Retry-After takes precedence.
	Backoff time.Duration
	// AttemptTimeout, when > 0, bounds each attempt (request and body);
	// an attempt that runs out is retried.
	AttemptTimeout time.Duration
	// MaxResponse bounds the body ReadBody reads.
	MaxResponse int64
	// Malformed, when set, is wrapped by the error for a body over
	// MaxResponse ("<Malformed>: larger than N bytes"), which is then not
	// retried. Without it such a body is retried ("response larger than N
	// bytes").
	Malformed error
	// WaitPastDeadline makes Retry wait for a retry even when ctx's
	// deadline comes first, so that the call ends with ctx's error. By
	// default Retry gives up at once with the last attempt's error.
	WaitPastDeadline bool
}

// Attempt is the outcome of one try: Err nil for success.
type Attempt struct {
	Err        error
	Retry      bool          // Err may pass when tried again
	RetryAfter time.Duration // the server's Retry-After, or -1
}

// Fail returns an attempt that failed for good with err.
func Fail(err error) Attempt { return Attempt{Err: err, RetryAfter: -1} }

// Temporary returns an attempt that failed with err and may pass when
// tried again.
func Temporary(err error) Attempt { return Attempt{Err: err, Retry: true, RetryAfter: -1} }

// Retry calls try until an attempt passes, fails for good, or MaxRetries
// retries are spent, waiting between attempts. When ctx ends the call the
// error wraps ctx's cause and error (CtxError); after the last retry it
// says how many attempts were made.
func (c *Client) Retry(ctx context.Context, try func(ctx context.Context) Attempt) error {
	for attempt := 0; ; attempt++ {
		a := c.once(ctx, try)
		if a.Err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return CtxError(ctx, a.Err)
		}
		if !a.Retry {
			return a.Err
		}
		if attempt >= c.MaxRetries {
			return fmt.Errorf("after %d attempts: %w", attempt+1, a.Err)
		}
		delay := a.RetryAfter
		if delay < 0 {
			delay = httpretry.Backoff(c.Backoff, attempt)
		}
		if dl, ok := ctx.Deadline(); ok && !c.WaitPastDeadline && time.Until(dl) < delay {
			return fmt.Errorf("retry in %s would pass the deadline: %w", delay, a.Err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return CtxError(ctx, a.Err)
		case <-t.C:
		}
	}
}

// once makes one attempt, within AttemptTimeout when set.
func (c *Client) once(ctx context.Context, try func(ctx context.Context) Attempt) Attempt {
	if c.AttemptTimeout <= 0 {
		return try(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, c.AttemptTimeout)
	defer cancel()
	return try(actx)
}

// CtxError explains an ended ctx: its cause (when it has one of its own)
// and ctx.Err(), with the last attempt's error for context.
func CtxError(ctx context.Context, last error) error {
	cause, cerr := context.Cause(ctx), ctx.Err()
	if cause != nil && cause != cerr {
		return fmt.Errorf("%w: %w (last attempt: %v)", cause, cerr, last)
	}
	return fmt.Errorf("%w (last attempt: %v)", cerr, last)
}

// PostJSON posts body, asking for JSON, and returns the whole body of a
// 200 (see Post and ReadBody).
func (c *Client) PostJSON(ctx context.Context, body []byte) ([]byte, Attempt) {
	resp, a := c.Post(ctx, body, "application/json")
	if a.Err != nil {
		return nil, a
	}
	defer resp.Body.Close()
	return c.ReadBody(resp.Body)
}

// Post sends body as JSON, asking for accept, and returns the response to
// a 200, whose body the caller reads and closes. Otherwise it returns the
// failure, its error prefixed with Op: a *StatusError (retried for 429 and
// 5xx, with the server's Retry-After), or the transport error (retried).
func (c *Client) Post(ctx context.Context, body []byte, accept string) (*http.Response, Attempt) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, Fail(fmt.Errorf("new request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	client := c.HTTPClient
	if client == nil {
		client = plainClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, Temporary(c.Redact(fmt.Errorf("%s: %w", c.Op, err)))
	}
	if resp.StatusCode == http.StatusOK {
		return resp, Attempt{RetryAfter: -1}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	se := &StatusError{StatusCode: resp.StatusCode, Body: Snippet(c.RedactString(string(data)))}
	return nil, Attempt{Err: fmt.Errorf("%s: %w", c.Op, se), Retry: se.Retryable(), RetryAfter: httpretry.RetryAfter(resp.Header.Get("Retry-After"))}
}

// ReadBody reads r up to MaxResponse bytes. An error while reading is
// retried, prefixed with ReadOp; a longer body is an error as Malformed
// says.
func (c *Client) ReadBody(r io.Reader) ([]byte, Attempt) {
	data, err := io.ReadAll(io.LimitReader(r, c.MaxResponse+1))
	if err != nil {
		return nil, Temporary(fmt.Errorf("%s: %w", c.ReadOp, err))
	}
	if int64(len(data)) > c.MaxResponse {
		if c.Malformed != nil {
			return nil, Fail(fmt.Errorf("%w: larger than %d bytes", c.Malformed, c.MaxResponse))
		}
		return nil, Temporary(fmt.Errorf("response larger than %d bytes", c.MaxResponse))
	}
	return data, Attempt{RetryAfter: -1}
}

// Redact returns err with every occurrence of the API key in its text
// replaced; errors.Is and As still see the original chain.
func (c *Client) Redact(err error) error {
	if c.APIKey == "" || !strings.Contains(err.Error(), c.APIKey) {
		return err
	}
	return &redactedError{msg: c.RedactString(err.Error()), err: err}
}

// RedactString replaces every occurrence of the API key in s.
func (c *Client) RedactString(s string) string {
	if c.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.APIKey, "[redacted]")
}

// redactedError keeps the chain of err for errors.Is but not its text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Snippet returns the start of a response body for an error message: at
// most 200 bytes, valid UTF-8, white space folded, "…" when cut.
func Snippet(s string) string {
	const n = 200
	cut := s
	if len(cut) > n {
		cut = cut[:n]
	}
	out := strings.Join(strings.Fields(strings.ToValidUTF8(cut, "")), " ")
	if len(s) > n {
		out += "…"
	}
	return out
}
