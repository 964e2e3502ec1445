package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/assistent-nl/assistent/admin/audit"
)

// OIDCConfig configures sign-in with an OpenID provider (Entra ID,
// Keycloak): the authorization code flow with PKCE, state and nonce.
type OIDCConfig struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"-"` // from the environment, never a file
	// RedirectURL is this node's callback, https://NODE/admin/oidc/callback.
	RedirectURL string `json:"redirect_url"`
	// RoleClaim names the ID token claim that holds the account's groups
	// or roles (a string or a list of strings); default "roles".
	RoleClaim string `json:"role_claim,omitempty"`
	// Roles maps a value of RoleClaim to a role. When a value maps, the
	// account's role follows the claim at every sign-in, and an unknown
	// subject with an e-mail address gets an account; the most powerful
	// mapped role wins. Without a mapping only accounts linked to the
	// subject beforehand (admin user add --oidc-subject) sign in.
	Roles map[string]Role `json:"roles,omitempty"`
}

// Validate reports the first invalid field.
func (c OIDCConfig) Validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("admin.oidc.issuer: must not be empty")
	case c.ClientID == "":
		return errors.New("admin.oidc.client_id: must not be empty")
	case !strings.HasSuffix(c.RedirectURL, "/admin/oidc/callback"):
		return errors.New("admin.oidc.redirect_url: must be the node's https://HOST/admin/oidc/callback")
	}
	for v, r := range c.Roles {
		if _, err := ParseRole(string(r)); err != nil {
			return fmt.Errorf("admin.oidc.roles[%s]: %v", v, err)
		}
	}
	return nil
}

// oidcClient discovers the provider on first use (so a node starts while
// the provider is unreachable) and keeps it.
type oidcClient struct {
	cfg      OIDCConfig
	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	http     *http.Client
}

func newOIDCClient(cfg OIDCConfig) *oidcClient {
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	return &oidcClient{cfg: cfg, http: &http.Client{Timeout: 10 * time.Second}}
}

func (c *oidcClient) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.http)
}

func (c *oidcClient) discover() (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, c.verifier, nil
	}
	// The provider keeps this context for fetching its keys later: not a
	// request's.
	ctx := c.ctx(context.Background())
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover OpenID provider %s: %w", c.cfg.Issuer, err)
	}
	c.provider, c.verifier = p, p.VerifierContext(ctx, &oidc.Config{ClientID: c.cfg.ClientID})
	return c.provider, c.verifier, nil
}

func (c *oidcClient) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// oidcCookie holds state, nonce, PKCE verifier and the page to return to
// between the redirect to the provider and its callback. It is SameSite
// Lax: the callback is a navigation from the provider's site.
func (a *Admin) oidcCookie() string {
	if a.cfg.InsecureCookies {
		return "assistent_oidc"
	}
	return "__Host-assistent_oidc"
}

func (a *Admin) oidcLogin(w http.ResponseWriter, r *http.Request, _ *principal) {
	if a.oidc == nil {
		a.notFound(w, r)
		return
	}
	p, _, err := a.oidc.discover()
	if err != nil {
		a.deps.Log.ErrorContext(r.Context(), "OIDC sign-in unavailable", "err", err)
		a.showLogin(w, r, http.StatusBadGateway, "", "login.oidc.unavailable")
		return
	}
	state, nonce, verifier := randomSecret(24), randomSecret(24), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: strings.Join([]string{state, nonce, verifier, safeNext(r.URL.Query().Get("next"))}, "|"),
		Path: "/", MaxAge: 600, Secure: !a.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, a.oidc.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// oidcClaims are the ID token claims the portal reads.
type oidcClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	Nonce         string `json:"nonce"`
}

func (a *Admin) oidcCallback(w http.ResponseWriter, r *http.Request, _ *principal) {
	if a.oidc == nil {
		a.notFound(w, r)
		return
	}
	fail := func(detail string, err error) {
		a.deps.Log.WarnContext(r.Context(), "OIDC sign-in refused", "why", detail, "err", err)
		a.record(r, nil, audit.Entry{Action: "login", Via: "oidc", Outcome: "failed", Detail: detail})
		a.showLogin(w, r, http.StatusUnauthorized, "", "login.oidc.failed")
	}
	c, err := r.Cookie(a.oidcCookie())
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: "", Path: "/", MaxAge: -1, Secure: !a.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if err != nil {
		fail("no sign-in in progress", err)
		return
	}
	parts := strings.SplitN(c.Value, "|", 4)
	if len(parts) != 4 || !constantEqual(r.URL.Query().Get("state"), parts[0]) {
		fail("state does not match", nil)
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		fail("provider: "+e, nil)
		return
	}
	p, verifier, err := a.oidc.discover()
	if err != nil {
		fail("provider unavailable", err)
		return
	}
	ctx, cancel := context.WithTimeout(a.oidc.ctx(r.Context()), 15*time.Second)
	defer cancel()
	tok, err := a.oidc.oauth(p).Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		fail("code exchange failed", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail("no id_token", nil)
		return
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		fail("id_token invalid", err)
		return
	}
	var cl oidcClaims
	var all map[string]any
	if err := idt.Claims(&cl); err != nil || idt.Claims(&all) != nil {
		fail("claims unreadable", err)
		return
	}
	if !constantEqual(cl.Nonce, parts[1]) {
		fail("nonce does not match", nil)
		return
	}
	u, err := a.oidcAccount(r, cl, a.oidc.mappedRole(all[a.oidc.cfg.RoleClaim]))
	if err != nil {
		fail(err.Error(), nil)
		return
	}
	a.startSession(w, r, u, "oidc")
	// A page that moves on by itself rather than a redirect: the browser
	// came here from the provider's site and would not send the new
	// SameSite=Strict cookie on a redirect in the same chain.
	next := safeNext(parts[3])
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="nl"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>%s</title></head><body><p><a href="%s">%s</a></p></body></html>`,
		template.HTMLEscapeString(next), msg("nl", "login.oidc.done"), template.HTMLEscapeString(next), msg("nl", "login.oidc.done"))
}

// mappedRole returns the most powerful role the claim's values map to,
// or "" when none does.
func (c *oidcClient) mappedRole(claim any) Role {
	var values []string
	switch v := claim.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	for _, r := range Roles { // most powerful first
		for _, v := range values {
			if c.cfg.Roles[v] == r {
				return r
			}
		}
	}
	return ""
}

// oidcAccount finds or, with a mapped role, creates the account of an
// OIDC subject, and keeps its role in step with the claims.
func (a *Admin) oidcAccount(r *http.Request, cl oidcClaims, role Role) (User, error) {
	if cl.Subject == "" {
		return User{}, errors.New("no subject")
	}
	u, err := a.accounts.UserBySubject(cl.Subject)
	switch {
	case errors.Is(err, ErrNotFound) && role != "":
		if cl.Email == "" || cl.EmailVerified != nil && !*cl.EmailVerified {
			return User{}, errors.New("no verified e-mail address for a new account")
		}
		u, err = a.accounts.AddUser(NewUser{Email: cl.Email, Name: cl.Name, Role: role, OIDCSubject: cl.Subject})
		if err != nil {
			return User{}, fmt.Errorf("create account: %w", err)
		}
		a.record(r, nil, audit.Entry{Actor: u.Email, Via: "oidc", Action: "user.create", Target: u.Email, After: audit.Value(u.Public()), Detail: "first OIDC sign-in"})
		return u, nil
	case errors.Is(err, ErrNotFound):
		return User{}, errors.New("no account for this subject and no role in the claims")
	case err != nil:
		return User{}, err
	}
	if u.Disabled {
		return User{}, errors.New("account disabled")
	}
	if role != "" && role != u.Role {
		before, after, err := a.accounts.UpdateUser(u.ID, func(x *User) error { x.Role = role; return nil })
		if err != nil {
			return User{}, err
		}
		a.record(r, nil, audit.Entry{Actor: u.Email, Via: "oidc", Action: "user.update", Target: u.Email,
			Before: audit.Value(before.Public()), After: audit.Value(after.Public()), Detail: "role from the OIDC claims"})
		u = after
	}
	return u, nil
}
