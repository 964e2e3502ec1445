package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The first account and its token are made while the node is stopped,
// and every step lands in the audit log, which verify checks and export
// writes; an edited entry makes verify fail naming it.
func TestCLI_AdminAndAudit(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	res := run(t, "kort\n", "admin", "user", "add", "--data", data, "--email", "beheer@proef.nl", "--role", "beheerder")
	if res.code != 2 || !strings.Contains(res.stderr, "12") {
		t.Fatalf("short password: exit %d %s", res.code, res.stderr)
	}
	res = run(t, "correct horse battery\n", "admin", "user", "add", "--data", data, "--email", "beheer@proef.nl", "--role", "beheerder")
	if res.code != 0 || !strings.Contains(res.stdout, `"role": "beheerder"`) || strings.Contains(res.stdout, "argon2") {
		t.Fatalf("user add: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = run(t, "", "admin", "user", "add", "--data", data, "--email", "sso@proef.nl", "--role", "analist", "--oidc-subject", "abc-123")
	if res.code != 0 {
		t.Fatalf("user add --oidc-subject: %d %s", res.code, res.stderr)
	}
	res = run(t, "", "admin", "user", "add", "--data", data, "--email", "x@proef.nl", "--role", "baas", "--oidc-subject", "x")
	if res.code != 2 {
		t.Errorf("unknown role: exit %d", res.code)
	}
	res = run(t, "", "admin", "token", "--data", data, "--email", "beheer@proef.nl", "--scope", "admin", "--ttl", "24h")
	token := strings.TrimSpace(res.stdout)
	if res.code != 0 || !strings.HasPrefix(token, "asst_") || !strings.Contains(res.stderr, "only once") {
		t.Fatalf("token: exit %d %q %s", res.code, res.stdout, res.stderr)
	}
	res = run(t, "", "audit", "verify", "--data", data)
	if res.code != 0 || !strings.Contains(res.stdout, "intact: 3 entries") {
		t.Fatalf("verify: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	res = run(t, "", "audit", "export", "--data", data, "--format", "jsonl")
	if res.code != 0 || strings.Count(res.stdout, "\n") != 3 || strings.Contains(res.stdout, token) || strings.Contains(res.stdout, "correct horse") {
		t.Fatalf("export jsonl: exit %d\n%s", res.code, res.stdout)
	}
	res = run(t, "", "audit", "export", "--data", data, "--format", "csv", "--action", "token.")
	rows, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][4] != "token.create" {
		t.Fatalf("export csv: %v %q", err, rows)
	}

	// Edit entry 2 in the file, as someone with access to it could.
	db, err := bolt.Open(filepath.Join(data, "assistent.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("admin_audit"))
		k := binary.BigEndian.AppendUint64(nil, 2)
		return b.Put(k, bytes.Replace(b.Get(k), []byte("analist"), []byte("beheerder"), 1))
	})
	db.Close()
	res = run(t, "", "audit", "verify", "--data", data)
	if res.code != 1 || !strings.Contains(res.stderr, "entry 2") {
		t.Fatalf("verify after an edit: exit %d %s", res.code, res.stderr)
	}
	res = run(t, "", "audit", "verify", "--data", filepath.Join(t.TempDir(), "nothing"))
	if res.code != 1 || !strings.Contains(res.stderr, "--data") {
		t.Errorf("verify of a missing directory: exit %d %s", res.code, res.stderr)
	}
}

func TestAdminConfig(t *testing.T) {
	var fc fileConfig
	path := writeFile(t, "c.json", `{"admin":{"session_idle":"10m","oidc":{"issuer":"https://login.example","client_id":"portal",
		"client_secret_env":"OIDC_SECRET","redirect_url":"https://assistent.example/admin/oidc/callback","roles":{"g-beheer":"beheerder"}}}}`)
	if err := loadConfig(path, &fc); err != nil {
		t.Fatal(err)
	}
	cfg, err := fc.adminConfig(func(k string) string { return map[string]string{"OIDC_SECRET": "geheim"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionIdle != 10*time.Minute || cfg.OIDC == nil || cfg.OIDC.ClientSecret != "geheim" || cfg.OIDC.Roles["g-beheer"] != "beheerder" {
		t.Errorf("admin config %+v %+v", cfg, cfg.OIDC)
	}
	if _, err := fc.adminConfig(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "OIDC_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
}
