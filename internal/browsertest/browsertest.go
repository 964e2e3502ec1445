// Package browsertest drives headless Chromium for the browser tests of
// the widget and the portal: start a tab, evaluate JavaScript, wait, check a page with
// axe-core at WCAG 2.2 AA, take screenshots. Tests skip without Chromium
// or axe-core (npm ci in widget/), except that CI fails without axe-core.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package puts the browser.
const Chromium = "/usr/bin/chromium"

// AxeTags are the rule sets pages must pass: WCAG 2.0, 2.1 and 2.2 at
// levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Need skips a browser test under -short or without Chromium and returns
// the source of axe-core.
func Need(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("browser test: %s is absent; install it with apt-get install -y chromium", Chromium)
	}
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "widget", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed (run npm ci in widget/): %v", err)
		}
		t.Skipf("browser test: axe-core is not installed; run `npm ci --prefix widget` (%v)", err)
	}
	return string(b)
}

// Start starts headless Chromium (trusting the test server's own TLS
// certificate) and returns its tab and a function that reports the
// page's uncaught exceptions so far.
func Start(tb testing.TB) (context.Context, func() []string) {
	tb.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(tb.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start %s: %v", Chromium, err)
	}
	var mu sync.Mutex
	var exceptions []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			mu.Lock()
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			exceptions = append(exceptions, msg)
			mu.Unlock()
		}
	})
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(exceptions)
	}
}

// Eval runs a JavaScript expression in the page and decodes its value.
func Eval[T any](tb testing.TB, ctx context.Context, js string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluate %.80q: %v", js, err)
	}
	return v
}

// Do runs chromedp actions and fails the test on an error. A navigation
// aborted by one still under way (the redirect after a form's submit) is
// run again once: only navigations report net::ERR_ABORTED, and they can
// be repeated.
func Do(tb testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	err := chromedp.Do(ctx, steps...)
	if err != nil && strings.Contains(err.Error(), "net::ERR_ABORTED") {
		time.Sleep(200 * time.Millisecond)
		err = chromedp.Do(ctx, steps...)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// WaitFor polls a JavaScript predicate until it is truthy (20 s at most).
// A page that navigates meanwhile (a form submitted) is polled again once
// it has loaded.
func WaitFor(tb testing.TB, ctx context.Context, what, js string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+js+")"))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(25 * time.Millisecond)
	}
	tb.Fatalf("waiting for %s: not true after 20 s (last error: %v)", what, last)
}

type axeResult struct {
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	} `json:"violations"`
	Passes []string `json:"passes"`
}

// Axe checks the page with axe-core at WCAG 2.2 AA and reports every
// violation as a test error; it returns how many there were.
func Axe(t *testing.T, ctx context.Context, axeSrc, state string) int {
	t.Helper()
	if !Eval[bool](t, ctx, `typeof axe === "object"`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSrc)); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	tags, _ := json.Marshal(AxeTags)
	res := Eval[axeResult](t, ctx, `axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}}).then(r => ({
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})),
		passes: r.passes.map(p => p.id),
	}))`)
	sort.Strings(res.Passes)
	t.Logf("axe %s: %d violations; %d rules passed", state, len(res.Violations), len(res.Passes))
	for _, v := range res.Violations {
		t.Errorf("axe %s: %s (%s): %s\n\t%s", state, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
	return len(res.Violations)
}

// ArtifactDir is where screenshots go: $ASSISTENT_SCREENSHOTS when set,
// else the test's artifact directory.
func ArtifactDir(t *testing.T) string {
	if d := os.Getenv("ASSISTENT_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("screenshot dir: %v", err)
		}
		return d
	}
	return t.ArtifactDir()
}

// Screenshot writes the whole page as dir/name.png.
func Screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
