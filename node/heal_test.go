package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/assistent-nl/assistent/gen/assistent/chat/v1"
	"github.com/assistent-nl/assistent/gen/assistent/chat/v1/chatv1connect"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve/blevetest"
)

// openLargeNode is openNode with a few hundred more pages, so that the
// lexical index has segment files of some size. It closes the node and
// returns its data directory.
func openLargeNode(tb testing.TB) string {
	tb.Helper()
	n, dir := openNode(tb, nil)
	var more []ingest.Page
	for i := range 300 {
		more = append(more, ingest.Page{ID: fmt.Sprint("extra-", i), URL: fmt.Sprintf("https://www.proef.example/extra/%d", i),
			Title: fmt.Sprintf("Regeling %d voor inwoners", i),
			HTML: fmt.Sprintf(`<p>Regeling %d: subsidie voor zonnepanelen, isolatie en groene daken in wijk %d. `+
				`U vraagt de subsidie aan met formulier %d voor %d december.</p>`, i, i%17, i*3, i%28+1)})
	}
	if _, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), more, nil); err != nil {
		tb.Fatal(err)
	}
	if err := n.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// reopenHeal opens the node in dir as reopen does, with a rate limit
// that the polling asks of these tests do not reach.
func reopenHeal(tb testing.TB, dir string, log *slog.Logger) *node.Node {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	cfg.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6}
	n, err := node.Open(context.Background(), cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return n
}

// askPaspoort asks the paspoort question over REST and returns the status
// and the answer.
func askPaspoort(tb testing.TB, url string) (int, answer.Answer) {
	tb.Helper()
	resp, body := post(tb, url+"/api/v1/tenants/proef/ask", "application/json",
		strings.NewReader(`{"question":"hoe vraag ik een paspoort aan"}`))
	var a answer.Answer
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			tb.Fatal(err)
		}
	}
	return resp.StatusCode, a
}

// readyz returns /readyz's status and its reason, if any.
func readyz(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Reason string `json:"reason"`
	}
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &body)
	return resp.StatusCode, body.Reason
}

// wantAnswers checks that the paspoort question is answered from the
// paspoort page over REST, Connect and WebSocket, and that the lexical index finds it.
func wantAnswers(tb testing.TB, n *node.Node, url string) {
	tb.Helper()
	if status, a := askPaspoort(tb, url); status != http.StatusOK || len(a.Citations) == 0 || a.Citations[0].ID != "paspoort" {
		tb.Errorf("REST ask: status %d, citations %+v", status, a.Citations)
	}
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, url)
	resp, err := client.Ask(context.Background(), connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "hoe vraag ik een paspoort aan"}))
	if err != nil || len(resp.Msg.Citations) == 0 || resp.Msg.Citations[0].Id != "paspoort" {
		tb.Errorf("Connect ask: %v, %v", resp, err)
	}
	ws := dial(tb, "ws"+strings.TrimPrefix(url, "http")+"/api/v1/tenants/proef/chat")
	write(tb, ws, `{"type":"ask","id":"q1","text":"hoe vraag ik een paspoort aan"}`)
	cited := ""
	for m := readMsg(tb, ws); m.Type != "done"; m = readMsg(tb, ws) {
		if m.Type == "error" {
			tb.Errorf("WebSocket ask: %s %s", m.Code, m.Message)
			break
		}
		if m.Type == "citations" && len(m.Items) > 0 {
			cited = m.Items[0].ID
		}
	}
	if cited != "paspoort" {
		tb.Errorf("WebSocket ask cites %q, want paspoort", cited)
	}
	hits, err := n.Search(context.Background(), "proef", "grofvuil", 3, "bm25")
	if err != nil || len(hits) == 0 || hits[0].Chunk.DocID != "grofvuil" {
		tb.Errorf("lexical search: %v, %v", hits, err)
	}
}

// TestOpen_RebuildsCorruptSegment: a segment file damaged in its middle
// while the node is down is found at open (its checksum) and the index is
// rebuilt from the store, so asks succeed.
func TestOpen_RebuildsCorruptSegment(t *testing.T) {
	dir := openLargeNode(t)
	blevetest.CorruptSegments(t, filepath.Join(dir, "index", "bleve"), 0.5)
	var logs bytes.Buffer
	n := reopenHeal(t, dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "corrupt") {
		t.Errorf("no log line about the corrupt index:\n%s", logs.String())
	}
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	wantAnswers(t, n, srv.URL)
	if status, reason := readyz(t, srv.URL); status != http.StatusOK {
		t.Errorf("readyz: %d %q", status, reason)
	}
	rep, err := n.Check(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("check after rebuild: %+v, %v", rep, err)
	}
}

// TestNode_HealsCorruptIndexWhileRunning damages the segment files under
// the running node. Scorch reads segments through mmap, so the searches
// see the damage at once, as on a disk that goes bad. The first failing
// search marks the index unhealthy and starts a background rebuild (held
// here until the test has looked): /readyz is 503 with a reason, asks are
// answered from the vector list, and once the rebuild is done /readyz is
// 200 again and the lexical index answers.
func TestNode_HealsCorruptIndexWhileRunning(t *testing.T) {
	dir := openLargeNode(t)
	n := reopenHeal(t, dir, nil)
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	wantAnswers(t, n, srv.URL)
	release := node.HoldHeal(n)

	blevetest.CorruptSegments(t, filepath.Join(dir, "index", "bleve"), 0, 0.25, 0.5, 0.75)
	// While the index is damaged, an ask may fail (bleve may notice the
	// damage in a later read), but never for long and never by a crash.
	deadline := time.Now().Add(10 * time.Second)
	for failed := 0; ; failed++ {
		status, _ := askPaspoort(t, srv.URL)
		if status == http.StatusOK {
			t.Logf("asks failed before one was answered: %d", failed)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("asks still fail: %d", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	status, reason := readyz(t, srv.URL)
	if status != http.StatusServiceUnavailable || !strings.Contains(reason, "lexical index") {
		t.Fatalf("readyz while damaged: %d %q, want 503 with a reason", status, reason)
	}
	if status, _ := askPaspoort(t, srv.URL); status != http.StatusOK {
		t.Errorf("ask while rebuilding: %d, want an answer from the vector list", status)
	}

	release()
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, reason = readyz(t, srv.URL)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after rebuild: %d %q", status, reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantAnswers(t, n, srv.URL)
	rep, err := n.Check(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("check after rebuild: %+v, %v", rep, err)
	}
}
