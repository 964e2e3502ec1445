package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, "no leader", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	t.Cleanup(ok.Close)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tls.Close)

	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"healthy", []string{"--url", ok.URL + "/healthz"}, 0, "200 OK"},
		{"unhealthy", []string{"--url", ok.URL + "/readyz"}, 1, "503"},
		{"nobody listening", []string{"--url", "http://127.0.0.1:1/healthz", "--timeout", "1s"}, 1, "is the server running"},
		{"self-signed refused", []string{"--url", tls.URL}, 1, "certificate"},
		{"self-signed on loopback with --insecure", []string{"--url", tls.URL, "--insecure"}, 0, "200 OK"},
		{"--insecure off loopback", []string{"--url", "https://example.nl/healthz", "--insecure"}, 2, "only allowed for loopback"},
		{"not a URL", []string{"--url", "127.0.0.1:8080"}, 2, "must be an http(s) URL"},
		{"argument", []string{"extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"health"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("output %q, want %q in it", r.stdout+r.stderr, tt.want)
			}
		})
	}
}
