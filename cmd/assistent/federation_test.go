package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/federation/trust"
)

// The federation's trust is set up from the command line: a CA, a server
// certificate that carries the right identity, one-time tokens that can be
// redeemed once, and a publisher signing key.
func TestFederationTrustCommands(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	if res := run(t, "", "federation", "init", "--dir", ca, "--name", "Test federatie"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	if res := run(t, "", "federation", "init", "--dir", ca); res.code != 1 || !strings.Contains(res.stderr, "already holds a CA") {
		t.Errorf("second init: %d %s", res.code, res.stderr)
	}
	out := filepath.Join(dir, "coord-1")
	res := run(t, "", "federation", "issue", "--dir", ca, "--org", "VNG", "--role", "server", "--node", "coord-1", "--host", "127.0.0.1", "--out", out)
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(out, "node.crt"), filepath.Join(out, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := trust.ParseIdentity(pair.Leaf)
	if err != nil || id.Org != "VNG" || id.Role != trust.RoleServer || id.Node != "coord-1" {
		t.Errorf("issued identity %+v, %v", id, err)
	}
	if st, err := os.Stat(filepath.Join(out, "node.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", st.Mode(), err)
	}
	if res := run(t, "", "federation", "issue", "--dir", ca, "--org", "VNG", "--role", "server", "--node", "coord-1", "--out", out); res.code != 1 || !strings.Contains(res.stderr, "exists") {
		t.Errorf("issue over an existing key: %d %s", res.code, res.stderr)
	}

	res = run(t, "", "federation", "token", "--dir", ca, "--org", "GM0119", "--role", "node")
	token := strings.TrimSpace(res.stdout)
	if res.code != 0 || token == "" {
		t.Fatal(res.stderr)
	}
	loaded, err := loadCA(ca)
	if err != nil {
		t.Fatal(err)
	}
	key, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := trust.NewCSR(key, "meppel-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.Redeem(token, csr); err != nil {
		t.Fatalf("redeem the CLI's token: %v", err)
	}
	if _, err := loaded.Redeem(token, csr); err == nil {
		t.Error("the token was redeemed twice")
	}

	for _, args := range [][]string{
		{"federation", "token", "--dir", ca, "--org", "gm0119", "--role", "node"},
		{"federation", "token", "--dir", ca, "--org", "GM0119", "--role", "admin"},
		{"federation", "token", "--dir", ca, "--org", "GM0119", "--ttl", "9000h"},
		{"federation", "issue", "--dir", ca, "--org", "VNG", "--role", "server"},
		{"federation", "frobnicate"},
	} {
		if res := run(t, "", args...); res.code != 2 {
			t.Errorf("%v: exit %d (%s), want a usage error", args, res.code, res.stderr)
		}
	}

	res = run(t, "", "federation", "keygen", "--out", filepath.Join(dir, "nvvb.key"))
	if res.code != 0 || !strings.Contains(res.stdout, "key id ") || !strings.Contains(res.stdout, "BEGIN PUBLIC KEY") {
		t.Errorf("keygen: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if _, err := trust.LoadSigningKey(filepath.Join(dir, "nvvb.key")); err != nil {
		t.Error(err)
	}
}
