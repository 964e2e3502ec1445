package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/models"
)

// A beheerder's override of the "answer" template is in the prompt the
// model receives for the very next question, without a restart; a bad
// template is refused naming the field and changes nothing; the override
// survives a restart; removing it brings the previous template back. A
// route override naming an unknown provider is refused. An analist reads
// but cannot change. Every change is audited, never with the API key.
func TestAdmin_ModelOverrides(t *testing.T) {
	const key = "sk-proef-geheim-0123456789"
	llm := llmtest.NewServer(t, llmtest.Reply("Dat weet ik niet."))
	dir := filepath.Join(t.TempDir(), "data")
	configure := func(c *node.Config) {
		c.DataDir = dir
		oc := models.DefaultOpenAIConfig()
		oc.BaseURL, oc.Model, oc.APIKey, oc.MaxRetries = llm.URL, "proefmodel", key, 0
		c.Models = models.Config{
			Providers: []models.Provider{{Name: "lokaal", Kind: models.KindOpenAI, Region: "nl", OpenAI: oc}},
			Routes:    []models.Route{{Task: models.TaskAnswer, Providers: []string{"lokaal"}, Origin: models.OriginConfig}},
		}
	}
	n, srv := openNodeWith(t, configure)
	acc := n.Admin().Accounts()
	mk := func(email string, role admin.Role) string {
		u, err := acc.AddUser(admin.NewUser{Email: email, Role: role, OIDCSubject: email})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := acc.NewToken(u.ID, "test", admin.ScopeAdmin, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	beheer, analist := mk("beheer@proef.nl", admin.RoleBeheerder), mk("analist@proef.nl", admin.RoleAnalist)
	api := srv.URL + "/api/v1/admin/tenants/proef"

	// system asks a question and returns the system message the model
	// got for it.
	system := func(base string) string {
		t.Helper()
		before := llm.Count()
		resp, body := post(t, base+"/api/v1/tenants/proef/ask", "application/json", strings.NewReader(`{"question":"hoe vraag ik een paspoort aan"}`))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ask: %d %s", resp.StatusCode, body)
		}
		reqs := llm.Requests()
		if len(reqs) == before {
			t.Fatal("the model got no request for the question")
		}
		return reqs[len(reqs)-1].Content("system")
	}
	if sys := system(srv.URL); strings.Contains(sys, "PROEFSJABLOON") {
		t.Fatalf("the built-in prompt already has the marker: %s", sys)
	}

	// The page and the API show where everything comes from.
	status, b := adminRequest(t, http.MethodGet, api+"/routes", analist, "")
	if status != http.StatusOK || !strings.Contains(b, `"origin": "config"`) || !strings.Contains(b, `"lokaal"`) || strings.Contains(b, key) {
		t.Fatalf("routes as analist: %d %s", status, b)
	}
	status, b = adminRequest(t, http.MethodGet, api+"/templates", analist, "")
	if status != http.StatusOK || !strings.Contains(b, `"origin": "builtin"`) {
		t.Fatalf("templates as analist: %d %s", status, b)
	}

	override := `{"version":"proef-answer-1","body":"PROEFSJABLOON: antwoord kort voor {{.Gemeente}}. Weet u het niet, zeg dan {{.RefusalMarker}}."}`
	if status, b := adminRequest(t, http.MethodPut, api+"/templates/answer/all", analist, override); status != http.StatusForbidden {
		t.Errorf("an analist overriding a template: %d %s, want 403", status, b)
	}
	if status, b := adminRequest(t, http.MethodPut, api+"/templates/answer/all", beheer, override); status != http.StatusOK || !strings.Contains(b, `"origin": "local"`) {
		t.Fatalf("override the answer template: %d %s", status, b)
	}
	if sys := system(srv.URL); !strings.Contains(sys, "PROEFSJABLOON: antwoord kort voor Gemeente Proef.") {
		t.Fatalf("the next prompt lacks the override: %s", sys)
	}

	// A bad template: 400 naming the field, nothing saved.
	for _, tc := range []struct{ body, field string }{
		{`{"version":"proef-answer-2","body":"PROEFKAPOT {{.Gemeente"}`, "body"},
		{`{"version":"proef-answer-2","body":"PROEFKAPOT zonder weigermarkering"}`, "body"},
		{`{"version":"met spaties","body":"PROEFKAPOT {{.RefusalMarker}}"}`, "version"},
	} {
		req, _ := http.NewRequest(http.MethodPut, api+"/templates/answer/all", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+beheer)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Status        int    `json:"status"`
			Detail        string `json:"detail"`
			InvalidParams []struct {
				Name, Reason string
			} `json:"invalidParams"`
		}
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" ||
			len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != tc.field || !strings.Contains(p.Detail, "nothing was saved") {
			t.Errorf("bad template %s: %d %s %+v, want 400 problem+json naming %s", tc.body, resp.StatusCode, resp.Header.Get("Content-Type"), p, tc.field)
		}
	}
	if sys := system(srv.URL); !strings.Contains(sys, "PROEFSJABLOON") || strings.Contains(sys, "PROEFKAPOT") {
		t.Fatalf("a refused template changed the prompt: %s", sys)
	}

	// Routes: an unknown provider is refused; the embed route is not the
	// portal's.
	if status, b := adminRequest(t, http.MethodPut, api+"/routes/answer", beheer, `{"providers":["onbekend"]}`); status != http.StatusBadRequest || !strings.Contains(b, `"name":"providers"`) {
		t.Errorf("a route to an unknown provider: %d %s, want 400 naming providers", status, b)
	}
	if status, b := adminRequest(t, http.MethodPut, api+"/routes/embed", beheer, `{"providers":["lokaal"]}`); status != http.StatusBadRequest || !strings.Contains(b, `"name":"task"`) {
		t.Errorf("an embed route override: %d %s, want 400 naming task", status, b)
	}
	// The answers go to the extractive answerer alone, then back.
	if status, b := adminRequest(t, http.MethodPut, api+"/routes/answer", beheer, `{"providers":["extractive"],"timeout":"5s"}`); status != http.StatusOK {
		t.Fatalf("route to extractive: %d %s", status, b)
	}
	before := llm.Count()
	if resp, body := post(t, srv.URL+"/api/v1/tenants/proef/ask", "application/json", strings.NewReader(`{"question":"hoe vraag ik een paspoort aan"}`)); resp.StatusCode != http.StatusOK || llm.Count() != before {
		t.Fatalf("with the local route the model was asked anyway: %d %s", resp.StatusCode, body)
	}
	if status, b := adminRequest(t, http.MethodDelete, api+"/routes/answer", beheer, ""); status != http.StatusNoContent {
		t.Fatalf("remove the route override: %d %s", status, b)
	}

	// A restart applies the stored override again.
	srv.Close()
	n.Close()
	cfg := node.DefaultConfig()
	configure(&cfg)
	n2, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n2.Close() })
	srv2 := httptest.NewServer(n2.Handler(nil))
	t.Cleanup(srv2.Close)
	if sys := system(srv2.URL); !strings.Contains(sys, "PROEFSJABLOON") {
		t.Fatalf("after a restart the prompt lacks the override: %s", sys)
	}
	// Removing it restores the previous (built-in) template at once.
	api = srv2.URL + "/api/v1/admin/tenants/proef"
	if status, b := adminRequest(t, http.MethodDelete, api+"/templates/answer/all", beheer, ""); status != http.StatusNoContent {
		t.Fatalf("remove the override: %d %s", status, b)
	}
	if status, b := adminRequest(t, http.MethodDelete, api+"/templates/answer/all", beheer, ""); status != http.StatusNotFound {
		t.Errorf("remove it twice: %d %s, want 404", status, b)
	}
	if sys := system(srv2.URL); strings.Contains(sys, "PROEFSJABLOON") {
		t.Fatalf("the removed override is still in the prompt: %s", sys)
	}

	es, err := n2.Admin().Audit().List(audit.Filter{Tenant: "proef", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range es {
		got[e.Action]++
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), key) {
			t.Errorf("audit entry %s holds the API key", e.Action)
		}
		if e.Action == "template.put" && !strings.Contains(string(e.After), "PROEFSJABLOON") {
			t.Errorf("template.put without the new body: %s", e.After)
		}
		if e.Action == "template.delete" && !strings.Contains(string(e.Before), "proef-answer-1") {
			t.Errorf("template.delete without the old template: %s", e.Before)
		}
	}
	for action, want := range map[string]int{"template.put": 1, "template.delete": 1, "route.put": 1, "route.delete": 1} {
		if got[action] != want {
			t.Errorf("%d audit entries %s, want %d (%v)", got[action], action, want, got)
		}
	}
}
