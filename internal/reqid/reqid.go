// Package reqid carries a request id through a context and into every log
// record written with that context, so one resident's question can be
// followed through the logs without logging who asked it.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// Header is the HTTP header that carries the id, in and out.
const Header = "X-Request-Id"

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// New returns a fresh random id of 16 hex digits.
func New() string {
	for {
		var b [8]byte
		rand.Read(b[:])
		// Drawn again in the rare case it looks like a personal number.
		if id := hex.EncodeToString(b[:]); Valid(id) {
			return id
		}
	}
}

// Valid reports whether id may be taken over from a caller: 1 to 64
// letters, digits, '-', '_' or '.', so nothing a client sends can forge or
// break a log line, and no run of 8 or more digits, so that a BSN, phone
// number or account number sent as an id never reaches the logs.
func Valid(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	digits := 0
	for _, c := range []byte(id) {
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits >= 8 {
				return false
			}
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
		default:
			return false
		}
		digits = 0
	}
	return true
}

// Middleware gives every request an id: the caller's X-Request-Id when it
// is valid (a proxy in front of the node may set one), else a new one. The
// id goes into the request context and back in the response header.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !Valid(id) {
			id = New()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}

// Handler wraps a slog.Handler and adds the attribute "request_id" to every
// record logged with a context that carries an id.
type Handler struct {
	slog.Handler
}

// Handle adds the request id, then passes the record on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the derived handler.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around the derived handler.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{h.Handler.WithGroup(name)}
}
