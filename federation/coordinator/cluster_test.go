package coordinator_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
)

// testConfig returns a config with timeouts for loopback tests: a crashed
// leader is replaced in well under a second.
func testConfig(tb testing.TB, id string) coordinator.Config {
	tb.Helper()
	cfg := coordinator.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = tb.TempDir()
	cfg.BindAddr = "127.0.0.1:0"
	cfg.HeartbeatTimeout = 300 * time.Millisecond
	cfg.ElectionTimeout = 300 * time.Millisecond
	cfg.LeaderLeaseTimeout = 150 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.TransferTimeout = 2 * time.Second
	if testing.Verbose() && os.Getenv("COORDINATOR_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return cfg
}

// cluster is a set of real servers on 127.0.0.1, in process.
type cluster struct {
	tb      testing.TB
	cfgs    []coordinator.Config
	servers []*coordinator.Server // nil when stopped
}

// startCluster starts n servers: the first bootstraps, the others join
// through the leader. mod, if set, adjusts every config.
func startCluster(tb testing.TB, n int, mod func(*coordinator.Config)) *cluster {
	tb.Helper()
	c := &cluster{tb: tb}
	tb.Cleanup(func() {
		for _, s := range c.servers {
			if s != nil {
				s.Kill()
			}
		}
	})
	for i := range n {
		cfg := testConfig(tb, fmt.Sprintf("s%d", i+1))
		cfg.Bootstrap = i == 0
		if mod != nil {
			mod(&cfg)
		}
		s, err := coordinator.Open(tb.Context(), cfg)
		if err != nil {
			tb.Fatalf("open %s: %v", cfg.ID, err)
		}
		cfg.BindAddr = s.Addr() // a restart reuses the address
		c.cfgs = append(c.cfgs, cfg)
		c.servers = append(c.servers, s)
		if i == 0 {
			// The first leader gives the registry its cluster id; tests
			// that count log indexes start after it.
			l := c.leader()
			for deadline := time.Now().Add(10 * time.Second); l.ClusterID() == ""; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					tb.Fatal("no cluster id after 10 s")
				}
			}
			continue
		}
		ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
		if err := c.leader().Join(ctx, cfg.ID, s.Addr()); err != nil {
			tb.Fatalf("join %s: %v", cfg.ID, err)
		}
		cancel()
	}
	return c
}

// leader waits up to 10 s for a running server that is leader.
func (c *cluster) leader() *coordinator.Server {
	c.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.servers {
			if s != nil && s.IsLeader() {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.tb.Fatal("no leader within 10s")
	return nil
}

func (c *cluster) index(s *coordinator.Server) int {
	for i, x := range c.servers {
		if x == s {
			return i
		}
	}
	c.tb.Fatal("server not in cluster")
	return -1
}

func (c *cluster) kill(i int) {
	c.tb.Helper()
	if err := c.servers[i].Kill(); err != nil {
		c.tb.Fatalf("kill %s: %v", c.cfgs[i].ID, err)
	}
	c.servers[i] = nil
}

func (c *cluster) restart(i int) *coordinator.Server {
	c.tb.Helper()
	cfg := c.cfgs[i]
	cfg.Bootstrap = false
	s, err := coordinator.Open(c.tb.Context(), cfg)
	if err != nil {
		c.tb.Fatalf("restart %s: %v", cfg.ID, err)
	}
	c.servers[i] = s
	return s
}

// appliers returns the running servers keyed by Raft address, for Do.
func (c *cluster) appliers() coordinator.Servers {
	out := coordinator.Servers{}
	for _, s := range c.servers {
		if s != nil {
			out[s.Addr()] = s
		}
	}
	return out
}

// do writes through Do, retrying across the running servers.
func (c *cluster) do(cmd registry.Command) registry.Result {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(c.tb.Context(), 10*time.Second)
	defer cancel()
	res, err := coordinator.Do(ctx, c.appliers(), cmd)
	if err != nil {
		c.tb.Fatalf("do: %v", err)
	}
	return res
}

// waitReplicated waits until every running server has applied index.
func (c *cluster) waitReplicated(index uint64) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(c.tb.Context(), 10*time.Second)
	defer cancel()
	for _, s := range c.servers {
		if s == nil {
			continue
		}
		if _, err := s.Registry().WaitIndex(ctx, index-1); err != nil {
			c.tb.Fatalf("%s did not reach index %d (at %d): %v", s.ID(), index, s.Registry().Index(), err)
		}
	}
}

// state returns every object a server holds, by kind.
func state(tb testing.TB, s *coordinator.Server) map[registry.Kind][]registry.Object {
	tb.Helper()
	out := map[registry.Kind][]registry.Object{}
	for _, k := range registry.Kinds() {
		objs, err := s.Registry().List(k)
		if err != nil {
			tb.Fatal(err)
		}
		out[k] = objs
	}
	return out
}

func put(tb testing.TB, v registry.Value) registry.Command {
	tb.Helper()
	cmd, err := registry.Put(v)
	if err != nil {
		tb.Fatal(err)
	}
	return cmd
}

func setting(name, value string) registry.Setting { return registry.Setting{Name: name, Value: value} }
