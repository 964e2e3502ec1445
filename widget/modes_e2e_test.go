package widget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
)

// suggestLead is the widget's lead-in of a suggestion (app.js TEXT.nl).
const suggestLead = "Ik weet niet zeker of dit uw vraag beantwoordt. Deze pagina's gaan erover:"

// surface is the default background of an answer (app.css --_surface).
const surface = "rgb(240, 244, 248)"

// askREST asks the site's demo tenant over REST, as the widget's fallback
// does, and returns the node's reply.
func askREST(tb testing.TB, base, question string) answer.Answer {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"question": question})
	resp, err := http.Post(base+"/api/v1/tenants/lindewaarde/ask", "application/json", strings.NewReader(string(body)))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer.Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("ask %q: status %d, %v", question, resp.StatusCode, err)
	}
	return a
}

// phoneShot writes a PNG of the widget, full screen on a phone of 390 by
// 844 px, with the conversation scrolled to its start. The widget keeps
// its state; the next askInBrowser goes back to the desktop size.
func phoneShot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Evaluate[chromedp.Void](W+`.activeElement?.blur(); `+W+`.querySelector(".log").scrollTop = 0`))
	screenshot(t, ctx, dir, name)
}

// askInBrowser opens the launcher widget on the test page of base, asks
// question by keyboard and waits for the reply.
func askInBrowser(t *testing.T, ctx context.Context, base, question string) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/test/host.html"))
	waitFor(t, ctx, "the launcher", W+`?.querySelector("[part=launcher]")`)
	do(t, ctx, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the open panel", `!`+W+`.querySelector(".panel").hidden`)
	do(t, ctx, chromedp.KeyEvent(question), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the reply", W+`.querySelector(".turn[data-via]")`)
}

// TestWidget_BrowserModes drives the widget in headless Chromium against
// real nodes with the demo tenant: an answer (mode answer) keeps the
// answer's look; a suggestion (mode suggest, forced with Modes.AnswerAt
// above any confidence) shows the lead-in, the pages as a list of links and
// the referral, over the WebSocket and over REST, with no axe-core
// violation at WCAG 2.2 AA. It writes answer.png and suggest.png, the
// screenshots of widget/docs.
func TestWidget_BrowserModes(t *testing.T) {
	axeSrc := needBrowser(t)
	const question = "hoe vraag ik een paspoort aan"
	answers := startSite(t)
	suggests := startSite(t, func(c *node.Config) { c.Modes.AnswerAt = 1.01 })
	ctx, exceptions := startBrowser(t)
	dir := artifactDir(t)

	type reply struct {
		Mode, Via, Lead, Live, Background, Handoff string
		Texts, Refs, Sources, Pages                int
		Titles, Hrefs                              []string
		Labelled                                   bool
	}
	read := func(t *testing.T) reply {
		t.Helper()
		return eval[reply](t, ctx, `(() => { const r = `+W+`; const li = r.querySelector(".turn"); const a = li.querySelector(".a");
			const lead = a.querySelector(".lead"), ul = a.querySelector("ul.pages");
			const links = [...a.querySelectorAll("ul.pages a")];
			return {mode: li.dataset.mode || "", via: li.dataset.via, lead: lead ? lead.textContent : "",
				live: r.querySelector("[role=status]").textContent, background: getComputedStyle(a).backgroundColor,
				handoff: a.querySelector(".handoff p")?.textContent || "",
				texts: a.querySelectorAll(".text").length, refs: a.querySelectorAll("a.ref").length,
				sources: a.querySelectorAll(".sources").length, pages: ul ? ul.children.length : 0,
				titles: links.map(l => l.firstChild.textContent), hrefs: links.map(l => l.href),
				labelled: !!ul && ul.getAttribute("aria-labelledby") === lead?.id}; })()`)
	}

	t.Run("answer", func(t *testing.T) {
		askInBrowser(t, ctx, answers.url, question)
		got := read(t)
		if got.Mode != "answer" || got.Texts != 1 || got.Sources != 1 || got.Pages != 0 || got.Background != surface {
			t.Errorf("answer drawn as %+v, want mode answer with its text and sources on the surface colour", got)
		}
		runAxe(t, ctx, axeSrc, "answer")
		phoneShot(t, ctx, dir, "answer")
	})

	t.Run("suggest", func(t *testing.T) {
		want := askREST(t, suggests.url, question)
		if want.Mode != answer.ModeSuggest || len(want.Citations) == 0 || want.Handoff == nil {
			t.Fatalf("the node with AnswerAt 1.01 replies %+v, want a suggestion", want)
		}
		askInBrowser(t, ctx, suggests.url, question)
		got := read(t)
		t.Logf("suggestion over %s: %q, pages %q", got.Via, got.Lead, got.Titles)
		if got.Mode != "suggest" || got.Via != "ws" {
			t.Errorf("reply in mode %q over %q, want suggest over ws", got.Mode, got.Via)
		}
		if got.Lead != suggestLead {
			t.Errorf("lead-in %q, want %q", got.Lead, suggestLead)
		}
		var titles []string
		for _, c := range want.Citations {
			titles = append(titles, c.Title)
		}
		if strings.Join(got.Titles, "|") != strings.Join(titles, "|") || got.Pages != len(titles) {
			t.Errorf("list of links %q (%d items), want the cited pages %q", got.Titles, got.Pages, titles)
		}
		for i, href := range got.Hrefs {
			if href != want.Citations[i].URL {
				t.Errorf("link %d goes to %q, want %q", i+1, href, want.Citations[i].URL)
			}
		}
		if !got.Labelled {
			t.Error("the list of pages is not labelled by the lead-in")
		}
		if got.Texts != 0 || got.Refs != 0 || got.Sources != 0 || got.Background == surface {
			t.Errorf("suggestion drawn like an answer: %d answer texts, %d inline references, %d source lists, background %s",
				got.Texts, got.Refs, got.Sources, got.Background)
		}
		if got.Handoff != want.Handoff.Message {
			t.Errorf("referral %q, want %q", got.Handoff, want.Handoff.Message)
		}
		if !strings.HasPrefix(got.Live, suggestLead+" "+titles[0]) || !strings.HasSuffix(got.Live, want.Handoff.Message) || strings.Contains(got.Live, "[1]") {
			t.Errorf("live region announces %q, want the lead-in, the titles and the referral", got.Live)
		}
		// Keyboard: from the conversation log, Tab reaches the first page.
		do(t, ctx, chromedp.Evaluate[chromedp.Void](W+`.querySelector(".log").focus()`), chromedp.KeyEvent(kb.Tab))
		if !eval[bool](t, ctx, W+`.activeElement === `+W+`.querySelector("ul.pages a")`) {
			t.Error("Tab from the log does not reach the first suggested page")
		}
		do(t, ctx, chromedp.Evaluate[chromedp.Void](W+`.querySelector("[part=input]").focus()`))
		runAxe(t, ctx, axeSrc, "suggest")
		phoneShot(t, ctx, dir, "suggest")
		runAxe(t, ctx, axeSrc, "suggest on a phone")
	})

	t.Run("suggest over REST", func(t *testing.T) {
		suggests.blockWS.Store(true)
		defer suggests.blockWS.Store(false)
		askInBrowser(t, ctx, suggests.url, question)
		got := read(t)
		if got.Via != "rest" || got.Mode != "suggest" || got.Pages == 0 || got.Texts != 0 || got.Lead != suggestLead {
			t.Errorf("over REST the suggestion is drawn as %+v", got)
		}
	})

	if v := eval[[]string](t, ctx, `window.cspViolations`); len(v) > 0 {
		t.Errorf("the widget broke the page's CSP: %v", v)
	}
	if ex := exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page: %v", ex)
	}
}
