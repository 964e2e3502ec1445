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

// A caller's id that holds a personal number (a BSN, an IBAN's account
// digits, a phone number) is not taken over, so it never reaches a log.
func TestValid_PersonalNumbers(t *testing.T) {
	for id, want := range map[string]bool{
		"req-1234567":          true, // seven digits
		"NL91ABNA0417164300":   false,
		"111222333":            false,
		"tel-0612345678":       false,
		"a1b2c3d4-e5f6-7890ab": true,
		"conv-12-34-56-78":     true, // separated short runs
	} {
		if got := reqid.Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
	for range 1000 {
		if id := reqid.New(); !reqid.Valid(id) {
			t.Fatalf("New() = %q, not Valid", id)
		}
	}
}
