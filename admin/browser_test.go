package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/assistent-nl/assistent/admin"
	bt "github.com/assistent-nl/assistent/internal/browsertest"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/demo"
	"github.com/assistent-nl/assistent/node/store"
)

// gossipMembers is a fixed gossip view, for the federation page.
type gossipMembers []node.Member

func (gossipMembers) Nearest(int) []node.Peer  { return nil }
func (m gossipMembers) Members() []node.Member { return m }

// demoNode opens a node with the demo gemeente, a beheerder account, and
// residents' questions and feedback of the last two weeks. It is in a
// federation: it watches a registry, sees members through gossip and holds
// a national collection at version 4.
func demoNode(t *testing.T) (*node.Node, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Fallback.Source = gossipMembers{
		{Name: "lindewaarde-1", Org: "GM9999", Role: "node", Address: "127.0.0.1:7946", State: "alive", Version: "1.0", Collections: []string{"burgerzaken"}},
		{Name: "beta-1", Org: "GM0002", Role: "node", Address: "127.0.0.1:7947", APIAddress: "127.0.0.1:8443", State: "suspect",
			RTT: 1500 * time.Microsecond, Version: "1.0", Collections: []string{"burgerzaken"}},
		{Name: "coord-1", Org: "VNG", Role: "server", Address: "127.0.0.1:7948", State: "alive", RTT: 800 * time.Microsecond, Version: "1.0"},
	}
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if _, err := n.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	n.AttachFederation(func() node.FederationStatus {
		return node.FederationStatus{Index: 42, Synced: true, Server: "https://127.0.0.1:9000", CacheAge: 3 * time.Second, LastContact: time.Now()}
	})
	if _, err := n.ImportCollection(ctx, "burgerzaken", 4, strings.NewReader(
		`{"id":"verhuizen","url":"https://www.nvvb.example/verhuizen","title":"Verhuizen","text":"Een verhuizing geeft u door aan uw nieuwe gemeente."}`+"\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Admin().Accounts().AddUser(admin.NewUser{Email: "beheer@lindewaarde.nl", Name: "Beheer", Role: admin.RoleBeheerder, Password: password}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Admin().Accounts().AddUser(admin.NewUser{Email: "redactie@lindewaarde.nl", Role: admin.RoleRedacteur, Tenants: []string{"lindewaarde"}, Password: password}); err != nil {
		t.Fatal(err)
	}
	// Real answers for real questions, asked now.
	for _, q := range []string{"hoe vraag ik een paspoort aan", "wat kost een rijbewijs", "wanneer wordt het grofvuil opgehaald",
		"hoe laat gaat de kermis open", "waar is de kermis dit jaar", "mag ik vuurwerk afsteken met oud en nieuw",
		"kan ik mijn hond loslaten in het park", "waar mag mijn hond los lopen", "Mijn BSN is 111222333, ik wil verhuizen"} {
		a, err := n.Converse(ctx, "lindewaarde", "", q)
		if err != nil {
			t.Fatal(err)
		}
		rating := "up"
		if a.Mode != "answer" {
			rating = "down"
		}
		n.Store().AddFeedback(store.Feedback{Tenant: "lindewaarde", QuestionID: a.Conversation + "/1", Rating: rating, Time: time.Now().UTC()})
	}
	// Earlier days, for the charts (as the node logs them).
	modes := []string{"answer", "answer", "answer", "suggest", "noinfo", "answer", "refuse"}
	texts := map[string][]string{"suggest": {"wanneer is de milieustraat open", "hoe laat sluit de milieustraat"}, "noinfo": {"hoe laat gaat de kermis open", "wanneer is de kermis"}}
	for d := 13; d >= 1; d-- {
		day := time.Now().AddDate(0, 0, -d)
		for i := range 3 + (d*7)%9 {
			m := modes[(i+d)%len(modes)]
			text := "hoe vraag ik een paspoort aan"
			if ts := texts[m]; ts != nil {
				text = ts[i%len(ts)]
			}
			n.Store().AddQuestion(store.Question{ID: fmt.Sprintf("%032x/%d", d, i+1), Tenant: "lindewaarde", Time: day.Add(time.Duration(i) * time.Minute),
				Text: text, Mode: m, Refused: m == "noinfo" || m == "refuse", Confidence: map[bool]float64{true: 0.85, false: 0.35}[m == "answer"], Latency: time.Duration(8+i) * time.Millisecond})
		}
	}
	srv := httptest.NewTLSServer(n.Handler(demo.Static()))
	t.Cleanup(srv.Close)
	return n, srv
}

// TestPortal_Browser signs in with a real browser, checks every page with
// axe-core at WCAG 2.2 AA, changes the referral phone and sees it in the
// next answer without a restart, reviews an answer, and takes the
// screenshots in admin/docs (ASSISTENT_SCREENSHOTS=admin/docs).
func TestPortal_Browser(t *testing.T) {
	axeSrc := bt.Need(t)
	n, srv := demoNode(t)
	ctx, exceptions := bt.Start(t)
	dir := bt.ArtifactDir(t)
	base := srv.URL

	// Sign in.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/dashboard"))
	bt.WaitFor(t, ctx, "the sign-in form", `document.querySelector("#email")`)
	bt.Axe(t, ctx, axeSrc, "login")
	bt.Eval[chromedp.Void](t, ctx, `(() => {
		document.querySelector("#email").value = "beheer@lindewaarde.nl";
		document.querySelector("#password").value = "`+password+`";
		document.querySelector("form[action='/admin/login']").requestSubmit(); })()`)
	bt.WaitFor(t, ctx, "the dashboard after sign-in", `location.pathname === "/admin/t/lindewaarde/dashboard" && document.querySelector("svg.chart")`)
	if got := bt.Eval[string](t, ctx, `document.cookie`); strings.Contains(got, "assistent_admin") {
		t.Errorf("the session cookie is readable by scripts: %q", got)
	}

	// Every page passes axe.
	var qid string
	n.Store().Questions("lindewaarde", time.Now().Add(-time.Hour), func(q store.Question) bool {
		if q.Mode == "noinfo" || q.Mode == "suggest" {
			qid = q.ID
			return false
		}
		return true
	})
	users, _ := n.Admin().Accounts().Users()
	pages := []struct{ path, name string }{
		{"/admin/", ""}, {"/admin/t/lindewaarde/dashboard", "dashboard"}, {"/admin/t/lindewaarde/unanswered", "unanswered"},
		{"/admin/t/lindewaarde/feedback", "feedback"}, {"/admin/t/lindewaarde/questions/" + qid, ""}, {"/admin/t/lindewaarde/reviews", ""},
		{"/admin/t/lindewaarde/settings", "settings"}, {"/admin/users", ""}, {"/admin/users/" + users[0].ID, ""}, {"/admin/tokens", ""},
		{"/admin/audit", "audit"}, {"/admin/account", ""}, {"/admin/federation", ""}, {"/admin/federation?lang=en", ""}, {"/admin/t/lindewaarde/dashboard?lang=en", ""},
		{"/admin/nope", ""},
	}
	for _, p := range pages {
		bt.Do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+p.path))
		bt.WaitFor(t, ctx, p.path, `document.readyState === "complete" && document.querySelector("h1")`)
		bt.Axe(t, ctx, axeSrc, p.path)
		if p.name != "" {
			bt.Screenshot(t, ctx, dir, p.name)
		}
	}
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/dashboard?lang=nl"))
	// The federation page shows the members and the collections as tables.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/federation"))
	bt.WaitFor(t, ctx, "the federation page's tables", `document.querySelectorAll("table").length === 2 && document.body.innerText.includes("beta-1")`)
	// Phone width: nothing sticks out sideways.
	for _, p := range []string{"/admin/t/lindewaarde/unanswered", "/admin/federation"} {
		bt.Do(t, ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.Navigate(base+p))
		bt.WaitFor(t, ctx, p+" on a phone", `document.readyState === "complete" && document.querySelector("h1")`)
		if w := bt.Eval[int](t, ctx, `document.documentElement.scrollWidth - innerWidth`); w > 0 {
			t.Errorf("%s is %d px wider than a 360 px phone", p, w)
		}
		bt.Axe(t, ctx, axeSrc, p+" on a phone")
	}
	bt.Do(t, ctx, chromedp.EmulateViewport(1280, 900))

	// Change the referral phone in the form; the next answer has it.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/settings"))
	bt.WaitFor(t, ctx, "the settings form", `document.querySelector("#phone")`)
	bt.Eval[chromedp.Void](t, ctx, `(() => { const p = document.querySelector("#phone"); p.value = "14 0577";
		p.form.querySelector("button[value=save]").click(); })()`)
	bt.WaitFor(t, ctx, "the saved note", `document.querySelector(".alert--ok")`)
	phone := askPhone(t, srv, "Ik wil een medewerker spreken.")
	if phone != "14 0577" {
		t.Errorf("the next answer refers to %q, want the new phone 14 0577", phone)
	}
	// Add a site through the form.
	bt.Eval[chromedp.Void](t, ctx, `(() => { const s = document.querySelector("#site"); s.value = "www.lindewaarde.example";
		s.form.querySelector("button[value=add-site]").click(); })()`)
	bt.WaitFor(t, ctx, "the added site", `[...document.querySelectorAll(".site-list li span")].some(s => s.textContent === "www.lindewaarde.example")`)

	// Add a source for a site on loopback, run it, see the job finish
	// and its pages in the documents.
	site := gemeenteSite(t)
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/sources"))
	bt.WaitFor(t, ctx, "the sources page", `document.querySelector("#start_urls")`)
	bt.Axe(t, ctx, axeSrc, "sources")
	bt.Eval[chromedp.Void](t, ctx, `(() => { document.querySelector("#id").value = "proefsite";
		document.querySelector("#start_urls").value = "`+site.URL+`/";
		document.querySelector("#allow_private").value = "127.0.0.1";
		document.querySelector("#exclude").value = "/zoeken";
		document.querySelector("#rate").value = "50";
		document.querySelector("#start_urls").form.requestSubmit(); })()`)
	bt.WaitFor(t, ctx, "the new source's page", `location.pathname === "/admin/t/lindewaarde/sources/proefsite" && document.querySelector(".alert--ok")`)
	bt.Axe(t, ctx, axeSrc, "source")
	bt.Eval[chromedp.Void](t, ctx, `document.querySelector("form[action$='/run'] button").click()`)
	bt.WaitFor(t, ctx, "the job page", `location.pathname.startsWith("/admin/t/lindewaarde/jobs/")`)
	// job.js refreshes the job's progress in place until it ends.
	bt.WaitFor(t, ctx, "the ended job", `document.querySelector("#job .badge--job-done, #job .badge--job-failed")`)
	if st := bt.Eval[string](t, ctx, `document.querySelector("#job").textContent.replace(/\s+/g, " ")`); !strings.Contains(st, "klaar") {
		t.Fatalf("the crawl job did not finish: %s", st)
	}
	bt.Axe(t, ctx, axeSrc, "job")
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/documents?q=hondenbelasting"))
	bt.WaitFor(t, ctx, "the crawled page in the documents", `[...document.querySelectorAll(".table--documents a")].some(a => a.textContent.includes("Hondenbelasting"))`)
	bt.Axe(t, ctx, axeSrc, "documents")
	bt.Screenshot(t, ctx, dir, "documents")
	bt.Eval[chromedp.Void](t, ctx, `[...document.querySelectorAll(".table--documents a")].find(a => a.textContent.includes("Hondenbelasting")).click()`)
	bt.WaitFor(t, ctx, "the document's chunks", `document.querySelector(".chunks li") && document.body.textContent.includes("98,40")`)
	bt.Axe(t, ctx, axeSrc, "document")
	bt.Eval[chromedp.Void](t, ctx, `document.querySelector("button[value=exclude]").click()`)
	bt.WaitFor(t, ctx, "the excluded document", `document.querySelector(".alert--ok") && document.querySelector("button[value=include]")`)
	bt.Axe(t, ctx, axeSrc, "excluded document")
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/documents?q=zoeken"))
	bt.WaitFor(t, ctx, "the documents search", `document.querySelector("#q")`)
	if bt.Eval[bool](t, ctx, `!!document.querySelector(".table--documents")`) {
		t.Error("the page excluded by the source's rule was crawled")
	}

	// Templates and model routes: a local answer template saved through
	// the form, a broken one refused with the field named.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/models"))
	bt.WaitFor(t, ctx, "the models page", `document.querySelector("#tpl-body")`)
	bt.Axe(t, ctx, axeSrc, "models")
	bt.Screenshot(t, ctx, dir, "models")
	bt.Eval[chromedp.Void](t, ctx, `(() => { document.querySelector("#tpl-version").value = "lindewaarde-answer-1";
		document.querySelector("#tpl-body").value = "Antwoord kort en vriendelijk voor {{.Gemeente}}. Weet u het niet, zeg dan {{.RefusalMarker}}.";
		document.querySelector("button[value=save-template]").click(); })()`)
	bt.WaitFor(t, ctx, "the saved template", `document.querySelector(".alert--ok") && document.body.textContent.includes("lindewaarde-answer-1")`)
	bt.Axe(t, ctx, axeSrc, "models with a local template")
	bt.Eval[chromedp.Void](t, ctx, `(() => { document.querySelector("#tpl-version").value = "kapot-1";
		document.querySelector("#tpl-body").value = "Antwoord {{.Gemeente";
		document.querySelector("button[value=save-template]").click(); })()`)
	bt.WaitFor(t, ctx, "the refused template", `document.querySelector(".alert--error") && document.querySelector("#tpl-body[aria-invalid=true]")`)
	bt.Axe(t, ctx, axeSrc, "models with a refused template")
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/models?lang=en"))
	bt.WaitFor(t, ctx, "the models page in English", `document.querySelector("#tpl-body")`)
	bt.Axe(t, ctx, axeSrc, "models in English")
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/models?lang=nl"))
	bt.WaitFor(t, ctx, "the models page", `document.querySelector("#tpl-body")`)

	// Review an answer and make it an evaluation case.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/t/lindewaarde/questions/"+qid))
	bt.WaitFor(t, ctx, "the review form", `document.querySelector("#verdict-fout")`)
	bt.Eval[chromedp.Void](t, ctx, `(() => { document.querySelector("#verdict-onvolledig").checked = true;
		document.querySelector("#note").value = "De openingstijden van de kermis staan nog niet op de site.";
		document.querySelector("#eval_case").checked = true;
		document.querySelector("#note").form.requestSubmit(); })()`)
	bt.WaitFor(t, ctx, "the saved review", `document.querySelector(".alert--ok")`)
	bt.Axe(t, ctx, axeSrc, "reviewed question")
	rv := evalCases(t, n, srv)
	if !strings.Contains(rv, `"relevant":[`) || !strings.Contains(rv, `"question":`) {
		t.Errorf("eval cases after the review: %q", rv)
	}

	// The audit log shows the sign-in and both changes.
	bt.Do(t, ctx, chromedp.Navigate(base+"/admin/audit"))
	bt.WaitFor(t, ctx, "the audit log", `document.querySelector(".table--audit")`)
	actions := bt.Eval[string](t, ctx, `[...document.querySelectorAll(".table--audit tbody tr td:nth-child(4) code")].map(c => c.textContent).join(" ")`)
	for _, want := range []string{"login", "tenant.update", "review.save", "source.create", "crawl.start", "document.exclude", "template.put"} {
		if !strings.Contains(actions, want) {
			t.Errorf("audit log page lacks %s: %s", want, actions)
		}
	}
	if ex := exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
}

// gemeenteSite is a gemeente's website on loopback: a start page that
// links to a page on dog tax and to a search page.
func gemeenteSite(t *testing.T) *httptest.Server {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html lang="nl"><head><title>Gemeente Proef</title></head><body><main><h1>Welkom</h1>
<p>Alles over wonen en leven in Proef.</p><a href="/hondenbelasting">Hondenbelasting</a> <a href="/zoeken">Zoeken</a></main></body></html>`)
		case "/hondenbelasting":
			fmt.Fprint(w, `<html lang="nl"><head><title>Hondenbelasting | Gemeente Proef</title></head><body><main><h1>Hondenbelasting</h1>
<p>Heeft u een hond? Dan betaalt u hondenbelasting. Voor de eerste hond betaalt u in 2026 € 98,40 per jaar.</p></main></body></html>`)
		case "/zoeken":
			fmt.Fprint(w, `<html lang="nl"><head><title>Zoeken</title></head><body><main><p>Zoekresultaten.</p></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	return site
}

// askPhone asks the node's public API and returns the referral's phone.
func askPhone(t *testing.T, srv *httptest.Server, q string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"question": q})
	resp, err := srv.Client().Post(srv.URL+"/api/v1/tenants/lindewaarde/ask", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Handoff *struct {
			Phone string `json:"phone"`
		} `json:"handoff"`
	}
	json.NewDecoder(resp.Body).Decode(&a)
	if a.Handoff == nil {
		t.Fatalf("no referral in the answer to %q", q)
	}
	return a.Handoff.Phone
}

// evalCases reads the tenant's evaluation cases through the admin API.
func evalCases(t *testing.T, n *node.Node, srv *httptest.Server) string {
	t.Helper()
	u, err := n.Admin().Accounts().UserByEmail("beheer@lindewaarde.nl")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := n.Admin().Accounts().NewToken(u.ID, "test", admin.ScopeRead, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/admin/tenants/lindewaarde/eval-cases", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
