package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
)

// 'assistent coordinator' seeds the gossip; two 'assistent serve' nodes
// join it from their config files. Alfa, under the nearest policy, answers
// a question its own pages do not from Beta's, found through gossip; its
// operator sees the members and that fallback with the tenant's token.
func TestServe_GossipNearestFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a coordinator and two nodes; skipped with -short")
	}
	dir, issue := federationCA(t)
	_, keyFile := gossipKeyFile(t)
	coordURL, _, coordErr, seed := startGossipCoordinator(t, dir, issue, keyFile)
	serve := func(id, org, tenant, name, policy, pages string, seeds []string) (base, token, adminToken string, log func() string) {
		t.Helper()
		data := filepath.Join(dir, id+"-data")
		if res := run(t, "", "tenant", "set", "--data", data, "--id", tenant, "--name", name, "--phone", "14 0111"); res.code != 0 {
			t.Fatal(res.stderr)
		}
		// An analist with a read-only token, for the beheerportaal's
		// federation status.
		if res := run(t, "correct horse battery\n", "admin", "user", "add", "--data", data, "--email", "analist@"+tenant+".nl", "--role", "analist"); res.code != 0 {
			t.Fatal(res.stderr)
		}
		res := run(t, "", "admin", "token", "--data", data, "--email", "analist@"+tenant+".nl", "--scope", "read")
		if res.code != 0 {
			t.Fatal(res.stderr)
		}
		adminToken = strings.TrimSpace(res.stdout)
		if res := run(t, "", "ingest", "--data", data, "--tenant", tenant, "--jsonl", writeFile(t, id+".jsonl", pages)); res.code != 0 {
			t.Fatal(res.stderr)
		}
		res = run(t, "", "tenant", "token", "--data", data, "--id", tenant)
		if res.code != 0 {
			t.Fatal(res.stderr)
		}
		cfg, _ := json.Marshal(map[string]any{"federation": map[string]any{
			"servers": []string{coordURL}, "cert": issue(org, "node", id), "peer_addr": freeAddr(t), "tenant": tenant,
			"fallback": policy,
			"gossip":   map[string]any{"bind": "127.0.0.1:0", "seeds": seeds, "key_file": keyFile, "timing": "local"},
		}})
		path := filepath.Join(dir, id+".json")
		if err := os.WriteFile(path, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		base, _, log = startMain(t, "serve", "--config", path, "--data", data, "--addr", "127.0.0.1:0")
		return base, strings.TrimSpace(res.stdout), adminToken, log
	}
	// Beta names the coordinator's gossip address; Alfa names none and
	// finds it in the registry, where the coordinator announced it.
	serve("beta-1", "GM0002", "beta", "Gemeente Beta", "", `{"id":"hond","url":"https://www.beta.example/hondenbelasting","title":"Hondenbelasting","text":"Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € 98,40 per hond per jaar."}`+"\n", []string{seed})
	alfa, token, alfaAdmin, alfaLog := serve("alfa-1", "GM0001", "alfa", "Gemeente Alfa", "nearest", pagesJSONL, nil)

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

	// NVVB publishes a national collection: both nodes import it and
	// gossip that they serve it, which the members list shows.
	ops := issue("VNG", "operator", "ops-1")
	publishNational(t, dir, coordURL, ops, coordURL, issue, "burgerzaken",
		`{"id":"reisdocument","url":"https://www.nvvb.example/reisdocument","title":"Reisdocument aanvragen","text":"Een reisdocument vraagt u aan in uw eigen gemeente."}`+"\n")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, body = status(token)
		if bytes.Count(body, []byte(`"collections":["burgerzaken"]`)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members do not gossip the national collection: %s\n%s", body, alfaLog())
		}
	}
	// The beheerportaal's federation status shows the registry copy, the
	// members with the collections they gossip, and the collection alfa
	// holds at the version it imported.
	req, _ := http.NewRequest(http.MethodGet, alfa+"api/v1/admin/federation", nil)
	req.Header.Set("Authorization", "Bearer "+alfaAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var fed struct {
		Federated bool   `json:"federated"`
		Synced    bool   `json:"synced"`
		Index     uint64 `json:"index"`
		Members   []struct {
			Name, State string
			Collections []string `json:"collections"`
		} `json:"members"`
		Collections []struct {
			Name    string `json:"name"`
			Version uint64 `json:"version"`
			Docs    int    `json:"docs"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(body, &fed); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("admin federation status: %d %v %s", resp.StatusCode, err, body)
	}
	seen := map[string]string{}
	for _, m := range fed.Members {
		seen[m.Name] = m.State + " " + strings.Join(m.Collections, ",")
	}
	if !fed.Federated || !fed.Synced || fed.Index == 0 || seen["alfa-1"] != "alive burgerzaken" || seen["beta-1"] != "alive burgerzaken" ||
		seen["coord-1"] != "alive " || len(fed.Collections) != 1 || fed.Collections[0].Name != "burgerzaken" || fed.Collections[0].Version != 1 ||
		fed.Collections[0].Docs != 1 {
		t.Errorf("admin federation status: %s", body)
	}

	// The operator rotates the gossip key through the registry: first the
	// new key beside the old one, then the new key alone. A member that
	// knows only the new key can join once every member has it; one that
	// knows only the old key cannot after the old one is gone.
	newKey := make([]byte, 32)
	rand.Read(newKey)
	oldKey, err := readGossipKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	setKeyring := func(keys ...[]byte) {
		t.Helper()
		var parts []string
		for _, k := range keys {
			parts = append(parts, base64.StdEncoding.EncodeToString(k))
		}
		v, _ := json.Marshal(map[string]string{"name": "gossip.keyring", "value": strings.Join(parts, ",")})
		if res := run(t, "", "federation", "put", "--server", coordURL, "--cert", ops, "--kind", "setting", "--key", "gossip.keyring", "--value", string(v)); res.code != 0 {
			t.Fatal(res.stderr)
		}
	}
	applied := func(what string, logs ...func() string) {
		t.Helper()
		for _, l := range logs {
			for deadline := time.Now().Add(15 * time.Second); strings.Count(l(), "keyring from the registry applied") < len(what); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("keyring %s not applied:\n%s", what, l())
				}
			}
		}
	}
	stranger := func(key []byte, node string) *gossipMember {
		t.Helper()
		g, err := startGossip("127.0.0.1:0", "", []string{seed}, key, nil,
			memberSpec{self: trust.Identity{Org: "GM0009", Role: trust.RoleNode, Node: node}, apiAddr: "127.0.0.1:9", timing: gossip.LocalTiming()},
			slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		return g
	}
	joins := func(g *gossipMember) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		n, err := g.m.Join(ctx, []string{seed})
		return err == nil && n > 0
	}
	setKeyring(newKey, oldKey)
	applied("x", coordErr, alfaLog)
	if !joins(stranger(newKey, "gamma-1")) {
		t.Error("a member with the new key could not join after 'new,old'")
	}
	setKeyring(newKey)
	applied("xx", coordErr, alfaLog)
	if joins(stranger(oldKey, "delta-1")) {
		t.Error("a member with only the old key joined after the old key was removed")
	}
}
