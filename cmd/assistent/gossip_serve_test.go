package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// configHasGossip reports whether the config file's federation block takes
// "fallback" and "gossip" (config.go declares them).
func configHasGossip() bool {
	dec := json.NewDecoder(strings.NewReader(`{"fallback":"nearest","gossip":{}}`))
	dec.DisallowUnknownFields()
	return dec.Decode(&federationConfig{}) == nil
}

// fixedPeerAddr returns a loopback address with a port that was free a
// moment ago: gossip publishes the SearchService address, so it needs a
// fixed one.
func fixedPeerAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// 'assistent coordinator' seeds the gossip; two 'assistent serve' nodes
// join it from their config files. Alfa, under the nearest policy, answers
// a question its own pages do not from Beta's, found through gossip; its
// operator sees the members and that fallback with the tenant's token.
func TestServe_GossipNearestFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a coordinator and two nodes; skipped with -short")
	}
	if !configHasGossip() {
		t.Skip("config.go's federationConfig has no fallback and gossip fields yet")
	}
	dir, issue := federationCA(t)
	_, keyFile := gossipKeyFile(t)
	coordURL, _, coordErr := startMain(t, "coordinator", "--data", filepath.Join(dir, "coord-1"), "--id", "coord-1",
		"--cert", issue("VNG", "server", "coord-1"), "--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--bootstrap",
		"--gossip-addr", "127.0.0.1:0", "--gossip-key", keyFile, "--gossip-timing", "local")
	m := regexp.MustCompile(`"msg":"gossip member started"[^\n]*"addr":"([0-9.:]+)"`).FindStringSubmatch(coordErr())
	if m == nil {
		t.Fatalf("the coordinator logged no gossip address:\n%s", coordErr())
	}
	serve := func(id, org, tenant, name, policy, pages string) (base, token string, log func() string) {
		t.Helper()
		data := filepath.Join(dir, id+"-data")
		if res := run(t, "", "tenant", "set", "--data", data, "--id", tenant, "--name", name, "--phone", "14 0111"); res.code != 0 {
			t.Fatal(res.stderr)
		}
		if res := run(t, "", "ingest", "--data", data, "--tenant", tenant, "--jsonl", writeFile(t, id+".jsonl", pages)); res.code != 0 {
			t.Fatal(res.stderr)
		}
		res := run(t, "", "tenant", "token", "--data", data, "--id", tenant)
		if res.code != 0 {
			t.Fatal(res.stderr)
		}
		cfg, _ := json.Marshal(map[string]any{"federation": map[string]any{
			"servers": []string{coordURL}, "cert": issue(org, "node", id), "peer_addr": fixedPeerAddr(t), "tenant": tenant,
			"fallback": policy,
			"gossip":   map[string]any{"bind": "127.0.0.1:0", "seeds": []string{m[1]}, "key_file": keyFile, "timing": "local"},
		}})
		path := filepath.Join(dir, id+".json")
		if err := os.WriteFile(path, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		base, _, log = startMain(t, "serve", "--config", path, "--data", data, "--addr", "127.0.0.1:0")
		return base, strings.TrimSpace(res.stdout), log
	}
	serve("beta-1", "GM0002", "beta", "Gemeente Beta", "", `{"id":"hond","url":"https://www.beta.example/hondenbelasting","title":"Hondenbelasting","text":"Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € 98,40 per hond per jaar."}`+"\n")
	alfa, token, alfaLog := serve("alfa-1", "GM0001", "alfa", "Gemeente Alfa", "nearest", pagesJSONL)

	// Ask until gossip has brought Beta in; the node's rate limit allows a
	// burst of 10 and then one question every 2 s.
	var answer []byte
	deadline := time.Now().Add(30 * time.Second)
	for wait := 100 * time.Millisecond; !bytes.Contains(answer, []byte(`"answer":"Volgens Gemeente Beta`)); wait = min(2*wait, 2*time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("alfa did not answer from Beta's pages: %s\n%s", answer, alfaLog())
		}
		time.Sleep(wait)
		resp, err := http.Post(alfa+"api/v1/tenants/alfa/ask", "application/json", strings.NewReader(`{"question":"Wat kost de hondenbelasting per jaar?"}`))
		if err != nil {
			t.Fatal(err)
		}
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}

	status := func(token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, alfa+"api/v1/tenants/alfa/federation", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if code, _ := status(""); code != http.StatusUnauthorized {
		t.Errorf("status without a token: %d, want 401", code)
	}
	code, body := status(token)
	if code != http.StatusOK {
		t.Fatalf("status with the token: %d %s", code, body)
	}
	for _, want := range []string{`"mode":"nearest"`, `"name":"coord-1"`, `"name":"beta-1"`, `"name":"alfa-1"`, `"answered_by":"GM0002"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("status lacks %s: %s", want, body)
		}
	}
}
