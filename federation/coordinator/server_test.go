package coordinator_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
)

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		field string
		mod   func(*coordinator.Config)
	}{
		{"coordinator.id", func(c *coordinator.Config) { c.ID = "" }},
		{"coordinator.data_dir", func(c *coordinator.Config) { c.DataDir = "" }},
		{"coordinator.bind_addr", func(c *coordinator.Config) { c.BindAddr = "localhost" }},
		{"coordinator.api_url", func(c *coordinator.Config) { c.APIURL = "http://127.0.0.1:8301" }},
		{"coordinator.joiner", func(c *coordinator.Config) { c.Join = []string{"127.0.0.1:1"} }},
		{"coordinator.election_timeout", func(c *coordinator.Config) { c.ElectionTimeout = time.Millisecond * 10 }},
		{"coordinator.leader_lease_timeout", func(c *coordinator.Config) { c.LeaderLeaseTimeout = time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			cfg := testConfig(t, "s1")
			if err := cfg.Validate(); err != nil {
				t.Fatalf("test config invalid: %v", err)
			}
			tt.mod(&cfg)
			if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

func TestCluster_ReplicatesPut(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 3, nil)
	leader := c.leader()
	res, err := leader.Apply(t.Context(), put(t, registry.Org{ID: "GM0119", Name: "Meppel", Role: registry.RoleGemeente}))
	if err != nil {
		t.Fatal(err)
	}
	c.waitReplicated(res.Index)
	for _, s := range c.servers {
		obj, err := s.Registry().Get(registry.KindOrg, "GM0119")
		if err != nil || obj.ModifyIndex != res.Index {
			t.Fatalf("%s: %+v, %v", s.ID(), obj, err)
		}
	}
	members, err := leader.Members()
	if err != nil || len(members) != 3 {
		t.Fatalf("Members = %+v, %v", members, err)
	}

	// A follower refuses writes and joins and names the leader.
	var follower *coordinator.Server
	for _, s := range c.servers {
		if s != leader {
			follower = s
		}
	}
	_, err = follower.Apply(t.Context(), put(t, setting("x", "1")))
	var nl *coordinator.NotLeaderError
	if !errors.As(err, &nl) || !errors.Is(err, coordinator.ErrNotLeader) || nl.LeaderAddr != leader.Addr() || nl.LeaderID != leader.ID() {
		t.Fatalf("follower Apply = %v, want NotLeaderError naming %s", err, leader.Addr())
	}
	if err := follower.Join(t.Context(), "s9", "127.0.0.1:1"); !errors.As(err, &nl) || nl.LeaderAddr != leader.Addr() {
		t.Fatalf("follower Join = %v", err)
	}
	// A follower's watch sees the leader's writes as they land.
	w := follower.Registry().Watch(follower.Registry().Index())
	res = c.do(put(t, setting("y", "2")))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := w.Next(ctx)
	if err != nil || len(b.Objects) != 1 || b.Objects[0].Key != "y" || b.Index != res.Index {
		t.Fatalf("follower watch = %+v, %v", b, err)
	}
}

func TestCluster_Failover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 3, nil)
	before := c.do(put(t, setting("before", "1")))
	c.waitReplicated(before.Index)

	old := c.leader()
	oldIdx := c.index(old)
	killed := time.Now()
	c.kill(oldIdx)
	next := c.leader()
	took := time.Since(killed)
	t.Logf("new leader %s after %v", next.ID(), took)
	if took > 5*time.Second {
		t.Fatalf("failover took %v, budget 5s", took)
	}

	// Writes continue on the two survivors.
	var last registry.Result
	for _, k := range []string{"a", "b", "c"} {
		last = c.do(put(t, setting(k, "after")))
	}
	// The old leader comes back as a follower and catches up.
	back := c.restart(oldIdx)
	c.waitReplicated(last.Index)
	if back.IsLeader() && back != c.leader() {
		t.Fatal("two leaders")
	}
	if got, want := state(t, back), state(t, next); !reflect.DeepEqual(got, want) {
		t.Fatalf("rejoined state differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestCluster_SnapshotInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 3, func(cfg *coordinator.Config) {
		cfg.SnapshotThreshold = 8
		cfg.SnapshotInterval = 50 * time.Millisecond
		cfg.TrailingLogs = 2
	})
	leader := c.leader()
	var lagger int
	for i, s := range c.servers {
		if s != leader {
			lagger = i
		}
	}
	c.kill(lagger)
	var last registry.Result
	for i := range 40 {
		last = c.do(put(t, setting("k"+string(rune('a'+i%26)), strings.Repeat("v", i))))
	}
	c.do(registry.Delete(registry.KindSetting, "ka"))
	last = c.do(put(t, setting("last", "1")))

	// The leader snapshots on its own (low threshold) and compacts its log,
	// so the lagging server can only catch up through a snapshot install.
	waitFor(t, 10*time.Second, "leader snapshot", func() bool { return hasSnapshot(c.cfgs[c.index(leader)].DataDir) })
	back := c.restart(lagger)
	c.waitReplicated(last.Index)
	if !hasSnapshot(c.cfgs[lagger].DataDir) {
		t.Fatal("lagging server caught up without installing a snapshot")
	}
	want := state(t, leader)
	if got := state(t, back); !reflect.DeepEqual(got, want) {
		t.Fatalf("state after snapshot install differs:\n got %+v\nwant %+v", got, want)
	}

	// Restart from its own snapshot and log: state stays equal.
	c.kill(lagger)
	back = c.restart(lagger)
	c.waitReplicated(last.Index)
	if got := state(t, back); !reflect.DeepEqual(got, want) {
		t.Fatalf("state after restart differs")
	}
}

func hasSnapshot(dir string) bool {
	entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	for _, e := range entries {
		if e.IsDir() && !strings.HasSuffix(e.Name(), ".tmp") {
			return true
		}
	}
	return false
}

func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServer_Apply(t *testing.T) {
	c := startCluster(t, 1, nil)
	s := c.leader()
	ctx := t.Context()

	t.Run("retry with the same idempotency key applies once", func(t *testing.T) {
		cmd := put(t, setting("idem", "1"))
		first, err := s.Apply(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		c.do(put(t, setting("other", "1")))
		// The caller saw raft.ErrLeadershipLost and retries the same command.
		retry, err := s.Apply(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if !retry.Duplicate || retry.Index != first.Index {
			t.Fatalf("retry = %+v, first = %+v", retry, first)
		}
		obj, _ := s.Registry().Get(registry.KindSetting, "idem")
		if obj.ModifyIndex != first.Index {
			t.Fatalf("object changed by the retry: %+v", obj)
		}
	})

	t.Run("check-and-set conflict", func(t *testing.T) {
		r, err := s.Apply(ctx, put(t, setting("cas", "1")).IfIndex(0))
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Apply(ctx, put(t, setting("cas", "2")).IfIndex(r.ModifyIndex-1))
		if !errors.Is(err, registry.ErrConflict) || res.ModifyIndex != r.ModifyIndex {
			t.Fatalf("stale CAS = %+v, %v", res, err)
		}
		if _, err := s.Apply(ctx, put(t, setting("cas", "3")).IfIndex(r.ModifyIndex)); err != nil {
			t.Fatalf("current CAS: %v", err)
		}
	})

	t.Run("over 1 MB refused before the log", func(t *testing.T) {
		before := s.Registry().Index()
		big := registry.Template{Name: "big", Version: 1, Lang: "nl", Body: strings.Repeat("x", registry.MaxCommandSize+1)}
		if _, err := s.Apply(ctx, put(t, big)); !errors.Is(err, registry.ErrTooLarge) {
			t.Fatalf("Apply = %v, want ErrTooLarge", err)
		}
		if _, err := s.Apply(ctx, registry.PutRaw(registry.KindProvider, "p", []byte(`{"name":"p","kind":"openai","api_key":"sk-x"}`))); !errors.Is(err, registry.ErrInvalid) {
			t.Fatalf("provider with api_key = %v, want ErrInvalid", err)
		}
		c.do(put(t, setting("probe", "1")))
		if got := s.Registry().Index(); got != before+1 {
			t.Fatalf("refused commands reached the log: index %d -> %d", before, got)
		}
	})

	t.Run("large blob in chunks", func(t *testing.T) {
		data := []byte(strings.Repeat("burgerzaken ", registry.ChunkSize/4))
		cmds, sum := registry.PutBlob(data)
		if len(cmds) < 3 {
			t.Fatalf("%d commands for %d bytes", len(cmds), len(data))
		}
		for _, cmd := range cmds {
			if _, err := s.Apply(ctx, cmd); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Registry().Blob(sum)
		if err != nil || string(got) != string(data) {
			t.Fatalf("Blob: %d bytes, %v", len(got), err)
		}
	})
}

// lossy forwards to a server but reports the first call as of unknown
// outcome after it was applied, as when leadership is lost mid-commit.
type lossy struct {
	s     *coordinator.Server
	calls int
}

func (l *lossy) Apply(ctx context.Context, cmd registry.Command) (registry.Result, error) {
	l.calls++
	res, err := l.s.Apply(ctx, cmd)
	if l.calls == 1 && err == nil {
		return registry.Result{}, coordinator.ErrUnknownOutcome
	}
	return res, err
}

func TestDo(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 3, nil)
	leader := c.leader()

	t.Run("retries an unknown outcome with the same key", func(t *testing.T) {
		l := &lossy{s: leader}
		servers := coordinator.Servers{leader.Addr(): l}
		cmd := put(t, setting("do", "1"))
		res, err := coordinator.Do(t.Context(), servers, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if l.calls != 2 || !res.Duplicate {
			t.Fatalf("calls = %d, result %+v; want a duplicate on the second call", l.calls, res)
		}
		obj, _ := leader.Registry().Get(registry.KindSetting, "do")
		if obj.ModifyIndex != res.Index {
			t.Fatalf("applied twice: object at %d, first result at %d", obj.ModifyIndex, res.Index)
		}
	})

	t.Run("follows the leader hint", func(t *testing.T) {
		for _, s := range c.servers {
			// Only one follower is known by the caller besides the leader;
			// whichever Do tries first, it ends at the leader.
			servers := coordinator.Servers{s.Addr(): s, leader.Addr(): leader}
			if _, err := coordinator.Do(t.Context(), servers, put(t, setting("hint", s.ID()))); err != nil {
				t.Fatalf("via %s: %v", s.ID(), err)
			}
		}
	})

	t.Run("stops on errors a retry cannot fix", func(t *testing.T) {
		start := time.Now()
		_, err := coordinator.Do(t.Context(), c.appliers(), put(t, setting("hint", "x")).IfIndex(1))
		if !errors.Is(err, registry.ErrConflict) || time.Since(start) > time.Second {
			t.Fatalf("Do = %v after %v", err, time.Since(start))
		}
	})

	t.Run("gives up with the context while there is no leader", func(t *testing.T) {
		follower := c.servers[(c.index(leader)+1)%3]
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := coordinator.Do(ctx, coordinator.Servers{follower.Addr(): follower}, put(t, setting("x", "1")))
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, coordinator.ErrNotLeader) {
			t.Fatalf("Do = %v", err)
		}
	})
}

func TestServer_CloseTransfersLeadership(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	// Long timeouts: without a transfer, no follower would even suspect the
	// leader within HeartbeatTimeout.
	c := startCluster(t, 3, func(cfg *coordinator.Config) {
		cfg.HeartbeatTimeout = 2 * time.Second
		cfg.ElectionTimeout = 2 * time.Second
		cfg.LeaderLeaseTimeout = time.Second
	})
	old := c.leader()
	i := c.index(old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	c.servers[i] = nil
	start := time.Now()
	next := c.leader()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("new leader %v after Close; the transfer did not happen", d)
	}
	if next.ID() == old.ID() {
		t.Fatal("old leader still leads")
	}
	c.do(put(t, setting("after-close", "1")))
}

func TestCluster_FiveServers(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 5, nil)
	first := c.do(put(t, setting("five", "1")))
	c.waitReplicated(first.Index)
	// Two of five may fail and the cluster still writes.
	c.kill(c.index(c.leader()))
	c.kill(c.index(c.leader()))
	last := c.do(put(t, setting("five", "2")))
	c.waitReplicated(last.Index)
	for _, s := range c.servers {
		if s == nil {
			continue
		}
		obj, err := s.Registry().Get(registry.KindSetting, "five")
		if err != nil || obj.ModifyIndex != last.Index || obj.CreateIndex != first.Index {
			t.Fatalf("%s: %+v, %v", s.ID(), obj, err)
		}
	}
}

func TestOpen_Join(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := startCluster(t, 2, nil)
	leader := c.leader()
	var follower *coordinator.Server
	for _, s := range c.servers {
		if s != leader {
			follower = s
		}
	}
	byAddr := map[string]*coordinator.Server{leader.Addr(): leader, follower.Addr(): follower}
	var asked []string
	cfg := testConfig(t, "s3")
	// Only the follower is listed: the join must follow its leader hint.
	cfg.Join = []string{follower.Addr()}
	cfg.Joiner = func(ctx context.Context, server, id, addr string) error {
		asked = append(asked, server)
		return byAddr[server].Join(ctx, id, addr)
	}
	s, err := coordinator.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.servers = append(c.servers, s)
	c.cfgs = append(c.cfgs, cfg)
	if len(asked) != 2 || asked[0] != follower.Addr() || asked[1] != leader.Addr() {
		t.Fatalf("join asked %v", asked)
	}
	res := c.do(put(t, setting("joined", "1")))
	c.waitReplicated(res.Index)
}

func TestNewStreamLayer(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	// Two servers on the stream-layer seam, counting dials, as mTLS will.
	dials := make(chan string, 100)
	c := startCluster(t, 2, func(cfg *coordinator.Config) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.StreamLayer = coordinator.NewStreamLayer(ln, func(ctx context.Context, addr string) (net.Conn, error) {
			dials <- addr
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		})
	})
	res := c.do(put(t, setting("tls-seam", "1")))
	c.waitReplicated(res.Index)
	if len(dials) == 0 {
		t.Fatal("raft did not dial through the stream layer")
	}
}
