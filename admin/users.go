package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin/audit"
)

// UserInput creates or changes an account through the API or a form.
type UserInput struct {
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Role        Role     `json:"role"`
	Tenants     []string `json:"tenants"`
	Password    string   `json:"password,omitempty"`
	OIDCSubject string   `json:"oidc_subject,omitempty"`
	Disabled    *bool    `json:"disabled,omitempty"`
}

// ErrLastBeheerder: the change would leave no active beheerder.
var ErrLastBeheerder = errors.New("the last active beheerder cannot be removed, disabled or demoted")

func (a *Admin) checkTenants(ids []string) error {
	for _, id := range ids {
		if _, err := a.deps.Store.Tenant(id); err != nil {
			return &fieldError{"tenants", "users.invalid.tenant"}
		}
	}
	return nil
}

// activeBeheerders counts enabled beheerder accounts other than except.
func (a *Admin) activeBeheerders(except string) (int, error) {
	us, err := a.accounts.Users()
	n := 0
	for _, u := range us {
		if u.ID != except && u.Role == RoleBeheerder && !u.Disabled && len(u.Tenants) == 0 {
			n++
		}
	}
	return n, err
}

func (a *Admin) createUser(r *http.Request, p *principal, in UserInput) (User, error) {
	if err := a.checkTenants(in.Tenants); err != nil {
		return User{}, err
	}
	u, err := a.accounts.AddUser(NewUser{Email: in.Email, Name: in.Name, Role: in.Role, Tenants: in.Tenants, Password: in.Password, OIDCSubject: in.OIDCSubject})
	if err != nil {
		return User{}, err
	}
	a.record(r, p, audit.Entry{Action: "user.create", Target: u.Email, After: audit.Value(u.Public())})
	return u, nil
}

// changeUser changes role, tenants, name, OIDC subject, disabled and,
// when given, the password of account id. Its sessions end when its role,
// tenants or password change or it is disabled.
func (a *Admin) changeUser(r *http.Request, p *principal, id string, in UserInput) (User, error) {
	if err := a.checkTenants(in.Tenants); err != nil {
		return User{}, err
	}
	if in.Role != "" {
		if _, err := ParseRole(string(in.Role)); err != nil {
			return User{}, &fieldError{"role", "users.invalid.role"}
		}
	}
	if in.Password != "" {
		if err := CheckPassword(in.Password); err != nil {
			return User{}, &fieldError{"password", "account.password.short"}
		}
	}
	cur, err := a.accounts.User(id)
	if err != nil {
		return User{}, err
	}
	demoted := cur.Role == RoleBeheerder && (in.Role != "" && in.Role != RoleBeheerder || len(in.Tenants) > 0 || in.Disabled != nil && *in.Disabled)
	if demoted {
		if n, err := a.activeBeheerders(id); err != nil {
			return User{}, err
		} else if n == 0 {
			return User{}, ErrLastBeheerder
		}
	}
	hash := ""
	if in.Password != "" {
		hash = a.accounts.hash.Hash(in.Password)
	}
	before, after, err := a.accounts.UpdateUser(id, func(u *User) error {
		if in.Role != "" {
			u.Role = in.Role
		}
		u.Tenants = in.Tenants
		if in.Name != "" {
			u.Name = strings.TrimSpace(in.Name)
		}
		if in.OIDCSubject != "" {
			u.OIDCSubject = strings.TrimSpace(in.OIDCSubject)
		}
		if in.Disabled != nil {
			u.Disabled = *in.Disabled
		}
		if hash != "" {
			u.PasswordHash = hash
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if before.Role != after.Role || !slices.Equal(before.Tenants, after.Tenants) || after.Disabled || hash != "" {
		a.accounts.DeleteSessionsOf(id)
	}
	e := audit.Entry{Action: "user.update", Target: after.Email, Before: audit.Value(before.Public()), After: audit.Value(after.Public())}
	if hash != "" {
		e.Detail = "password reset"
	}
	a.record(r, p, e)
	return after, nil
}

func (a *Admin) deleteUser(r *http.Request, p *principal, id string) error {
	if id == p.user.ID {
		return &fieldError{"id", "users.invalid.self"}
	}
	u, err := a.accounts.User(id)
	if err != nil {
		return err
	}
	if u.Role == RoleBeheerder {
		if n, err := a.activeBeheerders(id); err != nil {
			return err
		} else if n == 0 {
			return ErrLastBeheerder
		}
	}
	if _, err := a.accounts.DeleteUser(id); err != nil {
		return err
	}
	a.record(r, p, audit.Entry{Action: "user.delete", Target: u.Email, Before: audit.Value(u.Public())})
	return nil
}

// userError answers an error of the user operations.
func (a *Admin) userError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		invalid(w, r, fe.Field, fe.Key)
	case errors.Is(err, ErrExists):
		writeProblem(w, r, http.StatusConflict, "account exists", "users.exists", "")
	case errors.Is(err, ErrLastBeheerder):
		writeProblem(w, r, http.StatusConflict, ErrLastBeheerder.Error(), "users.lastbeheerder", "")
	case errors.Is(err, ErrInvalid):
		writeProblem(w, r, http.StatusBadRequest, err.Error(), "users.invalid", "invalid")
	case errors.Is(err, ErrNotFound):
		a.notFound(w, r)
	default:
		a.fail(w, r, err)
	}
}

func userErrorKey(err error) (string, bool) {
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return fe.Key, true
	case errors.Is(err, ErrExists):
		return "users.exists", true
	case errors.Is(err, ErrLastBeheerder):
		return "users.lastbeheerder", true
	case errors.Is(err, ErrInvalid):
		return "users.invalid", true
	}
	return "", false
}

type usersData struct {
	Users  []UserInfo
	Roles  []Role
	Form   UserInput
	Edit   *UserInfo
	Tokens []TokenInfo
	// NewToken is shown once, right after it was made.
	NewToken string
}

func (a *Admin) usersView(w http.ResponseWriter, r *http.Request, p *principal) (*view, usersData, error) {
	us, err := a.accounts.Users()
	if err != nil {
		return nil, usersData{}, err
	}
	d := usersData{Roles: Roles, Form: UserInput{Role: RoleRedacteur}}
	for _, u := range us {
		d.Users = append(d.Users, u.Public())
	}
	return a.newView(w, r, p, "users.title", "users"), d, nil
}

func (a *Admin) usersPage(w http.ResponseWriter, r *http.Request, p *principal) {
	v, d, err := a.usersView(w, r, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.Data = d
	a.render(w, r, http.StatusOK, "users", v)
}

func formUser(r *http.Request) UserInput {
	in := UserInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: Role(r.PostFormValue("role")),
		Password: r.PostFormValue("password"), OIDCSubject: r.PostFormValue("oidc_subject"), Tenants: r.PostForm["tenants"]}
	if r.PostFormValue("has_disabled") != "" {
		d := r.PostFormValue("disabled") == "on"
		in.Disabled = &d
	}
	return in
}

func (a *Admin) createUserForm(w http.ResponseWriter, r *http.Request, p *principal) {
	in := formUser(r)
	_, err := a.createUser(r, p, in)
	if key, ok := userErrorKey(err); ok {
		v, d, err := a.usersView(w, r, p)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		in.Password = ""
		d.Form = in
		v.Data = d
		v.Error = msg(v.Lang, key)
		a.render(w, r, http.StatusBadRequest, "users", v)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/users", "usercreated")
}

func (a *Admin) userPage(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := a.accounts.User(r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		a.notFound(w, r)
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "user.title", "users")
	info := u.Public()
	v.Data = usersData{Roles: Roles, Edit: &info}
	a.render(w, r, http.StatusOK, "user", v)
}

func (a *Admin) userForm(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	var err error
	if r.PostFormValue("action") == "delete" {
		err = a.deleteUser(r, p, id)
		if err == nil {
			redirect(w, r, "/admin/users", "userdeleted")
			return
		}
	} else {
		_, err = a.changeUser(r, p, id, formUser(r))
		if err == nil {
			redirect(w, r, "/admin/users/"+id, "saved")
			return
		}
	}
	if key, ok := userErrorKey(err); ok {
		u, uerr := a.accounts.User(id)
		if uerr != nil {
			a.notFound(w, r)
			return
		}
		v := a.newView(w, r, p, "user.title", "users")
		info := u.Public()
		v.Data = usersData{Roles: Roles, Edit: &info}
		v.Error = msg(v.Lang, key)
		a.render(w, r, http.StatusBadRequest, "user", v)
		return
	}
	if errors.Is(err, ErrNotFound) {
		a.notFound(w, r)
		return
	}
	a.fail(w, r, err)
}

func (a *Admin) apiUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	us, err := a.accounts.Users()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []UserInfo{}
	for _, u := range us {
		out = append(out, u.Public())
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) apiCreateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var in UserInput
	if !readJSON(w, r, &in) {
		return
	}
	u, err := a.createUser(r, p, in)
	if err != nil {
		a.userError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/admin/users/"+u.ID)
	writeJSON(w, http.StatusCreated, u.Public())
}

func (a *Admin) apiUser(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := a.accounts.User(r.PathValue("id"))
	if err != nil {
		a.userError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u.Public())
}

func (a *Admin) apiPatchUser(w http.ResponseWriter, r *http.Request, p *principal) {
	cur, err := a.accounts.User(r.PathValue("id"))
	if err != nil {
		a.userError(w, r, err)
		return
	}
	in := UserInput{Tenants: cur.Tenants}
	if !readJSON(w, r, &in) {
		return
	}
	u, err := a.changeUser(r, p, cur.ID, in)
	if err != nil {
		a.userError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u.Public())
}

func (a *Admin) apiDeleteUser(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.deleteUser(r, p, r.PathValue("id")); err != nil {
		a.userError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Tokens.

// TokenInput asks for a new token for the caller's own account.
type TokenInput struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
	Days  int    `json:"days"` // lifetime; 0: 30
}

func (a *Admin) newToken(r *http.Request, p *principal, in TokenInput) (string, Token, error) {
	if in.Days == 0 {
		in.Days = 30
	}
	if in.Days < 0 || in.Days > int(MaxTokenTTL.Hours()/24) {
		return "", Token{}, &fieldError{"days", "tokens.invalid.days"}
	}
	if _, err := ParseScope(in.Scope); err != nil {
		return "", Token{}, &fieldError{"scope", "tokens.invalid.scope"}
	}
	if utf8len(in.Name) > 100 {
		return "", Token{}, &fieldError{"name", "settings.invalid.text"}
	}
	s, t, err := a.accounts.NewToken(p.user.ID, in.Name, in.Scope, time.Duration(in.Days)*24*time.Hour)
	if err != nil {
		return "", Token{}, err
	}
	a.record(r, p, audit.Entry{Action: "token.create", Target: t.ID, After: audit.Value(t.Info())})
	return s, t, nil
}

func utf8len(s string) int { return len([]rune(s)) }

func (a *Admin) tokenInfos() ([]TokenInfo, error) {
	ts, err := a.accounts.Tokens()
	if err != nil {
		return nil, err
	}
	out := []TokenInfo{}
	for _, t := range ts {
		info := t.Info()
		if u, err := a.accounts.User(t.UserID); err == nil {
			info.Email = u.Email
		}
		out = append(out, info)
	}
	return out, nil
}

func (a *Admin) revokeToken(r *http.Request, p *principal, id string) error {
	t, err := a.accounts.RevokeToken(id)
	if err != nil {
		return err
	}
	a.record(r, p, audit.Entry{Action: "token.revoke", Target: t.ID})
	return nil
}

func (a *Admin) tokensPage(w http.ResponseWriter, r *http.Request, p *principal) {
	a.showTokens(w, r, p, http.StatusOK, "", "")
}

func (a *Admin) showTokens(w http.ResponseWriter, r *http.Request, p *principal, status int, secret, errKey string) {
	ts, err := a.tokenInfos()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "tokens.title", "tokens")
	v.Data = usersData{Tokens: ts, NewToken: secret}
	if errKey != "" {
		v.Error = msg(v.Lang, errKey)
	}
	a.render(w, r, status, "tokens", v)
}

func (a *Admin) tokenForm(w http.ResponseWriter, r *http.Request, p *principal) {
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if r.PostFormValue("days") != "" && days == 0 {
		days = -1
	}
	secret, _, err := a.newToken(r, p, TokenInput{Name: r.PostFormValue("name"), Scope: r.PostFormValue("scope"), Days: days})
	var fe *fieldError
	if errors.As(err, &fe) {
		a.showTokens(w, r, p, http.StatusBadRequest, "", fe.Key)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The token is in this response only: never stored, never redirected.
	a.showTokens(w, r, p, http.StatusCreated, secret, "")
}

func (a *Admin) revokeTokenForm(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.revokeToken(r, p, r.PathValue("id")); err != nil {
		if errors.Is(err, ErrNotFound) {
			a.notFound(w, r)
			return
		}
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/tokens", "revoked")
}

func (a *Admin) apiTokens(w http.ResponseWriter, r *http.Request, p *principal) {
	ts, err := a.tokenInfos()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

func (a *Admin) apiCreateToken(w http.ResponseWriter, r *http.Request, p *principal) {
	var in TokenInput
	if !readJSON(w, r, &in) {
		return
	}
	secret, t, err := a.newToken(r, p, in)
	if err != nil {
		a.userError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/admin/tokens/"+t.ID)
	writeJSON(w, http.StatusCreated, struct {
		TokenInfo
		Token string `json:"token"`
	}{t.Info(), secret})
}

func (a *Admin) apiRevokeToken(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.revokeToken(r, p, r.PathValue("id")); err != nil {
		a.userError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
