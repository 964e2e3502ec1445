package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// proefSite is a gemeente's website on loopback with a page on dog tax.
func proefSite(t *testing.T) *httptest.Server {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html lang="nl"><head><title>Gemeente Proef</title></head><body><main><h1>Welkom</h1>
<p>Alles over wonen en leven in Proef.</p><a href="/hondenbelasting">Hondenbelasting</a> <a href="/zoeken?q=x">Zoeken</a></main></body></html>`)
		case "/hondenbelasting":
			fmt.Fprint(w, `<html lang="nl"><head><title>Hondenbelasting | Gemeente Proef</title></head><body>
<main><h1>Hondenbelasting</h1><p>Heeft u een hond? Dan betaalt u hondenbelasting.
Voor de eerste hond betaalt u in 2026 € 98,40 per jaar. U meldt uw hond aan via het formulier.</p></main></body></html>`)
		case "/zoeken":
			fmt.Fprint(w, `<html lang="nl"><head><title>Zoeken</title></head><body><main><p>Zoekresultaten over hondenbelasting.</p></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	return site
}

// Through the admin API a redacteur adds a source with an exclude rule,
// runs it and follows the job to the end; the pages are in the documents
// list, one excluded is out of every search at once and back when
// included, and re-indexing keeps it findable. An analist only reads.
// Every change is in the audit log.
func TestAdmin_SourcesAndDocuments(t *testing.T) {
	site := proefSite(t)
	n, srv := openNodeWith(t, func(*node.Config) {})
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
	beheer, redactie, analist := mk("beheer@proef.nl", admin.RoleBeheerder), mk("redactie@proef.nl", admin.RoleRedacteur), mk("analist@proef.nl", admin.RoleAnalist)
	api := srv.URL + "/api/v1/admin/tenants/proef"

	body := fmt.Sprintf(`{"id":"website","start_urls":[%q],"exclude":["/zoeken"],"rate":50,"allow_private":["127.0.0.1"]}`, site.URL+"/")
	if status, b := adminRequest(t, http.MethodPost, api+"/sources", redactie, body); status != http.StatusBadRequest || !strings.Contains(b, "allow_private") {
		t.Errorf("a redacteur setting internal hosts: %d %s, want 400", status, b)
	}
	if status, b := adminRequest(t, http.MethodPost, api+"/sources", analist, body); status != http.StatusForbidden {
		t.Errorf("an analist adding a source: %d %s, want 403", status, b)
	}
	if status, b := adminRequest(t, http.MethodPost, api+"/sources", beheer, body); status != http.StatusCreated {
		t.Fatalf("add source: %d %s", status, b)
	}
	if status, b := adminRequest(t, http.MethodPost, api+"/sources", beheer, body); status != http.StatusConflict {
		t.Errorf("add the source twice: %d %s, want 409", status, b)
	}
	bad := fmt.Sprintf(`{"start_urls":[%q],"schedule":"elke nacht","allow_private":["127.0.0.1"]}`, site.URL+"/")
	if status, b := adminRequest(t, http.MethodPut, api+"/sources/website", redactie, bad); status != http.StatusBadRequest || !strings.Contains(b, "schedule") {
		t.Errorf("a bad schedule: %d %s, want 400 naming it", status, b)
	}
	// The redacteur edits the rules; the internal hosts stay as the beheerder set them.
	edit := fmt.Sprintf(`{"start_urls":[%q],"exclude":["/zoeken"],"rate":50,"allow_private":["127.0.0.1"],"schedule":"0 3 * * *","max_pages":100}`, site.URL+"/")
	if status, b := adminRequest(t, http.MethodPut, api+"/sources/website", redactie, edit); status != http.StatusOK || !strings.Contains(b, `"0 3 * * *"`) {
		t.Fatalf("edit rules: %d %s", status, b)
	}

	status, b := adminRequest(t, http.MethodPost, api+"/sources/website/crawl", redactie, "")
	if status != http.StatusAccepted {
		t.Fatalf("run now: %d %s", status, b)
	}
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	json.Unmarshal([]byte(b), &job)
	deadline := time.Now().Add(30 * time.Second)
	for job.Status != "done" {
		if time.Now().After(deadline) || job.Status == "failed" {
			t.Fatalf("job: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
		_, b = adminRequest(t, http.MethodGet, api+"/jobs/"+job.ID, analist, "")
		json.Unmarshal([]byte(b), &job)
	}
	status, b = adminRequest(t, http.MethodGet, api+"/documents?q=honden", analist, "")
	var list admin.DocumentList
	json.Unmarshal([]byte(b), &list)
	if status != http.StatusOK || list.Total != 1 || list.Documents[0].Source != "website" {
		t.Fatalf("documents matching honden: %d %s", status, b)
	}
	if _, b := adminRequest(t, http.MethodGet, api+"/documents?q=zoeken", analist, ""); !strings.Contains(b, `"total": 0`) {
		t.Errorf("the excluded /zoeken page was crawled: %s", b)
	}
	doc := list.Documents[0].ID
	if status, b := adminRequest(t, http.MethodGet, api+"/documents/"+doc, analist, ""); status != http.StatusOK || !strings.Contains(b, "98,40") {
		t.Errorf("document with chunks: %d %s", status, b)
	}

	found := func() bool {
		res, err := n.Search(context.Background(), "proef", "hondenbelasting eerste hond", 10, hybrid.ModeRerank)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Chunk.DocID == doc {
				return true
			}
		}
		return false
	}
	if !found() {
		t.Fatal("the crawled page is not found before it is excluded")
	}
	if status, b := adminRequest(t, http.MethodPatch, api+"/documents/"+doc, analist, `{"excluded":true}`); status != http.StatusForbidden {
		t.Errorf("an analist excluding: %d %s", status, b)
	}
	if status, b := adminRequest(t, http.MethodPatch, api+"/documents/"+doc, redactie, `{"excluded":true}`); status != http.StatusOK || !strings.Contains(b, `"excluded": true`) {
		t.Fatalf("exclude: %d %s", status, b)
	}
	if found() {
		t.Error("an excluded page is still found")
	}
	if status, b := adminRequest(t, http.MethodPatch, api+"/documents/"+doc, redactie, `{"excluded":false}`); status != http.StatusOK {
		t.Fatalf("include: %d %s", status, b)
	}
	if !found() {
		t.Error("an included page is not found")
	}
	if status, b := adminRequest(t, http.MethodPost, api+"/reindex", redactie, fmt.Sprintf(`{"ids":[%q]}`, doc)); status != http.StatusOK || !found() {
		t.Errorf("reindex: %d %s", status, b)
	}
	if status, _ := adminRequest(t, http.MethodPost, api+"/reindex", redactie, `{"ids":["www.nergens.example/x"]}`); status != http.StatusNotFound {
		t.Errorf("reindex an unknown document: %d, want 404", status)
	}
	if status, b := adminRequest(t, http.MethodDelete, api+"/sources/website", redactie, ""); status != http.StatusNoContent {
		t.Errorf("delete source: %d %s", status, b)
	}

	es, err := n.Admin().Audit().List(audit.Filter{Tenant: "proef", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action+"/"+e.Actor)
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"source.create/beheer@proef.nl", "source.update/redactie@proef.nl", "crawl.start/redactie@proef.nl",
		"document.exclude/redactie@proef.nl", "document.include/redactie@proef.nl", "document.reindex/redactie@proef.nl", "source.delete/redactie@proef.nl"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log lacks %s: %s", want, got)
		}
	}
}

// An excluded document stays excluded after the node restarts.
func TestAdmin_ExcludedSurvivesRestart(t *testing.T) {
	cfgDir := ""
	n, _ := openNodeWith(t, func(c *node.Config) { cfgDir = c.DataDir })
	ids, err := n.Store().DocKeys("t:proef")
	if err != nil || len(ids) == 0 {
		t.Fatalf("docs: %v %v", ids, err)
	}
	id := strings.TrimPrefix(ids[0], "t:proef/")
	if changed, err := n.SetExcluded("t:proef", id, true); err != nil || !changed {
		t.Fatalf("exclude: %v %v", changed, err)
	}
	n.Close()
	cfg := node.DefaultConfig()
	cfg.DataDir = cfgDir
	n2, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if !n2.Excluded("t:proef", id) {
		t.Error("the exclusion is lost on restart")
	}
}
