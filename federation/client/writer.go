package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/registry"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
)

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Servers are the base URLs (https://host:port) of the coordination
	// servers' APIs.
	Servers []string
	// AttemptTimeout bounds one attempt on one server (default 20 s); the
	// call's context bounds them all.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// attempts (defaults 50 ms and 2 s).
	MinBackoff, MaxBackoff time.Duration
}

// DefaultWriterConfig returns the defaults described on WriterConfig.
func DefaultWriterConfig() WriterConfig {
	return WriterConfig{AttemptTimeout: 20 * time.Second, MinBackoff: 50 * time.Millisecond, MaxBackoff: 2 * time.Second}
}

// Validate names the first unusable field.
func (c WriterConfig) Validate() error {
	switch {
	case len(c.Servers) == 0:
		return errors.New("federation.servers: at least one coordination server url")
	case c.AttemptTimeout <= 0:
		return errors.New("federation.attempt_timeout: must be > 0")
	case c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff:
		return errors.New("federation.backoff: need 0 < min_backoff <= max_backoff")
	}
	return nil
}

// Writer sends registry commands to the coordination servers for operators,
// publishers and nodes. It is safe for concurrent use.
type Writer struct {
	cfg  WriterConfig
	srvs *servers
	next atomic.Uint64
}

// NewWriter returns a Writer that reaches cfg.Servers through hc, an HTTP
// client that presents the caller's certificate (NewHTTPClient with
// ClientTLS).
func NewWriter(cfg WriterConfig, hc connect.HTTPClient) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srvs, err := newServers(cfg.Servers, hc)
	if err != nil {
		return nil, fmt.Errorf("new writer: %w", err)
	}
	w := &Writer{cfg: cfg, srvs: srvs}
	w.next.Store(uint64(srvs.start()))
	return w, nil
}

// Apply applies cmd through any server (followers forward to the leader).
// When a server is unreachable or no leader accepts the command in time it
// tries the next server after a jittered backoff, always with the same
// idempotency key (Apply assigns one if cmd has none), so the command is
// applied at most once; a retry that finds it applied returns its Result with
// Duplicate set. Like coordinator.Server.Apply, a non-ok Result also comes back
// as its Err (registry.ErrConflict, ErrNotFound, ErrInvalid). A refusal is an
// error with connect.CodePermissionDenied (connect.CodeOf), an invalid command
// wraps registry.ErrInvalid; both return at once. Otherwise Apply retries
// until ctx ends.
func (w *Writer) Apply(ctx context.Context, cmd registry.Command) (registry.Result, error) {
	if cmd.IdempotencyKey == "" {
		cmd.IdempotencyKey = registry.NewIdempotencyKey()
	}
	data, err := cmd.Encode()
	if err != nil {
		return registry.Result{}, err
	}
	req := &federationv1.ApplyRequest{Command: data, IdempotencyKey: cmd.IdempotencyKey}
	backoff := w.cfg.MinBackoff
	for {
		n := w.next.Load()
		i := int(n % uint64(len(w.srvs.urls)))
		actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
		resp, err := w.srvs.clients[i].Apply(actx, connect.NewRequest(req))
		cancel()
		if err == nil {
			m := resp.Msg
			res := registry.Result{Index: m.Index, Status: registry.Status(m.Status), ModifyIndex: m.ModifyIndex, Detail: m.Detail, Duplicate: m.Duplicate}
			return res, res.Err()
		}
		if connect.CodeOf(err) == connect.CodeInvalidArgument {
			return registry.Result{}, fmt.Errorf("apply at %s: %w: %w", w.srvs.urls[i], registry.ErrInvalid, err)
		}
		if !retryable(err) || ctx.Err() != nil {
			return registry.Result{}, fmt.Errorf("apply at %s: %w", w.srvs.urls[i], err)
		}
		// Move on from the failing server unless another call already has.
		// The swap is on the counter, not on i: once the counter has passed
		// len(urls), swapping on i would never succeed and every call would
		// stay on the dead server.
		w.next.CompareAndSwap(n, n+1)
		t := time.NewTimer(jitter(backoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return registry.Result{}, fmt.Errorf("apply %s: %w (last error: %w)", cmd.IdempotencyKey, ctx.Err(), err)
		}
		backoff = min(2*backoff, w.cfg.MaxBackoff)
	}
}

// FetchBlob downloads the blob with the given hex sha256 from any server and
// checks its hash. It tries each server once; a blob that no server has
// wraps registry.ErrNotFound.
func (w *Writer) FetchBlob(ctx context.Context, sum string) ([]byte, error) {
	return fetchBlob(ctx, w.srvs, sum)
}

func fetchBlob(ctx context.Context, srvs *servers, sum string) ([]byte, error) {
	var errs []error
	start := srvs.start()
	for n := range srvs.urls {
		i := (start + n) % len(srvs.urls)
		data, err := fetchBlobFrom(ctx, srvs, i, sum)
		if err == nil {
			return data, nil
		}
		if connect.CodeOf(err) == connect.CodeNotFound {
			err = fmt.Errorf("%w: %w", registry.ErrNotFound, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", srvs.urls[i], err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("fetch blob %s: %w", sum, errors.Join(errs...))
}

func fetchBlobFrom(ctx context.Context, srvs *servers, i int, sum string) ([]byte, error) {
	st, err := srvs.clients[i].GetBlob(ctx, connect.NewRequest(&federationv1.GetBlobRequest{Sha256: sum}))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var buf bytes.Buffer
	for st.Receive() {
		m := st.Msg()
		if m.Size > 0 && buf.Len() == 0 {
			if m.Size > 1<<30 {
				return nil, fmt.Errorf("blob of %d bytes is too large", m.Size)
			}
			buf.Grow(int(m.Size))
		}
		buf.Write(m.Data)
	}
	if err := st.Err(); err != nil {
		return nil, err
	}
	if got := registry.SHA256Hex(buf.Bytes()); got != sum {
		return nil, fmt.Errorf("blob content has sha256 %s: %w", got, errBlobMismatch)
	}
	return buf.Bytes(), nil
}

// errBlobMismatch means a server sent content that does not match its address.
var errBlobMismatch = errors.New("blob does not match its sha256")
