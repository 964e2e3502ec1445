package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
	"github.com/assistent-nl/assistent/gen/assistent/federation/v1/federationv1connect"
)

// Resolver returns the base URL (https://host:port) of the Connect API of the
// coordination server with the given Raft ID, and whether it is known.
type Resolver func(serverID string) (baseURL string, ok bool)

// StaticResolver returns a Resolver over a fixed map from server ID to base URL.
func StaticResolver(urls map[string]string) Resolver {
	return func(id string) (string, bool) {
		u, ok := urls[id]
		return u, ok
	}
}

// AnnouncedResolver returns a Resolver that looks a server up in srv's copy
// of the registry, where every leader records its API URL when it takes
// office (coordinator.Config.APIURL), and then in fallback (nil: none). A
// follower learns a new leader's address from the log within moments of
// its election, without a static list of peers.
func AnnouncedResolver(srv *coordinator.Server, fallback Resolver) Resolver {
	return func(id string) (string, bool) {
		if u, ok := srv.APIURL(id); ok {
			return u, true
		}
		if fallback != nil {
			return fallback(id)
		}
		return "", false
	}
}

// Issuer redeems join tokens. *trust.CA implements it.
type Issuer interface {
	// Redeem exchanges a token and a PEM CSR for a PEM certificate.
	Redeem(token string, csrPEM []byte) ([]byte, error)
	// Renew issues a new certificate for id (a caller's verified identity)
	// and the key of a PEM CSR.
	Renew(id trust.Identity, csrPEM []byte) ([]byte, error)
	// CertPEM returns the CA certificate in PEM.
	CertPEM() []byte
}

var _ Issuer = (*trust.CA)(nil)

// Options tune the handler. Zero fields take the defaults of DefaultOptions.
type Options struct {
	// Client carries writes forwarded to the leader. It must present this
	// server's own certificate (trust.ClientTLS expecting role server), so
	// the leader honours on_behalf_of. Required for forwarding; without it a
	// follower answers writes with CodeUnavailable.
	Client connect.HTTPClient
	// Issuer redeems join tokens; nil makes Join answer CodeUnimplemented.
	Issuer Issuer
	// Heartbeat is the interval of watch heartbeats (default 10 s).
	Heartbeat time.Duration
	// MaxWait caps the wait of blocking Get and List (default 5 min).
	MaxWait time.Duration
	// ForwardTimeout bounds how long a write waits for a leader (default 15 s).
	ForwardTimeout time.Duration
	// ResyncGrace is how long Watch waits for this server to reach a caller
	// that is ahead of it before it sends a snapshot instead (default 10 s,
	// twice the failover budget: a lagging follower must not be mistaken
	// for a rebuilt cluster).
	ResyncGrace time.Duration
	// JoinRate bounds Join calls per second on this server, the one call
	// open to anonymous clients (default 5, burst 4x).
	JoinRate float64
	// Logger receives refusals and forwarding trouble; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{
		Heartbeat:      10 * time.Second,
		MaxWait:        5 * time.Minute,
		ForwardTimeout: 15 * time.Second,
		ResyncGrace:    10 * time.Second,
		JoinRate:       5,
	}
}

// maxRequestBytes bounds a request: a command of registry.MaxCommandSize in
// its proto envelope.
const maxRequestBytes = registry.MaxCommandSize + 64<<10

// maxPartBytes is the approximate size at which a watch batch is split.
const maxPartBytes = 1 << 20

// blobChunkSize is the size of GetBlob chunks.
const blobChunkSize = 256 << 10

// NewHandler returns the path and handler of RegistryService for srv. resolve
// maps the leader's Raft ID to its API URL for forwarding. The handler reads
// the caller's identity from the request's verified TLS chain; serve it on a
// listener configured with ServerTLS.
func NewHandler(srv *coordinator.Server, resolve Resolver, opts Options) (string, http.Handler) {
	def := DefaultOptions()
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = def.Heartbeat
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = def.MaxWait
	}
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = def.ForwardTimeout
	}
	if opts.ResyncGrace <= 0 {
		opts.ResyncGrace = def.ResyncGrace
	}
	if opts.JoinRate <= 0 {
		opts.JoinRate = def.JoinRate
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		srv: srv, fsm: srv.Registry(), resolve: resolve, opts: opts, log: log.With("server", srv.ID()),
		joins: rate.NewLimiter(rate.Limit(opts.JoinRate), max(1, int(4*opts.JoinRate))),
	}
	path, hd := federationv1connect.NewRegistryServiceHandler(h, connect.WithReadMaxBytes(maxRequestBytes))
	return path, withIdentity(hd)
}

// ServerTLS returns the TLS configuration of the API listener: TLS 1.3,
// HTTP/2, cert as the server certificate, and client certificates verified
// if given (chain to pool, not revoked in rev, valid identity). Connections
// without a client certificate are accepted so that Join works; the handler
// refuses them every other method.
func ServerTLS(cert tls.Certificate, pool *x509.CertPool, rev trust.Revocations) *tls.Config {
	cfg := trust.ServerTLS(cert, pool, rev, trust.FederationPolicy)
	verify := cfg.VerifyConnection
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil // anonymous: Join only, enforced per method
		}
		return verify(cs)
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	return cfg
}

// withIdentity puts the verified peer identity, if any, into the context.
func withIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := trust.IdentityFromConnectionState(r.TLS); err == nil {
			r = r.WithContext(trust.ContextWithIdentity(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

type handler struct {
	srv     *coordinator.Server
	fsm     *registry.FSM
	resolve Resolver
	opts    Options
	log     *slog.Logger
	joins   *rate.Limiter
}

var _ federationv1connect.RegistryServiceHandler = (*handler)(nil)

func requireIdentity(ctx context.Context) (trust.Identity, error) {
	id, ok := trust.IdentityFromContext(ctx)
	if !ok {
		return trust.Identity{}, connect.NewError(connect.CodeUnauthenticated,
			errors.New("a federation client certificate is required for this call; get one with Join"))
	}
	return id, nil
}

// Apply implements RegistryServiceHandler.
func (h *handler) Apply(ctx context.Context, req *connect.Request[federationv1.ApplyRequest]) (*connect.Response[federationv1.ApplyResponse], error) {
	caller, err := requireIdentity(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := decodeApply(req.Msg)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	actor, forwarded := caller, false
	if req.Msg.OnBehalfOf != "" {
		if caller.Role != trust.RoleServer {
			return nil, connect.NewError(connect.CodePermissionDenied,
				fmt.Errorf("only coordination servers may write on behalf of others; %s is role %s", caller, caller.Role))
		}
		actor, err = trust.ParseIdentityURI(req.Msg.OnBehalfOf)
		if err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("on_behalf_of: %w", err))
		}
		forwarded = true
	}
	if err := cmd.Validate(); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if err := authorize(actor, cmd); err != nil {
		h.log.Info("write refused", "caller", caller.String(), "actor", actor.String(), "op", cmd.Op, "kind", cmd.Kind, "key", cmd.Key, "err", err)
		return nil, connect.NewError(connect.CodePermissionDenied, err)
	}
	res, err := h.apply(ctx, actor, cmd, forwarded)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&federationv1.ApplyResponse{
		Index: res.Index, Status: string(res.Status), ModifyIndex: res.ModifyIndex,
		Detail: res.Detail, Duplicate: res.Duplicate,
	}), nil
}

// decodeApply returns the request's command with its idempotency key settled.
func decodeApply(m *federationv1.ApplyRequest) (registry.Command, error) {
	cmd, err := registry.DecodeCommand(m.Command)
	if err != nil {
		return registry.Command{}, err
	}
	switch {
	case m.IdempotencyKey == "":
	case cmd.IdempotencyKey == "":
		cmd.IdempotencyKey = m.IdempotencyKey
	case cmd.IdempotencyKey != m.IdempotencyKey:
		return registry.Command{}, errors.New("idempotency_key differs from the command's key")
	}
	return cmd, nil
}

// apply applies cmd on the leader: locally when this server leads, else by
// forwarding, retrying with jittered backoff while there is no leader.
// Forwarded requests are never forwarded again; they fail with
// CodeUnavailable so that the forwarding server retries.
func (h *handler) apply(ctx context.Context, actor trust.Identity, cmd registry.Command, forwarded bool) (registry.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.ForwardTimeout)
	defer cancel()
	backoff := 10 * time.Millisecond
	var last error
	for {
		var res registry.Result
		var err error
		if h.srv.IsLeader() {
			res, err = h.applyLocal(ctx, actor, cmd)
		} else if forwarded {
			return registry.Result{}, connect.NewError(connect.CodeUnavailable, fmt.Errorf("server %s is not the leader", h.srv.ID()))
		} else {
			res, err = h.forward(ctx, actor, cmd)
		}
		if err == nil {
			return res, nil
		}
		if !retryable(err) {
			return registry.Result{}, toConnect(err)
		}
		last = err
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return registry.Result{}, connect.NewError(connect.CodeUnavailable,
				fmt.Errorf("no leader accepted the write in time; retry with the same idempotency key: %w", last))
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// applyLocal checks ownership against this (leader) server's state and
// applies cmd. Non-ok results are answers, not errors.
func (h *handler) applyLocal(ctx context.Context, actor trust.Identity, cmd registry.Command) (registry.Result, error) {
	cmd, err := h.checkOwner(actor, cmd)
	if err != nil {
		return registry.Result{}, err
	}
	res, err := h.srv.Apply(ctx, cmd)
	if err != nil && res.Status == "" {
		return registry.Result{}, err
	}
	return res, nil
}

// forward sends cmd to the leader this server knows of.
func (h *handler) forward(ctx context.Context, actor trust.Identity, cmd registry.Command) (registry.Result, error) {
	id, _ := h.srv.Leader()
	if id == "" || id == h.srv.ID() {
		return registry.Result{}, errNoLeader
	}
	if h.opts.Client == nil {
		return registry.Result{}, connect.NewError(connect.CodeUnavailable, errors.New("this server cannot forward writes (no client configured); send them to the leader"))
	}
	url, ok := h.resolve(id)
	if !ok {
		h.log.Warn("leader has no known API address", "leader", id)
		return registry.Result{}, errNoLeader
	}
	data, err := cmd.Encode()
	if err != nil {
		return registry.Result{}, err
	}
	c := federationv1connect.NewRegistryServiceClient(h.opts.Client, url)
	resp, err := c.Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{
		Command: data, IdempotencyKey: cmd.IdempotencyKey, OnBehalfOf: actor.String(),
	}))
	if err != nil {
		return registry.Result{}, err
	}
	m := resp.Msg
	return registry.Result{Index: m.Index, Status: registry.Status(m.Status), ModifyIndex: m.ModifyIndex, Detail: m.Detail, Duplicate: m.Duplicate}, nil
}

// errNoLeader is retried: an election or transfer is under way.
var errNoLeader = errors.New("no leader known")

// retryable reports whether another attempt may succeed with the same
// idempotency key.
func retryable(err error) bool {
	if errors.Is(err, errNoLeader) || errors.Is(err, coordinator.ErrNotLeader) ||
		errors.Is(err, coordinator.ErrUnknownOutcome) || errors.Is(err, coordinator.ErrClosed) ||
		errors.Is(err, registry.ErrClosed) {
		return true
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		switch ce.Code() {
		case connect.CodeUnavailable, connect.CodeAborted, connect.CodeCanceled:
			// Canceled: a leader that dies resets the connection; the
			// loop stops on this request's own context.
			return true
		}
	}
	return false
}

// toConnect maps an error of this package's dependencies to a Connect error.
func toConnect(err error) error {
	var ce *connect.Error
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, errDenied):
		return connect.NewError(connect.CodePermissionDenied, err)
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrTooLarge):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, registry.ErrNotFound):
		return connect.NewError(connect.CodeNotFound, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, registry.ErrClosed), errors.Is(err, coordinator.ErrClosed),
		errors.Is(err, coordinator.ErrNotLeader), errors.Is(err, coordinator.ErrUnknownOutcome):
		return connect.NewError(connect.CodeUnavailable, err)
	}
	return connect.NewError(connect.CodeInternal, err)
}

// readRequest is what GetRequest and ListRequest share.
type readRequest interface {
	GetKind() string
	GetConsistent() bool
	GetMinIndex() uint64
	GetWaitMs() uint32
}

// prepareRead does what Get and List share before they read: it checks the
// caller and the kind and then, for a consistent read, either waits for a
// Raft barrier (this server leads) or returns the leader's client to
// forward to; otherwise it blocks until min_index. Errors are Connect
// errors.
func (h *handler) prepareRead(ctx context.Context, msg readRequest, hdr http.Header) (registry.Kind, federationv1connect.RegistryServiceClient, error) {
	if _, err := requireIdentity(ctx); err != nil {
		return "", nil, err
	}
	kind := registry.Kind(msg.GetKind())
	if !kind.Valid() {
		return "", nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("unknown kind %q", msg.GetKind()))
	}
	if msg.GetConsistent() {
		leader, err := h.consistentRead(ctx, hdr)
		if err != nil {
			return "", nil, toConnect(err)
		}
		if leader != nil {
			return kind, leader, nil
		}
	}
	if err := h.wait(ctx, msg.GetMinIndex(), msg.GetWaitMs()); err != nil {
		return "", nil, toConnect(err)
	}
	return kind, nil, nil
}

// Get implements RegistryServiceHandler.
func (h *handler) Get(ctx context.Context, req *connect.Request[federationv1.GetRequest]) (*connect.Response[federationv1.GetResponse], error) {
	kind, leader, err := h.prepareRead(ctx, req.Msg, req.Header())
	if err != nil {
		return nil, err
	}
	if leader != nil {
		return leader.Get(ctx, forwardedRead(req.Msg))
	}
	var obj registry.Object
	var at uint64
	if h.fsm.Index() > 0 {
		obj, at, err = h.fsm.GetWait(ctx, kind, req.Msg.Key, 0)
	} else {
		obj, err = h.fsm.Get(kind, req.Msg.Key)
	}
	out := &federationv1.GetResponse{Index: at}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		if at == 0 {
			out.Index = h.fsm.Index()
		}
	case err != nil:
		return nil, toConnect(err)
	default:
		out.Object = objectToProto(obj)
	}
	return connect.NewResponse(out), nil
}

// List implements RegistryServiceHandler.
func (h *handler) List(ctx context.Context, req *connect.Request[federationv1.ListRequest]) (*connect.Response[federationv1.ListResponse], error) {
	kind, leader, err := h.prepareRead(ctx, req.Msg, req.Header())
	if err != nil {
		return nil, err
	}
	if leader != nil {
		return leader.List(ctx, forwardedRead(req.Msg))
	}
	var objs []registry.Object
	var at uint64
	if h.fsm.Index() > 0 {
		objs, at, err = h.fsm.ListWait(ctx, kind, 0)
	} else {
		objs, err = h.fsm.List(kind)
	}
	if err != nil {
		return nil, toConnect(err)
	}
	out := &federationv1.ListResponse{Index: at}
	for _, o := range objs {
		out.Objects = append(out.Objects, objectToProto(o))
	}
	return connect.NewResponse(out), nil
}

// forwardedReadHeader marks a consistent read a follower forwarded to the
// leader; it is not forwarded again (leadership moved meanwhile), so reads
// cannot bounce between servers.
const forwardedReadHeader = "Assistent-Forwarded-Read"

// consistentRead prepares a linearizable read. On the leader it passes a
// Raft barrier and returns a nil client: read the local registry. On a
// follower it returns a client for the leader, to which the caller sends
// the read. A forwarded read that reaches a server that no longer leads
// fails with Unavailable, and the caller retries.
func (h *handler) consistentRead(ctx context.Context, hdr http.Header) (federationv1connect.RegistryServiceClient, error) {
	if h.srv.IsLeader() {
		return nil, h.srv.Barrier(ctx)
	}
	if hdr.Get(forwardedReadHeader) != "" {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("this server no longer leads; retry the consistent read"))
	}
	id, _ := h.srv.Leader()
	url, ok := h.resolve(id)
	switch {
	case id == "" || !ok:
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("%w; retry the consistent read", errNoLeader))
	case h.opts.Client == nil:
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("this server cannot forward reads (no client configured); send consistent reads to the leader"))
	}
	return federationv1connect.NewRegistryServiceClient(h.opts.Client, url), nil
}

// forwardedRead wraps msg in a request marked as forwarded.
func forwardedRead[T any](msg *T) *connect.Request[T] {
	r := connect.NewRequest(msg)
	r.Header().Set(forwardedReadHeader, "1")
	return r
}

// wait blocks until the registry index exceeds minIndex, or the wait (capped
// at MaxWait) elapses; an elapsed wait is not an error, the read answers
// with the current state.
func (h *handler) wait(ctx context.Context, minIndex uint64, waitMs uint32) error {
	if minIndex == 0 {
		return nil
	}
	d := h.opts.MaxWait
	if waitMs > 0 {
		d = min(d, time.Duration(waitMs)*time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := h.fsm.WaitIndex(wctx, minIndex)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// Watch implements RegistryServiceHandler.
func (h *handler) Watch(ctx context.Context, req *connect.Request[federationv1.WatchRequest], stream *connect.ServerStream[federationv1.WatchResponse]) error {
	if _, err := requireIdentity(ctx); err != nil {
		return err
	}
	from := req.Msg.FromIndex
	own, theirs := h.fsm.ClusterID(), req.Msg.GetClusterId()
	switch {
	case from > 0 && own != "" && theirs != "" && own != theirs:
		// The caller's cache comes from another cluster (this one was
		// rebuilt, or the caller moved): replace it whole.
		h.log.Info("watcher comes from another cluster; sending a snapshot", "from", from, "cluster", own, "caller_cluster", theirs)
		from = 0
	default:
		var err error
		if from, err = h.catchUp(ctx, from, own != "" && own == theirs, stream); err != nil || ctx.Err() != nil {
			return err
		}
	}
	// An immediate heartbeat tells the caller it is connected. A heartbeat's
	// index is the one up to which this stream has sent every change; it
	// moves on without a batch when commands changed no object (blobs).
	w := h.fsm.Watch(from)
	if err := stream.Send(&federationv1.WatchResponse{Heartbeat: true, Index: w.Index(), ClusterId: h.fsm.ClusterID()}); err != nil {
		return err
	}
	for {
		nctx, cancel := context.WithTimeout(ctx, h.opts.Heartbeat)
		b, err := w.Next(nctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, context.DeadlineExceeded) {
				if err := stream.Send(&federationv1.WatchResponse{Heartbeat: true, Index: w.Index(), ClusterId: h.fsm.ClusterID()}); err != nil {
					return err
				}
				continue
			}
			return toConnect(err)
		}
		if err := sendBatch(stream, b, h.fsm.ClusterID()); err != nil {
			return err
		}
	}
}

// catchUp handles a caller that is ahead of this server. A follower that
// lags (typically during a failover, when the commit index reaches it only
// after the election) catches up within ResyncGrace; meanwhile heartbeats keep
// the stream alive. When the caller's cache is known to come from this
// cluster (sameCluster), a server that does not catch up in time only lags:
// the stream ends with Unavailable and the caller tries another server. When
// it is not known (a cache from before cluster ids), a server that does not
// catch up is taken to belong to a rebuilt cluster, and the caller gets a
// snapshot (from index 0); sending a snapshot to a caller that is merely
// ahead would move its cache back in time, so the grace is generous.
func (h *handler) catchUp(ctx context.Context, from uint64, sameCluster bool, stream *connect.ServerStream[federationv1.WatchResponse]) (uint64, error) {
	deadline := time.Now().Add(h.opts.ResyncGrace)
	for h.fsm.Index() < from {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			if sameCluster {
				return from, connect.NewError(connect.CodeUnavailable,
					fmt.Errorf("this server is at index %d, behind the caller's %d; try another server", h.fsm.Index(), from))
			}
			h.log.Info("watcher is ahead of this server; sending a snapshot", "from", from, "index", h.fsm.Index())
			return 0, nil
		}
		wctx, cancel := context.WithTimeout(ctx, min(remaining, h.opts.Heartbeat))
		_, err := h.fsm.WaitIndex(wctx, from-1)
		cancel()
		switch {
		case err == nil:
			return from, nil
		case ctx.Err() != nil:
			return from, nil
		case !errors.Is(err, context.DeadlineExceeded):
			return from, toConnect(err)
		}
		// The heartbeat's index is below the caller's, so it records nothing.
		if err := stream.Send(&federationv1.WatchResponse{Heartbeat: true, Index: h.fsm.Index(), ClusterId: h.fsm.ClusterID()}); err != nil {
			return from, err
		}
	}
	return from, nil
}

// sendBatch sends b in parts of about maxPartBytes.
func sendBatch(stream *connect.ServerStream[federationv1.WatchResponse], b registry.Batch, cluster string) error {
	msg := &federationv1.WatchResponse{Snapshot: b.Snapshot, Index: b.Index, ClusterId: cluster}
	size := 0
	for _, o := range b.Objects {
		n := len(o.Value) + len(o.Key) + 64
		if size > 0 && size+n > maxPartBytes {
			msg.More = true
			if err := stream.Send(msg); err != nil {
				return err
			}
			msg = &federationv1.WatchResponse{Snapshot: b.Snapshot, Index: b.Index, ClusterId: cluster}
			size = 0
		}
		msg.Objects = append(msg.Objects, objectToProto(o))
		size += n
	}
	return stream.Send(msg)
}

// GetBlob implements RegistryServiceHandler.
func (h *handler) GetBlob(ctx context.Context, req *connect.Request[federationv1.GetBlobRequest], stream *connect.ServerStream[federationv1.GetBlobResponse]) error {
	if _, err := requireIdentity(ctx); err != nil {
		return err
	}
	data, err := h.fsm.Blob(req.Msg.Sha256)
	if err != nil {
		return toConnect(err)
	}
	first := true
	for off := 0; off < len(data) || first; off += blobChunkSize {
		msg := &federationv1.GetBlobResponse{Data: data[off:min(off+blobChunkSize, len(data))]}
		if first {
			msg.Size, first = int64(len(data)), false
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

// Join implements RegistryServiceHandler. It needs no client certificate.
func (h *handler) Join(_ context.Context, req *connect.Request[federationv1.JoinRequest]) (*connect.Response[federationv1.JoinResponse], error) {
	if h.opts.Issuer == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("this server does not issue certificates; ask the operator which server does"))
	}
	if !h.joins.Allow() {
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("too many join requests; try again in a few seconds"))
	}
	cert, err := h.opts.Issuer.Redeem(req.Msg.Token, req.Msg.CsrPem)
	switch {
	case errors.Is(err, trust.ErrBadCSR):
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, trust.ErrTokenUnknown), errors.Is(err, trust.ErrTokenUsed), errors.Is(err, trust.ErrTokenExpired):
		h.log.Info("join refused", "err", err)
		return nil, connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("join token refused (%w); ask the operator for a new token", err))
	case err != nil:
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("issue certificate: %w", err))
	}
	return connect.NewResponse(&federationv1.JoinResponse{CertPem: cert, CaPem: h.opts.Issuer.CertPEM()}), nil
}

// Renew implements RegistryServiceHandler.
func (h *handler) Renew(ctx context.Context, req *connect.Request[federationv1.RenewRequest]) (*connect.Response[federationv1.RenewResponse], error) {
	id, err := requireIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if h.opts.Issuer == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("this server does not issue certificates; ask the operator which server does"))
	}
	if !h.joins.Allow() {
		return nil, connect.NewError(connect.CodeResourceExhausted, errors.New("too many certificate requests; try again in a few seconds"))
	}
	cert, err := h.opts.Issuer.Renew(id, req.Msg.CsrPem)
	switch {
	case errors.Is(err, trust.ErrBadCSR), errors.Is(err, trust.ErrInvalidIdentity):
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	case err != nil:
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("issue certificate: %w", err))
	}
	h.log.Info("certificate renewed", "member", id.String())
	return connect.NewResponse(&federationv1.RenewResponse{CertPem: cert, CaPem: h.opts.Issuer.CertPEM()}), nil
}

func objectToProto(o registry.Object) *federationv1.Object {
	return &federationv1.Object{
		Kind: string(o.Kind), Key: o.Key, Value: o.Value,
		CreateIndex: o.CreateIndex, ModifyIndex: o.ModifyIndex, Deleted: o.Deleted,
	}
}
