package node_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/assistent-nl/assistent/gen/assistent/chat/v1"
	"github.com/assistent-nl/assistent/gen/assistent/chat/v1/chatv1connect"
	"github.com/assistent-nl/assistent/node"
)

func TestConnect_ChatService(t *testing.T) {
	n, _ := openNode(t, nil)
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, srv.URL)
	ctx := context.Background()

	resp, err := client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "hoe vraag ik een paspoort aan"}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Msg.Refused || len(resp.Msg.Citations) == 0 || resp.Msg.Citations[0].Id != "paspoort" {
		t.Fatalf("Ask: %v", resp.Msg)
	}

	stream, err := client.AskStream(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "hoe vraag ik een paspoort aan"}))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var order []string
	for stream.Receive() {
		switch ev := stream.Msg().Event.(type) {
		case *chatv1.AskStreamResponse_Delta:
			text.WriteString(ev.Delta.Text)
			order = append(order, "delta")
		case *chatv1.AskStreamResponse_Citations:
			order = append(order, "citations")
		case *chatv1.AskStreamResponse_Done:
			order = append(order, "done")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != resp.Msg.Answer {
		t.Errorf("streamed text %q differs from Ask %q", text.String(), resp.Msg.Answer)
	}
	if len(order) < 3 || order[0] != "delta" || order[len(order)-2] != "citations" || order[len(order)-1] != "done" {
		t.Errorf("event order %v, want deltas, citations, done", order)
	}

	_, err = client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "nergens", Question: "paspoort"}))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("unknown tenant: %v", err)
	}
	_, err = client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: ""}))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument || !strings.Contains(ce.Message(), "leeg") {
		t.Errorf("empty question: %v", err)
	}
	ts, err := client.ListTenants(ctx, connect.NewRequest(&chatv1.ListTenantsRequest{}))
	if err != nil || len(ts.Msg.Tenants) != 1 || ts.Msg.Tenants[0].Id != "proef" {
		t.Errorf("ListTenants: %v %v", ts, err)
	}
}

// Connect questions pass the same rate limit as REST and WebSocket ones:
// of 300 rapid Asks from one client most get resource_exhausted with a
// Retry-After, and AskStream is refused the same way.
func TestConnect_RateLimit(t *testing.T) {
	_, srv := openNodeWith(t, func(*node.Config) {})
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, srv.URL)
	ctx := context.Background()
	const asked = 300
	answered, exhausted := 0, 0
	for i := range asked {
		_, err := client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "hoe vraag ik een paspoort aan"}))
		var ce *connect.Error
		switch {
		case err == nil:
			answered++
		case errors.As(err, &ce) && ce.Code() == connect.CodeResourceExhausted:
			if ce.Meta().Get("Retry-After") == "" || !strings.Contains(ce.Message(), "Wacht") {
				t.Fatalf("Ask %d: %v (meta %v), want a Dutch message and Retry-After", i, err, ce.Meta())
			}
			exhausted++
		default:
			t.Fatalf("Ask %d: %v", i, err)
		}
	}
	if exhausted < asked-15 || answered < 5 {
		t.Fatalf("%d of %d Asks answered, %d resource_exhausted; want about 10 answered", answered, asked, exhausted)
	}
	stream, err := client.AskStream(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "paspoort"}))
	if err != nil {
		t.Fatal(err)
	}
	for stream.Receive() {
		t.Fatalf("AskStream after the limit sent %v", stream.Msg())
	}
	if connect.CodeOf(stream.Err()) != connect.CodeResourceExhausted {
		t.Fatalf("AskStream after the limit: %v, want resource_exhausted", stream.Err())
	}
}

// A Connect client continues its conversation with the id the node issued
// (Ask and AskStream return it); an id the node did not issue starts a new
// one.
func TestConnect_Conversation(t *testing.T) {
	n, _ := openNode(t, nil)
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, srv.URL)
	ctx := context.Background()

	first, err := client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "hoe vraag ik een paspoort aan"}))
	if err != nil {
		t.Fatal(err)
	}
	id := first.Msg.Conversation
	if id == "" {
		t.Fatal("Ask returned no conversation id")
	}
	stream, err := client.AskStream(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "wat kost dat", Conversation: id}))
	if err != nil {
		t.Fatal(err)
	}
	var done *chatv1.Done
	for stream.Receive() {
		if d, ok := stream.Msg().Event.(*chatv1.AskStreamResponse_Done); ok {
			done = d.Done
		}
	}
	if err := stream.Err(); err != nil || done == nil {
		t.Fatalf("stream: %v, done %v", err, done)
	}
	if done.Conversation != id {
		t.Errorf("the follow-up went to conversation %q, want %q", done.Conversation, id)
	}
	conv, err := n.Store().Conversation(id)
	if err != nil || conv.Asked != 2 {
		t.Errorf("conversation %s: %+v, %v; want two questions", id, conv, err)
	}
	other, err := client.Ask(ctx, connect.NewRequest(&chatv1.AskRequest{Tenant: "proef", Question: "paspoort", Conversation: "conv-gekozen-door-de-client"}))
	if err != nil {
		t.Fatal(err)
	}
	if c := other.Msg.Conversation; c == "" || c == id || c == "conv-gekozen-door-de-client" {
		t.Errorf("a client-chosen id gave conversation %q", c)
	}
}
