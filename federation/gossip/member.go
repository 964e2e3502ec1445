package gossip

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/assistent-nl/assistent/federation/trust"
)

// ErrClosed is returned (wrapped) by a Member that has been shut down.
var ErrClosed = errors.New("gossip: member shut down")

// ErrUnknownPeer is returned (wrapped) by Ping for a name not in the view.
var ErrUnknownPeer = errors.New("gossip: unknown peer")

// maxUpdateWait bounds how long UpdateMeta waits for its broadcast.
const maxUpdateWait = 30 * time.Second

// rttWeight is the weight of a new RTT sample in the moving average.
const rttWeight = 0.3

// State is a member's liveness as seen by the local member.
type State int

// The states of a peer.
const (
	// StateAlive: the peer answers probes or announced itself recently.
	StateAlive State = iota
	// StateSuspect: the local member's own probe of the peer failed; the
	// cluster has not declared it dead (yet).
	StateSuspect
	// StateDead: the cluster declared the peer failed.
	StateDead
	// StateLeft: the peer left gracefully.
	StateLeft
)

// String returns alive, suspect, dead or left.
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Peer is a member of the federation as the local member sees it.
type Peer struct {
	// Name is the member's node id.
	Name string
	// Org and Role are what the member claims in its metadata; check them
	// against its certificate (Identity) before trusting an answer.
	Org  string
	Role trust.Role
	// Addr is the member's gossip address (host:port).
	Addr string
	// APIAddr is its mutual-TLS API address.
	APIAddr string
	// Collections and Topics are sorted and without duplicates.
	Collections []string
	Topics      []string
	// Version is the member's software version.
	Version string
	// State is its liveness as seen locally; StateChange when that last
	// changed.
	State       State
	StateChange time.Time
	// RTT is the moving average of the round trip of acknowledged probes;
	// zero until the first one.
	RTT time.Duration
	// LastSeen is when the member last showed life: an acknowledged probe
	// or an alive message (join, update).
	LastSeen time.Time
}

// Identity returns the certificate identity the peer claims, to check with
// trust.ExpectNode when dialing its APIAddr.
func (p Peer) Identity() trust.Identity {
	return trust.Identity{Org: p.Org, Role: p.Role, Node: p.Name}
}

// EventType says what happened to a peer.
type EventType int

// The membership events.
const (
	// EventJoin: a peer joined (or came back after being dead or left).
	EventJoin EventType = iota
	// EventUpdate: a peer changed its metadata.
	EventUpdate
	// EventSuspect: the local member's probe of a peer failed.
	EventSuspect
	// EventFail: the cluster declared a peer dead.
	EventFail
	// EventLeave: a peer left gracefully.
	EventLeave
)

// String returns join, update, suspect, fail or leave.
func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventSuspect:
		return "suspect"
	case EventFail:
		return "fail"
	case EventLeave:
		return "leave"
	}
	return "event(" + strconv.Itoa(int(t)) + ")"
}

// Event is a change in the membership view. Peer is the peer's view right
// after the change.
type Event struct {
	Type EventType
	Peer Peer
	// At is when the local member learnt of the change.
	At time.Time
}

// Member is the local member of the gossip cluster. Its methods are safe for
// concurrent use.
type Member struct {
	name    string
	addr    string
	timing  Timing
	log     *slog.Logger
	ml      *memberlist.Memberlist
	keyring *memberlist.Keyring
	events  *dispatcher

	// updateMu serialises UpdateMeta; metaMu guards meta and metaBytes,
	// which memberlist reads through NodeMeta.
	updateMu  sync.Mutex
	metaMu    sync.Mutex
	meta      meta
	metaBytes []byte

	// mu guards peers and closed. Lock order: memberlist's node lock (held
	// when it calls the event delegate), then mu. Never call memberlist
	// while holding mu.
	mu     sync.Mutex
	peers  map[string]*Peer
	closed bool
	// leaving holds when members sent their leaving notice, by name.
	leaving map[string]time.Time
}

// Join starts a Member (Start) and joins cfg.Seeds. It fails when seeds are
// given and none of them could be reached before ctx ends; a member that may
// be the first of its cluster (a coordination server) should rather call
// Start and retry Member.Join.
func Join(ctx context.Context, cfg Config) (*Member, error) {
	m, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := m.Join(ctx, cfg.Seeds); err != nil {
		_ = m.Shutdown()
		return nil, err
	}
	return m, nil
}

// Start validates cfg and starts a Member that listens for gossip but has not
// contacted anyone yet (see Member.Join). Traffic is encrypted with the
// keyring's primary key and incoming traffic must decrypt with one of its
// keys.
func Start(cfg Config) (*Member, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("gossip_node", cfg.Name)
	keys := make([][]byte, len(cfg.Keyring))
	for i, k := range cfg.Keyring {
		keys[i] = bytes.Clone(k)
	}
	keyring, err := memberlist.NewKeyring(keys[1:], keys[0])
	if err != nil {
		return nil, fmt.Errorf("gossip: keyring: %w", err)
	}
	md := cfg.meta()
	md.Collections, md.Topics = canonical(md.Collections), canonical(md.Topics)
	mb, err := md.encode()
	if err != nil {
		return nil, fmt.Errorf("gossip: metadata: %w", err)
	}
	m := &Member{
		name:      cfg.Name,
		timing:    cfg.Timing.withDefaults(),
		log:       logger,
		keyring:   keyring,
		events:    newDispatcher(cfg.OnEvent),
		meta:      md,
		metaBytes: mb,
		peers:     make(map[string]*Peer),
	}
	d := &delegate{m: m}

	mlc := memberlist.DefaultLANConfig()
	mlc.Name = cfg.Name
	mlc.BindAddr = cfg.BindAddr
	mlc.BindPort = cfg.BindPort
	mlc.AdvertiseAddr = cfg.AdvertiseAddr
	mlc.AdvertisePort = cfg.AdvertisePort
	if mlc.AdvertisePort == 0 {
		mlc.AdvertisePort = cfg.BindPort
	}
	m.timing.apply(mlc)
	mlc.Keyring = keyring
	mlc.GossipVerifyIncoming = true
	mlc.GossipVerifyOutgoing = true
	mlc.Delegate = d
	mlc.Events = d
	mlc.Ping = d
	mlc.Alive = d
	mlc.Logger = log.New(&logWriter{log: logger, onSuspect: m.suspected}, "", 0)
	if cfg.wrapTransport != nil {
		if err := wrapTransport(mlc, cfg.wrapTransport); err != nil {
			m.events.close()
			return nil, err
		}
	}

	ml, err := memberlist.Create(mlc)
	if err != nil {
		m.events.close()
		return nil, fmt.Errorf("gossip: start %s on %s: %w", cfg.Name, net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)), err)
	}
	m.ml = ml
	// No other member knows us yet, so our own node is not being changed.
	m.addr = ml.LocalNode().Address()
	return m, nil
}

// wrapTransport builds memberlist's network transport itself so that wrap
// can decorate it; port 0 is resolved as memberlist would.
func wrapTransport(mlc *memberlist.Config, wrap func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport) error {
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{mlc.BindAddr},
		BindPort:  mlc.BindPort,
		Logger:    mlc.Logger,
	})
	if err != nil {
		return fmt.Errorf("gossip: transport: %w", err)
	}
	if mlc.BindPort == 0 {
		mlc.BindPort = nt.GetAutoBindPort()
		mlc.AdvertisePort = mlc.BindPort
	}
	mlc.Transport = wrap(nt)
	return nil
}

// Name returns the local member's name.
func (m *Member) Name() string { return m.name }

// Addr returns the local member's advertised gossip address (host:port),
// with the port that was bound when Config.BindPort was 0.
func (m *Member) Addr() string { return m.addr }

// Join contacts seeds (gossip host:port addresses; the member's own address
// is skipped) and exchanges full state with each that answers. It returns how
// many answered, and an error when seeds were given and none did, or when ctx
// ended first (the attempt may still complete in the background).
func (m *Member) Join(ctx context.Context, seeds []string) (int, error) {
	seeds = slices.DeleteFunc(slices.Clone(seeds), func(s string) bool { return s == m.addr })
	if len(seeds) == 0 {
		return 0, nil
	}
	if m.isClosed() {
		return 0, fmt.Errorf("gossip: join: %w", ErrClosed)
	}
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		n, err := m.ml.Join(seeds)
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.n, fmt.Errorf("gossip: join %v: %w", seeds, r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("gossip: join %v: %w", seeds, ctx.Err())
	}
}

// Members returns every member in the local view, the local one included,
// sorted by name: alive and suspect ones, and dead and left ones for
// Timing.GossipToTheDeadTime after they went.
func (m *Member) Members() []Peer {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(now)
	out := make([]Peer, 0, len(m.peers))
	for _, p := range m.peers {
		out = append(out, clonePeer(p))
	}
	slices.SortFunc(out, func(a, b Peer) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Local returns the local member as it publishes itself.
func (m *Member) Local() Peer {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.peers[m.name]; ok {
		return clonePeer(p)
	}
	return Peer{Name: m.name, Addr: m.addr}
}

// NumAlive returns how many members, the local one included, are alive in the
// local view (suspect ones are not counted).
func (m *Member) NumAlive() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.peers {
		if p.State == StateAlive {
			n++
		}
	}
	return n
}

// Nearest returns up to n alive peers (all when n <= 0), the local member
// excluded, for which filter (if not nil) returns true, ordered by RTT: peers
// with a measured RTT first, lowest first, then the others; ties by name.
// It is a hint for federated fallback, which still applies its own deadlines
// and circuit breakers: gossip never decides where a request goes.
func (m *Member) Nearest(n int, filter func(Peer) bool) []Peer {
	var out []Peer
	for _, p := range m.Members() {
		if p.Name == m.name || p.State != StateAlive {
			continue
		}
		if filter != nil && !filter(p) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Peer) int {
		if (a.RTT == 0) != (b.RTT == 0) {
			if a.RTT == 0 {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.RTT, b.RTT); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Ping probes the named peer directly once and folds the round trip into its
// RTT. It fails with ErrUnknownPeer for a name not in the view and when no
// ack arrives within Timing.ProbeTimeout or ctx ends.
func (m *Member) Ping(ctx context.Context, name string) (time.Duration, error) {
	m.mu.Lock()
	p, ok := m.peers[name]
	var addr string
	if ok {
		addr = p.Addr
	}
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return 0, fmt.Errorf("gossip: ping %s: %w", name, ErrClosed)
	}
	if !ok {
		return 0, fmt.Errorf("gossip: ping %s: %w", name, ErrUnknownPeer)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return 0, fmt.Errorf("gossip: ping %s: %w", name, err)
	}
	type result struct {
		rtt time.Duration
		err error
	}
	ch := make(chan result, 1)
	go func() {
		rtt, err := m.ml.Ping(name, ua)
		ch <- result{rtt, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return 0, fmt.Errorf("gossip: ping %s: %w", name, r.err)
		}
		m.observeRTT(name, r.rtt)
		return r.rtt, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("gossip: ping %s: %w", name, ctx.Err())
	}
}

// UpdateMeta replaces the published collections and topics and broadcasts
// the new metadata. It refuses metadata over MetaMaxSize (ErrMetaTooLarge)
// and keeps the old. Otherwise the new metadata is in force locally at once;
// UpdateMeta then waits until the broadcast has gone out to the cluster, and
// returns an error if ctx ends first or after 30 s (the update still spreads,
// at the latest with the next push/pull).
func (m *Member) UpdateMeta(ctx context.Context, collections, topics []string) error {
	m.updateMu.Lock()
	defer m.updateMu.Unlock()
	if m.isClosed() {
		return fmt.Errorf("gossip: update metadata: %w", ErrClosed)
	}
	m.metaMu.Lock()
	md := m.meta
	m.metaMu.Unlock()
	md.Collections, md.Topics = canonical(collections), canonical(topics)
	b, err := md.encode()
	if err != nil {
		return fmt.Errorf("gossip: update metadata: %w", err)
	}
	m.metaMu.Lock()
	m.meta, m.metaBytes = md, b
	m.metaMu.Unlock()

	timeout := maxUpdateWait
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			return fmt.Errorf("gossip: update metadata: %w", context.DeadlineExceeded)
		}
	}
	done := make(chan error, 1)
	go func() { done <- m.ml.UpdateNode(timeout) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("gossip: update metadata: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gossip: update metadata: %w", ctx.Err())
	}
}

// Leave announces that the member leaves: first its metadata gets the
// leaving flag and that update is broadcast, then memberlist's leave message.
// It waits up to timeout (0: no limit) for both to go out. The member keeps
// running until Shutdown; the others see it as left. Leave must not run
// concurrently with Shutdown; after Shutdown it returns ErrClosed.
func (m *Member) Leave(timeout time.Duration) error {
	m.updateMu.Lock()
	defer m.updateMu.Unlock()
	if m.isClosed() {
		return fmt.Errorf("gossip: leave: %w", ErrClosed)
	}
	m.metaMu.Lock()
	md := m.meta
	md.Leaving = true
	b, err := md.encode()
	if err == nil {
		m.meta, m.metaBytes = md, b
	}
	m.metaMu.Unlock()
	if err != nil {
		return fmt.Errorf("gossip: leave: %w", err) // unreachable: one flag bit more
	}
	start := time.Now()
	if err := m.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("gossip: leave: announce: %w", err)
	}
	// The flag spreads by gossip, which may reach a member after the leave
	// message does; a notice sent to each member directly closes that gap
	// (one UDP packet each, best effort).
	m.sendLeavingNotice()
	rest := time.Duration(0)
	if timeout > 0 {
		if rest = timeout - time.Since(start); rest <= 0 {
			rest = time.Millisecond
		}
	}
	if err := m.ml.Leave(rest); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// Shutdown stops the member without announcing it: the others detect it as
// failed, unless Leave came first. It waits for an OnEvent call in progress
// and drops events not yet delivered. Calling it again does nothing.
func (m *Member) Shutdown() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	err := m.ml.Shutdown()
	m.events.close()
	if err != nil {
		return fmt.Errorf("gossip: shutdown: %w", err)
	}
	return nil
}

// InstallKey adds key (16, 24 or 32 bytes) to the keyring for decryption;
// the primary key is unchanged. Installing a present key does nothing.
func (m *Member) InstallKey(key []byte) error {
	if err := m.keyring.AddKey(bytes.Clone(key)); err != nil {
		return fmt.Errorf("gossip: install key: %w", err)
	}
	return nil
}

// UseKey makes an installed key the primary key, used to encrypt from now on.
func (m *Member) UseKey(key []byte) error {
	if err := m.keyring.UseKey(key); err != nil {
		return fmt.Errorf("gossip: use key: %w", err)
	}
	return nil
}

// RemoveKey removes a key from the keyring. Removing the primary key is an
// error; removing a key that is not installed does nothing.
func (m *Member) RemoveKey(key []byte) error {
	// Reinstall the primary first: memberlist's RemoveKey shifts the ring's
	// slice in place, and this gives it a fresh one that no decryption in
	// progress is reading.
	if err := m.keyring.UseKey(m.keyring.GetPrimaryKey()); err != nil {
		return fmt.Errorf("gossip: remove key: %w", err)
	}
	if err := m.keyring.RemoveKey(key); err != nil {
		return fmt.Errorf("gossip: remove key: %w", err)
	}
	return nil
}

// Keys returns a copy of the keyring, the primary key first.
func (m *Member) Keys() [][]byte {
	keys := m.keyring.GetKeys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytes.Clone(k)
	}
	return out
}

func (m *Member) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// sendLeavingNotice tells every other member directly that this one leaves.
func (m *Member) sendLeavingNotice() {
	notice := encodeLeaving(m.name)
	for _, n := range m.ml.Members() {
		if n.Name != m.name {
			_ = m.ml.SendBestEffort(n, notice)
		}
	}
}

// leavingNotice starts the user message a member sends to every other
// just before it leaves; its name follows.
const leavingNotice = "assistent-gossip-leaving\x00"

// leavingWindow is how long a leaving notice explains a member's going.
const leavingWindow = time.Minute

func encodeLeaving(name string) []byte { return []byte(leavingNotice + name) }

func decodeLeaving(b []byte) (string, bool) {
	name, ok := strings.CutPrefix(string(b), leavingNotice)
	return name, ok && name != ""
}

// noteLeaving records a member's leaving notice. Any key holder could send
// one in another's name; it only ever turns a member that goes within
// leavingWindow into "left" instead of "dead".
func (m *Member) noteLeaving(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leaving == nil {
		m.leaving = map[string]time.Time{}
	}
	if _, ok := m.peers[name]; ok {
		m.leaving[name] = time.Now()
	}
}

// leavingNoticedLocked reports, and forgets, a recent leaving notice from
// name. m.mu is held.
func (m *Member) leavingNoticedLocked(name string, now time.Time) bool {
	at, ok := m.leaving[name]
	delete(m.leaving, name)
	return ok && now.Sub(at) < leavingWindow
}

// pruneLocked forgets dead and left peers after GossipToTheDeadTime.
func (m *Member) pruneLocked(now time.Time) {
	for name, p := range m.peers {
		if (p.State == StateDead || p.State == StateLeft) && now.Sub(p.StateChange) > m.timing.GossipToTheDeadTime {
			delete(m.peers, name)
		}
	}
}

// observeRTT folds a round-trip sample into the peer's average.
func (m *Member) observeRTT(name string, rtt time.Duration) {
	if rtt <= 0 {
		rtt = 1 // a measured zero still counts as measured
	}
	now := time.Now()
	m.mu.Lock()
	p, ok := m.peers[name]
	if !ok {
		m.mu.Unlock()
		return
	}
	if p.RTT == 0 {
		p.RTT = rtt
	} else {
		p.RTT += time.Duration(rttWeight * float64(rtt-p.RTT))
	}
	p.LastSeen = now
	if p.State == StateSuspect {
		p.State, p.StateChange = StateAlive, now
	}
	m.mu.Unlock()
}

// suspected records that the local member's probe of name failed.
func (m *Member) suspected(name string) {
	now := time.Now()
	m.mu.Lock()
	p, ok := m.peers[name]
	if !ok || p.State != StateAlive {
		m.mu.Unlock()
		return
	}
	p.State, p.StateChange = StateSuspect, now
	ev := Event{Type: EventSuspect, Peer: clonePeer(p), At: now}
	m.mu.Unlock()
	m.events.push(ev)
}

func clonePeer(p *Peer) Peer {
	c := *p
	c.Collections = slices.Clone(p.Collections)
	c.Topics = slices.Clone(p.Topics)
	return c
}
