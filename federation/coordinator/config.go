// Package coordinator is one coordination server of the federation: a
// hashicorp/raft member that replicates the registry (package registry) with
// the other 2-4 servers VNG runs. Gemeente nodes never join Raft; they read the
// registry through watches (served later over Connect).
//
// The Raft transport is plain TCP unless Config.StreamLayer is set; that seam
// is where mutual TLS wraps the listener and the dialer.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/raft"

	"github.com/assistent-nl/assistent/federation/registry"
)

// JoinFunc asks the coordination server at the Raft address server to add
// this server (id, its Raft address addr) as a voter. It returns a
// *NotLeaderError when server is not the leader. The Connect client
// implements it later; a Server's own Join method is the leader side.
type JoinFunc func(ctx context.Context, server, id, addr string) error

// Config configures one coordination server.
type Config struct {
	// ID is the server's Raft ID; stable across restarts.
	ID string
	// DataDir holds raft.db (log and stable store), registry.db (the FSM)
	// and snapshots/.
	DataDir string
	// BindAddr is the TCP address Raft listens on when StreamLayer is nil.
	BindAddr string
	// AdvertiseAddr is the address other servers dial; empty means the
	// listener's own address. Ignored when StreamLayer is set.
	AdvertiseAddr string
	// StreamLayer, when set, carries Raft instead of plain TCP (the seam for
	// mTLS; see NewStreamLayer). Its Addr is the advertised address.
	StreamLayer raft.StreamLayer

	// Bootstrap makes this server found a new cluster of one if it has no
	// Raft state yet. Exactly one server of a new cluster sets it.
	Bootstrap bool
	// Join lists Raft addresses of existing servers; a server without Raft
	// state asks them (through Joiner) to add it, following leader hints.
	Join []string
	// Joiner performs a join request; required when Join is set.
	Joiner JoinFunc

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout are Raft's
	// failure-detection timeouts; a new leader follows a crash after roughly
	// HeartbeatTimeout to 2*HeartbeatTimeout plus an election.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// CommitTimeout bounds how long the leader waits before sending an
	// empty heartbeat-append, which also bounds follower commit lag.
	CommitTimeout time.Duration
	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; SnapshotInterval is how often that is checked.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries stay in the log after a snapshot, so
	// slightly lagging followers catch up without a snapshot install.
	TrailingLogs uint64
	// ApplyTimeout bounds how long Apply and Join wait to enqueue into Raft
	// when the context has no earlier deadline.
	ApplyTimeout time.Duration
	// TransferTimeout bounds how long Close on the leader waits for the
	// leadership transfer.
	TransferTimeout time.Duration

	// APIURL is the base URL (https://host:port) of this server's registry
	// API. When set, the server records it in the registry (kind server)
	// each time it becomes the leader, so that the other servers forward
	// writes to it without being told its address. Empty: not announced.
	APIURL string

	// Registry bounds the FSM's idempotency and history windows; it must be
	// equal on every server.
	Registry registry.Options
	// Logger receives the server's and Raft's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns production defaults: Raft's own timeouts (1 s
// heartbeat and election, a failover of about 2-3 s), a snapshot every 8192
// entries and the registry's default windows. ID and DataDir must still be set.
func DefaultConfig() Config {
	rc := raft.DefaultConfig()
	return Config{
		BindAddr:           "127.0.0.1:8300",
		HeartbeatTimeout:   rc.HeartbeatTimeout,
		ElectionTimeout:    rc.ElectionTimeout,
		LeaderLeaseTimeout: rc.LeaderLeaseTimeout,
		CommitTimeout:      rc.CommitTimeout,
		SnapshotThreshold:  rc.SnapshotThreshold,
		SnapshotInterval:   rc.SnapshotInterval,
		TrailingLogs:       rc.TrailingLogs,
		ApplyTimeout:       5 * time.Second,
		TransferTimeout:    3 * time.Second,
		Registry:           registry.DefaultOptions(),
	}
}

// Validate reports the first field that is unusable, by its name.
func (c Config) Validate() error {
	field := func(name, msg string) error { return fmt.Errorf("coordinator.%s: %s", name, msg) }
	switch {
	case c.ID == "":
		return field("id", "required")
	case c.DataDir == "":
		return field("data_dir", "required")
	case c.StreamLayer == nil && c.BindAddr == "":
		return field("bind_addr", "required without a stream layer")
	case len(c.Join) > 0 && c.Joiner == nil:
		return field("joiner", "required when join is set")
	case c.Bootstrap && len(c.Join) > 0:
		return field("join", "must be empty when bootstrap is set")
	case c.HeartbeatTimeout < 5*time.Millisecond:
		return field("heartbeat_timeout", "must be >= 5ms")
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return field("election_timeout", "must be >= heartbeat_timeout")
	case c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return field("leader_lease_timeout", "must be >= 5ms and <= heartbeat_timeout")
	case c.CommitTimeout <= 0:
		return field("commit_timeout", "must be > 0")
	case c.SnapshotThreshold == 0 || c.SnapshotInterval <= 0:
		return field("snapshot_threshold", "threshold and interval must be > 0")
	case c.ApplyTimeout <= 0 || c.TransferTimeout <= 0:
		return field("apply_timeout", "apply and transfer timeouts must be > 0")
	case c.APIURL != "" && (registry.Server{ID: c.ID, APIURL: c.APIURL}).Validate() != nil:
		return field("api_url", "must be https://host:port")
	}
	if c.StreamLayer == nil {
		if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
			return field("bind_addr", "must be host:port")
		}
		if c.AdvertiseAddr != "" {
			if _, _, err := net.SplitHostPort(c.AdvertiseAddr); err != nil {
				return field("advertise_addr", "must be host:port")
			}
		}
	}
	return nil
}

// NewStreamLayer builds a raft.StreamLayer from a listener and a dial
// function, so that mutual TLS can wrap both (tls.NewListener, tls.Dialer)
// without this package knowing about certificates. Raft advertises ln.Addr().
func NewStreamLayer(ln net.Listener, dial func(ctx context.Context, addr string) (net.Conn, error)) raft.StreamLayer {
	return &streamLayer{Listener: ln, dial: dial}
}

type streamLayer struct {
	net.Listener
	dial func(ctx context.Context, addr string) (net.Conn, error)
}

// Dial connects to a Raft peer within timeout.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.dial(ctx, string(addr))
}

// ErrNotLeader is wrapped by *NotLeaderError: the call must go to the leader.
var ErrNotLeader = errors.New("coordinator: not the leader")

// ErrUnknownOutcome is returned (wrapped) when a command may or may not have
// been applied: leadership was lost while committing, or the caller's context
// ended first. Retrying the same command (same idempotency key) is safe.
var ErrUnknownOutcome = errors.New("coordinator: outcome unknown")

// ErrClosed is returned (wrapped) by a server that is shut down.
var ErrClosed = errors.New("coordinator: server closed")

// NotLeaderError says that this server is not the leader and, if it knows,
// which server is. It wraps ErrNotLeader.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

// Error names the leader if known.
func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return "coordinator: not the leader; no leader known"
	}
	return fmt.Sprintf("coordinator: not the leader; leader is %s at %s", e.LeaderID, e.LeaderAddr)
}

// Unwrap returns ErrNotLeader.
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }
