package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/store"
)

// Settings are a tenant's settings as the admin API shows them.
type Settings struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Phone         string   `json:"phone"`
	ContactURL    string   `json:"contact_url"`
	Hours         string   `json:"hours"`
	Sites         []string `json:"sites"`
	RetentionDays int      `json:"retention_days"` // 0: the node's
}

func settingsOf(t store.Tenant) Settings {
	sites := t.Sites
	if sites == nil {
		sites = []string{}
	}
	return Settings{ID: t.ID, Name: t.Name, Phone: t.Phone, ContactURL: t.ContactURL, Hours: t.Hours, Sites: sites, RetentionDays: t.RetentionDays}
}

// SettingsPatch changes some settings: a nil field stays as it is. Sites
// are added and removed one by one, never replaced.
type SettingsPatch struct {
	Name          *string  `json:"name,omitempty"`
	Phone         *string  `json:"phone,omitempty"`
	ContactURL    *string  `json:"contact_url,omitempty"`
	Hours         *string  `json:"hours,omitempty"`
	RetentionDays *int     `json:"retention_days,omitempty"`
	AddSites      []string `json:"add_sites,omitempty"`
	RemoveSites   []string `json:"remove_sites,omitempty"`
}

// fieldError is an invalid field with the message key that explains it.
type fieldError struct {
	Field, Key string
}

func (e *fieldError) Error() string { return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Key) }
func (e *fieldError) Unwrap() error { return ErrInvalid }

// MaxRetentionDays bounds a tenant's retention.
const MaxRetentionDays = 3650

// apply checks p and applies it to t.
func (p SettingsPatch) apply(t *store.Tenant) error {
	text := func(field string, v *string, max int, dst *string) error {
		if v == nil {
			return nil
		}
		s := strings.TrimSpace(*v)
		if utf8.RuneCountInString(s) > max || strings.ContainsAny(s, "<>\x00") {
			return &fieldError{field, "settings.invalid.text"}
		}
		*dst = s
		return nil
	}
	if err := text("name", p.Name, 100, &t.Name); err != nil {
		return err
	}
	if p.Name != nil && t.Name == "" {
		return &fieldError{"name", "settings.invalid.name"}
	}
	if err := text("phone", p.Phone, 40, &t.Phone); err != nil {
		return err
	}
	if t.Phone != "" && strings.Trim(t.Phone, "0123456789 +-()") != "" {
		return &fieldError{"phone", "settings.invalid.phone"}
	}
	if err := text("hours", p.Hours, 200, &t.Hours); err != nil {
		return err
	}
	if p.ContactURL != nil {
		s := strings.TrimSpace(*p.ContactURL)
		if s != "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 500 {
				return &fieldError{"contact_url", "settings.invalid.url"}
			}
		}
		t.ContactURL = s
	}
	if p.RetentionDays != nil {
		if *p.RetentionDays < 0 || *p.RetentionDays > MaxRetentionDays {
			return &fieldError{"retention_days", "settings.invalid.retention"}
		}
		t.RetentionDays = *p.RetentionDays
	}
	for _, s := range p.AddSites {
		norm, err := store.NormaliseSite(s)
		if err != nil {
			return &fieldError{"add_sites", "settings.invalid.site"}
		}
		t.AddSite(norm)
	}
	for _, s := range p.RemoveSites {
		t.RemoveSite(s)
	}
	return nil
}

// updateTenant applies p to tenant id, stores it (the node reads it on
// the next question: no restart) and audits the change with the settings
// before and after.
func (a *Admin) updateTenant(r *http.Request, p *principal, id string, patch SettingsPatch) (store.Tenant, error) {
	a.tenantMu.Lock()
	defer a.tenantMu.Unlock()
	t, err := a.deps.Store.Tenant(id)
	if err != nil {
		return store.Tenant{}, err
	}
	before := settingsOf(t)
	t.Sites = slices.Clone(t.Sites)
	if err := patch.apply(&t); err != nil {
		return store.Tenant{}, err
	}
	after := settingsOf(t)
	if jsonEqual(before, after) {
		return t, nil
	}
	t.Updated = a.now().UTC()
	if err := a.deps.Store.PutTenant(t); err != nil {
		return store.Tenant{}, err
	}
	a.record(r, p, audit.Entry{Action: "tenant.update", Tenant: id, Target: id, Before: audit.Value(before), After: audit.Value(after)})
	return t, nil
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return string(a) == string(b)
}

type settingsData struct {
	Settings Settings
	Field    string // the invalid field, if any
}

func (a *Admin) settingsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	t, err := a.deps.Store.Tenant(r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "settings.title", "settings")
	v.Data = settingsData{Settings: settingsOf(t)}
	a.render(w, r, http.StatusOK, "settings", v)
}

// settingsForm handles the settings form and the site forms: the button
// pressed (action) says which.
func (a *Admin) settingsForm(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("tenant")
	var patch SettingsPatch
	switch r.PostFormValue("action") {
	case "add-site":
		patch.AddSites = []string{r.PostFormValue("site")}
	case "remove-site":
		patch.RemoveSites = []string{r.PostFormValue("site")}
	default:
		form := func(k string) *string { s := r.PostFormValue(k); return &s }
		patch = SettingsPatch{Name: form("name"), Phone: form("phone"), ContactURL: form("contact_url"), Hours: form("hours")}
		if s := strings.TrimSpace(r.PostFormValue("retention_days")); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				n = -1
			}
			patch.RetentionDays = &n
		} else {
			zero := 0
			patch.RetentionDays = &zero
		}
	}
	_, err := a.updateTenant(r, p, id, patch)
	var fe *fieldError
	if errors.As(err, &fe) {
		t, _ := a.deps.Store.Tenant(id)
		v := a.newView(w, r, p, "settings.title", "settings")
		s := settingsOf(t)
		v.Data = settingsData{Settings: s, Field: fe.Field}
		v.Error = msg(v.Lang, fe.Key)
		a.render(w, r, http.StatusBadRequest, "settings", v)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+id+"/settings", "saved")
}

// apiTenants lists the tenants the caller may manage.
func (a *Admin) apiTenants(w http.ResponseWriter, r *http.Request, p *principal) {
	ts, err := a.deps.Store.Tenants()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []Settings{}
	for _, t := range ts {
		if p.user.MayManage(t.ID) {
			out = append(out, settingsOf(t))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) apiSettings(w http.ResponseWriter, r *http.Request, p *principal) {
	t, err := a.deps.Store.Tenant(r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, settingsOf(t))
}

// apiPatchSettings changes settings (JSON merge patch: fields left out
// stay as they are).
func (a *Admin) apiPatchSettings(w http.ResponseWriter, r *http.Request, p *principal) {
	var patch SettingsPatch
	if !readJSON(w, r, &patch) {
		return
	}
	a.writeTenant(w, r, p, patch, http.StatusOK)
}

func (a *Admin) writeTenant(w http.ResponseWriter, r *http.Request, p *principal, patch SettingsPatch, status int) {
	t, err := a.updateTenant(r, p, r.PathValue("tenant"), patch)
	var fe *fieldError
	if errors.As(err, &fe) {
		invalid(w, r, fe.Field, fe.Key)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, status, settingsOf(t))
}

func (a *Admin) apiAddSite(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		Site string `json:"site"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	a.writeTenant(w, r, p, SettingsPatch{AddSites: []string{body.Site}}, http.StatusCreated)
}

func (a *Admin) apiRemoveSite(w http.ResponseWriter, r *http.Request, p *principal) {
	site := r.PathValue("site")
	t, err := a.deps.Store.Tenant(r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	norm, err := store.NormaliseSite(site)
	if err != nil {
		norm = site
	}
	if !slices.Contains(t.Sites, norm) && !slices.Contains(t.Sites, site) {
		a.notFound(w, r)
		return
	}
	a.writeTenant(w, r, p, SettingsPatch{RemoveSites: []string{site}}, http.StatusOK)
}

// invalid answers 400 naming the field, also in invalidParams (NLGov API
// Design Rules).
func invalid(w http.ResponseWriter, r *http.Request, field, key string) {
	lang := apiLang(r)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(struct {
		Problem
		InvalidParams []InvalidParam `json:"invalidParams"`
	}{
		Problem{Type: "about:blank", Title: "invalid " + field, Status: http.StatusBadRequest, Detail: msg(lang, key), Code: "invalid"},
		[]InvalidParam{{Name: field, Code: "invalid", Reason: msg(lang, key)}},
	})
}

// readJSON reads one JSON object of at most 64 KiB into v; it answers the
// problem itself and returns false when the body is not that.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/merge-patch+json") {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/json", "error.json", "")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "request body too large", "error.json", "")
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "invalid JSON: "+err.Error(), "error.json", "invalid")
		return false
	}
	return true
}
