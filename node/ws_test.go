package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
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
