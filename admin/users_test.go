package admin_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
)

// A beheerder manages accounts and API tokens through the admin API: an
// account is made (its password kept as an argon2id hash), its role
// changed and removed; the last beheerder
// cannot demote itself; a token is shown once, stored only hashed, works
// as a bearer token with its scope, and stops when revoked. Each change is
// in the audit log, which the API filters, exports as JSON Lines and CSV
// and verifies, and which holds no password or token.
func TestUsersTokensAndAudit_API(t *testing.T) {
	e := newEnv(t)
	boss := e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	tok := e.token(t, boss, admin.ScopeAdmin, time.Hour)
	call := func(method, path, body string, want int) string {
		t.Helper()
		resp, b := e.api(t, method, "/api/v1/admin"+path, tok, body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return b
	}

	// Accounts.
	var u admin.UserInfo
	json.Unmarshal([]byte(call("POST", "/users", `{"email":"redactie@proef.nl","role":"redacteur","tenants":["proef"],"password":"nog een goed wachtwoord"}`, 201)), &u)
	if u.ID == "" || u.Role != admin.RoleRedacteur || !u.Password || strings.Join(u.Tenants, ",") != "proef" {
		t.Fatalf("created %+v", u)
	}
	if stored, err := e.a.Accounts().User(u.ID); err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=19456,t=2,") ||
		strings.Contains(stored.PasswordHash, "goed wachtwoord") {
		t.Errorf("stored password %q, %v: want an argon2id hash", stored.PasswordHash, err)
	}
	call("POST", "/users", `{"email":"x@proef.nl","role":"baas","oidc_subject":"x"}`, 400)
	call("POST", "/users", `{"email":"redactie@proef.nl","role":"analist","oidc_subject":"y"}`, 409)
	json.Unmarshal([]byte(call("PATCH", "/users/"+u.ID, `{"role":"analist"}`, 200)), &u)
	if u.Role != admin.RoleAnalist || strings.Join(u.Tenants, ",") != "proef" {
		t.Errorf("after the role change %+v (tenants kept)", u)
	}
	if !strings.Contains(call("GET", "/users", "", 200), "redactie@proef.nl") {
		t.Error("the list lacks the new account")
	}
	call("PATCH", "/users/"+boss.ID, `{"role":"analist"}`, 409)
	call("DELETE", "/users/"+u.ID, "", 204)
	call("GET", "/users/"+u.ID, "", 404)

	// Tokens: shown once, stored hashed, scoped, revocable.
	var created struct {
		admin.TokenInfo
		Token string `json:"token"`
	}
	body := call("POST", "/tokens", `{"name":"export","scope":"alles","days":1}`, 400)
	if !strings.Contains(body, `"invalidParams":[{"name":"scope"`) {
		t.Errorf("a bad scope refused without naming the field in invalidParams: %s", body)
	}
	json.Unmarshal([]byte(call("POST", "/tokens", `{"name":"export","scope":"read","days":1}`, 201)), &created)
	if !strings.HasPrefix(created.Token, "asst_"+created.ID+"_") || created.Scope != "read" || time.Until(created.Expires) > 25*time.Hour {
		t.Fatalf("created token %+v", created)
	}
	list := call("GET", "/tokens", "", 200)
	// The secret may itself hold "_" (base64url): cut the prefix, not at the
	// last underscore.
	secret := strings.TrimPrefix(created.Token, "asst_"+created.ID+"_")
	if !strings.Contains(list, created.ID) || strings.Contains(list, secret) {
		t.Errorf("the token list lacks the token or shows its secret: %s", list)
	}
	e.st.Bolt().View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(secret)) || bytes.Contains(v, []byte(secret)) {
					t.Errorf("bucket %s holds the token's secret", name)
				}
				return nil
			})
		})
	})
	if resp, _ := e.api(t, "GET", "/api/v1/admin/tenants", created.Token, ""); resp.StatusCode != 200 {
		t.Errorf("the new read token: %d", resp.StatusCode)
	}
	if resp, _ := e.api(t, "PATCH", "/api/v1/admin/tenants/proef/settings", created.Token, `{"phone":"14 0444"}`); resp.StatusCode != 403 {
		t.Errorf("the read token writes: %d", resp.StatusCode)
	}
	call("DELETE", "/tokens/"+created.ID, "", 204)
	if resp, _ := e.api(t, "GET", "/api/v1/admin/tenants", created.Token, ""); resp.StatusCode != 401 {
		t.Errorf("the revoked token: %d", resp.StatusCode)
	}

	// The audit log has each change, filtered, exported and verified.
	var es []audit.Entry
	json.Unmarshal([]byte(call("GET", "/audit?action=user.", "", 200)), &es)
	got := map[string]int{}
	for _, en := range es {
		got[en.Action]++
	}
	if got["user.create"] != 1 || got["user.update"] != 1 || got["user.delete"] != 1 {
		t.Errorf("user actions in the audit log: %v", got)
	}
	jsonl := call("GET", "/audit?format=jsonl&action=token.", "", 200)
	if strings.Count(jsonl, "\n") != 2 || !strings.Contains(jsonl, `"token.create"`) || !strings.Contains(jsonl, `"token.revoke"`) {
		t.Errorf("token actions as JSON Lines:\n%s", jsonl)
	}
	csv := call("GET", "/audit?format=csv&actor=beheer@proef.nl", "", 200)
	if !strings.HasPrefix(csv, "seq,") || !strings.Contains(csv, "user.delete") {
		t.Errorf("CSV export:\n%s", csv)
	}
	call("GET", "/audit?format=xml", "", 400)
	all := call("GET", "/audit?format=jsonl", "", 200)
	for _, word := range []string{secret, "nog een goed wachtwoord", tok[strings.LastIndex(tok, "_")+1:]} {
		if strings.Contains(all, word) {
			t.Errorf("the audit log holds %q", word)
		}
	}
	var v struct {
		Intact  bool `json:"intact"`
		Entries int  `json:"entries"`
	}
	json.Unmarshal([]byte(call("GET", "/audit/verify", "", 200)), &v)
	if !v.Intact || v.Entries != 8 {
		t.Errorf("verify: %+v", v)
	}
}
