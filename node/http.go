package node

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/internal/reqid"
	"github.com/assistent-nl/assistent/node/chat"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/widget"
)

//go:embed openapi.json
var openAPI []byte

// MaxRequestBytes bounds the body of any API request.
const MaxRequestBytes = 64 << 10

// Problem is an RFC 9457 problem detail (application/problem+json). Detail
// is written for the resident, in Dutch.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// Handler returns the node's HTTP API. static, when not nil, is served at
// "/" (the demo page).
func (n *Node) Handler(static fs.FS) http.Handler {
	mux := http.NewServeMux()
	rt := routes{mux: mux, allow: map[string][]string{}}
	rt.handle("GET", "/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	rt.handle("GET", "/readyz", n.handleReady)
	rt.handle("GET", "/api/v1/tenants", n.handleTenants)
	rt.handle("POST", "/api/v1/tenants/{tenant}/ask", n.cors(n.limitQuestion(n.handleAsk)))
	rt.handle("POST", "/api/v1/tenants/{tenant}/feedback", n.cors(n.limit(n.handleFeedback)))
	rt.handle("OPTIONS", "/api/v1/tenants/{tenant}/ask", n.cors(nil))
	rt.handle("OPTIONS", "/api/v1/tenants/{tenant}/feedback", n.cors(nil))
	rt.handle("POST", "/api/v1/tenants/{tenant}/sources/{source}/crawl", n.limit(n.handleCrawlTrigger))
	rt.handle("GET", "/api/v1/tenants/{tenant}/jobs/{job}", n.limit(n.handleCrawlJob))
	rt.handle("GET", "/api/v1/tenants/{tenant}/federation", n.limit(n.FederationStatusHandler()))
	wh := widget.Handler()
	mux.Handle("GET /widget.js", wh)
	mux.Handle("GET /widget/{file}", wh)
	rt.handle("GET", "/metrics", n.metrics.handler().ServeHTTP)
	rt.handle("GET", "/api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	if ws, err := n.chatHandler(); err == nil {
		rt.handle("GET", "/api/v1/tenants/{tenant}/chat", n.limit(ws.ServeHTTP))
	} else {
		n.log.Error("chat endpoint disabled", "err", err)
	}
	n.mountAdmin(mux)
	path, connectHandler := n.ConnectHandler()
	mux.Handle("POST "+path, connectHandler)
	var files http.Handler
	if static != nil {
		files = staticHandler(static)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case files == nil || strings.HasPrefix(r.URL.Path, "/api/"):
			writeProblem(w, http.StatusNotFound, "not found", msgNotFound)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeProblem(w, http.StatusMethodNotAllowed, "method not allowed", msgMethod)
		default:
			files.ServeHTTP(w, r)
		}
	})
	return reqid.Middleware(n.recoverer(mux))
}

// routes registers handlers by method and path, and answers another
// method on a known path with 405 and the Allow header, as RFC 9110 asks
// (the catch-all "/" would otherwise answer it 404).
type routes struct {
	mux   *http.ServeMux
	allow map[string][]string // path → its methods, filled before serving
}

func (rt routes) handle(method, path string, h http.HandlerFunc) {
	rt.mux.HandleFunc(method+" "+path, h)
	if _, ok := rt.allow[path]; !ok {
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(rt.allow[path], ", "))
			writeProblem(w, http.StatusMethodNotAllowed, "method not allowed", msgMethod)
		})
	}
	rt.allow[path] = append(rt.allow[path], method)
	if method == http.MethodGet {
		rt.allow[path] = append(rt.allow[path], http.MethodHead) // GET patterns serve HEAD too
	}
}

// cors lets pages on the tenant's own sites call the API from the widget,
// and no other page: a request from any other browser origin is refused
// with 403 before anything is stored. Preflights are answered for every
// origin and the 403 is readable by the page (Access-Control-Allow-Origin
// on it too, with nothing but the refusal in it), so that a widget on a
// site the tenant has not added can tell the resident it is not available
// there and the site's developer why, instead of "no connection".
// Requests without an Origin (not from a browser page) pass. next nil
// serves a preflight only.
func (n *Node) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := n.originOK(r, r.PathValue("tenant"))
		if origin != "" {
			h := w.Header()
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", "POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		if next == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !allowed {
			writeProblem(w, http.StatusForbidden, "origin not allowed: add the site to the tenant", msgOrigin)
			return
		}
		next(w, r)
	}
}

func staticHandler(static fs.FS) http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}

func (n *Node) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				n.log.ErrorContext(r.Context(), "handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeProblem(w, http.StatusInternalServerError, "internal error", msgInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// readyProblem is /readyz's problem+json when the node cannot answer
// questions well; Reason is for operators, in English.
type readyProblem struct {
	Problem
	Reason string `json:"reason"`
}

func (n *Node) handleReady(w http.ResponseWriter, r *http.Request) {
	if reason := n.health.status(); reason != "" {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Content-Language", "nl")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(readyProblem{
			Problem: Problem{Type: "about:blank", Title: "not ready", Status: http.StatusServiceUnavailable, Detail: msgInternal},
			Reason:  reason,
		})
		return
	}
	docs, err := n.store.DocCount("")
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, "not ready", msgInternal)
		return
	}
	out := map[string]any{"ready": true, "documents": docs}
	if st, ok := n.federationStatus(); ok {
		// Fail static: a node without its coordination servers still
		// answers from its cached registry; the age says how stale it is.
		fed := map[string]any{"index": st.Index, "synced": st.Synced, "server": st.Server}
		if st.CacheAge >= 0 {
			fed["cache_age_seconds"] = st.CacheAge.Seconds()
		}
		if !st.LastContact.IsZero() {
			fed["last_contact"] = st.LastContact
		}
		if st.LastError != "" {
			fed["last_error"] = st.LastError
		}
		out["federation"] = fed
	}
	writeJSON(w, http.StatusOK, out)
}

type tenantInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (n *Node) handleTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := n.store.Tenants()
	if err != nil {
		n.fail(w, r, err)
		return
	}
	out := make([]tenantInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, tenantInfo{ID: t.ID, Name: t.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

type askRequest struct {
	Question     string `json:"question"`
	Conversation string `json:"conversation,omitempty"`
}

func (n *Node) handleAsk(w http.ResponseWriter, r *http.Request) {
	var req askRequest
	if !readJSON(w, r, MaxRequestBytes, &req) {
		return
	}
	start := time.Now()
	a, err := n.Converse(r.Context(), r.PathValue("tenant"), req.Conversation, req.Question)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	n.log.InfoContext(r.Context(), "answered", "tenant", r.PathValue("tenant"), "refused", a.Refused,
		"confidence", a.Confidence, "citations", len(a.Citations), "took_ms", time.Since(start).Milliseconds())
	writeJSON(w, http.StatusOK, a)
}

type feedbackRequest struct {
	QuestionID string `json:"question_id"`
	Rating     string `json:"rating"`
	Comment    string `json:"comment"`
}

// MaxFeedbackComment bounds a feedback comment, in characters.
const MaxFeedbackComment = 1000

// maxFeedbackBytes bounds the body of a feedback request.
const maxFeedbackBytes = 8 << 10

// readJSON decodes the body of r, one JSON object of at most limit bytes,
// into v. A body that is not that gets a problem response and false: 415
// for a Content-Type other than application/json (a body without one is
// taken as JSON, as server-to-server clients send it), 413 when too large,
// 400 for invalid JSON, text after the object, or text that is not valid
// Unicode (never replaced by U+FFFD and answered).
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		cs, hasCharset := params["charset"]
		if err != nil || mt != "application/json" || hasCharset && !strings.EqualFold(cs, "utf-8") {
			writeProblem(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json", msgUnsupportedMed)
			return false
		}
	}
	if r.ContentLength > limit {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", limit), msgTooLarge)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", limit), msgTooLarge)
		} else {
			writeProblem(w, http.StatusBadRequest, "request body unreadable", msgBadRequest)
		}
		return false
	}
	if !chat.ValidJSONText(body) {
		writeProblem(w, http.StatusBadRequest, "request body is not valid UTF-8 (or holds a lone surrogate escape)", msgInvalidUTF8)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid JSON", msgBadRequest)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeProblem(w, http.StatusBadRequest, "text after the JSON object", msgBadRequest)
		return false
	}
	return true
}

func (n *Node) handleFeedback(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if _, err := n.tenant(tenant); err != nil {
		n.fail(w, r, err)
		return
	}
	var req feedbackRequest
	if !readJSON(w, r, maxFeedbackBytes, &req) {
		return
	}
	if req.Rating != "up" && req.Rating != "down" {
		writeProblem(w, http.StatusBadRequest, `rating must be "up" or "down"`, msgBadFeedback)
		return
	}
	if utf8.RuneCountInString(req.Comment) > MaxFeedbackComment || len(req.QuestionID) > 128 {
		writeProblem(w, http.StatusBadRequest, "feedback too long", msgLongFeedback)
		return
	}
	if err := n.CheckQuestionID(tenant, req.QuestionID); err != nil {
		if !questionIDProblem(w, err) {
			n.fail(w, r, err)
		}
		return
	}
	f := store.Feedback{Tenant: tenant, QuestionID: req.QuestionID, Rating: req.Rating,
		Comment: n.scrub(strings.TrimSpace(req.Comment)), Time: time.Now().UTC()}
	if err := n.store.AddFeedback(f); err != nil {
		n.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail maps an error to a problem response: one table for the HTTP edge.
func (n *Node) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bq *BadQuestion
	switch {
	case errors.As(err, &bq):
		writeProblem(w, http.StatusBadRequest, bq.English, bq.Dutch)
	case errors.Is(err, ErrUnknownTenant):
		writeProblem(w, http.StatusNotFound, "unknown tenant", msgUnknownTenant)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads a response.
	default:
		n.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error", msgInternal)
	}
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", "nl")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: title, Status: status, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// Serve listens on addr and serves h until ctx is done, then shuts down
// gracefully, waiting at most grace for requests in flight. ready, when not
// nil, receives the bound address once listening.
func Serve(ctx context.Context, addr string, h http.Handler, grace time.Duration, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	var shutdownErr atomic.Value
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			shutdownErr.Store(err)
		}
	}()
	err = srv.Serve(ln)
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	<-done
	if e, ok := shutdownErr.Load().(error); ok {
		return fmt.Errorf("shutdown: %w", e)
	}
	return nil
}
