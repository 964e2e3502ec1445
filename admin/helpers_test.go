package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/store"
)

// env is a portal on a real store, served over TLS on loopback (the
// session cookie is Secure).
type env struct {
	a   *admin.Admin
	st  *store.Store
	srv *httptest.Server
}

const password = "correct horse battery"

// newEnv opens a store with the tenants proef and ander and serves the
// portal; configure, if any, adjusts its config.
func newEnv(t *testing.T, configure ...func(*admin.Config)) *env {
	t.Helper()
	return newEnvWith(t, nil, configure...)
}

// newEnvWith is newEnv with deps, if not nil, adjusting the portal's
// dependencies.
func newEnvWith(t *testing.T, deps func(*admin.Deps), configure ...func(*admin.Config)) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "assistent.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, tn := range []store.Tenant{{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999"}, {ID: "ander", Name: "Gemeente Ander"}} {
		if err := st.PutTenant(tn); err != nil {
			t.Fatal(err)
		}
	}
	cfg := admin.DefaultConfig()
	for _, f := range configure {
		f(&cfg)
	}
	c, err := crawl.New(st.Bolt(), nopSink{}, crawl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() }) // before the store closes
	// A source on a closed loopback port: a crawl of it fails at once.
	if err := c.PutSource(crawl.Source{ID: "website", Tenant: "proef", StartURLs: []string{"http://127.0.0.1:1/"}}); err != nil {
		t.Fatal(err)
	}
	d := admin.Deps{DB: st.Bolt(), Store: st, Crawler: c}
	if deps != nil {
		deps(&d)
	}
	a, err := admin.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(a.Handler())
	t.Cleanup(srv.Close)
	return &env{a: a, st: st, srv: srv}
}

// nopSink drops crawled pages.
type nopSink struct{}

func (nopSink) Put(context.Context, string, crawl.Document) error { return nil }
func (nopSink) Remove(context.Context, string, []string) error    { return nil }

// addUser creates an account with the test password.
func (e *env) addUser(t *testing.T, email string, role admin.Role, tenants ...string) admin.User {
	t.Helper()
	u, err := e.a.Accounts().AddUser(admin.NewUser{Email: email, Role: role, Tenants: tenants, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	// A copy: the server's client is shared, and a second browser must not
	// take the first one's cookies away.
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, e: e, c: &c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and remembers the page's CSRF token.
func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp, string(body)
}

// post sends a form with the remembered CSRF token (unless form has one).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp, string(body)
}

// login signs in with the test password and fails the test otherwise.
func (b *browser) login(email string) {
	b.t.Helper()
	b.get("/admin/login")
	resp, body := b.post("/admin/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: %d %s", email, resp.StatusCode, body)
	}
	b.get("/admin/account") // picks up the session's CSRF token
}

// cookie returns the value of the named cookie the jar holds.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// api sends a request to the admin API with a bearer token (or none).
func (e *env) api(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// token makes an API token for u.
func (e *env) token(t *testing.T, u admin.User, scope string, ttl time.Duration) string {
	t.Helper()
	s, _, err := e.a.Accounts().NewToken(u.ID, "test", scope, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
