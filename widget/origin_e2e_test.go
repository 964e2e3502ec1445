package widget_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestWidget_BrowserForeignSite embeds the widget on a page of a site the
// tenant has not added (another origin than the node's). The node refuses
// its questions (403); the resident reads that the assistant is not
// available here, not that their connection failed, and the site's
// developer finds the cause and the fix in the console.
func TestWidget_BrowserForeignSite(t *testing.T) {
	needBrowser(t)
	node := startSite(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Andere site</title>
<script src="%s/widget.js" data-tenant="lindewaarde" defer></script></head>
<body><main><h1>Een site die de gemeente niet heeft aangemeld</h1></main></body></html>`, node.url)
	}))
	defer page.Close()
	// The page is on localhost, the node on 127.0.0.1: two origins.
	pageURL := strings.Replace(page.URL, "127.0.0.1", "localhost", 1)

	ctx, exceptions := startBrowser(t)
	var mu sync.Mutex
	var consoleErrors []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && e.Type == runtime.ConsoleAPICalledTypeError {
			mu.Lock()
			defer mu.Unlock()
			for _, a := range e.Args {
				consoleErrors = append(consoleErrors, strings.Trim(string(a.Value), `"`))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(pageURL))
	waitFor(t, ctx, "the launcher", W+`?.querySelector("[part=launcher]")`)
	do(t, ctx, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the open panel", `!`+W+`.querySelector(".panel").hidden`)
	do(t, ctx, chromedp.KeyEvent("hoe vraag ik een paspoort aan"), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the refusal", W+`.querySelector(".turn .a")?.textContent.includes("niet beschikbaar")`)
	text := eval[string](t, ctx, W+`.querySelector(".turn .a").textContent`)
	if strings.Contains(text, "internetverbinding") || !strings.Contains(text, "Neem contact op met de gemeente") {
		t.Errorf("resident reads %q", text)
	}
	mu.Lock()
	logged := strings.Join(consoleErrors, "\n")
	mu.Unlock()
	if !strings.Contains(logged, "refuses questions from http://localhost") || !strings.Contains(logged, "--site localhost") {
		t.Errorf("console errors %q lack the cause and the fix", logged)
	}
	if ex := exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
}
