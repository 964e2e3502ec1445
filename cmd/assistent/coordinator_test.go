package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startCoordinator runs 'assistent coordinator' in-process until the test
// ends and returns its API URL.
func startCoordinator(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	var out, errb syncBuf
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ready: func(u string) { urls <- u }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"coordinator"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("coordinator did not stop")
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("coordinator ended: %v\n%s", err, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("coordinator did not start:\n%s", errb.String())
	}
	return ""
}

// syncBuf is a bytes.Buffer for a goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A three-server federation set up only with the command line: a CA,
// server certificates, a bootstrap server and two that join it over
// mutual TLS; an operator writes through a follower and reads from the
// other.
func TestCoordinator_ClusterFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster; skipped with -short")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	if res := run(t, "", "federation", "init", "--dir", ca); res.code != 0 {
		t.Fatal(res.stderr)
	}
	issue := func(org, role, node string) string {
		out := filepath.Join(dir, node)
		res := run(t, "", "federation", "issue", "--dir", ca, "--org", org, "--role", role, "--node", node, "--host", "127.0.0.1", "--out", out)
		if res.code != 0 {
			t.Fatal(res.stderr)
		}
		return out
	}
	server := func(id string, extra ...string) string {
		return startCoordinator(t, append([]string{"--data", filepath.Join(dir, id, "data"), "--id", id, "--cert", issue("VNG", "server", id),
			"--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"}, extra...)...)
	}
	first := server("coord-1", "--bootstrap", "--ca", ca)
	second := server("coord-2", "--join", first, "--peer", "coord-1="+first)
	third := server("coord-3", "--join", second, "--peer", "coord-1="+first)
	operator := issue("VNG", "operator", "ops-1")

	res := run(t, "", "federation", "put", "--server", second, "--cert", operator, "--kind", "setting", "--key", "greeting",
		"--value", `{"name":"greeting","value":"goedemorgen"}`)
	if res.code != 0 {
		t.Fatalf("put through a follower: %s", res.stderr)
	}
	var got []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res = run(t, "", "federation", "get", "--server", third, "--cert", operator, "--kind", "setting", "--key", "greeting")
		if res.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get from the third server: %s", res.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got) != 1 || !strings.Contains(string(got[0].Value), "goedemorgen") {
		t.Fatalf("get: %v %s", err, res.stdout)
	}
	// A gemeente node may not change settings.
	gemeente := issue("GM0119", "node", "meppel-1")
	res = run(t, "", "federation", "put", "--server", first, "--cert", gemeente, "--kind", "setting", "--key", "greeting",
		"--value", `{"name":"greeting","value":"gehackt"}`)
	if res.code == 0 || !strings.Contains(strings.ToLower(res.stderr), "permission") {
		t.Errorf("a node changed a setting: exit %d %s", res.code, res.stderr)
	}
}
