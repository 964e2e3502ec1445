package main

import (
	"context"
	"encoding/json"
	"github.com/assistent-nl/assistent/internal/syncbuf"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
