// Package apitest starts real coordination clusters for tests: coordinator
// servers on 127.0.0.1 that speak Raft over mutual TLS and serve the Connect
// API (package api) with certificates from a fresh federation CA.
package apitest

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/api"
	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/trust"
)

// Org is the operator organisation the cluster's servers belong to.
const Org = "VNG"

// Options adjust a test cluster. Zero fields take fast loopback defaults.
type Options struct {
	// Heartbeat is the watch heartbeat interval (default 200 ms).
	Heartbeat time.Duration
	// ResyncGrace is api.Options.ResyncGrace (default 2 s).
	ResyncGrace time.Duration
	// CA is the federation CA; nil creates a new one. Two clusters that
	// share a CA accept the same client certificates.
	CA *trust.CA
	// Revoked is consulted on every handshake; nil creates a new set.
	Revoked *trust.RevocationSet
	// Announced makes the servers find each other's API only through the
	// registry (coordinator.Config.APIURL and api.AnnouncedResolver), as
	// the coordinator command does, instead of through a static map.
	Announced bool
	// ServerErrors receives the API servers' error log (refused TLS
	// handshakes among them); nil discards it.
	ServerErrors io.Writer
}

// Cluster is a running set of coordination servers.
type Cluster struct {
	tb      testing.TB
	CA      *trust.CA
	Revoked *trust.RevocationSet
	Servers []*Server
}

// Server is one coordination server of a Cluster with its API.
type Server struct {
	ID    string
	Coord *coordinator.Server
	// URL is the base URL of the server's Connect API.
	URL string

	http  *http.Server
	raft  *severable
	mu    sync.Mutex
	alive bool
}

// StartCluster starts n servers: the first bootstraps, the others join it.
// Every server's API forwards writes with its own server certificate. The
// cluster is killed at the end of the test.
func StartCluster(tb testing.TB, n int, opts Options) *Cluster {
	tb.Helper()
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 200 * time.Millisecond
	}
	if opts.ResyncGrace == 0 {
		opts.ResyncGrace = 2 * time.Second
	}
	c := &Cluster{tb: tb, CA: opts.CA, Revoked: opts.Revoked}
	if c.CA == nil {
		ca, err := trust.NewCA("test federation", time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		c.CA = ca
	}
	if c.Revoked == nil {
		c.Revoked = trust.NewRevocationSet()
	}
	tb.Cleanup(func() {
		for i := range c.Servers {
			c.Kill(i)
		}
	})
	// Listen first, so that every API knows every other's URL.
	urls := map[string]string{}
	apiLns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		apiLns[i] = ln
		urls[serverID(i)] = "https://" + ln.Addr().String()
	}
	static := api.StaticResolver(urls)
	for i := range n {
		id := serverID(i)
		cert := c.Cert(tb, Org, trust.RoleServer, id)
		rln, err := tls.Listen("tcp", "127.0.0.1:0", trust.ServerTLS(cert, c.CA.Pool(), c.Revoked, trust.RaftPolicy))
		if err != nil {
			tb.Fatal(err)
		}
		sev := &severable{Listener: rln, conns: map[net.Conn]struct{}{}}
		dialer := &tls.Dialer{Config: trust.ClientTLS(cert, c.CA.Pool(), c.Revoked, trust.RaftPolicy)}
		cfg := coordinator.DefaultConfig()
		cfg.ID = id
		cfg.DataDir = tb.TempDir()
		cfg.StreamLayer = coordinator.NewStreamLayer(sev, sev.dial(dialer))
		cfg.Bootstrap = i == 0
		cfg.HeartbeatTimeout = 300 * time.Millisecond
		cfg.ElectionTimeout = 300 * time.Millisecond
		cfg.LeaderLeaseTimeout = 150 * time.Millisecond
		cfg.CommitTimeout = 5 * time.Millisecond
		cfg.TransferTimeout = 500 * time.Millisecond
		if testing.Verbose() && os.Getenv("COORDINATOR_LOG") != "" {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		resolve := static
		if opts.Announced {
			cfg.APIURL = urls[id]
		}
		coord, err := coordinator.Open(tb.Context(), cfg)
		if err != nil {
			tb.Fatalf("open %s: %v", id, err)
		}
		if opts.Announced {
			resolve = api.AnnouncedResolver(coord, nil)
		}
		path, h := api.NewHandler(coord, resolve, api.Options{
			Client:      c.HTTPClient(tb, cert),
			Issuer:      c.CA,
			Heartbeat:   opts.Heartbeat,
			ResyncGrace: opts.ResyncGrace,
			Logger:      cfg.Logger,
		})
		mux := http.NewServeMux()
		mux.Handle(path, h)
		hs := &http.Server{Handler: mux, TLSConfig: api.ServerTLS(cert, c.CA.Pool(), c.Revoked), ErrorLog: log.New(cmp.Or(opts.ServerErrors, io.Discard), "", 0)}
		go hs.ServeTLS(apiLns[i], "", "")
		s := &Server{ID: id, Coord: coord, URL: urls[id], http: hs, raft: sev, alive: true}
		c.Servers = append(c.Servers, s)
		if i == 0 {
			// The first leader gives the registry its cluster id; tests
			// that count indexes start after it.
			l := c.Leader()
			for deadline := time.Now().Add(10 * time.Second); l.Coord.ClusterID() == ""; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					tb.Fatal("no cluster id within 10s")
				}
			}
			continue
		}
		ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
		if err := c.Leader().Coord.Join(ctx, id, coord.Addr()); err != nil {
			tb.Fatalf("join %s: %v", id, err)
		}
		cancel()
	}
	return c
}

func serverID(i int) string { return fmt.Sprintf("s%d", i+1) }

// URLs returns the API URLs of all servers, running or not.
func (c *Cluster) URLs() []string {
	var out []string
	for _, s := range c.Servers {
		out = append(out, s.URL)
	}
	return out
}

// Leader waits up to 10 s for a running server that leads and returns it.
func (c *Cluster) Leader() *Server {
	c.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Servers {
			if s.Alive() && s.Coord.IsLeader() {
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatal("no leader within 10s")
	return nil
}

// Follower returns a running server that does not lead.
func (c *Cluster) Follower() *Server {
	c.tb.Helper()
	l := c.Leader()
	for _, s := range c.Servers {
		if s != l && s.Alive() {
			return s
		}
	}
	c.tb.Fatal("no running follower")
	return nil
}

// Alive reports whether the server runs.
func (s *Server) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alive
}

// Kill stops server i as a crash would: its Raft connections are cut first
// (so it cannot hand leadership over), then its API connections, then the
// coordinator shuts down. Killing a stopped server does nothing.
func (c *Cluster) Kill(i int) {
	s := c.Servers[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.alive {
		return
	}
	s.alive = false
	s.raft.sever()
	s.http.Close()
	s.Coord.Close()
}

// Cert issues a one-hour certificate for org, role and node.
func (c *Cluster) Cert(tb testing.TB, org string, role trust.Role, node string) tls.Certificate {
	tb.Helper()
	cert, err := c.CA.IssueKeyPair(trust.Identity{Org: org, Role: role, Node: node}, time.Hour, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// HTTPClient returns an HTTP/2 client that presents cert and accepts only
// coordination servers of this cluster's CA.
func (c *Cluster) HTTPClient(tb testing.TB, cert tls.Certificate) *http.Client {
	tb.Helper()
	tr := &http.Transport{
		TLSClientConfig:   trust.ClientTLS(cert, c.CA.Pool(), c.Revoked, trust.AllowRoles(trust.RoleServer)),
		ForceAttemptHTTP2: true,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// severable is a Raft listener whose connections, accepted and dialled, can
// all be cut at once, as a crash would.
type severable struct {
	net.Listener
	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

var errSevered = errors.New("severed")

func (s *severable) track(c net.Conn) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		c.Close()
		return nil, errSevered
	}
	s.conns[c] = struct{}{}
	return c, nil
}

// Accept implements net.Listener.
func (s *severable) Accept() (net.Conn, error) {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c, err := s.track(c); err == nil {
			return c, nil
		}
	}
}

func (s *severable) dial(d *tls.Dialer) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return s.track(c)
	}
}

func (s *severable) sever() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = true
	for c := range s.conns {
		c.Close()
	}
}
