// Package chat serves the residents' chat: the WebSocket protocol of
// DESIGN.md §4, one question at a time per connection, answers streamed as
// deltas, then citations, then done with the reply's mode (answer, suggest,
// noinfo, refuse) and verdict.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/assistent-nl/assistent/internal/reqid"
	"github.com/assistent-nl/assistent/node/answer"
)

// Answerer answers one question for a tenant within a conversation and
// returns the answer with the conversation's id.
type Answerer interface {
	Converse(ctx context.Context, tenant, conversation, question string) (answer.Answer, error)
}

// Config tunes the WebSocket handler.
type Config struct {
	MaxMessageBytes int64         // largest client message; larger closes with 1009
	AnswerTimeout   time.Duration // longest time one answer may take
	WriteTimeout    time.Duration // a client that does not read for this long is dropped
	PingInterval    time.Duration // keep-alive pings
	IdleTimeout     time.Duration // a connection without questions for this long is closed
	// MaxConnections caps the connections open at once on the node; an
	// upgrade beyond it is answered 503 with Retry-After.
	MaxConnections int
}

// DefaultConfig returns the defaults: 16 KiB messages, 20 s answers, 10 s
// writes, pings every 30 s, 10 minutes idle, 2,000 connections (twice the
// node's budget of 1,000 chat sessions).
func DefaultConfig() Config {
	return Config{MaxMessageBytes: 16 << 10, AnswerTimeout: 20 * time.Second, WriteTimeout: 10 * time.Second,
		PingInterval: 30 * time.Second, IdleTimeout: 10 * time.Minute, MaxConnections: 2000}
}

// busyRetry is the Retry-After of an upgrade refused for the cap on
// connections.
const busyRetry = 10 * time.Second

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MaxMessageBytes < 256:
		return errors.New("chat.max_message_bytes: must be at least 256")
	case c.AnswerTimeout <= 0 || c.WriteTimeout <= 0 || c.PingInterval <= 0 || c.IdleTimeout <= 0:
		return errors.New("chat: timeouts and intervals must be positive")
	case c.MaxConnections < 1:
		return errors.New("chat.max_connections: must be at least 1")
	}
	return nil
}

// Edge tells the handler about tenants and errors, in the node's terms.
type Edge struct {
	// Tenant reports whether a tenant exists.
	Tenant func(id string) bool
	// Origin reports whether the upgrade request r may open a chat for
	// tenant: the node's rule for requests from browser pages, the same as
	// for its REST API.
	Origin func(r *http.Request, tenant string) bool
	// Classify turns an Ask error into a code and a Dutch message for the
	// resident.
	Classify func(context.Context, error) (code, message string)
	// Reject writes an HTTP error before the upgrade: unknown tenant,
	// foreign origin, or the node at its cap on connections.
	Reject func(w http.ResponseWriter, status int, title, detail string)
	// Allow takes the rate-limit tokens of one question that arrived on
	// the connection upgraded by r, for tenant; when refused it returns
	// false and how long to wait.
	Allow func(r *http.Request, tenant string) (ok bool, wait time.Duration)
}

// Handler is the WebSocket endpoint GET /api/v1/tenants/{tenant}/chat.
type Handler struct {
	cfg  Config
	ans  Answerer
	edge Edge
	log  *slog.Logger
	open atomic.Int64 // connections open now, or being upgraded
}

// NewHandler returns a handler; it fails on an invalid config.
func NewHandler(cfg Config, a Answerer, edge Edge, log *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if a == nil || edge.Tenant == nil || edge.Origin == nil || edge.Classify == nil || edge.Reject == nil || edge.Allow == nil {
		return nil, errors.New("chat: answerer and edge functions are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, ans: a, edge: edge, log: log}, nil
}

// clientMessage is what a client sends.
type clientMessage struct {
	Type         string `json:"type"`
	ID           string `json:"id"`
	Text         string `json:"text"`
	Conversation string `json:"conversation,omitempty"`
}

// serverMessage is what the server sends; fields by type.
type serverMessage struct {
	Type         string            `json:"type"`
	ID           string            `json:"id"`
	Text         string            `json:"text,omitempty"`
	Items        []answer.Citation `json:"items,omitempty"`
	Mode         answer.Mode       `json:"mode,omitempty"`
	Refused      *bool             `json:"refused,omitempty"`
	Handoff      *answer.Handoff   `json:"handoff,omitempty"`
	Confidence   *float64          `json:"confidence,omitempty"`
	Route        string            `json:"route,omitempty"`
	Code         string            `json:"code,omitempty"`
	Conversation string            `json:"conversation,omitempty"`
	Message      string            `json:"message,omitempty"`
	RetryAfter   int               `json:"retry_after,omitempty"` // seconds, with code rate_limited
}

// ServeHTTP upgrades the request and serves the connection until the
// client leaves, idles out, or stops reading.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if !h.edge.Tenant(tenant) {
		h.edge.Reject(w, http.StatusNotFound, "unknown tenant", msgUnknownTenant)
		return
	}
	if !h.edge.Origin(r, tenant) {
		h.edge.Reject(w, http.StatusForbidden, "origin not allowed: add the site to the tenant", msgOrigin)
		return
	}
	if h.open.Add(1) > int64(h.cfg.MaxConnections) {
		h.open.Add(-1)
		h.log.Warn("chat connection refused: the node holds its maximum", "max_connections", h.cfg.MaxConnections)
		w.Header().Set("Retry-After", strconv.Itoa(int(busyRetry/time.Second)))
		h.edge.Reject(w, http.StatusServiceUnavailable, "too many chat connections", msgBusy)
		return
	}
	defer h.open.Add(-1)
	// Edge.Origin has checked the origin, with the node's rule.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept wrote the HTTP error
	}
	defer c.CloseNow()
	c.SetReadLimit(h.cfg.MaxMessageBytes)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go h.keepAlive(ctx, c, cancel)

	for {
		readCtx, readCancel := context.WithTimeout(ctx, h.cfg.IdleTimeout)
		typ, data, err := c.Read(readCtx)
		readCancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.Close(websocket.StatusNormalClosure, "idle")
			}
			return // closed, too big (coder/websocket closed with 1009), or gone
		}
		if typ != websocket.MessageText {
			h.send(ctx, c, serverMessage{Type: "error", Code: "bad_message", Message: msgBadMessage})
			continue
		}
		var m clientMessage
		if err := json.Unmarshal(data, &m); err != nil || !ValidJSONText(data) {
			if !h.send(ctx, c, serverMessage{Type: "error", Code: "bad_message", Message: msgBadMessage}) {
				return
			}
			continue
		}
		if m.Type != "ask" {
			if !h.send(ctx, c, serverMessage{Type: "error", ID: m.ID, Code: "unknown_type", Message: msgUnknownType}) {
				return
			}
			continue
		}
		if ok, wait := h.edge.Allow(r, tenant); !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			if !h.send(ctx, c, serverMessage{Type: "error", ID: m.ID, Code: "rate_limited", Message: msgTooMany, RetryAfter: secs}) {
				return
			}
			continue
		}
		if !h.answer(ctx, c, tenant, m) {
			return
		}
	}
}

// answer answers one question and streams it; false when the connection
// is no longer usable.
func (h *Handler) answer(ctx context.Context, c *websocket.Conn, tenant string, m clientMessage) bool {
	actx, cancel := context.WithTimeout(ctx, h.cfg.AnswerTimeout)
	if id := reqid.From(ctx) + "." + m.ID; reqid.Valid(id) {
		actx = reqid.With(actx, id) // the connection's id and the message's
	}
	a, err := h.ans.Converse(actx, tenant, m.Conversation, m.Text)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		code, msg := h.edge.Classify(ctx, err)
		return h.send(ctx, c, serverMessage{Type: "error", ID: m.ID, Code: code, Message: msg})
	}
	for _, d := range Deltas(a.Text) {
		if !h.send(ctx, c, serverMessage{Type: "delta", ID: m.ID, Text: d}) {
			return false
		}
	}
	if !h.send(ctx, c, serverMessage{Type: "citations", ID: m.ID, Items: nonNil(a.Citations)}) {
		return false
	}
	refused, conf := a.Refused, a.Confidence
	return h.send(ctx, c, serverMessage{Type: "done", ID: m.ID, Mode: answer.ModeOf(a), Refused: &refused, Handoff: a.Handoff,
		Confidence: &conf, Route: a.Route, Conversation: a.Conversation})
}

func nonNil(cs []answer.Citation) []answer.Citation {
	if cs == nil {
		return []answer.Citation{}
	}
	return cs
}

// send writes one message within the write timeout; a client that does not
// read is dropped.
func (h *Handler) send(ctx context.Context, c *websocket.Conn, m serverMessage) bool {
	data, err := json.Marshal(m)
	if err != nil {
		h.log.Error("encode chat message", "err", err)
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	if err := c.Write(wctx, websocket.MessageText, data); err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			h.log.Info("dropped a chat client that does not read", "timeout", h.cfg.WriteTimeout)
		}
		c.CloseNow()
		return false
	}
	return true
}

func (h *Handler) keepAlive(ctx context.Context, c *websocket.Conn, cancel context.CancelFunc) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
			err := c.Ping(pctx)
			pcancel()
			if err != nil {
				cancel()
				return
			}
		}
	}
}

// Deltas splits an answer into the pieces a stream sends: words with their
// following space, a few at a time. Joined, they give the answer back.
func Deltas(text string) []string {
	const wordsPerDelta = 4
	var out []string
	words := strings.SplitAfter(text, " ")
	for i := 0; i < len(words); i += wordsPerDelta {
		out = append(out, strings.Join(words[i:min(i+wordsPerDelta, len(words))], ""))
	}
	return out
}
