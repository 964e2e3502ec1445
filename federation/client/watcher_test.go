package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// changeLog records what OnChange saw.
type changeLog struct {
	mu        sync.Mutex
	snapshots int
	seen      map[string]int // kind/key@modify_index -> times delivered
}

func (l *changeLog) record(c client.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]int{}
	}
	if c.Snapshot {
		l.snapshots++
		return
	}
	for _, o := range c.Objects {
		l.seen[fmt.Sprintf("%s/%s@%d", o.Kind, o.Key, o.ModifyIndex)]++
	}
}

func (l *changeLog) duplicates() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, n := range l.seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s x%d", k, n))
		}
	}
	return out
}

func TestWatcher_FollowsChanges(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	changes := make(chan client.Change, 16)
	w := newWatcher(t, c, tempDB(t), func(cfg *client.WatcherConfig) {
		cfg.OnChange = func(ch client.Change) { changes <- ch }
	})
	if st := w.Status(); st.CacheAge != -1 || st.Index != 0 {
		t.Fatalf("status of a new cache = %+v", st)
	}
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	op := operator(t, c)
	ctx := t.Context()
	for i := range 5 {
		start := time.Now()
		res, err := op.Apply(ctx, mustPut(t, registry.Template{Name: "answer", Lang: "nl", Version: uint64(i + 1), Body: fmt.Sprintf("v%d", i)}))
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the watcher to see the change", func() bool {
			obj, err := w.Get(registry.KindTemplate, "answer/nl")
			return err == nil && obj.ModifyIndex == res.Index
		})
		t.Logf("change %d visible in the cache after %v", i, time.Since(start))
	}
	// The first batch was a snapshot (an empty cache starts from 0), then
	// one change batch per write, each announced once.
	var got []client.Change
	for len(changes) > 0 {
		got = append(got, <-changes)
	}
	if len(got) == 0 || !got[0].Snapshot {
		t.Fatalf("first change = %+v, want a snapshot", got)
	}
	last := got[len(got)-1]
	if last.Snapshot || len(last.Objects) != 1 || last.Objects[0].Key != "answer/nl" || last.Index != w.Index() {
		t.Fatalf("last change = %+v", last)
	}
	st := w.Status()
	if st.Server == "" || st.LastContact.IsZero() || st.CacheAge < 0 || st.CacheAge > time.Second || st.Index != w.Index() {
		t.Fatalf("status = %+v", st)
	}
	if _, err := w.Get(registry.KindTemplate, "missing/nl"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get of a missing key: %v", err)
	}
	// Deletes reach the cache as removals.
	if _, err := op.Apply(ctx, registry.Delete(registry.KindTemplate, "answer/nl")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the delete", func() bool {
		_, err := w.Get(registry.KindTemplate, "answer/nl")
		return errors.Is(err, registry.ErrNotFound)
	})
	// A blob moves the registry index without changing objects; heartbeats
	// carry the cache up to it.
	pub := newWriter(t, c, c.Cert(t, "NVVB", trust.RolePublisher, "publish"))
	cmds, _ := registry.PutBlob([]byte("inhoud"))
	res, err := pub.Apply(ctx, cmds[0])
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the index to pass the blob", func() bool { return w.Index() >= res.Index })
}

func TestWatcher_SurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-server fault test")
	}
	// Five servers, so that the leader and, if it is another one, the
	// server the watcher streams from can both be killed.
	c := apitest.StartCluster(t, 5, apitest.Options{})
	log := &changeLog{}
	w := newWatcher(t, c, tempDB(t), func(cfg *client.WatcherConfig) { cfg.OnChange = log.record })
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "a connection", func() bool { return w.Status().Server != "" })
	op := operator(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	const writers, perWriter = 4, 60
	var written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				var cmd registry.Command
				switch {
				case i%10 == 9:
					cmd = registry.Delete(registry.KindSetting, fmt.Sprintf("w%d-%d", g, i-1))
				default:
					var err error
					if cmd, err = registry.Put(registry.Setting{Name: fmt.Sprintf("w%d-%d", g, i), Value: fmt.Sprint(i)}); err != nil {
						errs <- err
						return
					}
				}
				if _, err := op.Apply(ctx, cmd); err != nil {
					errs <- fmt.Errorf("writer %d, write %d: %w", g, i, err)
					return
				}
				written.Add(1)
			}
		}()
	}
	// Kill the leader a third of the way through the writes.
	waitFor(t, 30*time.Second, "a third of the writes", func() bool { return written.Load() >= writers*perWriter/3 })
	leader, streaming := c.Leader(), w.Status().Server
	for j, s := range c.Servers {
		if s == leader || s.URL == streaming {
			c.Kill(j)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	leader = c.Leader()
	waitFor(t, 5*time.Second, "the cache to equal the new leader's registry", func() bool {
		return sameAsRegistry(t, w, leader.Coord.Registry())
	})
	settings, _ := w.List(registry.KindSetting)
	if want := writers * (perWriter - 2*(perWriter/10)); len(settings) != want {
		t.Fatalf("cache holds %d settings, want %d", len(settings), want)
	}
	if d := log.duplicates(); len(d) > 0 {
		t.Fatalf("changes delivered twice: %v", d)
	}
	st := w.Status()
	if st.Reconnects == 0 || st.Snapshots != 1 {
		t.Fatalf("status = %+v, want at least one reconnect and only the initial snapshot", st)
	}
	t.Logf("status after the leader kill: %+v", st)
}

func TestWatcher_ResumesFromPersistedIndex(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	path := filepath.Join(t.TempDir(), "node.db")
	op := operator(t, c)
	ctx := t.Context()
	for i := range 10 {
		if _, err := op.Apply(ctx, mustPut(t, registry.Setting{Name: fmt.Sprintf("s%d", i), Value: "1"})); err != nil {
			t.Fatal(err)
		}
	}
	db := openDB(t, path)
	w := newWatcher(t, c, db, nil)
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	leader := c.Leader().Coord.Registry()
	waitFor(t, 2*time.Second, "the first sync", func() bool { return sameAsRegistry(t, w, leader) })
	before := w.Index()
	w.Close()
	db.Close()

	// Changes while the node is down.
	for i := range 5 {
		if _, err := op.Apply(ctx, mustPut(t, registry.Setting{Name: fmt.Sprintf("s%d", i), Value: "2"})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := op.Apply(ctx, registry.Delete(registry.KindSetting, "s9")); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path)
	var log changeLog
	w = newWatcher(t, c, db, func(cfg *client.WatcherConfig) { cfg.OnChange = log.record })
	if w.Index() != before {
		t.Fatalf("reopened cache at index %d, want %d", w.Index(), before)
	}
	if st := w.Status(); st.CacheAge < 0 {
		t.Fatalf("reopened cache has no sync time: %+v", st)
	}
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the catch-up", func() bool { return sameAsRegistry(t, w, leader) })
	if st := w.Status(); st.Snapshots != 0 || st.Batches == 0 {
		t.Fatalf("status after resume = %+v, want changes and no snapshot", st)
	}
	if log.snapshots != 0 {
		t.Fatalf("OnChange saw %d snapshots after a resume", log.snapshots)
	}
}

func TestWatcher_ResyncsWithRebuiltCluster(t *testing.T) {
	old := apitest.StartCluster(t, 1, apitest.Options{})
	ctx := t.Context()
	op := operator(t, old)
	for i := range 30 {
		if _, err := op.Apply(ctx, mustPut(t, registry.Setting{Name: fmt.Sprintf("old%d", i), Value: "1"})); err != nil {
			t.Fatal(err)
		}
	}
	db := tempDB(t)
	w := newWatcher(t, old, db, nil)
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the first sync", func() bool { return sameAsRegistry(t, w, old.Leader().Coord.Registry()) })
	w.Close()

	// A rebuilt cluster (same CA, fresh state) with a lower index.
	fresh := apitest.StartCluster(t, 3, apitest.Options{CA: old.CA})
	if _, err := operator(t, fresh).Apply(ctx, mustPut(t, registry.Setting{Name: "new", Value: "1"})); err != nil {
		t.Fatal(err)
	}
	reg := fresh.Leader().Coord.Registry()
	if reg.Index() >= w.Index() {
		t.Fatalf("fresh cluster at %d is not behind the cache at %d", reg.Index(), w.Index())
	}
	w = newWatcher(t, fresh, db, nil)
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the resync", func() bool {
		return w.Index() == reg.Index() && sameAsRegistry(t, w, reg)
	})
	if _, err := w.Get(registry.KindSetting, "old0"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("old object survived the resync: %v", err)
	}
	if st := w.Status(); st.Snapshots != 1 {
		t.Fatalf("status = %+v, want one snapshot", st)
	}
	if w.ClusterID() != fresh.Leader().Coord.ClusterID() || w.ClusterID() == old.Leader().Coord.ClusterID() {
		t.Errorf("cache cluster %q, want the rebuilt cluster's %q", w.ClusterID(), fresh.Leader().Coord.ClusterID())
	}
}

func TestWatcher_FailStatic(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	ctx := t.Context()
	if _, err := operator(t, c).Apply(ctx, mustPut(t, registry.Route{Task: "answer", Providers: []string{"extractive"}})); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(t, c, tempDB(t), nil)
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the first sync", func() bool {
		_, err := w.Get(registry.KindRoute, "answer")
		return err == nil
	})
	for i := range c.Servers {
		c.Kill(i)
	}
	waitFor(t, 3*time.Second, "the watcher to notice", func() bool { return w.Status().Server == "" })
	first := w.Status()
	time.Sleep(300 * time.Millisecond)
	second := w.Status()
	if second.CacheAge <= first.CacheAge || second.CacheAge < 300*time.Millisecond || second.LastError == "" {
		t.Fatalf("status while all servers are down: %+v then %+v; want a growing cache age and an error", first, second)
	}
	obj, err := w.Get(registry.KindRoute, "answer")
	if err != nil {
		t.Fatalf("cache read with all servers down: %v", err)
	}
	var r registry.Route
	if err := obj.Decode(&r); err != nil || r.Providers[0] != "extractive" {
		t.Fatalf("cached route = %+v, %v", r, err)
	}
	if routes, err := w.List(registry.KindRoute); err != nil || len(routes) != 1 {
		t.Fatalf("cached list = %v, %v", routes, err)
	}
}

func TestJoin_ThenWatch(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	ctx := t.Context()
	token, err := c.CA.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, caPEM, err := client.Join(ctx, client.JoinRequest{Server: c.URLs()[0], Pool: c.CA.Pool(), Token: token, Key: key, Node: "meppel-1"})
	if err != nil {
		t.Fatal(err)
	}
	if string(caPEM) != string(c.CA.CertPEM()) {
		t.Fatal("join returned another CA")
	}
	if _, _, err := client.Join(ctx, client.JoinRequest{Server: c.URLs()[0], Pool: c.CA.Pool(), Token: token, Key: key, Node: "meppel-1"}); err == nil {
		t.Fatal("a used token joined again")
	}
	node, err := client.NewWriter(client.WriterConfig{Servers: c.URLs(), AttemptTimeout: time.Second, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		client.NewHTTPClient(client.ClientTLS(cert, c.CA.Pool(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Apply(ctx, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0119", APIAddr: "10.0.0.1:443"})); err != nil {
		t.Fatalf("joined node registers itself: %v", err)
	}
	cfg := watcherConfig(c.URLs())
	w, err := client.NewWatcher(cfg, tempDB(t), client.NewHTTPClient(client.ClientTLS(cert, c.CA.Pool(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the joined node's watch", func() bool {
		_, err := w.Get(registry.KindNode, "meppel-1")
		return err == nil
	})
	// The node may not write a template: the refusal is immediate, not retried.
	start := time.Now()
	_, err = node.Apply(ctx, mustPut(t, registry.Template{Name: "a", Lang: "nl", Version: 1, Body: "b"}))
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("node writing a template: %v after %v", err, time.Since(start))
	}
}

// TestWriter_RotatesPastDeadServers: a writer whose list holds dead servers
// on both sides of the live one reaches the live one from every starting
// point, also after its rotation has wrapped around the list. (It once kept
// retrying the first server for good once the rotation had wrapped.)
func TestWriter_RotatesPastDeadServers(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	dead := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "https://" + addr
	}
	cfg := client.DefaultWriterConfig()
	cfg.Servers = []string{dead(), c.URLs()[0], dead()}
	cfg.MinBackoff, cfg.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	hc := c.HTTPClient(t, c.Cert(t, "VNG", trust.RoleOperator, "tool"))
	// Each writer starts at a random server; 24 of them start at the last,
	// dead one with probability 1-(2/3)^24 > 99.99 %.
	for i := range 24 {
		w, err := client.NewWriter(cfg, hc)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			_, err := w.Apply(ctx, mustPut(t, registry.Setting{Name: fmt.Sprintf("r%d-%d", i, j), Value: "1"}))
			cancel()
			if err != nil {
				t.Fatalf("writer %d, write %d: %v", i, j, err)
			}
		}
	}
}
