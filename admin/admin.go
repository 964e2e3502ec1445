// Package admin is the beheerportaal and the admin API of a node: staff
// accounts with roles (local with argon2id and optional TOTP, or OIDC),
// tenant settings changed live, the dashboard, unanswered questions,
// feedback and review, users and API tokens, and the audit log
// (admin/audit).
//
// The node mounts Handler at /admin/ (server-rendered HTML, Dutch with
// English available, no script needed) and /api/v1/admin/ (JSON,
// problem+json errors). Every route names the permission it needs; the
// check runs before its handler (route). State lives in the node's bbolt
// file, in buckets named admin_*, so the CLI manages accounts and reads
// the audit log while the node is stopped.
package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/store"
)

// Config configures the portal and the admin API.
type Config struct {
	// InsecureCookies drops the Secure attribute from cookies, for a node
	// reached over plain http on another host than localhost (never in
	// production: put TLS in front instead).
	InsecureCookies bool
	// SessionIdle ends a session unused this long; SessionMax ends any
	// session this long after sign-in.
	SessionIdle, SessionMax time.Duration
	Throttle                ThrottleConfig
	// Issuer names the node in authenticator apps (TOTP).
	Issuer string
	// OIDC, when set, offers sign-in with an OpenID provider.
	OIDC *OIDCConfig
}

// DefaultConfig returns secure cookies, 30 minutes idle and 12 hours at
// most per session, and the default throttle.
func DefaultConfig() Config {
	return Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, Throttle: DefaultThrottleConfig(), Issuer: "Assistent"}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.SessionIdle < time.Minute:
		return errors.New("admin.session_idle: must be at least 1m")
	case c.SessionMax < c.SessionIdle:
		return errors.New("admin.session_max: must be at least session_idle")
	case c.Throttle.PerAccount < 1 || c.Throttle.PerAddress < 1 || c.Throttle.Window < time.Second:
		return errors.New("admin.throttle: failures must be at least 1 and the window at least 1s")
	}
	if c.OIDC != nil {
		return c.OIDC.Validate()
	}
	return nil
}

// Deps are what the portal uses of the node.
type Deps struct {
	DB    *bolt.DB     // the node's bbolt file (store.Bolt)
	Store *store.Store // tenants, feedback, the question log
	// Terms turns a question into its search terms (stemmed, without stop
	// words), to group similar questions; nil: lower-case words.
	Terms func(string) []string
	// ClientIP names the client of a request (behind trusted proxies).
	ClientIP func(*http.Request) string
	// Federation reports the node's federation status; false when the
	// node watches no registry (Members may still be set).
	Federation func() (FederationStatus, bool)
	// Crawler holds the tenants' crawl sources and jobs; nil: the
	// sources pages answer 404.
	Crawler Crawler
	// ValidSchedule checks a source's schedule (nil: any).
	ValidSchedule func(string) error
	// Content holds the tenants' documents; nil: the documents pages
	// answer 404.
	Content Content
	// Models holds the tenants' prompt templates and model routes; nil:
	// the models pages answer 404.
	Models Models
	Log    *slog.Logger
	Now    func() time.Time
}

// FederationStatus is what the portal shows of the node's federation: its
// copy of the registry and the members gossip knows. The national
// collections the node holds, with their versions, the portal reads from
// the store.
type FederationStatus struct {
	Index       uint64
	Synced      bool
	Server      string
	CacheAge    time.Duration // negative: never synced
	LastContact time.Time
	LastError   string
	// Members are the members gossip knows, this node included; empty
	// when the node runs no gossip.
	Members []FederationMember
}

// FederationMember is a member of the federation's gossip as the node
// sees it.
type FederationMember struct {
	Name, Org, Role string
	Address         string // gossip host:port
	APIAddress      string // its mutual-TLS API, if it serves one
	State           string // alive, suspect, dead or left
	RTT             time.Duration
	Version         string
	// Collections are the national collections the member says it serves,
	// Topics the kinds of content, both as it gossips them.
	Collections, Topics []string
}

// Admin is the portal and the admin API. Safe for concurrent use.
type Admin struct {
	cfg      Config
	deps     Deps
	accounts *Accounts
	audit    *audit.Log
	throttle *throttle
	pages    map[string]*template.Template
	routes   []Route
	handler  http.Handler
	oidc     *oidcClient
	tenantMu sync.Mutex // serialises read-modify-write of tenant settings
}

// New opens the portal's state in deps.DB and builds its routes.
func New(cfg Config, deps Deps) (*Admin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.DB == nil || deps.Store == nil {
		return nil, errors.New("admin: DB and Store are required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.ClientIP == nil {
		deps.ClientIP = remoteIP
	}
	if deps.Terms == nil {
		deps.Terms = plainTerms
	}
	acc, err := OpenAccounts(deps.DB, deps.Now)
	if err != nil {
		return nil, err
	}
	log, err := audit.Open(deps.DB, deps.Now)
	if err != nil {
		return nil, err
	}
	a := &Admin{cfg: cfg, deps: deps, accounts: acc, audit: log, throttle: newThrottle(deps.Now)}
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if cfg.OIDC != nil {
		a.oidc = newOIDCClient(*cfg.OIDC)
	}
	a.handler = a.buildRoutes()
	return a, nil
}

// Accounts returns the account store.
func (a *Admin) Accounts() *Accounts { return a.accounts }

// Audit returns the audit log.
func (a *Admin) Audit() *audit.Log { return a.audit }

// Handler serves /admin/... and /api/v1/admin/....
func (a *Admin) Handler() http.Handler { return a.handler }

// Route is one registered route and the permission it needs.
type Route struct {
	Method, Pattern string
	Perm            Perm
}

// Routes returns every route of the portal and the admin API.
func (a *Admin) Routes() []Route { return append([]Route(nil), a.routes...) }

// principal is who makes a request.
type principal struct {
	user      User
	session   *Session
	sessionID string
	token     *Token
}

type ctxKey struct{}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(ctxKey{}).(*principal)
	return p
}

// handlerFunc is a handler that gets its principal (nil on public routes).
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal)

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// route registers h under method and pattern behind the permission check:
// who is asking (session cookie, or bearer token on the API), whether the
// role has perm, whether a token's scope allows the method, whether the
// account may act on the tenant in the path, and, for a change made
// with a session, the CSRF token.
func (a *Admin) route(mux *http.ServeMux, method, pattern string, perm Perm, h handlerFunc) {
	a.routes = append(a.routes, Route{Method: method, Pattern: pattern, Perm: perm})
	mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		if perm == PermPublic {
			h(w, r, principalOf(r))
			return
		}
		p, err := a.identify(r)
		if err != nil {
			a.unauthenticated(w, r, err)
			return
		}
		if p.token != nil && p.token.Scope == ScopeRead && method != http.MethodGet {
			a.forbidden(w, r, "token scope read allows GET only", "insufficient_scope")
			return
		}
		if !p.user.Can(perm) {
			a.forbidden(w, r, fmt.Sprintf("role %s lacks %s", p.user.Role, perm), "")
			return
		}
		if t := r.PathValue("tenant"); t != "" {
			if !p.user.MayManage(t) {
				a.forbidden(w, r, "account not scoped to tenant "+t, "")
				return
			}
			if _, err := a.deps.Store.Tenant(t); err != nil {
				a.notFound(w, r)
				return
			}
		}
		if p.session != nil && method != http.MethodGet && !a.csrfOK(r, p.session) {
			a.record(r, p, audit.Entry{Action: "csrf.rejected", Outcome: "denied", Target: r.URL.Path})
			a.forbidden(w, r, "missing or wrong CSRF token", "csrf")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)), p)
	})
}

// identify finds the principal of r: a bearer token (API only) or the
// session cookie.
func (a *Admin) identify(r *http.Request) (*principal, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if !isAPI(r) {
			return nil, ErrBadCredentials
		}
		bearer, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return nil, ErrBadCredentials
		}
		t, u, err := a.accounts.CheckToken(strings.TrimSpace(bearer))
		if err != nil {
			return nil, err
		}
		return &principal{user: u, token: &t}, nil
	}
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return nil, ErrNotFound
	}
	s, err := a.accounts.Session(c.Value, a.cfg.SessionIdle, a.cfg.SessionMax)
	if err != nil {
		return nil, err
	}
	u, err := a.accounts.User(s.UserID)
	if err != nil || u.Disabled {
		a.accounts.DeleteSession(c.Value)
		return nil, ErrNotFound
	}
	return &principal{user: u, session: &s, sessionID: c.Value}, nil
}

// csrfOK checks the CSRF token of a change made with a session: the form
// field csrf, or the X-CSRF-Token header on the API.
func (a *Admin) csrfOK(r *http.Request, s *Session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && !isAPI(r) {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		got = r.PostFormValue("csrf")
	}
	return got != "" && constantEqual(got, s.CSRF)
}

// maxFormBytes bounds a portal form.
const maxFormBytes = 64 << 10

// sessionCookie is the session cookie's name: with the __Host- prefix the
// browser keeps it to this host and path / and only over https.
func (a *Admin) sessionCookie() string {
	if a.cfg.InsecureCookies {
		return "assistent_admin"
	}
	return "__Host-assistent_admin"
}

func (a *Admin) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: !a.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// securityHeaders are on every portal and admin API response.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// record appends an audit entry on behalf of p (nil: nobody signed in);
// a failure is logged, never shown.
func (a *Admin) record(r *http.Request, p *principal, e audit.Entry) {
	if p != nil && e.Actor == "" {
		e.Actor = p.user.Email
	}
	if e.Via == "" {
		e.Via = "portal"
		if isAPI(r) {
			e.Via = "api"
		}
		if p != nil && p.session != nil && p.session.Via == "oidc" && e.Via == "portal" {
			e.Via = "portal-oidc"
		}
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if e.IP == "" {
		e.IP = a.deps.ClientIP(r)
	}
	if _, err := a.audit.Append(e); err != nil {
		a.deps.Log.ErrorContext(r.Context(), "audit append", "action", e.Action, "err", err)
	}
}

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func plainTerms(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

func constantEqual(a, b string) bool { return subtleEq(a, b) }
