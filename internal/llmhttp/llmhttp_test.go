package llmhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/assistent-nl/assistent/internal/llmhttp"
)

const key = "sk-SECRET-42"

func TestPost(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+key || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "text/plain" {
			t.Errorf("headers %v", r.Header)
		}
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "slow down "+key+strings.Repeat(" x", 200))
		case 2:
			w.WriteHeader(http.StatusBadRequest)
		default:
			io.WriteString(w, strings.Repeat("y", 11))
		}
	}))
	defer srv.Close()
	c := &llmhttp.Client{URL: srv.URL, APIKey: key, Op: "post test", ReadOp: "read test", MaxResponse: 10}
	ctx := context.Background()

	_, a := c.Post(ctx, []byte("{}"), "text/plain")
	var se *llmhttp.StatusError
	if !errors.As(a.Err, &se) || se.StatusCode != 429 || !a.Retry || a.RetryAfter != 0 {
		t.Fatalf("429: %+v", a)
	}
	if strings.Contains(a.Err.Error(), key) || !strings.HasPrefix(a.Err.Error(), "post test: status 429: slow down [redacted]") || !strings.HasSuffix(se.Body, "…") {
		t.Fatalf("429 error %q", a.Err)
	}
	if _, a = c.Post(ctx, nil, "text/plain"); !errors.As(a.Err, &se) || se.StatusCode != 400 || a.Retry || a.RetryAfter != -1 {
		t.Fatalf("400: %+v", a)
	}
	resp, a := c.Post(ctx, nil, "text/plain")
	if a.Err != nil {
		t.Fatal(a.Err)
	}
	defer resp.Body.Close()
	if _, a := c.ReadBody(resp.Body); a.Err == nil || !a.Retry || a.Err.Error() != "response larger than 10 bytes" {
		t.Fatalf("ReadBody without Malformed = %+v", a)
	}
	malformed := errors.New("malformed")
	c.Malformed = malformed
	if _, a := c.ReadBody(strings.NewReader("12345678901")); !errors.Is(a.Err, malformed) || a.Retry {
		t.Fatalf("ReadBody with Malformed = %+v", a)
	}
	if _, a := c.ReadBody(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(a.Err, io.ErrUnexpectedEOF) || !a.Retry || !strings.HasPrefix(a.Err.Error(), "read test: ") {
		t.Fatalf("ReadBody of a broken body = %+v", a)
	}

	srv.Close()
	if _, a = c.Post(ctx, nil, "text/plain"); a.Err == nil || !a.Retry || errors.As(a.Err, &se) {
		t.Fatalf("closed server: %+v", a)
	}
}

func TestRetry(t *testing.T) {
	temp := errors.New("temporary")
	t.Run("retries then gives up", func(t *testing.T) {
		n := 0
		c := &llmhttp.Client{MaxRetries: 2, Backoff: time.Millisecond}
		err := c.Retry(context.Background(), func(context.Context) llmhttp.Attempt { n++; return llmhttp.Temporary(temp) })
		if !errors.Is(err, temp) || n != 3 || !strings.HasPrefix(err.Error(), "after 3 attempts") {
			t.Fatalf("err = %v after %d attempts", err, n)
		}
	})
	t.Run("no retry after a final failure", func(t *testing.T) {
		n := 0
		c := &llmhttp.Client{MaxRetries: 2, Backoff: time.Millisecond}
		err := c.Retry(context.Background(), func(context.Context) llmhttp.Attempt { n++; return llmhttp.Fail(temp) })
		if err != temp || n != 1 {
			t.Fatalf("err = %v after %d attempts", err, n)
		}
	})
	t.Run("deadline before the retry", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		try := func(context.Context) llmhttp.Attempt {
			return llmhttp.Attempt{Err: temp, Retry: true, RetryAfter: time.Minute}
		}
		c := &llmhttp.Client{MaxRetries: 2}
		if err := c.Retry(ctx, try); !errors.Is(err, temp) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the attempt's error at once", err)
		}
		c.WaitPastDeadline = true
		if err := c.Retry(ctx, try); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
	t.Run("attempt timeout", func(t *testing.T) {
		n := 0
		c := &llmhttp.Client{MaxRetries: 1, Backoff: time.Millisecond, AttemptTimeout: 10 * time.Millisecond}
		err := c.Retry(context.Background(), func(ctx context.Context) llmhttp.Attempt {
			if n++; n == 1 {
				<-ctx.Done()
				return llmhttp.Temporary(ctx.Err())
			}
			return llmhttp.Attempt{RetryAfter: -1}
		})
		if err != nil || n != 2 {
			t.Fatalf("err = %v after %d attempts", err, n)
		}
	})
}
