package admin_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/store"
)

// allowed is who may use each route: B beheerder, R redacteur, A analist,
// U auditor, "*" anyone (signed in or not), "" nobody but... (none).
// A route missing here fails the test: every new route needs a row.
var allowed = map[string]string{
	"GET /admin/static/{file}":                                         "*",
	"GET /admin/login":                                                 "*",
	"POST /admin/login":                                                "*",
	"GET /admin/oidc/login":                                            "*",
	"GET /admin/oidc/callback":                                         "*",
	"POST /admin/logout":                                               "BRAU",
	"GET /admin/":                                                      "BRAU",
	"GET /admin/account":                                               "BRAU",
	"POST /admin/account/password":                                     "BRAU",
	"POST /admin/account/totp":                                         "BRAU",
	"POST /admin/account/totp/confirm":                                 "BRAU",
	"POST /admin/account/totp/disable":                                 "BRAU",
	"GET /admin/t/{tenant}/dashboard":                                  "BRA",
	"GET /admin/t/{tenant}/settings":                                   "B",
	"POST /admin/t/{tenant}/settings":                                  "B",
	"GET /admin/t/{tenant}/unanswered":                                 "BRA",
	"GET /admin/t/{tenant}/unanswered.csv":                             "BRA",
	"GET /admin/t/{tenant}/feedback":                                   "BRA",
	"GET /admin/t/{tenant}/questions/{conv}/{num}":                     "BRA",
	"POST /admin/t/{tenant}/questions/{conv}/{num}":                    "BR",
	"GET /admin/t/{tenant}/reviews":                                    "BR",
	"GET /admin/t/{tenant}/eval-cases.jsonl":                           "BR",
	"GET /admin/t/{tenant}/sources":                                    "BRA",
	"POST /admin/t/{tenant}/sources":                                   "BR",
	"GET /admin/t/{tenant}/sources/{source}":                           "BRA",
	"POST /admin/t/{tenant}/sources/{source}":                          "BR",
	"POST /admin/t/{tenant}/sources/{source}/run":                      "BR",
	"POST /admin/t/{tenant}/sources/{source}/delete":                   "BR",
	"GET /admin/t/{tenant}/jobs/{job}":                                 "BRA",
	"GET /admin/t/{tenant}/documents":                                  "BRA",
	"GET /admin/t/{tenant}/documents/{doc...}":                         "BRA",
	"POST /admin/t/{tenant}/documents/{doc...}":                        "BR",
	"GET /admin/t/{tenant}/models":                                     "BRA",
	"POST /admin/t/{tenant}/models":                                    "B",
	"GET /admin/users":                                                 "B",
	"POST /admin/users":                                                "B",
	"GET /admin/users/{id}":                                            "B",
	"POST /admin/users/{id}":                                           "B",
	"GET /admin/tokens":                                                "B",
	"POST /admin/tokens":                                               "B",
	"POST /admin/tokens/{id}/revoke":                                   "B",
	"GET /admin/audit":                                                 "BU",
	"GET /admin/audit/export":                                          "BU",
	"GET /admin/federation":                                            "BRA",
	"GET /api/v1/admin/tenants":                                        "BRAU",
	"GET /api/v1/admin/tenants/{tenant}/settings":                      "B",
	"PATCH /api/v1/admin/tenants/{tenant}/settings":                    "B",
	"POST /api/v1/admin/tenants/{tenant}/sites":                        "B",
	"DELETE /api/v1/admin/tenants/{tenant}/sites/{site}":               "B",
	"GET /api/v1/admin/tenants/{tenant}/dashboard":                     "BRA",
	"GET /api/v1/admin/tenants/{tenant}/unanswered":                    "BRA",
	"GET /api/v1/admin/tenants/{tenant}/feedback":                      "BRA",
	"GET /api/v1/admin/tenants/{tenant}/questions/{conv}/{num}":        "BRA",
	"PUT /api/v1/admin/tenants/{tenant}/questions/{conv}/{num}/review": "BR",
	"GET /api/v1/admin/tenants/{tenant}/eval-cases":                    "BR",
	"GET /api/v1/admin/tenants/{tenant}/sources":                       "BRA",
	"POST /api/v1/admin/tenants/{tenant}/sources":                      "BR",
	"GET /api/v1/admin/tenants/{tenant}/sources/{source}":              "BRA",
	"PUT /api/v1/admin/tenants/{tenant}/sources/{source}":              "BR",
	"DELETE /api/v1/admin/tenants/{tenant}/sources/{source}":           "BR",
	"POST /api/v1/admin/tenants/{tenant}/sources/{source}/crawl":       "BR",
	"GET /api/v1/admin/tenants/{tenant}/sources/{source}/jobs":         "BRA",
	"GET /api/v1/admin/tenants/{tenant}/jobs/{job}":                    "BRA",
	"GET /api/v1/admin/tenants/{tenant}/documents":                     "BRA",
	"GET /api/v1/admin/tenants/{tenant}/documents/{doc...}":            "BRA",
	"PATCH /api/v1/admin/tenants/{tenant}/documents/{doc...}":          "BR",
	"POST /api/v1/admin/tenants/{tenant}/reindex":                      "BR",
	"GET /api/v1/admin/tenants/{tenant}/models":                        "BRA",
	"GET /api/v1/admin/tenants/{tenant}/templates":                     "BRA",
	"PUT /api/v1/admin/tenants/{tenant}/templates/{name}/{lang}":       "B",
	"DELETE /api/v1/admin/tenants/{tenant}/templates/{name}/{lang}":    "B",
	"GET /api/v1/admin/tenants/{tenant}/routes":                        "BRA",
	"PUT /api/v1/admin/tenants/{tenant}/routes/{task}":                 "B",
	"DELETE /api/v1/admin/tenants/{tenant}/routes/{task}":              "B",
	"GET /api/v1/admin/users":                                          "B",
	"POST /api/v1/admin/users":                                         "B",
	"GET /api/v1/admin/users/{id}":                                     "B",
	"PATCH /api/v1/admin/users/{id}":                                   "B",
	"DELETE /api/v1/admin/users/{id}":                                  "B",
	"GET /api/v1/admin/tokens":                                         "B",
	"POST /api/v1/admin/tokens":                                        "B",
	"DELETE /api/v1/admin/tokens/{id}":                                 "B",
	"GET /api/v1/admin/audit":                                          "BU",
	"GET /api/v1/admin/audit/verify":                                   "BU",
	"GET /api/v1/admin/federation":                                     "BRA",
}

var roleLetters = map[admin.Role]string{admin.RoleBeheerder: "B", admin.RoleRedacteur: "R", admin.RoleAnalist: "A", admin.RoleAuditor: "U"}

const loginToken = "login-token-of-forty-characters-or-more-0123"

const questionID = "0123456789abcdef0123456789abcdef/1"

// TestRoutes_RoleMatrix sends every route of the portal and the admin API
// as each role (through a session in the portal, a token on the API), as
// an account scoped to another tenant, and as nobody, and checks that it
// is let through, refused with 403, or sent to sign in (401 on the API).
// A route the table above does not know fails the test.
func TestRoutes_RoleMatrix(t *testing.T) {
	e := newEnv(t)
	if err := e.st.AddQuestion(store.Question{ID: questionID, Tenant: "proef", Time: time.Now(), Text: "hoe vraag ik een paspoort aan", Mode: "noinfo"}); err != nil {
		t.Fatal(err)
	}
	routes := e.a.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		if _, ok := allowed[key]; !ok {
			t.Errorf("route %s (permission %s) is not in the role matrix: add a row to allowed", key, rt.Perm)
		}
	}
	for key := range allowed {
		if !seen[key] {
			t.Errorf("the role matrix lists %s, which is not a route", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	type caller struct {
		name    string
		role    admin.Role
		tenants []string
	}
	callers := []caller{{"anonymous", "", nil}}
	for _, r := range admin.Roles {
		callers = append(callers, caller{string(r), r, nil})
	}
	callers = append(callers, caller{"beheerder of ander only", admin.RoleBeheerder, []string{"ander"}})

	i := 0
	for _, c := range callers {
		for _, rt := range routes {
			i++
			key := rt.Method + " " + rt.Pattern
			want := "allow"
			switch who := allowed[key]; {
			case who == "*":
			case c.role == "":
				want = "signin"
			case !strings.Contains(who, roleLetters[c.role]):
				want = "403"
			case c.tenants != nil && (strings.Contains(rt.Pattern, "{tenant}") || strings.Contains(rt.Pattern, "/users") ||
				strings.Contains(rt.Pattern, "/tokens") || strings.Contains(rt.Pattern, "/audit")):
				want = "403" // scoped to ander; the path names proef, or the route is node-wide
			}
			// Fresh objects for each request, so that deletions do not
			// change the next one.
			victim, err := e.a.Accounts().AddUser(admin.NewUser{Email: "victim" + itoa(i) + "@proef.nl", Role: admin.RoleAnalist, OIDCSubject: "victim-" + itoa(i)})
			if err != nil {
				t.Fatal(err)
			}
			owner := e.a.Accounts()
			_, tok, _ := owner.NewToken(victim.ID, "", admin.ScopeRead, time.Hour)
			id := victim.ID
			if strings.Contains(rt.Pattern, "/tokens/") {
				id = tok.ID
			}
			path := strings.NewReplacer("{tenant}", "proef", "{conv}/{num}", questionID, "{id}", id, "{site}", "www.proef.nl", "{file}", "admin.css",
				"{source}", "website", "{job}", "nojob", "{doc...}", "www.proef.nl/a", "{name}", "answer", "{lang}", "all", "{task}", "rewrite").Replace(rt.Pattern)
			req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader(url.Values{"csrf": {loginToken}}.Encode()))
			// The sign-in form's own CSRF check (double submit) passes.
			req.AddCookie(&http.Cookie{Name: "__Host-assistent_login", Value: loginToken})
			if c.role != "" {
				u, err := e.a.Accounts().AddUser(admin.NewUser{Email: c.name[:3] + itoa(i) + "@proef.nl", Role: c.role, Tenants: c.tenants, OIDCSubject: "caller-" + itoa(i)})
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(rt.Pattern, "/api/") {
					s, _, err := owner.NewToken(u.ID, "", admin.ScopeAdmin, time.Hour)
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Authorization", "Bearer "+s)
				} else {
					sid, sess, err := owner.NewSession(u.ID, "password", "")
					if err != nil {
						t.Fatal(err)
					}
					req.AddCookie(&http.Cookie{Name: "__Host-assistent_admin", Value: sid})
					req.Header.Set("X-CSRF-Token", sess.CSRF)
				}
			}
			if rt.Method != http.MethodGet {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if strings.HasPrefix(rt.Pattern, "/api/") {
					req.Header.Set("Content-Type", "application/json")
				}
			}
			client := e.srv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			before, err := e.a.Audit().Verify()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Every change that goes through leaves an audit entry (starting
			// TOTP only shows a secret; confirming it is the change).
			if after, _ := e.a.Audit().Verify(); rt.Method != http.MethodGet && c.role != "" && resp.StatusCode < 400 &&
				key != "POST /admin/account/totp" && after == before {
				t.Errorf("%s as %s: %d and no audit entry", key, c.name, resp.StatusCode)
			}
			got := "allow"
			switch {
			case resp.StatusCode == http.StatusForbidden:
				got = "403"
			case resp.StatusCode == http.StatusUnauthorized && strings.HasPrefix(rt.Pattern, "/api/"):
				got = "signin"
			case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") && !strings.Contains(resp.Header.Get("Location"), "ok=logout"):
				got = "signin"
			}
			if got != want {
				t.Errorf("%s as %s: %d (%s), want %s", key, c.name, resp.StatusCode, got, want)
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
