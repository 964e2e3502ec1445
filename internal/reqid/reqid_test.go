package reqid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/reqid"
)

func TestMiddleware(t *testing.T) {
	var seen string
	h := reqid.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = reqid.From(r.Context())
	}))
	for _, tt := range []struct {
		in   string
		keep bool
	}{
		{"", false},
		{"abc-123_x.y", true},
		{"with space", false},
		{"line\nbreak", false},
		{strings.Repeat("a", 65), false},
		{`"quoted"`, false},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if tt.in != "" {
			req.Header.Set(reqid.Header, tt.in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Header().Get(reqid.Header)
		if out != seen || !reqid.Valid(out) {
			t.Errorf("%q: header %q, context %q", tt.in, out, seen)
		}
		if (out == tt.in) != tt.keep {
			t.Errorf("%q: kept = %v, want %v", tt.in, out == tt.in, tt.keep)
		}
	}
	if a, b := reqid.New(), reqid.New(); a == b || !reqid.Valid(a) {
		t.Errorf("new ids %q and %q", a, b)
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqid.Handler{slog.NewJSONHandler(&buf, nil)}).With("component", "test")
	log.InfoContext(reqid.With(context.Background(), "r1"), "with id")
	log.InfoContext(context.Background(), "without id")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["request_id"] != "r1" || first["component"] != "test" {
		t.Errorf("first record: %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("second record: %v", second)
	}
}
