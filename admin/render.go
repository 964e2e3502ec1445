package admin

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

func subtleEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// funcs are the template functions; t translates a message key.
var funcs = template.FuncMap{
	"t": func(lang, key string) string { return msg(lang, key) },
	"tf": func(lang, key string, args ...any) string {
		return fmt.Sprintf(msg(lang, key), args...)
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"day":  func(t time.Time) string { return t.Local().Format("2006-01-02") },
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"mode": func(lang, m string) string { return msg(lang, "mode."+m) },
	// memberstate names a gossip member's state; one the portal does not
	// know is shown as gossip gives it.
	"memberstate": func(lang, s string) string {
		if hasMsg("federation.state." + s) {
			return msg(lang, "federation.state."+s)
		}
		return s
	},
	"rtt": func(d time.Duration) string {
		if d <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	},
	"role": func(lang string, r Role) string { return msg(lang, "role."+string(r)) },
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"raw":      func(b json.RawMessage) string { return string(b) },
	"modes":    func() []string { return Modes },
	"verdicts": func() []string { return Verdicts },
	"rulesfields": func(v *view, rules SourceRules, isNew bool) rulesFields {
		return rulesFields{V: v, Rules: rules, New: isNew}
	},
	"jobstatus": func(lang string, j crawl.Job) jobStatus { return jobStatus{Lang: lang, J: j} },
	"percent":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) },
	"failed": func(c crawl.Counters) int {
		n := 0
		for _, k := range c.Failed {
			n += k
		}
		return n
	},
	"langview":   func(lang, code string) langView { return langView{Lang: lang, Code: code} },
	"originview": func(lang, origin string) originView { return originView{Lang: lang, Origin: origin} },
	"rolefields": func(v *view, role Role, tenants []string) roleFields {
		return roleFields{V: v, Roles: Roles, Role: role, Tenants: tenants, All: v.Tenants}
	},
}

// rulesFields is what the fields of a source's rules show.
type rulesFields struct {
	V     *view
	Rules SourceRules
	New   bool // the id can be entered
}

// langView names a template's language ("" for every language).
type langView struct{ Lang, Code string }

// originView is what an origin badge shows.
type originView struct{ Lang, Origin string }

// jobStatus is what a job's status badge shows.
type jobStatus struct {
	Lang string
	J    crawl.Job
}

// roleFields is what the role and tenant fields of the user forms show.
type roleFields struct {
	V       *view
	Roles   []Role
	Role    Role
	Tenants []string
	All     []store.Tenant
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		body, err := templateFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if _, err := t.Parse(string(body)); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		out[base] = t
	}
	return out, nil
}

// view is what every page template gets.
type view struct {
	Lang     string
	OtherURL string // the same page in the other language
	Title    string
	Nav      string // the active section
	User     *User
	CSRF     string
	Tenants  []store.Tenant // the tenants the account may manage
	Tenant   *store.Tenant  // the tenant the page is about
	Notice   string         // a message key, shown as a success note
	Error    string         // an already translated error
	Data     any
}

// langOf is the language the page is shown in: ?lang=, else the
// admin_lang cookie, else Dutch.
func langOf(r *http.Request) string {
	switch r.URL.Query().Get("lang") {
	case "en":
		return "en"
	case "nl":
		return "nl"
	}
	if c, err := r.Cookie("admin_lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "nl"
}

// newView returns the view for r, with the tenant in the path when any.
func (a *Admin) newView(w http.ResponseWriter, r *http.Request, p *principal, title, nav string) *view {
	lang := langOf(r)
	if q := r.URL.Query().Get("lang"); q == "en" || q == "nl" {
		http.SetCookie(w, &http.Cookie{Name: "admin_lang", Value: q, Path: "/admin/", MaxAge: 365 * 24 * 3600,
			Secure: !a.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	other := "en"
	if lang == "en" {
		other = "nl"
	}
	q := r.URL.Query()
	q.Set("lang", other)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	v := &view{Lang: lang, OtherURL: u.String(), Title: msg(lang, title), Nav: nav}
	if n := r.URL.Query().Get("ok"); n != "" && hasMsg("ok."+n) {
		v.Notice = "ok." + n
	}
	if p != nil {
		v.User = &p.user
		if p.session != nil {
			v.CSRF = p.session.CSRF
		}
		ts, err := a.deps.Store.Tenants()
		if err == nil {
			for _, t := range ts {
				if p.user.MayManage(t.ID) {
					v.Tenants = append(v.Tenants, t)
				}
			}
		}
		if id := r.PathValue("tenant"); id != "" {
			if t, err := a.deps.Store.Tenant(id); err == nil {
				v.Tenant = &t
			}
		}
	}
	return v
}

// render writes page name with v.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := a.pages[name]
	if !ok {
		panic("admin: no page template " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		a.deps.Log.ErrorContext(r.Context(), "render admin page", "page", name, "err", err)
		http.Error(w, msg(v.Lang, "error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// Problem is an RFC 9457 problem detail of the admin API. Detail is in
// the language the client asked for (Accept-Language), Dutch by default.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code names the kind of refusal for programs: csrf,
	// insufficient_scope, throttled, invalid.
	Code string `json:"code,omitempty"`
}

func apiLang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		return "en"
	}
	return "nl"
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, title, detailKey, code string) {
	lang := apiLang(r)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: title, Status: status, Detail: msg(lang, detailKey), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// unauthenticated answers a request without a valid session or token:
// 401 on the API, a redirect to the sign-in page in the portal.
func (a *Admin) unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="assistent-admin"`)
		writeProblem(w, r, http.StatusUnauthorized, "unauthenticated", "error.unauthenticated", "")
		return
	}
	next := ""
	if r.Method == http.MethodGet {
		next = "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, "/admin/login"+next, http.StatusSeeOther)
}

func (a *Admin) forbidden(w http.ResponseWriter, r *http.Request, why, code string) {
	a.deps.Log.InfoContext(r.Context(), "admin request forbidden", "path", r.URL.Path, "why", why)
	if isAPI(r) {
		writeProblem(w, r, http.StatusForbidden, "forbidden", "error.forbidden", code)
		return
	}
	v := a.newView(w, r, principalOf(r), "error.forbidden.title", "")
	v.Error = msg(v.Lang, "error.forbidden")
	if code == "csrf" {
		v.Error = msg(v.Lang, "error.csrf")
	}
	a.render(w, r, http.StatusForbidden, "error", v)
}

func (a *Admin) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		writeProblem(w, r, http.StatusNotFound, "not found", "error.notfound", "")
		return
	}
	v := a.newView(w, r, principalOf(r), "error.notfound.title", "")
	v.Error = msg(v.Lang, "error.notfound")
	a.render(w, r, http.StatusNotFound, "error", v)
}

// fail answers an unexpected error: logged in full, shown as a short
// internal error. An error that says something is not there (the store's,
// the crawler's or the portal's ErrNotFound, say a tenant removed while
// the request ran) is a 404, not a 500.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, crawl.ErrNotFound) {
		a.deps.Log.InfoContext(r.Context(), "admin request: not found", "path", r.URL.Path, "err", err)
		a.notFound(w, r)
		return
	}
	a.deps.Log.ErrorContext(r.Context(), "admin request failed", "path", r.URL.Path, "err", err)
	if isAPI(r) {
		writeProblem(w, r, http.StatusInternalServerError, "internal error", "error.internal", "")
		return
	}
	v := a.newView(w, r, principalOf(r), "error.title", "")
	v.Error = msg(v.Lang, "error.internal")
	a.render(w, r, http.StatusInternalServerError, "error", v)
}

// redirect sends the browser on after a form, with a success note.
func redirect(w http.ResponseWriter, r *http.Request, path, ok string) {
	if ok != "" {
		path += "?ok=" + ok
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
