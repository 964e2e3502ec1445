package gossip_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
)

// newKey returns a random AES-256 gossip key.
func newKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		tb.Fatal(err)
	}
	return k
}

// testConfig returns a loopback configuration with fast timing and a free port.
func testConfig(name string, keys ...[]byte) gossip.Config {
	return gossip.Config{
		Name:        name,
		Org:         "GM0363",
		Role:        trust.RoleNode,
		BindAddr:    "127.0.0.1",
		APIAddr:     "127.0.0.1:8443",
		Collections: []string{"nvvb-paspoort"},
		Topics:      []string{"afval"},
		Version:     "test",
		Keyring:     keys,
		Timing:      gossip.LocalTiming(),
	}
}

// start starts cfg's member and joins seeds; it is shut down on cleanup.
func start(tb testing.TB, cfg gossip.Config, seeds ...string) *gossip.Member {
	tb.Helper()
	m, err := gossip.Start(cfg)
	if err != nil {
		tb.Fatalf("start %s: %v", cfg.Name, err)
	}
	tb.Cleanup(func() { _ = m.Shutdown() })
	if len(seeds) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.Join(ctx, seeds); err != nil {
			tb.Fatalf("join %s: %v", cfg.Name, err)
		}
	}
	return m
}

// recorder keeps the events a member delivers.
type recorder struct {
	mu     sync.Mutex
	events []gossip.Event
}

func (r *recorder) add(e gossip.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// find returns the first event of type t about peer, if any.
func (r *recorder) find(t gossip.EventType, peer string) (gossip.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == t && e.Peer.Name == peer {
			return e, true
		}
	}
	return gossip.Event{}, false
}

// cluster starts n members named m0..m(n-1) with key, each recording its
// events, and waits until every member sees all n alive.
func cluster(tb testing.TB, n int, key []byte) ([]*gossip.Member, []*recorder) {
	tb.Helper()
	ms := make([]*gossip.Member, n)
	recs := make([]*recorder, n)
	for i := range n {
		recs[i] = &recorder{}
		cfg := testConfig(fmt.Sprintf("m%d", i), key)
		cfg.OnEvent = recs[i].add
		if i == 0 {
			ms[i] = start(tb, cfg)
		} else {
			ms[i] = start(tb, cfg, ms[0].Addr())
		}
	}
	waitFor(tb, 10*time.Second, "all members see each other", func() bool { return allSee(ms, n) })
	return ms, recs
}

// allSee reports whether every member counts n alive members.
func allSee(ms []*gossip.Member, n int) bool {
	for _, m := range ms {
		if m.NumAlive() != n {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peer returns the named peer in m's view.
func peer(m *gossip.Member, name string) (gossip.Peer, bool) {
	for _, p := range m.Members() {
		if p.Name == name {
			return p, true
		}
	}
	return gossip.Peer{}, false
}

// stateOf returns the named peer's state in m's view, or -1 when m does not
// know it.
func stateOf(m *gossip.Member, name string) gossip.State {
	if p, ok := peer(m, name); ok {
		return p.State
	}
	return -1
}
