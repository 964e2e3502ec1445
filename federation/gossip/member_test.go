package gossip_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
)

func TestConfig_Validate(t *testing.T) {
	key := newKey(t)
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("collection-with-a-long-name-%02d", i)
	}
	tests := []struct {
		name  string
		edit  func(*gossip.Config)
		field string
	}{
		{"valid", func(*gossip.Config) {}, ""},
		{"name", func(c *gossip.Config) { c.Name = "Node 1" }, "gossip.name"},
		{"org", func(c *gossip.Config) { c.Org = "gm0363" }, "gossip.org"},
		{"role", func(c *gossip.Config) { c.Role = "admin" }, "gossip.role"},
		{"bind addr", func(c *gossip.Config) { c.BindAddr = "localhost" }, "gossip.bind_addr"},
		{"bind port", func(c *gossip.Config) { c.BindPort = 70000 }, "gossip.bind_port"},
		{"api addr", func(c *gossip.Config) { c.APIAddr = "nohost" }, "gossip.api_addr"},
		{"no key", func(c *gossip.Config) { c.Keyring = nil }, "gossip.keyring"},
		{"short key", func(c *gossip.Config) { c.Keyring = [][]byte{key, make([]byte, 20)} }, "gossip.keyring[1]"},
		{"seed", func(c *gossip.Config) { c.Seeds = []string{"127.0.0.1"} }, "gossip.seeds[0]"},
		{"empty collection", func(c *gossip.Config) { c.Collections = []string{""} }, "gossip.collections"},
		{"probe timeout", func(c *gossip.Config) { c.Timing.ProbeTimeout = c.Timing.ProbeInterval }, "gossip.timing.probe_timeout"},
		{"meta too large", func(c *gossip.Config) { c.Collections = long }, "gossip.collections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("node-1", key)
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Fatalf("Validate = %v, want an error for %s", err, tt.field)
			}
		})
	}
	cfg := testConfig("node-1", key)
	cfg.Collections = long
	err := cfg.Validate()
	if !errors.Is(err, gossip.ErrMetaTooLarge) || !strings.Contains(err.Error(), "limit is 512") {
		t.Fatalf("Validate with 40 long collections = %v, want ErrMetaTooLarge naming the limit", err)
	}
	if _, err := gossip.Start(cfg); !errors.Is(err, gossip.ErrMetaTooLarge) {
		t.Fatalf("Start with too large metadata = %v, want ErrMetaTooLarge", err)
	}
}

func TestJoin_MetadataVisibleOnEveryMember(t *testing.T) {
	key := newKey(t)
	cfgs := []gossip.Config{testConfig("server-1", key), testConfig("node-a", key), testConfig("node-b", key)}
	cfgs[0].Org, cfgs[0].Role, cfgs[0].APIAddr = "VNG", trust.RoleServer, "127.0.0.1:7001"
	cfgs[0].Collections, cfgs[0].Topics = nil, nil
	cfgs[1].APIAddr, cfgs[1].Version = "127.0.0.1:7002", "1.4.0"
	cfgs[1].Collections = []string{"nvvb-rijbewijs", "nvvb-paspoort", "nvvb-rijbewijs"}
	cfgs[2].Org, cfgs[2].APIAddr, cfgs[2].Topics = "GM0119", "127.0.0.1:7003", []string{"parkeren", "afval"}

	first, err := gossip.Join(context.Background(), cfgs[0]) // no seeds: starts alone
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Shutdown() })
	if strings.HasSuffix(first.Addr(), ":0") || !strings.HasPrefix(first.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %q, want the bound loopback port", first.Addr())
	}
	ms := []*gossip.Member{first}
	for _, cfg := range cfgs[1:] {
		cfg.Seeds = []string{first.Addr()}
		m, err := gossip.Join(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		ms = append(ms, m)
	}
	waitFor(t, 10*time.Second, "all see 3 alive", func() bool { return allSee(ms, 3) })

	for _, viewer := range ms {
		for i, cfg := range cfgs {
			p, ok := peer(viewer, cfg.Name)
			if !ok {
				t.Fatalf("%s does not see %s", viewer.Name(), cfg.Name)
			}
			want := gossip.Peer{
				Name: cfg.Name, Org: cfg.Org, Role: cfg.Role, Addr: ms[i].Addr(), APIAddr: cfg.APIAddr,
				Collections: sortedSet(cfg.Collections), Topics: sortedSet(cfg.Topics), Version: cfg.Version,
			}
			got := p
			got.State, got.StateChange, got.RTT, got.LastSeen = 0, time.Time{}, 0, time.Time{}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s sees %s as\n %+v, want\n %+v", viewer.Name(), cfg.Name, got, want)
			}
			if p.State != gossip.StateAlive || p.LastSeen.IsZero() {
				t.Errorf("%s sees %s %v, last seen %v; want alive and seen", viewer.Name(), cfg.Name, p.State, p.LastSeen)
			}
			if p.Identity() != (trust.Identity{Org: cfg.Org, Role: cfg.Role, Node: cfg.Name}) {
				t.Errorf("Identity = %v", p.Identity())
			}
		}
	}
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func TestJoin_WrongKeyIsKeptOut(t *testing.T) {
	ms, _ := cluster(t, 2, newKey(t))

	cfg := testConfig("intruder", newKey(t))
	cfg.Seeds = []string{ms[0].Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m, err := gossip.Join(ctx, cfg); err == nil {
		_ = m.Shutdown()
		t.Fatal("Join with a wrong key succeeded")
	}

	// Keep one running that tries again, and give gossip time to leak.
	outsider := start(t, cfg)
	if _, err := outsider.Join(ctx, []string{ms[0].Addr(), ms[1].Addr()}); err == nil {
		t.Fatal("Member.Join with a wrong key succeeded")
	}
	time.Sleep(10 * gossip.LocalTiming().ProbeInterval)
	if got := outsider.Members(); len(got) != 1 || got[0].Name != "intruder" {
		t.Errorf("outsider sees %v, want only itself", names(got))
	}
	for _, m := range ms {
		if _, ok := peer(m, "intruder"); ok || m.NumAlive() != 2 {
			t.Errorf("%s sees %v, want m0 and m1 only", m.Name(), names(m.Members()))
		}
	}
}

func names(ps []gossip.Peer) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.State.String())
	}
	return out
}

func TestMember_KilledMemberFails(t *testing.T) {
	ms, recs := cluster(t, 3, newKey(t))
	if err := ms[2].Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "m0 and m1 see m2 dead and report it", func() bool {
		_, fail0 := recs[0].find(gossip.EventFail, "m2")
		_, fail1 := recs[1].find(gossip.EventFail, "m2")
		return fail0 && fail1 && stateOf(ms[0], "m2") == gossip.StateDead && stateOf(ms[1], "m2") == gossip.StateDead
	})
	var suspects int
	for i, r := range recs[:2] {
		fail, ok := r.find(gossip.EventFail, "m2")
		if !ok {
			t.Errorf("m%d got no fail event for m2", i)
		}
		if _, ok := r.find(gossip.EventLeave, "m2"); ok {
			t.Errorf("m%d got a leave event for a killed member", i)
		}
		if s, ok := r.find(gossip.EventSuspect, "m2"); ok {
			suspects++
			if s.At.After(fail.At) {
				t.Errorf("m%d: suspect at %v after fail at %v", i, s.At, fail.At)
			}
		}
	}
	if suspects == 0 {
		t.Error("no member reported m2 suspect before it was declared dead")
	}
	if n := ms[0].NumAlive(); n != 2 {
		t.Errorf("m0 counts %d alive, want 2", n)
	}
	if _, err := ms[2].Join(context.Background(), []string{ms[0].Addr()}); !errors.Is(err, gossip.ErrClosed) {
		t.Errorf("Join after Shutdown = %v, want ErrClosed", err)
	}
	if err := ms[2].Leave(time.Second); !errors.Is(err, gossip.ErrClosed) {
		t.Errorf("Leave after Shutdown = %v, want ErrClosed", err)
	}
}

func TestMember_LeaveShowsAsLeft(t *testing.T) {
	ms, recs := cluster(t, 3, newKey(t))
	if err := ms[2].Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := ms[2].Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "m0 and m1 see m2 left and report it", func() bool {
		_, left0 := recs[0].find(gossip.EventLeave, "m2")
		_, left1 := recs[1].find(gossip.EventLeave, "m2")
		return left0 && left1 && stateOf(ms[0], "m2") == gossip.StateLeft && stateOf(ms[1], "m2") == gossip.StateLeft
	})
	for i, r := range recs[:2] {
		if _, ok := r.find(gossip.EventLeave, "m2"); !ok {
			t.Errorf("m%d got no leave event for m2", i)
		}
		if _, ok := r.find(gossip.EventFail, "m2"); ok {
			t.Errorf("m%d got a fail event for a member that left", i)
		}
	}
	if got := ms[0].Nearest(0, nil); len(got) != 1 || got[0].Name != "m1" {
		t.Errorf("Nearest after leave = %v, want m1 only", names(got))
	}
}

// A member whose leaving notice arrived is reported as left, even when the
// gossiped leaving flag did not reach the others before it went.
func TestMember_LeavingNoticeShowsAsLeft(t *testing.T) {
	ms, recs := cluster(t, 3, newKey(t))
	ms[2].SendLeavingNotice()
	time.Sleep(5 * gossip.LocalTiming().GossipInterval) // UDP on loopback
	if err := ms[2].Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "m0 and m1 see m2 left", func() bool {
		return stateOf(ms[0], "m2") == gossip.StateLeft && stateOf(ms[1], "m2") == gossip.StateLeft
	})
	for i, r := range recs[:2] {
		if _, ok := r.find(gossip.EventFail, "m2"); ok {
			t.Errorf("m%d got a fail event for a member that said it leaves", i)
		}
	}
}

func TestMember_UpdateMetaPropagates(t *testing.T) {
	ms, recs := cluster(t, 3, newKey(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ms[0].UpdateMeta(ctx, []string{"nvvb-rijbewijs", "nvvb-paspoort"}, []string{"wmo"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"nvvb-paspoort", "nvvb-rijbewijs"}
	for i, m := range ms {
		waitFor(t, 5*time.Second, m.Name()+" sees m0's new collections", func() bool {
			p, _ := peer(m, "m0")
			return slices.Equal(p.Collections, want) && slices.Equal(p.Topics, []string{"wmo"})
		})
		if i == 0 {
			continue
		}
		waitFor(t, 2*time.Second, m.Name()+" got an update event", func() bool {
			e, ok := recs[i].find(gossip.EventUpdate, "m0")
			return ok && slices.Equal(e.Peer.Collections, want)
		})
	}

	huge := make([]string, 60)
	for i := range huge {
		huge[i] = fmt.Sprintf("a-collection-name-that-is-long-%03d", i)
	}
	if err := ms[0].UpdateMeta(ctx, huge, nil); !errors.Is(err, gossip.ErrMetaTooLarge) {
		t.Fatalf("UpdateMeta with %d collections = %v, want ErrMetaTooLarge", len(huge), err)
	}
	if got := ms[0].Local().Collections; !slices.Equal(got, want) {
		t.Errorf("after a refused update Local().Collections = %v, want %v", got, want)
	}
}

func TestMember_NearestOrdersByRTT(t *testing.T) {
	key := newKey(t)
	observer := start(t, testConfig("observer", key))
	fast := start(t, testConfig("fast", key), observer.Addr())
	midCfg := testConfig("mid", key)
	gossip.WithSendDelay(&midCfg, 20*time.Millisecond)
	mid := start(t, midCfg, observer.Addr())
	slowCfg := testConfig("slow", key)
	slowCfg.Role = trust.RoleServer
	gossip.WithSendDelay(&slowCfg, 60*time.Millisecond)
	slow := start(t, slowCfg, observer.Addr())
	ms := []*gossip.Member{observer, fast, mid, slow}
	waitFor(t, 10*time.Second, "all see 4 alive", func() bool { return allSee(ms, 4) })

	// Probes measure RTT on their own; wait for two rounds of them.
	waitFor(t, 10*time.Second, "observer has RTTs for all peers", func() bool {
		for _, p := range observer.Members() {
			if p.Name != "observer" && p.RTT == 0 {
				return false
			}
		}
		return true
	})
	rtt, err := observer.Ping(context.Background(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	if rtt < 60*time.Millisecond {
		t.Errorf("Ping(slow) = %v, want >= its 60ms send delay", rtt)
	}
	if _, err := observer.Ping(context.Background(), "nobody"); !errors.Is(err, gossip.ErrUnknownPeer) {
		t.Errorf("Ping(nobody) = %v, want ErrUnknownPeer", err)
	}

	// One late probe on a loaded machine can put a member out of order for
	// a moment; the moving averages settle to the send delays (0, 20 and
	// 60 ms apart), and a wrong sort would never settle.
	var got []gossip.Peer
	settled := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = observer.Nearest(0, nil); fmt.Sprint(peerNames(got)) == "[fast mid slow]" {
			settled = true
			break
		}
	}
	if !settled {
		t.Fatalf("Nearest = %v with RTTs %v, want fast, mid, slow", peerNames(got), rtts(got))
	}
	if got[1].RTT < 20*time.Millisecond || got[2].RTT < 60*time.Millisecond {
		t.Errorf("RTTs %v do not include the send delays", rtts(got))
	}
	if got := observer.Nearest(1, nil); fmt.Sprint(peerNames(got)) != "[fast]" {
		t.Errorf("Nearest(1) = %v, want [fast]", peerNames(got))
	}
	nodes := func(p gossip.Peer) bool { return p.Role == trust.RoleNode }
	if got := observer.Nearest(5, nodes); fmt.Sprint(peerNames(got)) != "[fast mid]" {
		t.Errorf("Nearest(5, nodes only) = %v, want [fast mid]", peerNames(got))
	}

	if err := fast.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "fast is no longer nearest", func() bool {
		got := observer.Nearest(0, nil)
		return fmt.Sprint(peerNames(got)) == "[mid slow]"
	})
}

func peerNames(ps []gossip.Peer) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func rtts(ps []gossip.Peer) []time.Duration {
	var out []time.Duration
	for _, p := range ps {
		out = append(out, p.RTT)
	}
	return out
}

func TestMember_KeyRotationKeepsClusterTogether(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	ms, recs := cluster(t, 3, oldKey)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := 10 * gossip.LocalTiming().ProbeInterval
	// update changes m0's topics and waits until every member sees them: the
	// proof that m0's current primary key is readable by all.
	update := func(topic string) {
		t.Helper()
		if err := ms[0].UpdateMeta(ctx, nil, []string{topic}); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			waitFor(t, 5*time.Second, m.Name()+" sees topic "+topic, func() bool {
				p, _ := peer(m, "m0")
				return slices.Equal(p.Topics, []string{topic})
			})
		}
	}

	for _, m := range ms {
		if err := m.InstallKey(newK); err != nil {
			t.Fatal(err)
		}
	}
	// Mixed phase: m0 encrypts with the new key, the others still with the old.
	if err := ms[0].UseKey(newK); err != nil {
		t.Fatal(err)
	}
	if k := ms[0].Keys(); len(k) != 2 || string(k[0]) != string(newK) {
		t.Fatal("after UseKey the new key is not primary")
	}
	update("mixed")
	for _, m := range ms[1:] {
		if err := m.UseKey(newK); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		if err := m.RemoveKey(newK); err == nil {
			t.Fatal("RemoveKey of the primary key succeeded")
		}
		if err := m.RemoveKey(oldKey); err != nil {
			t.Fatal(err)
		}
		if k := m.Keys(); len(k) != 1 || string(k[0]) != string(newK) {
			t.Fatalf("%s keyring after rotation has %d keys", m.Name(), len(k))
		}
	}
	update("rotated")
	time.Sleep(probe)
	if !allSee(ms, 3) {
		t.Fatalf("after rotation: %v / %v / %v", names(ms[0].Members()), names(ms[1].Members()), names(ms[2].Members()))
	}
	for i, r := range recs {
		for _, other := range []string{"m0", "m1", "m2"} {
			if _, ok := r.find(gossip.EventFail, other); ok {
				t.Errorf("m%d saw %s fail during the rotation", i, other)
			}
		}
	}

	// Only the new key opens the cluster now.
	withOld := testConfig("old-key", oldKey)
	withOld.Seeds = []string{ms[1].Addr()}
	if m, err := gossip.Join(ctx, withOld); err == nil {
		_ = m.Shutdown()
		t.Error("a member with the removed key joined")
	}
	withNew := testConfig("new-key", newK)
	withNew.Seeds = []string{ms[1].Addr()}
	m, err := gossip.Join(ctx, withNew)
	if err != nil {
		t.Fatalf("a member with the new key cannot join: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	ms = append(ms, m)
	waitFor(t, 10*time.Second, "all see 4 alive", func() bool { return allSee(ms, 4) })
}

func TestMember_InstallKeyRefusesBadKey(t *testing.T) {
	m := start(t, testConfig("node-1", newKey(t)))
	if err := m.InstallKey(make([]byte, 10)); err == nil {
		t.Error("InstallKey accepted a 10-byte key")
	}
	if err := m.UseKey(newKey(t)); err == nil {
		t.Error("UseKey accepted a key that is not installed")
	}
}
