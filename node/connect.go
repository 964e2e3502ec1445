package node

import (
	"context"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/assistent-nl/assistent/gen/assistent/chat/v1"
	"github.com/assistent-nl/assistent/gen/assistent/chat/v1/chatv1connect"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/chat"
)

// chatService serves the Connect ChatService; it only translates between
// proto and the node's domain types.
type chatService struct{ n *Node }

var _ chatv1connect.ChatServiceHandler = chatService{}

// ConnectHandler returns the path and handler of the Connect ChatService.
func (n *Node) ConnectHandler() (string, http.Handler) {
	return chatv1connect.NewChatServiceHandler(chatService{n}, connect.WithReadMaxBytes(MaxRequestBytes))
}

func (s chatService) Ask(ctx context.Context, req *connect.Request[chatv1.AskRequest]) (*connect.Response[chatv1.AskResponse], error) {
	if err := s.n.admitConnect(req.Peer(), req.Header(), req.Msg.GetTenant()); err != nil {
		return nil, err
	}
	a, err := s.n.Converse(ctx, req.Msg.GetTenant(), req.Msg.GetConversation(), req.Msg.GetQuestion())
	if err != nil {
		return nil, s.n.connectError(ctx, err)
	}
	return connect.NewResponse(&chatv1.AskResponse{
		Answer: a.Text, Citations: protoCitations(a.Citations), Refused: a.Refused,
		Handoff: protoHandoff(a.Handoff), Confidence: a.Confidence, Route: a.Route, Mode: protoMode(a),
		Conversation: a.Conversation,
	}), nil
}

func (s chatService) AskStream(ctx context.Context, req *connect.Request[chatv1.AskRequest], stream *connect.ServerStream[chatv1.AskStreamResponse]) error {
	if err := s.n.admitConnect(req.Peer(), req.Header(), req.Msg.GetTenant()); err != nil {
		return err
	}
	a, err := s.n.Converse(ctx, req.Msg.GetTenant(), req.Msg.GetConversation(), req.Msg.GetQuestion())
	if err != nil {
		return s.n.connectError(ctx, err)
	}
	for _, part := range chat.Deltas(a.Text) {
		if err := stream.Send(&chatv1.AskStreamResponse{Event: &chatv1.AskStreamResponse_Delta{Delta: &chatv1.Delta{Text: part}}}); err != nil {
			return err
		}
	}
	if err := stream.Send(&chatv1.AskStreamResponse{Event: &chatv1.AskStreamResponse_Citations{Citations: &chatv1.Citations{Items: protoCitations(a.Citations)}}}); err != nil {
		return err
	}
	return stream.Send(&chatv1.AskStreamResponse{Event: &chatv1.AskStreamResponse_Done{Done: &chatv1.Done{
		Refused: a.Refused, Handoff: protoHandoff(a.Handoff), Confidence: a.Confidence, Route: a.Route, Mode: protoMode(a),
		Conversation: a.Conversation,
	}}})
}

func (s chatService) ListTenants(ctx context.Context, _ *connect.Request[chatv1.ListTenantsRequest]) (*connect.Response[chatv1.ListTenantsResponse], error) {
	ts, err := s.n.store.Tenants()
	if err != nil {
		return nil, s.n.connectError(ctx, err)
	}
	out := &chatv1.ListTenantsResponse{}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, &chatv1.Tenant{Id: t.ID, Name: t.Name})
	}
	return connect.NewResponse(out), nil
}

// connectError maps an error to a Connect error: one table for this edge.
// Residents' texts are Dutch; internal detail goes to the log only.
func (n *Node) connectError(ctx context.Context, err error) error {
	var bq *BadQuestion
	switch {
	case errors.As(err, &bq):
		return connect.NewError(connect.CodeInvalidArgument, residentMessage(bq.Dutch))
	case errors.Is(err, ErrUnknownTenant):
		return connect.NewError(connect.CodeNotFound, residentMessage(msgUnknownTenant))
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	n.log.ErrorContext(ctx, "connect request failed", "err", err)
	return connect.NewError(connect.CodeInternal, residentMessage(msgInternal))
}

func protoCitations(cs []answer.Citation) []*chatv1.Citation {
	out := make([]*chatv1.Citation, 0, len(cs))
	for _, c := range cs {
		out = append(out, &chatv1.Citation{Id: c.ID, Url: c.URL, Title: c.Title, From: c.From})
	}
	return out
}

// protoMode is a's mode as the proto enum; a mode it does not know is
// MODE_UNSPECIFIED, which clients read from refused.
func protoMode(a answer.Answer) chatv1.Mode {
	switch answer.ModeOf(a) {
	case answer.ModeAnswer:
		return chatv1.Mode_MODE_ANSWER
	case answer.ModeSuggest:
		return chatv1.Mode_MODE_SUGGEST
	case answer.ModeNoInfo:
		return chatv1.Mode_MODE_NOINFO
	case answer.ModeRefuse:
		return chatv1.Mode_MODE_REFUSE
	}
	return chatv1.Mode_MODE_UNSPECIFIED
}

func protoHandoff(h *answer.Handoff) *chatv1.Handoff {
	if h == nil {
		return nil
	}
	return &chatv1.Handoff{Phone: h.Phone, ContactUrl: h.ContactURL, Hours: h.Hours, Message: h.Message}
}

// residentMessage is an error whose text a resident reads (Dutch).
type residentMessage string

func (m residentMessage) Error() string { return string(m) }

// classify maps an Ask error to a chat error code and the Dutch text a
// resident reads.
func (n *Node) classify(ctx context.Context, err error) (code, message string) {
	var bq *BadQuestion
	switch {
	case errors.As(err, &bq):
		return "bad_question", bq.Dutch
	case errors.Is(err, ErrUnknownTenant):
		return "unknown_tenant", msgUnknownTenant
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", msgInternal
	}
	n.log.ErrorContext(ctx, "chat request failed", "err", err)
	return "internal", msgInternal
}

// chatHandler returns the WebSocket chat endpoint.
func (n *Node) chatHandler() (http.Handler, error) {
	return chat.NewHandler(n.cfg.Chat, n, chat.Edge{
		Tenant: func(id string) bool {
			_, err := n.tenant(id)
			return err == nil
		},
		Origin:   n.originOK,
		Classify: n.classify,
		Reject:   writeProblem,
		Allow: func(r *http.Request, tenant string) (bool, time.Duration) {
			return n.allowQuestion(r.RemoteAddr, r.Header, tenant)
		},
	}, n.log)
}
