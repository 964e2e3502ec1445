package admin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin/audit"
)

// loginCookie holds the sign-in form's CSRF token before there is a
// session (double submit: the form field must equal the cookie).
func (a *Admin) loginCookie() string {
	if a.cfg.InsecureCookies {
		return "assistent_login"
	}
	return "__Host-assistent_login"
}

type loginData struct {
	Next  string
	Email string
	OIDC  bool
}

func (a *Admin) loginPage(w http.ResponseWriter, r *http.Request, _ *principal) {
	a.showLogin(w, r, http.StatusOK, "", "")
}

func (a *Admin) showLogin(w http.ResponseWriter, r *http.Request, status int, email, errKey string) {
	token := ""
	if c, err := r.Cookie(a.loginCookie()); err == nil && len(c.Value) >= 32 {
		token = c.Value
	} else {
		token = randomSecret(32)
		a.setCookie(w, a.loginCookie(), token, 3600)
	}
	v := a.newView(w, r, nil, "login.title", "login")
	v.CSRF = token
	if errKey != "" {
		v.Error = msg(v.Lang, errKey)
	}
	v.Data = loginData{Next: safeNext(r.FormValue("next")), Email: email, OIDC: a.oidc != nil}
	a.render(w, r, status, "login", v)
}

// safeNext returns next when it is a path in the portal, else the start
// page: the sign-in form never sends anyone elsewhere.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/admin/"
}

func (a *Admin) login(w http.ResponseWriter, r *http.Request, _ *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := r.Cookie(a.loginCookie())
	if err != nil || !constantEqual(r.PostFormValue("csrf"), c.Value) {
		a.record(r, nil, audit.Entry{Action: "login", Outcome: "denied", Detail: "missing or wrong CSRF token"})
		a.showLogin(w, r, http.StatusForbidden, "", "error.csrf")
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	ip := a.deps.ClientIP(r)
	known, _ := a.accounts.UserByEmail(email)
	th := a.cfg.Throttle
	wait := max(a.throttle.wait("account:"+email, th.PerAccount, th.Window), a.throttle.wait("ip:"+ip, th.PerAddress, th.Window))
	if wait > 0 {
		a.record(r, nil, audit.Entry{Actor: known.Email, Action: "login", Outcome: "throttled"})
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
		a.showLogin(w, r, http.StatusTooManyRequests, email, "login.throttled")
		return
	}
	u, err := a.accounts.Authenticate(email, r.PostFormValue("password"), r.PostFormValue("code"))
	if err != nil {
		if !errors.Is(err, ErrBadCredentials) {
			a.fail(w, r, err)
			return
		}
		a.throttle.fail("account:"+email, th.Window)
		a.throttle.fail("ip:"+ip, th.Window)
		detail := "wrong password or code"
		if known.ID == "" {
			detail = "unknown account" // the typed address is not kept: it may be anything
		}
		a.record(r, nil, audit.Entry{Actor: known.Email, Action: "login", Outcome: "failed", Detail: detail})
		a.showLogin(w, r, http.StatusUnauthorized, email, "login.failed")
		return
	}
	a.throttle.reset("account:" + email)
	a.startSession(w, r, u, "password")
	redirect(w, r, safeNext(r.PostFormValue("next")), "")
}

// startSession signs u in: any session the browser had is ended and a new
// id issued (no fixation), the sign-in is audited.
func (a *Admin) startSession(w http.ResponseWriter, r *http.Request, u User, via string) {
	if c, err := r.Cookie(a.sessionCookie()); err == nil {
		a.accounts.DeleteSession(c.Value)
	}
	ip := a.deps.ClientIP(r)
	id, s, err := a.accounts.NewSession(u.ID, via, ip)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.accounts.UpdateUser(u.ID, func(u *User) error { u.LastLogin = a.deps.Now().UTC(); return nil })
	a.setCookie(w, a.sessionCookie(), id, int(a.cfg.SessionMax.Seconds()))
	a.setCookie(w, a.loginCookie(), "", -1)
	entry := audit.Entry{Actor: u.Email, Action: "login", Detail: via}
	a.record(r, &principal{user: u, session: &s}, entry)
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request, p *principal) {
	a.accounts.DeleteSession(p.sessionID)
	a.setCookie(w, a.sessionCookie(), "", -1)
	a.record(r, p, audit.Entry{Action: "logout"})
	redirect(w, r, "/admin/login", "logout")
}

type accountData struct {
	Info       UserInfo
	TOTPSecret string // while enrolling
	TOTPURL    string
	TOTPImage  string // data: URL of the QR code
}

func (a *Admin) accountPage(w http.ResponseWriter, r *http.Request, p *principal) {
	v := a.newView(w, r, p, "account.title", "account")
	v.Data = accountData{Info: p.user.Public()}
	a.render(w, r, http.StatusOK, "account", v)
}

func (a *Admin) changePassword(w http.ResponseWriter, r *http.Request, p *principal) {
	v := a.newView(w, r, p, "account.title", "account")
	v.Data = accountData{Info: p.user.Public()}
	if p.user.PasswordHash != "" && !verifyPassword(p.user.PasswordHash, r.PostFormValue("current")) {
		a.record(r, p, audit.Entry{Action: "user.password", Target: p.user.Email, Outcome: "failed", Detail: "current password wrong"})
		v.Error = msg(v.Lang, "account.current.wrong")
		a.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	if r.PostFormValue("new") != r.PostFormValue("repeat") {
		v.Error = msg(v.Lang, "account.repeat.differs")
		a.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	if err := a.accounts.SetPassword(p.user.ID, r.PostFormValue("new")); err != nil {
		if errors.Is(err, ErrInvalid) {
			v.Error = msg(v.Lang, "account.password.short")
			a.render(w, r, http.StatusBadRequest, "account", v)
			return
		}
		a.fail(w, r, err)
		return
	}
	// Other browsers signed in as this account are signed out; this one
	// gets a new session.
	a.accounts.DeleteSessionsOf(p.user.ID)
	a.record(r, p, audit.Entry{Action: "user.password", Target: p.user.Email})
	a.startSession(w, r, p.user, p.session.Via)
	redirect(w, r, "/admin/account", "password")
}

// totpStart shows a new secret to add to an authenticator app; it is
// stored only when confirmed with a code.
func (a *Admin) totpStart(w http.ResponseWriter, r *http.Request, p *principal) {
	v := a.newView(w, r, p, "account.title", "account")
	key, err := NewTOTPKey(a.cfg.Issuer, p.user.Email)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := accountData{Info: p.user.Public(), TOTPSecret: key.Secret(), TOTPURL: key.URL()}
	if img, err := key.Image(200, 200); err == nil {
		var buf bytes.Buffer
		if png.Encode(&buf, img) == nil {
			d.TOTPImage = "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
		}
	}
	v.Data = d
	a.render(w, r, http.StatusOK, "account", v)
}

func (a *Admin) totpConfirm(w http.ResponseWriter, r *http.Request, p *principal) {
	secret := r.PostFormValue("secret")
	if err := a.accounts.ConfirmTOTP(p.user.ID, secret, r.PostFormValue("code")); err != nil {
		v := a.newView(w, r, p, "account.title", "account")
		v.Data = accountData{Info: p.user.Public(), TOTPSecret: secret}
		v.Error = msg(v.Lang, "account.totp.wrong")
		a.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	a.record(r, p, audit.Entry{Action: "user.totp", Target: p.user.Email, After: audit.Value(map[string]bool{"totp": true})})
	redirect(w, r, "/admin/account", "totp")
}

func (a *Admin) totpDisable(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.accounts.DisableTOTP(p.user.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(r, p, audit.Entry{Action: "user.totp", Target: p.user.Email, After: audit.Value(map[string]bool{"totp": false})})
	redirect(w, r, "/admin/account", "totpoff")
}

// home lists the tenants the account may manage.
func (a *Admin) home(w http.ResponseWriter, r *http.Request, p *principal) {
	if r.URL.Path != "/admin/" {
		a.notFound(w, r)
		return
	}
	v := a.newView(w, r, p, "home.title", "home")
	a.render(w, r, http.StatusOK, "home", v)
}

func (a *Admin) static(w http.ResponseWriter, r *http.Request, _ *principal) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/admin/", http.FileServerFS(staticFS)).ServeHTTP(w, r)
}

// now is the portal's clock.
func (a *Admin) now() time.Time { return a.deps.Now() }
