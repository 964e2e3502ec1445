package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/assistent-nl/assistent/federation/registry"
)

// Server is one running coordination server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	addr  string
	raft  *raft.Raft
	fsm   *registry.FSM
	store *raftboltdb.BoltStore
	trans *raft.NetworkTransport

	closeOnce sync.Once
	closeErr  error
	stop      chan struct{} // closed when the server shuts down
}

// Member is one server in the Raft configuration.
type Member struct {
	ID    string
	Addr  string
	Voter bool
}

// Open starts a coordination server: it opens the registry FSM and the Raft
// stores in cfg.DataDir, starts the transport and Raft, bootstraps a new
// cluster if cfg.Bootstrap is set and there is no state, and joins through
// cfg.Join if the server has no state yet (ctx bounds the join).
func Open(ctx context.Context, cfg Config) (s *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("server", cfg.ID)
	s = &Server{cfg: cfg, log: log, stop: make(chan struct{})}
	// The cleanups hold their own reference: a failed Open returns a nil s.
	self := s
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open coordinator: %w", err)
	}
	hlog := hclog.New(&hclog.LoggerOptions{
		Name: "raft", Level: hclog.Info, DisableTime: true, Output: &hclogWriter{log: log},
	})

	s.fsm, err = registry.Open(filepath.Join(cfg.DataDir, "registry.db"), cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("open coordinator: %w", err)
	}
	cleanup = append(cleanup, func() { self.fsm.Close() })

	s.store, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("open coordinator: raft store: %w", err)
	}
	cleanup = append(cleanup, func() { self.store.Close() })

	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("open coordinator: snapshot store: %w", err)
	}

	if cfg.StreamLayer != nil {
		s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: cfg.StreamLayer, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
		})
	} else {
		var adv net.Addr
		if cfg.AdvertiseAddr != "" {
			if adv, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr); err != nil {
				return nil, fmt.Errorf("open coordinator: advertise address: %w", err)
			}
		}
		s.trans, err = raft.NewTCPTransportWithLogger(cfg.BindAddr, adv, 3, 10*time.Second, hlog)
		if err != nil {
			return nil, fmt.Errorf("open coordinator: transport: %w", err)
		}
	}
	cleanup = append(cleanup, func() { self.trans.Close() })
	s.addr = string(s.trans.LocalAddr())

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.Logger = hlog

	hasState, err := raft.HasExistingState(s.store, s.store, snaps)
	if err != nil {
		return nil, fmt.Errorf("open coordinator: %w", err)
	}
	s.raft, err = raft.NewRaft(rc, s.fsm, s.store, s.store, snaps, s.trans)
	if err != nil {
		return nil, fmt.Errorf("open coordinator: raft: %w", err)
	}
	cleanup = append(cleanup, func() { self.raft.Shutdown().Error() })

	switch {
	case hasState:
		log.Info("coordinator resumed", "addr", s.addr, "index", s.fsm.Index())
	case cfg.Bootstrap:
		boot := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: raft.ServerAddress(s.addr)}}}
		if err := s.raft.BootstrapCluster(boot).Error(); err != nil {
			return nil, fmt.Errorf("open coordinator: bootstrap: %w", err)
		}
		log.Info("coordinator bootstrapped a new cluster", "addr", s.addr)
	case len(cfg.Join) > 0:
		// A leader hint may name a server outside the Join list; the
		// Joiner can reach any server.
		anyServer := func(string) bool { return true }
		err := retryLeader(ctx, cfg.Join, anyServer, func(ctx context.Context, server string) error {
			return cfg.Joiner(ctx, server, cfg.ID, s.addr)
		})
		if err != nil {
			return nil, fmt.Errorf("open coordinator: join: %w", err)
		}
		log.Info("coordinator joined", "addr", s.addr)
	}
	go s.initCluster()
	if cfg.APIURL != "" {
		go s.announce()
	}
	return s, nil
}

// announce records cfg.APIURL under this server's ID (kind server) whenever
// this server leads and the registry names another URL or none. It reacts
// to leadership changes at once, so a new leader's address is in the log
// right after its election and the followers forward writes to it; the
// ticker retries an announcement that did not commit.
func (s *Server) announce() {
	obs := make(chan raft.Observation, 1)
	o := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	s.raft.RegisterObserver(o)
	defer s.raft.DeregisterObserver(o)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if s.IsLeader() {
			if u, ok := s.APIURL(s.cfg.ID); !ok || u != s.cfg.APIURL {
				cmd, err := registry.Put(registry.Server{ID: s.cfg.ID, APIURL: s.cfg.APIURL})
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_, err = s.Apply(ctx, cmd)
					cancel()
				}
				if err != nil {
					s.log.Debug("API address not announced yet", "err", err)
				} else {
					s.log.Info("announced API address", "api_url", s.cfg.APIURL)
				}
			}
		}
		select {
		case <-s.stop:
			return
		case <-obs:
		case <-t.C:
		}
	}
}

// APIURL returns the API base URL that server id announced in this
// server's copy of the registry (see Config.APIURL), and whether there is
// one.
func (s *Server) APIURL(id string) (string, bool) {
	o, err := s.fsm.Get(registry.KindServer, id)
	if err != nil {
		return "", false
	}
	var v registry.Server
	if err := o.Decode(&v); err != nil || v.APIURL == "" {
		return "", false
	}
	return strings.TrimRight(v.APIURL, "/"), true
}

// initCluster gives a new registry its cluster id: the first leader that
// finds none applies one. Watchers compare it to tell a rebuilt cluster
// (full resync) from a server that lags (wait).
func (s *Server) initCluster() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.fsm.ClusterID() == "" {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if !s.IsLeader() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.Apply(ctx, registry.InitCluster(registry.NewClusterID())); err != nil {
			s.log.Debug("cluster id not applied yet", "err", err)
		}
		cancel()
	}
}

// ClusterID returns the registry's cluster id; "" until the first leader
// gave it one.
func (s *Server) ClusterID() string { return s.fsm.ClusterID() }

// ID returns the server's Raft ID.
func (s *Server) ID() string { return s.cfg.ID }

// Addr returns the server's advertised Raft address.
func (s *Server) Addr() string { return s.addr }

// Registry returns the server's registry FSM, for reads, blocking reads and
// watches. Writes go through Apply.
func (s *Server) Registry() *registry.FSM { return s.fsm }

// IsLeader reports whether this server believes it is the leader.
func (s *Server) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the ID and address of the leader as this server knows it;
// empty strings when there is none.
func (s *Server) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader waits until this server knows a leader and returns it. It
// checks every 10 ms; it is meant for startup and tests, not hot paths.
func (s *Server) WaitLeader(ctx context.Context) (id, addr string, err error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, addr = s.Leader(); addr != "" {
			return id, addr, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return "", "", fmt.Errorf("wait for leader: %w", ctx.Err())
		}
	}
}

func (s *Server) notLeader() error {
	id, addr := s.Leader()
	if id == s.cfg.ID {
		// Raft may still name us while stepping down.
		id, addr = "", ""
	}
	return &NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

func (s *Server) enqueueTimeout(ctx context.Context) time.Duration {
	d := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return max(d, time.Millisecond)
}

// Apply validates cmd, appends it to the Raft log and returns its Result once
// this server has applied it. A Result with a non-ok status also comes back as
// its Err (ErrConflict, ErrNotFound, ErrInvalid). Before the log it fails with
// registry.ErrInvalid or registry.ErrTooLarge; on a follower with a
// *NotLeaderError; with ErrUnknownOutcome when the command may or may not have
// been applied (retry it unchanged); with ErrClosed after Close.
func (s *Server) Apply(ctx context.Context, cmd registry.Command) (registry.Result, error) {
	if err := cmd.Validate(); err != nil {
		return registry.Result{}, err
	}
	data, err := cmd.Encode()
	if err != nil {
		return registry.Result{}, err
	}
	if !s.IsLeader() {
		return registry.Result{}, s.notLeader()
	}
	fut := s.raft.Apply(data, s.enqueueTimeout(ctx))
	if err := s.wait(ctx, fut); err != nil {
		return registry.Result{}, err
	}
	res, ok := fut.Response().(registry.Result)
	if !ok {
		return registry.Result{}, fmt.Errorf("apply: unexpected FSM response %T", fut.Response())
	}
	return res, res.Err()
}

// Barrier returns once this server, as leader, has applied every entry
// committed before the call: a read of its registry after Barrier is
// linearizable (the barrier goes through the quorum like a write, so a
// leader cut off from the majority cannot pass it). On a follower it fails
// with a *NotLeaderError.
func (s *Server) Barrier(ctx context.Context) error {
	if !s.IsLeader() {
		return s.notLeader()
	}
	return s.wait(ctx, s.raft.Barrier(s.enqueueTimeout(ctx)))
}

// wait waits for a Raft future and maps Raft's errors to this package's.
func (s *Server) wait(ctx context.Context, fut raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- fut.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, ctx.Err())
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return s.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return fmt.Errorf("raft: %w", err)
}

// Join adds the server id at Raft address addr as a voter. It must be called
// on the leader; elsewhere it returns a *NotLeaderError naming the leader.
// Adding a server that is already a voter at addr is a no-op.
func (s *Server) Join(ctx context.Context, id, addr string) error {
	if !s.IsLeader() {
		return s.notLeader()
	}
	fut := s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.enqueueTimeout(ctx))
	if err := s.wait(ctx, fut); err != nil {
		return fmt.Errorf("join %s at %s: %w", id, addr, err)
	}
	s.log.Info("server joined", "id", id, "addr", addr)
	return nil
}

// RemoveServer removes the server id from the cluster. It must be called on
// the leader; elsewhere it returns a *NotLeaderError naming the leader.
func (s *Server) RemoveServer(ctx context.Context, id string) error {
	if !s.IsLeader() {
		return s.notLeader()
	}
	fut := s.raft.RemoveServer(raft.ServerID(id), 0, s.enqueueTimeout(ctx))
	if err := s.wait(ctx, fut); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	s.log.Info("server removed", "id", id)
	return nil
}

// Members returns the current Raft configuration.
func (s *Server) Members() ([]Member, error) {
	fut := s.raft.GetConfiguration()
	if err := fut.Error(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	var out []Member
	for _, m := range fut.Configuration().Servers {
		out = append(out, Member{ID: string(m.ID), Addr: string(m.Address), Voter: m.Suffrage == raft.Voter})
	}
	return out, nil
}

// Snapshot makes Raft take a snapshot now and compact its log.
func (s *Server) Snapshot() error {
	if err := s.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// Close shuts the server down. A leader with other voters first hands
// leadership over (waiting at most TransferTimeout), so the cluster does not
// wait out an election timeout. Close is idempotent.
func (s *Server) Close() error {
	return s.shutdown(true)
}

func (s *Server) shutdown(transfer bool) error {
	s.closeOnce.Do(func() {
		close(s.stop)
		if transfer && s.IsLeader() && s.otherVoters() {
			fut := s.raft.LeadershipTransfer()
			done := make(chan error, 1)
			go func() { done <- fut.Error() }()
			select {
			case err := <-done:
				if err != nil {
					s.log.Warn("leadership transfer failed", "err", err)
				}
			case <-time.After(s.cfg.TransferTimeout):
				s.log.Warn("leadership transfer timed out")
			}
		}
		var errs []error
		if err := s.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft: %w", err))
		}
		if err := s.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("transport: %w", err))
		}
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("raft store: %w", err))
		}
		if err := s.fsm.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close coordinator %s: %w", s.cfg.ID, err)
		}
	})
	return s.closeErr
}

func (s *Server) otherVoters() bool {
	ms, err := s.Members()
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.Voter && m.ID != s.cfg.ID {
			return true
		}
	}
	return false
}

// hclogWriter forwards Raft's hclog lines to slog at their level.
type hclogWriter struct{ log *slog.Logger }

func (w *hclogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	for prefix, l := range map[string]slog.Level{
		"[ERROR]": slog.LevelError, "[WARN]": slog.LevelWarn, "[DEBUG]": slog.LevelDebug, "[TRACE]": slog.LevelDebug,
	} {
		if strings.HasPrefix(line, prefix) {
			level = l
			break
		}
	}
	line = strings.TrimSpace(line[strings.IndexByte(line, ']')+1:])
	w.log.Log(context.Background(), level, line, "component", "raft")
	return len(p), nil
}

var _ io.Writer = (*hclogWriter)(nil)
