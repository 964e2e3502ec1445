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

// demoNode opens a node with the demo gemeente, a beheerder account, and
// residents' questions and feedback of the last two weeks.
func demoNode(t *testing.T) (*node.Node, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if _, err := n.LoadDemo(ctx); err != nil {
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
		{"/admin/audit", "audit"}, {"/admin/account", ""}, {"/admin/federation", ""}, {"/admin/t/lindewaarde/dashboard?lang=en", ""},
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
	// Phone width: nothing sticks out sideways.
	bt.Do(t, ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.Navigate(base+"/admin/t/lindewaarde/unanswered"))
	bt.WaitFor(t, ctx, "unanswered on a phone", `document.querySelector("h1")`)
	if w := bt.Eval[int](t, ctx, `document.documentElement.scrollWidth - innerWidth`); w > 0 {
		t.Errorf("unanswered page is %d px wider than a 360 px phone", w)
	}
	bt.Axe(t, ctx, axeSrc, "unanswered on a phone")
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
	for _, want := range []string{"login", "tenant.update", "review.save"} {
		if !strings.Contains(actions, want) {
			t.Errorf("audit log page lacks %s: %s", want, actions)
		}
	}
	if ex := exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
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
