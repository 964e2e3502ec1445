package admin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/assistent-nl/assistent/admin"
)

// provider is a small OpenID provider on 127.0.0.1 with real discovery,
// JWKS, authorization and token endpoints: it signs in whoever it is told
// to (next), after checking the client, the redirect and PKCE.
type provider struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	codes  map[string]grant
	next   map[string]any // the claims of the next sign-in
	// tamper, when set, changes the ID token's claims before signing.
	tamper func(map[string]any)
}

type grant struct {
	claims    map[string]any
	challenge string
	redirect  string
}

const clientID, clientSecret = "assistent-portal", "s3cr3t"

func startProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, signer: signer, codes: map[string]grant{}}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	iss := p.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		claims := map[string]any{}
		for k, v := range p.next {
			claims[k] = v
		}
		claims["nonce"] = q.Get("nonce")
		code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
		p.codes[code] = grant{claims: claims, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		p.mu.Lock()
		g, found := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if id != clientID || secret != clientSecret || !found || r.PostFormValue("redirect_uri") != g.redirect ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": iss, "aud": clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		for k, v := range g.claims {
			claims[k] = v
		}
		if p.tamper != nil {
			p.tamper(claims)
		}
		raw, err := jwt.Signed(p.signer).Claims(claims).Serialize()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": raw})
	})
	return p
}

// oidcSignIn runs the browser's part of the flow and reports whether the
// portal's start page is then shown signed in.
func oidcSignIn(t *testing.T, e *env, b *browser) (int, bool) {
	t.Helper()
	// Follow redirects across the portal and the provider, as a browser.
	b.c.CheckRedirect = nil
	resp, err := b.c.Get(e.srv.URL + "/admin/oidc/login?next=/admin/account")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `http-equiv="refresh"`) {
		return resp.StatusCode, false
	}
	r, page := b.get("/admin/account")
	return resp.StatusCode, r.StatusCode == http.StatusOK && strings.Contains(page, "Mijn account")
}

func TestOIDC_Login(t *testing.T) {
	idp := startProvider(t)
	var e *env
	e = newEnv(t, func(c *admin.Config) {
		c.OIDC = &admin.OIDCConfig{Issuer: idp.srv.URL, ClientID: clientID, ClientSecret: clientSecret,
			RedirectURL: "https://placeholder/admin/oidc/callback", Roles: map[string]admin.Role{"assistent-redactie": admin.RoleRedacteur}}
	})
	// The redirect URL names the portal's real address, known only now.
	e = rebindOIDC(t, e, idp)

	t.Run("linked subject", func(t *testing.T) {
		if _, err := e.a.Accounts().AddUser(admin.NewUser{Email: "sso@proef.nl", Role: admin.RoleAnalist, OIDCSubject: "sub-1"}); err != nil {
			t.Fatal(err)
		}
		idp.next = map[string]any{"sub": "sub-1", "email": "sso@proef.nl"}
		b := e.browser(t)
		if code, ok := oidcSignIn(t, e, b); !ok {
			t.Fatalf("linked subject not signed in (%d)", code)
		}
	})
	t.Run("new subject with a mapped role", func(t *testing.T) {
		idp.next = map[string]any{"sub": "sub-2", "email": "redactie@proef.nl", "email_verified": true, "roles": []string{"iets", "assistent-redactie"}}
		b := e.browser(t)
		if code, ok := oidcSignIn(t, e, b); !ok {
			t.Fatalf("new subject not signed in (%d)", code)
		}
		u, err := e.a.Accounts().UserBySubject("sub-2")
		if err != nil || u.Role != admin.RoleRedacteur || u.Email != "redactie@proef.nl" {
			t.Fatalf("provisioned account %+v, %v", u, err)
		}
	})
	t.Run("unknown subject without a role", func(t *testing.T) {
		idp.next = map[string]any{"sub": "sub-3", "email": "x@proef.nl"}
		if code, ok := oidcSignIn(t, e, e.browser(t)); ok || code != http.StatusUnauthorized {
			t.Fatalf("unknown subject: %d, signed in %v", code, ok)
		}
	})
	for name, tamper := range map[string]func(map[string]any){
		"wrong audience": func(c map[string]any) { c["aud"] = "someone-else" },
		"wrong nonce":    func(c map[string]any) { c["nonce"] = "replayed" },
		"expired":        func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
		"other issuer":   func(c map[string]any) { c["iss"] = "https://evil.example" },
	} {
		t.Run(name, func(t *testing.T) {
			idp.next = map[string]any{"sub": "sub-1", "email": "sso@proef.nl"}
			idp.tamper = tamper
			defer func() { idp.tamper = nil }()
			if code, ok := oidcSignIn(t, e, e.browser(t)); ok || code != http.StatusUnauthorized {
				t.Fatalf("%s: %d, signed in %v", name, code, ok)
			}
		})
	}
	t.Run("forged state", func(t *testing.T) {
		b := e.browser(t)
		resp, _ := b.get("/admin/oidc/callback?code=x&state=forged")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("callback without a sign-in in progress: %d", resp.StatusCode)
		}
	})
}

// rebindOIDC starts the portal again on the same store with the redirect
// URL pointing at its own server.
func rebindOIDC(t *testing.T, e *env, idp *provider) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := admin.DefaultConfig()
	cfg.OIDC = &admin.OIDCConfig{Issuer: idp.srv.URL, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: srv.URL + "/admin/oidc/callback", Roles: map[string]admin.Role{"assistent-redactie": admin.RoleRedacteur}}
	a, err := admin.New(cfg, admin.Deps{DB: e.st.Bolt(), Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	return &env{a: a, st: e.st, srv: srv}
}
