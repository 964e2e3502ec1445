package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/syncbuf"
)

// TestServe_Demo runs 'serve --demo' as a newcomer does and asks the
// question from the README.
func TestServe_Demo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo corpus; skipped with -short")
	}
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	var stdout, stderr syncbuf.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Ready: func(u string) { urls <- u }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0"}) }()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
	case <-time.After(3 * time.Minute):
		t.Fatal("serve did not start")
	}
	if !strings.Contains(stdout.String(), base) {
		t.Errorf("serve did not print its URL %s:\n%s", base, stdout.String())
	}

	resp, err := http.Post(base+"api/v1/tenants/lindewaarde/ask", "application/json",
		strings.NewReader(`{"question":"hoe vraag ik een paspoort aan"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var a struct {
		Answer    string
		Refused   bool
		Citations []struct{ ID, URL, Title string }
	}
	if err := json.Unmarshal(body, &a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ask: %d %s %v", resp.StatusCode, body, err)
	}
	if a.Refused || len(a.Citations) == 0 {
		t.Fatalf("want a non-refused answer with a citation, got %s", body)
	}

	resp, err = http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "data-tenant") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("demo page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	// A second start finds the demo in place and does not load it again.
	stdout.Reset()
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- m.Run(ctx2, []string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0"}) }()
	<-urls
	cancel2()
	<-done
	if strings.Contains(stdout.String(), "Demo content loaded") {
		t.Error("demo content loaded again on the second start")
	}
}

// TestServe_TrustedProxies: the config key trusted_proxies decides whether
// X-Forwarded-For picks the rate-limit bucket; a bad entry is named.
func TestServe_TrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		proxies string
		limited bool // the 11th question from "different" forwarded clients
	}{
		{"none", `[]`, true},
		{"loopback", `["127.0.0.1", "10.0.0.0/8"]`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.json")
			if err := os.WriteFile(cfg, []byte(`{"trusted_proxies": `+tt.proxies+`}`), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			urls := make(chan string, 1)
			var stdout, stderr syncbuf.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Ready: func(u string) { urls <- u }}
			done := make(chan error, 1)
			go func() {
				done <- m.Run(ctx, []string{"serve", "--config", cfg, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"})
			}()
			defer func() { cancel(); <-done }()
			var base string
			select {
			case base = <-urls:
			case err := <-done:
				t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
			}
			// No tenant exists: a question the limit lets through is 404,
			// one it refuses 429. The default burst is 10.
			limited := false
			for i := range 11 {
				req, _ := http.NewRequest("POST", base+"api/v1/tenants/nergens/ask", strings.NewReader(`{"question":"paspoort"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				limited = limited || resp.StatusCode == http.StatusTooManyRequests
			}
			if limited != tt.limited {
				t.Fatalf("11 questions with distinct X-Forwarded-For: limited %v, want %v", limited, tt.limited)
			}
		})
	}

	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"trusted_proxies": ["10.0.0.5", "proxy.local"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncbuf.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
	err := m.Run(context.Background(), []string{"serve", "--config", cfg, "--data", filepath.Join(t.TempDir(), "data"), "--addr", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "trusted_proxies[1]") {
		t.Fatalf("a host name in trusted_proxies: %v, want an error naming trusted_proxies[1]", err)
	}
}

// TestServe_HelpNamesEveryConfigKey keeps 'serve --help' complete: every
// key of the config file, and of its federation and retrieval blocks, is
// named there.
func TestServe_HelpNamesEveryConfigKey(t *testing.T) {
	res := run(t, "", "serve", "--help")
	if res.code != 0 {
		t.Fatalf("serve --help: exit %d", res.code)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[fileConfig](), reflect.TypeFor[federationConfig](), reflect.TypeFor[retrievalConfig]()} {
		for f := range typ.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(res.stderr, key) {
				t.Errorf("serve --help does not name the config key %q (%s.%s)", key, typ.Name(), f.Name)
			}
		}
	}
}
