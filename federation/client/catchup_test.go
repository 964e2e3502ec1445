package client_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/api"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// registryDigest is the hex sha256 over every object's kind, key,
// ModifyIndex and value, in kind and key order.
func registryDigest(tb testing.TB, list func(registry.Kind) ([]registry.Object, error)) string {
	tb.Helper()
	var all []registry.Object
	for _, k := range registry.Kinds() {
		objs, err := list(k)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, objs...)
	}
	slices.SortFunc(all, func(a, b registry.Object) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	for _, o := range all {
		field([]byte(o.Kind))
		field([]byte(o.Key))
		h.Write(binary.BigEndian.AppendUint64(nil, o.ModifyIndex))
		field(o.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// catchupServer is a coordination server with its API that can be stopped
// and started again at the same addresses.
type catchupServer struct {
	cfg     coordinator.Config
	apiAddr string
	url     string
	coord   *coordinator.Server
	http    *http.Server
}

// catchupCluster is a cluster whose Raft and registry settings the test
// chooses (apitest uses the defaults): servers on 127.0.0.1 with Raft over
// TCP and the Connect API over mutual TLS.
type catchupCluster struct {
	tb      testing.TB
	ca      *trust.CA
	rev     *trust.RevocationSet
	resolve api.Resolver
	servers []*catchupServer
}

func startCatchupCluster(tb testing.TB, n int, mod func(*coordinator.Config)) *catchupCluster {
	tb.Helper()
	ca, err := trust.NewCA("catch-up federation", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	c := &catchupCluster{tb: tb, ca: ca, rev: trust.NewRevocationSet()}
	tb.Cleanup(func() {
		for i := range c.servers {
			c.stop(i)
		}
	})
	urls := map[string]string{}
	lns := make([]net.Listener, n)
	for i := range n {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		urls[fmt.Sprintf("s%d", i+1)] = "https://" + lns[i].Addr().String()
	}
	c.resolve = api.StaticResolver(urls)
	for i := range n {
		cfg := coordinator.DefaultConfig()
		cfg.ID = fmt.Sprintf("s%d", i+1)
		cfg.DataDir = tb.TempDir()
		cfg.BindAddr = "127.0.0.1:0"
		cfg.Bootstrap = i == 0
		cfg.HeartbeatTimeout = 300 * time.Millisecond
		cfg.ElectionTimeout = 300 * time.Millisecond
		cfg.LeaderLeaseTimeout = 150 * time.Millisecond
		cfg.CommitTimeout = 5 * time.Millisecond
		if mod != nil {
			mod(&cfg)
		}
		s := &catchupServer{cfg: cfg, apiAddr: lns[i].Addr().String(), url: urls[cfg.ID]}
		c.servers = append(c.servers, s)
		c.open(i, lns[i])
		s.cfg.BindAddr, s.cfg.Bootstrap = s.coord.Addr(), false // a restart reuses the address
		if i == 0 {
			c.leader()
			continue
		}
		ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
		if err := c.leader().Join(ctx, cfg.ID, s.coord.Addr()); err != nil {
			tb.Fatalf("join %s: %v", cfg.ID, err)
		}
		cancel()
	}
	return c
}

// open starts server i's coordinator and serves its API on ln.
func (c *catchupCluster) open(i int, ln net.Listener) {
	c.tb.Helper()
	s := c.servers[i]
	coord, err := coordinator.Open(c.tb.Context(), s.cfg)
	if err != nil {
		c.tb.Fatalf("open %s: %v", s.cfg.ID, err)
	}
	cert := c.cert(apitestOrg, trust.RoleServer, s.cfg.ID)
	path, h := api.NewHandler(coord, c.resolve, api.Options{
		Client:      c.httpClient(cert),
		Heartbeat:   200 * time.Millisecond,
		ResyncGrace: 2 * time.Second,
	})
	mux := http.NewServeMux()
	mux.Handle(path, h)
	s.coord = coord
	s.http = &http.Server{Handler: mux, TLSConfig: api.ServerTLS(cert, c.ca.Pool(), c.rev), ErrorLog: log.New(io.Discard, "", 0)}
	go s.http.ServeTLS(ln, "", "")
}

// apitestOrg is the operator organisation of the servers and the writer.
const apitestOrg = "VNG"

func (c *catchupCluster) cert(org string, role trust.Role, node string) tls.Certificate {
	c.tb.Helper()
	cert, err := c.ca.IssueKeyPair(trust.Identity{Org: org, Role: role, Node: node}, time.Hour, "127.0.0.1")
	if err != nil {
		c.tb.Fatal(err)
	}
	return cert
}

// httpClient is the production client (client.NewHTTPClient) presenting cert.
func (c *catchupCluster) httpClient(cert tls.Certificate) *http.Client {
	hc := client.NewHTTPClient(client.ClientTLS(cert, c.ca.Pool(), c.rev))
	c.tb.Cleanup(hc.CloseIdleConnections)
	return hc
}

// stop shuts server i down (API first); stopping a stopped server does nothing.
func (c *catchupCluster) stop(i int) {
	s := c.servers[i]
	if s.coord == nil {
		return
	}
	s.http.Close()
	if err := s.coord.Close(); err != nil {
		c.tb.Errorf("close %s: %v", s.cfg.ID, err)
	}
	s.coord, s.http = nil, nil
}

// restart starts server i again from its data directory at its addresses.
func (c *catchupCluster) restart(i int) {
	c.tb.Helper()
	ln, err := net.Listen("tcp", c.servers[i].apiAddr)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.open(i, ln)
}

// leader waits up to 10 s for a running leader.
func (c *catchupCluster) leader() *coordinator.Server {
	c.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.servers {
			if s.coord != nil && s.coord.IsLeader() {
				return s.coord
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.tb.Fatal("no leader within 10s")
	return nil
}

func (c *catchupCluster) urls() []string {
	var out []string
	for _, s := range c.servers {
		out = append(out, s.url)
	}
	return out
}

// changer makes registry changes on keys of its own: new puts, overwrites
// and deletes of keys it put before.
type changer struct {
	name string
	rng  *rand.Rand
	live []string // keys it holds, "setting:name" or "template:name"
	n    int
}

// next returns the changer's next command and what it is.
func (g *changer) next() (registry.Command, string, error) {
	g.n++
	p := g.rng.IntN(100)
	switch {
	case len(g.live) > 0 && p < 20:
		i := g.rng.IntN(len(g.live))
		k := g.live[i]
		g.live = slices.Delete(g.live, i, i+1)
		kind, name, _ := strings.Cut(k, ":")
		if kind == "template" {
			return registry.Delete(registry.KindTemplate, name+"/nl"), "delete", nil
		}
		return registry.Delete(registry.KindSetting, name), "delete", nil
	case len(g.live) > 0 && p < 60:
		kind, name, _ := strings.Cut(g.live[g.rng.IntN(len(g.live))], ":")
		cmd, err := g.value(kind, name)
		return cmd, "overwrite", err
	}
	kind := "setting"
	if p%3 == 0 {
		kind = "template"
	}
	name := fmt.Sprintf("%s-%d", g.name, g.n)
	g.live = append(g.live, kind+":"+name)
	cmd, err := g.value(kind, name)
	return cmd, "put", err
}

func (g *changer) value(kind, name string) (registry.Command, error) {
	if kind == "template" {
		return registry.Put(registry.Template{Name: name, Lang: "nl", Version: uint64(g.n), Body: fmt.Sprintf("versie %d van %s", g.n, name)})
	}
	return registry.Put(registry.Setting{Name: name, Value: fmt.Sprintf("%s@%d", name, g.n)})
}

// change applies count changes through the running servers from the
// changers, concurrently, and returns how many of each sort it made and the
// last index written.
func change(t *testing.T, c *catchupCluster, gens []*changer, count int) (map[string]int, uint64) {
	t.Helper()
	servers := coordinator.Servers{}
	for _, s := range c.servers {
		if s.coord != nil {
			servers[s.coord.Addr()] = s.coord
		}
	}
	var mu sync.Mutex
	sorts := map[string]int{}
	var last uint64
	var wg sync.WaitGroup
	for gi, g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range count/len(gens) + boolInt(gi < count%len(gens)) {
				cmd, sort, err := g.next()
				if err != nil {
					t.Error(err)
					return
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				res, err := coordinator.Do(ctx, servers, cmd)
				cancel()
				if err != nil {
					t.Errorf("%s %s/%s: %v", sort, cmd.Kind, cmd.Key, err)
					return
				}
				mu.Lock()
				sorts[sort]++
				last = max(last, res.Index)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return sorts, last
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasRaftSnapshot(dir string) bool {
	entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	for _, e := range entries {
		if e.IsDir() && !strings.HasSuffix(e.Name(), ".tmp") {
			return true
		}
	}
	return false
}

// TestWatcher_CatchesUpAfter1000Changes stops a node's Watcher, makes 1,000
// changes (new keys, overwrites, deletes) while a follower is down too, forces
// a Raft snapshot and log compaction half-way, so that the follower can only
// come back through a snapshot install, and restarts the Watcher from its
// bbolt cache against that follower. The cache must end with the servers'
// registry digest. With the default change history the Watcher replays the
// changes; with a history shorter than the gap it must take a registry
// snapshot instead.
func TestWatcher_CatchesUpAfter1000Changes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		history  uint64
		snapshot bool
	}{
		{"replays history", 0, false},
		{"history pruned, snapshot", 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCatchupCluster(t, 3, func(cfg *coordinator.Config) {
				cfg.TrailingLogs = 64
				cfg.Registry.HistoryWindow = tc.history
			})
			// The changes go straight to the running coordinators
			// (coordinator.Do follows the leader): the Writer's path has
			// tests of its own, and the API would only make the 1,000
			// changes slower.
			leader := c.leader()
			gens := make([]*changer, 8)
			for i := range gens {
				gens[i] = &changer{name: fmt.Sprintf("g%d", i), rng: rand.New(rand.NewPCG(uint64(i), 1))}
			}
			change(t, c, gens, 200)
			nodeCert := c.httpClient(c.cert("GM0119", trust.RoleNode, "meppel-1"))

			// The node syncs, then goes offline.
			path := filepath.Join(t.TempDir(), "node.db")
			db := openDB(t, path)
			w, err := client.NewWatcher(watcherConfig(c.urls()), db, nodeCert)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Open(t.Context()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the first sync", func() bool {
				return w.Index() >= leader.Registry().Index() && registryDigest(t, w.List) == registryDigest(t, leader.Registry().List)
			})
			w.Close()
			db.Close()
			offlineAt := w.Index()

			// A follower goes down as well; it must come back through a
			// Raft snapshot install.
			down := -1
			for i, s := range c.servers {
				if s.coord != leader && down < 0 {
					down = i
				}
			}
			c.stop(down)
			if hasRaftSnapshot(c.servers[down].cfg.DataDir) {
				t.Fatal("the stopped follower already has a snapshot")
			}

			sorts, _ := change(t, c, gens, 500)
			for _, s := range c.servers {
				if s.coord != nil {
					if err := s.coord.Snapshot(); err != nil {
						t.Fatalf("snapshot on %s: %v", s.cfg.ID, err)
					}
				}
			}
			more, last := change(t, c, gens, 500)
			for k, v := range more {
				sorts[k] += v
			}
			if n := sorts["put"] + sorts["overwrite"] + sorts["delete"]; n != 1000 || sorts["delete"] == 0 || sorts["overwrite"] == 0 {
				t.Fatalf("changes made: %v", sorts)
			}
			c.restart(down)
			back := c.servers[down].coord
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := back.Registry().WaitIndex(ctx, last-1); err != nil {
				t.Fatalf("%s did not catch up to %d: %v", back.ID(), last, err)
			}
			if !hasRaftSnapshot(c.servers[down].cfg.DataDir) {
				t.Fatal("the follower caught up without installing a snapshot: the log was not compacted")
			}
			want := registryDigest(t, back.Registry().List)
			for _, s := range c.servers {
				if got := registryDigest(t, s.coord.Registry().List); got != want {
					t.Fatalf("%s has digest %s, %s has %s", s.cfg.ID, got, back.ID(), want)
				}
			}

			// The node comes back from its cache and catches up from the
			// server that was restored from the snapshot.
			db = openDB(t, path)
			w, err = client.NewWatcher(watcherConfig([]string{c.servers[down].url}), db, nodeCert)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if w.Index() != offlineAt {
				t.Fatalf("cache reopened at %d, want %d", w.Index(), offlineAt)
			}
			start := time.Now()
			if err := w.Open(t.Context()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the catch-up", func() bool {
				return w.Index() >= last && registryDigest(t, w.List) == want
			})
			took := time.Since(start)
			st := w.Status()
			if got := st.Snapshots == 1; got != tc.snapshot || st.Snapshots > 1 {
				t.Fatalf("status after the catch-up: %+v; want a snapshot: %v", st, tc.snapshot)
			}
			if !tc.snapshot && st.Batches == 0 {
				t.Fatalf("status after the catch-up: %+v; want change batches", st)
			}
			objs := 0
			for _, k := range registry.Kinds() {
				l, _ := w.List(k)
				objs += len(l)
			}
			t.Logf("caught up on %d changes (%v) from index %d to %d in %v (%d snapshots, %d batches); %d objects, digest %s",
				1000, sorts, offlineAt, w.Index(), took, st.Snapshots, st.Batches, objs, want[:12])
		})
	}
}
