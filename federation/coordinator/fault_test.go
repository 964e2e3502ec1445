package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
)

// errPartitioned is what a connection across a cut reports.
var errPartitioned = errors.New("fault injection: partitioned")

// faultNet injects network partitions into the Raft transport of an
// in-process cluster. Every server's stream layer dials and accepts through
// it. A dialler first sends its server id, so both ends of a connection know
// which pair of servers it joins. For a pair that is cut, dials are refused,
// accepted connections are dropped, reads and writes fail, and the
// connections open when the cut is made are closed: traffic stops both ways.
type faultNet struct {
	mu    sync.Mutex
	ids   map[string]string   // Raft address -> server id
	cut   map[[2]string]bool  // sorted pair of server ids
	down  map[string]bool     // crashed servers, cut from everyone
	conns map[*faultConn]bool // open connections
	order []string            // server ids in the order they were attached
	stats struct{ refused, dropped, severed, failedIO atomic.Int64 }
}

func newFaultNet() *faultNet {
	return &faultNet{ids: map[string]string{}, cut: map[[2]string]bool{}, down: map[string]bool{}, conns: map[*faultConn]bool{}}
}

func pairOf(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// blockedLocked reports whether traffic between servers a and b is cut. The
// caller holds n.mu.
func (n *faultNet) blockedLocked(a, b string) bool {
	return a != b && (n.down[a] || n.down[b] || n.cut[pairOf(a, b)])
}

func (n *faultNet) blocked(a, b string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blockedLocked(a, b)
}

// attach gives cfg a stream layer for server cfg.ID that listens on addr
// ("127.0.0.1:0" for a new server, its old address for a restart).
func (n *faultNet) attach(tb testing.TB, cfg *coordinator.Config, addr string) {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatalf("fault net: listen for %s: %v", cfg.ID, err)
	}
	n.mu.Lock()
	if _, ok := n.ids[ln.Addr().String()]; !ok {
		n.order = append(n.order, cfg.ID)
	}
	n.ids[ln.Addr().String()] = cfg.ID
	n.mu.Unlock()
	cfg.StreamLayer = coordinator.NewStreamLayer(&faultListener{Listener: ln, n: n, id: cfg.ID}, n.dialer(cfg.ID))
}

// dialer returns the dial function of server from.
func (n *faultNet) dialer(from string) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		n.mu.Lock()
		to, known := n.ids[addr]
		blocked := n.blockedLocked(from, to)
		n.mu.Unlock()
		if !known {
			return nil, fmt.Errorf("fault net: dial %s: unknown address", addr)
		}
		if blocked {
			n.stats.refused.Add(1)
			return nil, fmt.Errorf("fault net: dial %s from %s: %w", to, from, errPartitioned)
		}
		var d net.Dialer
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = raw.SetWriteDeadline(dl)
		}
		if _, err := raw.Write(append([]byte(from), '\n')); err != nil {
			raw.Close()
			return nil, fmt.Errorf("fault net: hello to %s: %w", to, err)
		}
		_ = raw.SetWriteDeadline(time.Time{})
		c, err := n.track(raw, from, to)
		if err != nil {
			n.stats.refused.Add(1)
			raw.Close()
		}
		return c, err
	}
}

// track registers a connection between local and remote, unless the pair
// is cut by now.
func (n *faultNet) track(raw net.Conn, local, remote string) (net.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.blockedLocked(local, remote) {
		return nil, fmt.Errorf("fault net: %s-%s: %w", local, remote, errPartitioned)
	}
	c := &faultConn{Conn: raw, n: n, local: local, remote: remote}
	n.conns[c] = true
	return c, nil
}

// severLocked closes every open connection that now crosses a cut. The
// caller holds n.mu.
func (n *faultNet) severLocked() {
	for c := range n.conns {
		if n.blockedLocked(c.local, c.remote) {
			c.Conn.Close()
			delete(n.conns, c)
			n.stats.severed.Add(1)
		}
	}
}

// isolate cuts server id from every other server.
func (n *faultNet) isolate(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, other := range n.order {
		if other != id {
			n.cut[pairOf(id, other)] = true
		}
	}
	n.severLocked()
}

// heal removes every cut (crashed servers stay down).
func (n *faultNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = map[[2]string]bool{}
}

// crash cuts server id from everyone, as a dead process is, until revive.
func (n *faultNet) crash(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down[id] = true
	n.severLocked()
}

func (n *faultNet) revive(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.down, id)
}

// faultListener accepts Raft connections for server id, reading the
// dialler's id first and dropping connections across a cut.
type faultListener struct {
	net.Listener
	n  *faultNet
	id string
}

// Accept implements net.Listener.
func (l *faultListener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		from, err := readHello(raw)
		if err != nil {
			raw.Close()
			continue
		}
		c, err := l.n.track(raw, l.id, from)
		if err != nil {
			l.n.stats.dropped.Add(1)
			raw.Close()
			continue
		}
		return c, nil
	}
}

// readHello reads the dialler's id, one byte at a time so that nothing of
// the Raft stream behind it is consumed.
func readHello(c net.Conn) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	defer c.SetReadDeadline(time.Time{})
	var id []byte
	var b [1]byte
	for len(id) < 64 {
		if _, err := c.Read(b[:]); err != nil {
			return "", err
		}
		if b[0] == '\n' {
			return string(id), nil
		}
		id = append(id, b[0])
	}
	return "", errors.New("fault net: hello too long")
}

// faultConn is one Raft connection between servers local and remote.
type faultConn struct {
	net.Conn
	n             *faultNet
	local, remote string
}

// Read fails once the pair is cut.
func (c *faultConn) Read(p []byte) (int, error) {
	if c.n.blocked(c.local, c.remote) {
		c.n.stats.failedIO.Add(1)
		c.Conn.Close()
		return 0, errPartitioned
	}
	return c.Conn.Read(p)
}

// Write fails once the pair is cut.
func (c *faultConn) Write(p []byte) (int, error) {
	if c.n.blocked(c.local, c.remote) {
		c.n.stats.failedIO.Add(1)
		c.Conn.Close()
		return 0, errPartitioned
	}
	return c.Conn.Write(p)
}

// Close forgets the connection.
func (c *faultConn) Close() error {
	c.n.mu.Lock()
	delete(c.n.conns, c)
	c.n.mu.Unlock()
	return c.Conn.Close()
}

// faultCluster is a cluster whose Raft traffic runs through a faultNet.
// Clients reach servers through slots (server, appliers), which stay valid
// across crashes and restarts; mu guards cluster.servers against them.
type faultCluster struct {
	*cluster
	net   *faultNet
	addrs []string // each server's Raft address, kept across restarts
	mu    sync.RWMutex
	onAck func(id string, cmd registry.Command, res registry.Result)
}

// startFaultCluster starts n servers on a faultNet. Their registries keep
// all change history, so tests can read back every write that was applied.
func startFaultCluster(tb testing.TB, n int) *faultCluster {
	tb.Helper()
	fn := newFaultNet()
	c := startCluster(tb, n, func(cfg *coordinator.Config) {
		cfg.Registry.HistoryWindow = 1 << 40
		fn.attach(tb, cfg, "127.0.0.1:0")
	})
	fc := &faultCluster{cluster: c, net: fn}
	for _, s := range c.servers {
		fc.addrs = append(fc.addrs, s.Addr())
	}
	tb.Cleanup(func() {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		for i, s := range fc.servers {
			if s != nil {
				s.Kill()
				fc.servers[i] = nil
			}
		}
	})
	return fc
}

// server returns the running server i, or nil.
func (fc *faultCluster) server(i int) *coordinator.Server {
	fc.mu.RLock()
	defer fc.mu.RUnlock()
	return fc.servers[i]
}

// leaderIndex returns the index of a running leader, waiting up to d, or -1.
func (fc *faultCluster) leaderIndex(d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		for i := range fc.addrs {
			if s := fc.server(i); s != nil && s.IsLeader() {
				return i
			}
		}
		if time.Now().After(deadline) {
			return -1
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// crash kills server i as a crash would: its connections are cut first.
func (fc *faultCluster) crash(i int) {
	fc.tb.Helper()
	fc.net.crash(fc.cfgs[i].ID)
	fc.mu.Lock()
	s := fc.servers[i]
	fc.servers[i] = nil
	fc.mu.Unlock()
	if err := s.Kill(); err != nil {
		fc.tb.Errorf("kill %s: %v", s.ID(), err)
	}
}

// restart reopens server i from its data directory at its old address.
func (fc *faultCluster) restart(i int) {
	fc.tb.Helper()
	cfg := fc.cfgs[i]
	cfg.Bootstrap = false
	fc.net.attach(fc.tb, &cfg, fc.addrs[i])
	fc.net.revive(cfg.ID)
	s, err := coordinator.Open(context.Background(), cfg)
	if err != nil {
		fc.tb.Errorf("restart %s: %v", cfg.ID, err)
		return
	}
	fc.mu.Lock()
	fc.servers[i] = s
	fc.mu.Unlock()
}

// slot reaches whichever server runs as number i.
type slot struct {
	fc *faultCluster
	i  int
}

// Apply implements coordinator.Applier.
func (s slot) Apply(ctx context.Context, cmd registry.Command) (registry.Result, error) {
	srv := s.fc.server(s.i)
	if srv == nil {
		return registry.Result{}, fmt.Errorf("%s is down: %w", s.fc.cfgs[s.i].ID, coordinator.ErrClosed)
	}
	res, err := srv.Apply(ctx, cmd)
	if err == nil && s.fc.onAck != nil {
		s.fc.onAck(srv.ID(), cmd, res)
	}
	return res, err
}

// appliers returns every server's slot keyed by its Raft address, for Do.
func (fc *faultCluster) appliers() coordinator.Servers {
	out := coordinator.Servers{}
	for i, a := range fc.addrs {
		out[a] = slot{fc: fc, i: i}
	}
	return out
}

// converge waits until every server runs, has applied one more write and
// holds the same state and change history, and returns that history.
func (fc *faultCluster) converge() []registry.Object {
	fc.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := coordinator.Do(ctx, fc.appliers(), put(fc.tb, setting("converged", time.Now().String())))
	if err != nil {
		fc.tb.Fatalf("write after healing: %v", err)
	}
	var first []registry.Object
	var firstState map[registry.Kind][]registry.Object
	for i := range fc.addrs {
		s := fc.server(i)
		if s == nil {
			fc.tb.Fatalf("%s is not running", fc.cfgs[i].ID)
		}
		if _, err := s.Registry().WaitIndex(ctx, res.Index-1); err != nil {
			fc.tb.Fatalf("%s did not reach index %d (at %d): %v", s.ID(), res.Index, s.Registry().Index(), err)
		}
		h := changeHistory(fc.tb, s.Registry(), res.Index)
		st := state(fc.tb, s)
		if i == 0 {
			first, firstState = h, st
			continue
		}
		if !reflect.DeepEqual(st, firstState) {
			fc.tb.Fatalf("%s holds another state than %s", s.ID(), fc.cfgs[0].ID)
		}
		if !reflect.DeepEqual(h, first) {
			fc.tb.Fatalf("%s has another change history than %s", s.ID(), fc.cfgs[0].ID)
		}
	}
	return first
}

// changeHistory returns every change record of fsm up to index upTo, in
// index order (the registry must keep all history).
func changeHistory(tb testing.TB, fsm *registry.FSM, upTo uint64) []registry.Object {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Index 1 is the bootstrap configuration, never a command.
	w := fsm.Watch(1)
	var out []registry.Object
	for w.Index() < upTo {
		b, err := w.Next(ctx)
		if err != nil {
			tb.Fatalf("read change history: %v", err)
		}
		if b.Snapshot {
			tb.Fatal("change history was pruned")
		}
		out = append(out, b.Objects...)
	}
	return out
}

// settingValues maps the value of every setting put in h to the indexes
// that wrote it.
func settingValues(tb testing.TB, h []registry.Object) map[string][]uint64 {
	tb.Helper()
	out := map[string][]uint64{}
	for _, o := range h {
		if o.Kind != registry.KindSetting || o.Deleted {
			continue
		}
		var s registry.Setting
		if err := o.Decode(&s); err != nil {
			tb.Fatal(err)
		}
		out[s.Value] = append(out[s.Value], o.ModifyIndex)
	}
	return out
}

// isolationWrite is one command of TestFault_LeaderIsolation.
type isolationWrite struct {
	cmd   registry.Command
	value string
	acked bool
	index uint64
}

// ack is one acknowledgement by one server.
type ack struct {
	server string
	at     time.Time
	index  uint64
}

// TestFault_LeaderIsolation cuts the leader of a 3-server cluster off from
// both followers at the transport, while clients write to every server
// with idempotency keys, and heals the partition. The majority must elect a
// new leader and take writes within 5 s; the isolated leader must
// acknowledge nothing it cannot commit; afterwards every acknowledged write
// is applied exactly once, with identical state and history everywhere.
func TestFault_LeaderIsolation(t *testing.T) {
	fc := startFaultCluster(t, 3)
	var ackMu sync.Mutex
	acks := map[string][]ack{} // idempotency key -> acknowledgements
	fc.onAck = func(id string, cmd registry.Command, res registry.Result) {
		ackMu.Lock()
		acks[cmd.IdempotencyKey] = append(acks[cmd.IdempotencyKey], ack{server: id, at: time.Now(), index: res.Index})
		ackMu.Unlock()
	}
	fc.waitReplicated(fc.do(put(t, setting("before", "1"))).Index)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var wmu sync.Mutex
	var writes []*isolationWrite
	newWrite := func(writer string, seq int) *isolationWrite {
		v := fmt.Sprintf("%s-%d", writer, seq)
		w := &isolationWrite{cmd: put(t, setting(fmt.Sprintf("k%d", seq%16), v)), value: v}
		wmu.Lock()
		writes = append(writes, w)
		wmu.Unlock()
		return w
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// One writer per server sends only to that server, retrying a command
	// with its key until it is acknowledged or 2 s have passed, as a client
	// pinned to one server would.
	for i := range fc.addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := slot{fc: fc, i: i}
			for seq := 0; !stopped(); seq++ {
				w := newWrite(fmt.Sprintf("pin%d", i), seq)
				deadline := time.Now().Add(2 * time.Second)
				for time.Now().Before(deadline) && !stopped() {
					ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
					res, err := target.Apply(ctx, w.cmd)
					cancel()
					if err == nil {
						w.acked, w.index = true, res.Index
						break
					}
					time.Sleep(time.Duration(10+rand.IntN(20)) * time.Millisecond)
				}
			}
		}()
	}
	// Two writers go through Do, which follows leader hints across all
	// servers with the same key.
	for j := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; !stopped(); seq++ {
				w := newWrite(fmt.Sprintf("do%d", j), seq)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				res, err := coordinator.Do(ctx, fc.appliers(), w.cmd)
				cancel()
				if err == nil {
					w.acked, w.index = true, res.Index
				}
			}
		}()
	}

	time.Sleep(time.Second)
	old := fc.leaderIndex(5 * time.Second)
	if old < 0 {
		t.Fatal("no leader before the partition")
	}
	oldID := fc.cfgs[old].ID
	cut := time.Now()
	fc.net.isolate(oldID)

	// The majority side elects a leader and takes a write.
	var elected, accepted time.Duration
	for elected == 0 || accepted == 0 {
		if time.Since(cut) > 5*time.Second {
			t.Fatalf("after 5 s of isolation: new leader after %v, first write after %v (0: none)", elected, accepted)
		}
		for i := range fc.addrs {
			if s := fc.server(i); i != old && elected == 0 && s.IsLeader() {
				elected = time.Since(cut)
			}
		}
		if accepted == 0 {
			ackMu.Lock()
			for _, as := range acks {
				for _, a := range as {
					if a.server != oldID && a.at.After(cut) {
						accepted = time.Since(cut)
					}
				}
			}
			ackMu.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("isolated leader %s: new leader after %v, first write on the majority side after %v", oldID, elected, accepted)

	// Writers keep hitting the isolated server for a while.
	time.Sleep(3 * time.Second)
	if fc.server(old).IsLeader() {
		t.Errorf("%s still believes it leads after %v without a majority", oldID, time.Since(cut))
	}
	healed := time.Now()
	fc.net.heal()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	history := fc.converge()
	values := settingValues(t, history)
	var acked, unknown, lateAcks, oldAcks int
	for _, w := range writes {
		idx := values[w.value]
		if len(idx) > 1 {
			t.Errorf("write %s applied %d times, at %v", w.value, len(idx), idx)
		}
		if !w.acked {
			if len(idx) == 0 {
				unknown++
			}
			continue
		}
		acked++
		if len(idx) != 1 || idx[0] != w.index {
			t.Errorf("acknowledged write %s (index %d) is in the history at %v", w.value, w.index, idx)
		}
		for _, a := range acks[w.cmd.IdempotencyKey] {
			if a.server != oldID || !a.at.After(cut) || a.at.After(healed) {
				continue
			}
			// Entries committed just before the cut may be acknowledged
			// just after it (the leader steps down after its 150 ms
			// lease); nothing later can be committed alone.
			oldAcks++
			if a.at.Sub(cut) > 2*time.Second {
				lateAcks++
			}
		}
	}
	if lateAcks > 0 {
		t.Errorf("the isolated leader acknowledged %d writes more than 2 s after it lost the majority", lateAcks)
	}
	if acked < 50 {
		t.Errorf("only %d writes acknowledged; the test wrote too little to mean anything", acked)
	}
	st := &fc.net.stats
	if st.refused.Load()+st.dropped.Load() == 0 || st.severed.Load() == 0 {
		t.Errorf("the partition cut nothing: refused %d, dropped %d, severed %d", st.refused.Load(), st.dropped.Load(), st.severed.Load())
	}
	t.Logf("%d writes, %d acknowledged (%d by the isolated leader after the cut, all present), %d never applied; "+
		"fault net: %d dials refused, %d accepts dropped, %d connections severed, %d reads/writes failed",
		len(writes), acked, oldAcks, unknown, st.refused.Load(), st.dropped.Load(), st.severed.Load(), st.failedIO.Load())
}

// TestFaultNet_CutsBothWays checks the fault injector itself: a cut stops
// an open connection in both directions, refuses dials either way, drops a
// connection that gets past the dialler, and healing lets traffic through.
func TestFaultNet_CutsBothWays(t *testing.T) {
	fn := newFaultNet()
	a, b := coordinator.Config{ID: "a"}, coordinator.Config{ID: "b"}
	fn.attach(t, &a, "127.0.0.1:0")
	fn.attach(t, &b, "127.0.0.1:0")
	defer a.StreamLayer.Close()
	defer b.StreamLayer.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		defer close(accepted)
		for {
			c, err := b.StreamLayer.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	roundTrip := func() (net.Conn, net.Conn) {
		t.Helper()
		ca, err := a.StreamLayer.Dial(raft.ServerAddress(b.StreamLayer.Addr().String()), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		cb := <-accepted
		buf := make([]byte, 4)
		if _, err := ca.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(cb, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("b read %q, %v", buf, err)
		}
		if _, err := cb.Write([]byte("pong")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(ca, buf); err != nil || string(buf) != "pong" {
			t.Fatalf("a read %q, %v", buf, err)
		}
		return ca, cb
	}
	ca, cb := roundTrip()

	// A read blocked on b's side returns when the cut is made; a's writes fail.
	readErr := make(chan error, 1)
	go func() {
		_, err := cb.Read(make([]byte, 1))
		readErr <- err
	}()
	time.Sleep(20 * time.Millisecond)
	fn.isolate("a")
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("read across the cut succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("read across the cut still blocked")
	}
	if _, err := ca.Write([]byte("x")); err == nil {
		t.Fatal("write across the cut succeeded")
	}
	if _, err := a.StreamLayer.Dial(raft.ServerAddress(b.StreamLayer.Addr().String()), time.Second); !errors.Is(err, errPartitioned) {
		t.Fatalf("dial a->b across the cut: %v", err)
	}
	if _, err := b.StreamLayer.Dial(raft.ServerAddress(a.StreamLayer.Addr().String()), time.Second); !errors.Is(err, errPartitioned) {
		t.Fatalf("dial b->a across the cut: %v", err)
	}
	// A connection that names a but bypasses a's dialler is dropped by b.
	raw, err := net.Dial("tcp", b.StreamLayer.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("raw connection from a: read %v, want EOF (dropped)", err)
	}
	if len(accepted) != 0 || fn.stats.dropped.Load() != 1 {
		t.Fatalf("accepted %d connections across the cut, dropped %d", len(accepted), fn.stats.dropped.Load())
	}

	fn.heal()
	roundTrip()
}
