package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
)

func TestLogin_SessionAndLogout(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	b := e.browser(t)
	resp, _ := b.get("/admin/")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("start page without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.login("Beheer@Proef.nl")
	_, body := b.get("/admin/")
	if !strings.Contains(body, "beheer@proef.nl") {
		t.Fatalf("start page does not show the account: %s", body)
	}
	resp, _ = b.post("/admin/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("start page after logout: %d", resp.StatusCode)
	}
	es, _ := e.a.Audit().List(audit.Filter{})
	var actions []string
	for _, en := range es {
		actions = append(actions, en.Action+":"+en.Outcome)
	}
	if got := strings.Join(actions, " "); got != "logout:ok login:ok" {
		t.Errorf("audit %q", got)
	}
}

func TestLogin_CookieAttributes(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	b := e.browser(t)
	b.get("/admin/login")
	form := url.Values{"email": {"beheer@proef.nl"}, "password": {password}, "csrf": {b.csrf}}
	resp, err := b.c.PostForm(e.srv.URL+"/admin/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-assistent_admin" && c.Value != "" {
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/", c)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
}

// A session id the browser held before signing in is never the signed-in
// session (fixation), and the old one is dead afterwards.
func TestLogin_NoFixation(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	// An attacker's own valid session, planted in the victim's browser.
	planted, _, err := e.a.Accounts().NewSession(u.ID, "password", "")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	su, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(su, []*http.Cookie{{Name: "__Host-assistent_admin", Value: planted, Path: "/", Secure: true}})
	b.login("beheer@proef.nl")
	got := b.cookie("__Host-assistent_admin")
	if got == "" || got == planted {
		t.Fatalf("session after login %q, planted %q: the id must be new", got, planted)
	}
	if _, err := e.a.Accounts().Session(planted, time.Hour, time.Hour); err == nil {
		t.Error("the session id held before sign-in still works")
	}
	// A made-up id is never accepted.
	b2 := e.browser(t)
	b2.c.Jar.SetCookies(su, []*http.Cookie{{Name: "__Host-assistent_admin", Value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Path: "/", Secure: true}})
	if resp, _ := b2.get("/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("made-up session id: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	b := e.browser(t)
	b.login("beheer@proef.nl")
	for _, token := range []string{"", "wrong-token", b.csrf + "x"} {
		resp, _ := b.post("/admin/t/proef/settings", url.Values{"csrf": {token}, "name": {"Gemeente Proef"}, "phone": {"14 0111"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("settings with CSRF token %q: %d, want 403", token, resp.StatusCode)
		}
	}
	if tn, _ := e.st.Tenant("proef"); tn.Phone != "14 0999" {
		t.Fatalf("phone changed to %q without a valid CSRF token", tn.Phone)
	}
	// The API with a session cookie needs the header.
	req, _ := http.NewRequest(http.MethodPatch, e.srv.URL+"/api/v1/admin/tenants/proef/settings", strings.NewReader(`{"phone":"14 0111"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("API PATCH with a session and no X-CSRF-Token: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPatch, e.srv.URL+"/api/v1/admin/tenants/proef/settings", strings.NewReader(`{"phone":"14 0111"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, _ = b.c.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("API PATCH with a session and its X-CSRF-Token: %d", resp.StatusCode)
	}
	// The login form is protected too (login CSRF).
	b2 := e.browser(t)
	resp, _ = b2.post("/admin/login", url.Values{"email": {"beheer@proef.nl"}, "password": {password}, "csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the login cookie's token: %d", resp.StatusCode)
	}
	// A valid form with the right token works.
	resp, _ = b.post("/admin/t/proef/settings", url.Values{"name": {"Gemeente Proef"}, "phone": {"14 0222"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/t/proef/settings?ok=saved" {
		t.Fatalf("settings with the token: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Every change a session can make, in the portal and on the API, is
	// refused without the token, before its handler runs.
	for _, rt := range e.a.Routes() {
		if rt.Method == http.MethodGet || rt.Perm == admin.PermPublic || rt.Pattern == "/admin/logout" {
			continue
		}
		path := strings.NewReplacer("{tenant}", "proef", "{conv}/{num}", "0123456789abcdef0123456789abcdef/1", "{id}", "x", "{site}", "www.proef.example",
			"{source}", "website", "{job}", "x", "{doc...}", "www.proef.example/a", "{name}", "answer", "{lang}", "all", "{task}", "rewrite").Replace(rt.Pattern)
		req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader(url.Values{"csrf": {"forged"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a session and a forged CSRF token: %d, want 403", rt.Method, rt.Pattern, resp.StatusCode)
		}
	}
	if tn, _ := e.st.Tenant("proef"); tn.Phone != "14 0222" {
		t.Errorf("phone %q after forged requests", tn.Phone)
	}
}

func TestLogin_Throttle(t *testing.T) {
	e := newEnv(t, func(c *admin.Config) { c.Throttle.PerAccount = 3 })
	e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	b := e.browser(t)
	b.get("/admin/login")
	for i := range 3 {
		resp, _ := b.post("/admin/login", url.Values{"email": {"beheer@proef.nl"}, "password": {"Geheim-fout-" + string(rune('a'+i))}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, resp.StatusCode)
		}
	}
	// Now even the right password waits.
	resp, body := b.post("/admin/login", url.Values{"email": {"beheer@proef.nl"}, "password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "Te veel mislukte pogingen") {
		t.Error("throttled page does not say why")
	}
	es, _ := e.a.Audit().List(audit.Filter{Action: "login"})
	if len(es) != 4 || es[0].Outcome != "throttled" || es[1].Outcome != "failed" {
		t.Errorf("audit of the attempts: %+v", es)
	}
	for _, en := range es {
		if strings.Contains(en.Detail+string(en.After)+string(en.Before), "Geheim-fout") {
			t.Errorf("a password reached the audit log: %+v", en)
		}
	}
}

func TestTokens_Misuse(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	good := e.token(t, u, admin.ScopeAdmin, time.Hour)
	read := e.token(t, u, admin.ScopeRead, time.Hour)
	revoked := e.token(t, u, admin.ScopeAdmin, time.Hour)
	id := strings.Split(strings.TrimPrefix(revoked, "asst_"), "_")[0]
	if _, err := e.a.Accounts().RevokeToken(id); err != nil {
		t.Fatal(err)
	}
	expired := e.token(t, u, admin.ScopeAdmin, time.Nanosecond)
	time.Sleep(time.Millisecond)
	tampered := good[:len(good)-2] + "xx"
	if tampered == good {
		tampered = good[:len(good)-2] + "yy"
	}
	patch := `{"phone":"14 0333"}`
	tests := []struct {
		name, token, method, body string
		want                      int
	}{
		{"valid admin token", good, http.MethodGet, "", 200},
		{"valid admin token writes", good, http.MethodPatch, patch, 200},
		{"read token reads", read, http.MethodGet, "", 200},
		{"read token writes", read, http.MethodPatch, patch, 403},
		{"revoked", revoked, http.MethodGet, "", 401},
		{"expired", expired, http.MethodGet, "", 401},
		{"tampered", tampered, http.MethodGet, "", 401},
		{"not a token", "hallo", http.MethodGet, "", 401},
		{"none", "", http.MethodGet, "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.api(t, tc.method, "/api/v1/admin/tenants/proef/settings", tc.token, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error as %q, want problem+json", resp.Header.Get("Content-Type"))
			}
			if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// A bearer token is not a way into the portal's HTML.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/users", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	c := e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := c.Do(req)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("the portal accepted a bearer token")
	}
	// A disabled account's token stops working.
	f := true
	if _, _, err := e.a.Accounts().UpdateUser(u.ID, func(u *admin.User) error { u.Disabled = f; return nil }); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.api(t, http.MethodGet, "/api/v1/admin/tenants", good, ""); resp.StatusCode != 401 {
		t.Errorf("token of a disabled account: %d", resp.StatusCode)
	}
}

func TestTOTP(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, "beheer@proef.nl", admin.RoleBeheerder)
	key, err := admin.NewTOTPKey("Assistent", u.Email)
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(t, key.Secret(), time.Now())
	if err := e.a.Accounts().ConfirmTOTP(u.ID, key.Secret(), code); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Accounts().Authenticate(u.Email, password, ""); err == nil {
		t.Fatal("signed in without the code")
	}
	// The code used to confirm cannot be used again (replay).
	if _, err := e.a.Accounts().Authenticate(u.Email, password, code); err == nil {
		t.Fatal("a code was accepted twice")
	}
	next := totpCode(t, key.Secret(), time.Now().Add(30*time.Second))
	if _, err := e.a.Accounts().Authenticate(u.Email, password, next); err != nil {
		t.Fatalf("next code refused: %v", err)
	}
}
