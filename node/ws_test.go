package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/assistent-nl/assistent/internal/syncbuf"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

type wsMessage struct {
	Type       string
	ID         string
	Text       string
	Items      []struct{ ID, URL, Title string }
	Refused    *bool
	Confidence *float64
	Code       string
	Message    string
}

func dial(tb testing.TB, url string) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.CloseNow() })
	return c
}

func readMsg(tb testing.TB, c *websocket.Conn) wsMessage {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatalf("server sent %q: %v", data, err)
	}
	return m
}

func write(tb testing.TB, c *websocket.Conn, s string) {
	tb.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		tb.Fatal(err)
	}
}

func TestWebSocket_Chat(t *testing.T) {
	n, _ := openNode(t, nil)
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/tenants/proef/chat"

	c := dial(t, url)
	write(t, c, `{"type":"ask","id":"q1","text":"hoe vraag ik een paspoort aan"}`)
	var text strings.Builder
	var m wsMessage
	for m = readMsg(t, c); m.Type == "delta"; m = readMsg(t, c) {
		if m.ID != "q1" {
			t.Fatalf("delta for id %q", m.ID)
		}
		text.WriteString(m.Text)
	}
	if m.Type != "citations" || len(m.Items) == 0 || m.Items[0].ID != "paspoort" {
		t.Fatalf("after the deltas: %+v", m)
	}
	m = readMsg(t, c)
	if m.Type != "done" || m.Refused == nil || *m.Refused || m.Confidence == nil {
		t.Fatalf("done message: %+v", m)
	}
	if !strings.Contains(text.String(), "[1]") {
		t.Errorf("streamed answer %q has no citation marker", text.String())
	}

	// Bad input gets an error message and the connection stays usable.
	for _, tt := range []struct{ send, code string }{
		{`{"type":"ask",`, "bad_message"},
		{`{"type":"praat","id":"x"}`, "unknown_type"},
		{`{"type":"ask","id":"q2","text":"  "}`, "bad_question"},
		{"{\"type\":\"ask\",\"id\":\"q4\",\"text\":\"caf\xe9\"}", "bad_message"}, // not UTF-8
		{`{"type":"ask","id":"q5","text":"paspoort \udc00"}`, "bad_message"},     // a lone surrogate
	} {
		write(t, c, tt.send)
		m := readMsg(t, c)
		if m.Type != "error" || m.Code != tt.code || m.Message == "" {
			t.Fatalf("%s: got %+v, want error %s with a message", tt.send, m, tt.code)
		}
	}
	write(t, c, `{"type":"ask","id":"q3","text":"grofvuil"}`)
	if m := readMsg(t, c); m.Type != "delta" || m.ID != "q3" {
		t.Fatalf("after errors the connection does not answer: %+v", m)
	}
}

func TestWebSocket_Limits(t *testing.T) {
	n, _ := openNode(t, nil)
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	base := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/tenants/"

	resp, err := http.Get(srv.URL + "/api/v1/tenants/nergens/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown tenant: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	c := dial(t, base+"proef/chat")
	// The server closes as soon as the message passes the limit, so the
	// write itself may already fail; either way the connection ends, with
	// 1009 when the close frame arrives before the reset.
	werr := c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ask","id":"big","text":"`+strings.Repeat("a", 64<<10)+`"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = c.Read(ctx)
	if err == nil {
		t.Fatal("oversized message: the connection stays open")
	}
	if werr == nil && websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message: %v, want close 1009", err)
	}

	// A page from a site that is not the tenant's may not open the chat.
	hdr := http.Header{"Origin": []string{"https://kwaadwillend.example"}}
	_, resp, err = websocket.Dial(context.Background(), base+"proef/chat", &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v, %v", resp, err)
	}
}

// TestWebSocket_Abuse: connections that open and vanish, and a client that
// asks and never reads, are cleaned up, and the node keeps answering.
func TestWebSocket_Abuse(t *testing.T) {
	if testing.Short() {
		t.Skip("opens many connections; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "data")
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	cfg.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6}
	cfg.Chat.WriteTimeout = 300 * time.Millisecond
	var logs syncbuf.Buffer
	n, err := node.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), pages, nil); err != nil {
		t.Fatal(err)
	}
	// Small socket buffers on both ends make a non-reading client back up
	// the server's writes after a few answers instead of megabytes.
	srv := httptest.NewUnstartedServer(n.Handler(nil))
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/tenants/proef/chat"
	before := runtime.NumGoroutine()

	// 10,000 connections that open and vanish without a close frame, 64
	// at a time.
	const vanishing, parallel = 10_000, 64
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				c, _, err := websocket.Dial(context.Background(), url, nil)
				if err != nil {
					errs <- fmt.Errorf("dial %d: %w", i, err)
					return
				}
				c.CloseNow()
			}
		})
	}
	for i := range vanishing {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	// A client that asks and asks but never reads: its socket buffers fill,
	// a write times out, and the server drops it.
	// A small receive buffer makes the server's writes back up sooner.
	smallBuf := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	greedy, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: smallBuf})
	if err != nil {
		t.Fatal(err)
	}
	defer greedy.CloseNow()
	ask := []byte(`{"type":"ask","id":"x","text":"hoe vraag ik een paspoort aan"}`)
	// The client's own writes block once the server stops reading; they
	// must end because the server hangs up, not because the client gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if err := greedy.Write(ctx, websocket.MessageText, ask); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the server kept a client that never reads for 60 s")
			}
			break
		}
	}
	for i := 0; !strings.Contains(logs.String(), "does not read"); i++ {
		if i == 600 {
			t.Fatalf("the server did not drop the client that never reads; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The node still answers others, and the server side of the vanished
	// connections is gone.
	c := dial(t, url)
	write(t, c, `{"type":"ask","id":"ok","text":"grofvuil"}`)
	if m := readMsg(t, c); m.Type != "delta" {
		t.Fatalf("after the abuse: %+v", m)
	}
	c.CloseNow()
	var now int
	for range 50 {
		now = runtime.NumGoroutine()
		if now < before+50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if now >= before+50 {
		t.Fatalf("%d goroutines after the connections went away, %d before", now, before)
	}
}

// smallBufferListener gives accepted connections a small send buffer.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// Every question on a WebSocket passes the rate limit, not only the
// upgrade: one connection that asks 300 times in a row gets most of them
// refused with a rate_limited error that says when to retry, and the
// connection stays usable.
func TestWebSocket_RateLimitPerMessage(t *testing.T) {
	_, srv := openNodeWith(t, func(*node.Config) {})
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/tenants/proef/chat")
	const asked = 300
	answered, limited := 0, 0
	for i := range asked {
		write(t, c, fmt.Sprintf(`{"type":"ask","id":"q%d","text":"hoe vraag ik een paspoort aan"}`, i))
		for {
			var m struct {
				wsMessage
				RetryAfter int `json:"retry_after"`
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, data, err := c.Read(ctx)
			cancel()
			if err != nil {
				t.Fatalf("question %d: %v", i, err)
			}
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			if m.Type == "error" {
				if m.Code != "rate_limited" || m.RetryAfter < 1 || m.Message == "" || m.ID != fmt.Sprintf("q%d", i) {
					t.Fatalf("question %d: %s, want a rate_limited error with retry_after and a message", i, data)
				}
				limited++
				break
			}
			if m.Type == "done" {
				answered++
				break
			}
		}
	}
	// 10 tokens at once, one spent on the upgrade, and 30 a minute after.
	if limited < asked-15 || answered < 5 {
		t.Fatalf("%d of %d questions answered, %d refused; want about 10 answered and the rest refused", answered, asked, limited)
	}
}

// The node holds at most Chat.MaxConnections WebSockets; an upgrade beyond
// them gets 503 with Retry-After, and a place that frees up is given again.
func TestWebSocket_ConnectionCap(t *testing.T) {
	_, srv := openNodeWith(t, func(c *node.Config) {
		c.Rate = node.RateConfig{PerMinute: 1e6, Burst: 1e6}
		c.Chat.MaxConnections = 3
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/tenants/proef/chat"
	var conns []*websocket.Conn
	for range 3 {
		conns = append(conns, dial(t, url))
	}
	_, resp, err := websocket.Dial(context.Background(), url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable ||
		resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("4th connection: %v, %v; want 503 problem+json with Retry-After", resp, err)
	}
	// The connections that are open still answer.
	write(t, conns[0], `{"type":"ask","id":"q","text":"grofvuil"}`)
	if m := readMsg(t, conns[0]); m.Type != "delta" {
		t.Fatalf("an open connection after the refusal: %+v", m)
	}
	conns[1].Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := websocket.Dial(context.Background(), url, nil)
		if err == nil {
			c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection's place is not given again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
