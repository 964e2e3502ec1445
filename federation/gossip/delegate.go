package gossip

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate receives memberlist's callbacks for a Member. The event methods
// run under memberlist's node lock, so they only touch the Member's own state
// and queue events for the dispatcher.
type delegate struct {
	m *Member
}

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
	_ memberlist.PingDelegate  = (*delegate)(nil)
	_ memberlist.AliveDelegate = (*delegate)(nil)
)

// NodeMeta returns the encoded metadata, which Validate and UpdateMeta keep
// within limit.
func (d *delegate) NodeMeta(limit int) []byte {
	d.m.metaMu.Lock()
	defer d.m.metaMu.Unlock()
	if len(d.m.metaBytes) > limit {
		return nil // unreachable: encode refuses more than MetaMaxSize
	}
	return bytes.Clone(d.m.metaBytes)
}

// NotifyMsg takes the one user message members send: the leaving notice
// (see Member.Leave). Anything else is ignored.
func (d *delegate) NotifyMsg(b []byte) {
	if name, ok := decodeLeaving(b); ok {
		d.m.noteLeaving(name)
	}
}

// GetBroadcasts has no user broadcasts to add.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState has no user state for push/pull.
func (d *delegate) LocalState(join bool) []byte { return nil }

// MergeRemoteState ignores user state.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {}

// NotifyAlive admits only members whose metadata decodes.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	_, err := decodeMeta(n.Meta)
	return err
}

// NotifyJoin records a (re)joined member.
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.m.nodeEvent(EventJoin, n) }

// NotifyUpdate records new metadata.
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.nodeEvent(EventUpdate, n) }

// NotifyLeave records a member that left or was declared dead; nodeEvent
// tells which by the leaving flag (memberlist's Node.State is always alive
// here).
func (d *delegate) NotifyLeave(n *memberlist.Node) { d.m.nodeEvent(EventFail, n) }

// AckPayload adds nothing to acks.
func (d *delegate) AckPayload() []byte { return nil }

// NotifyPingComplete records the round trip of an acknowledged direct probe.
// Only the node's name is read: memberlist may change its other fields
// concurrently.
func (d *delegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	d.m.observeRTT(other.Name, rtt)
}

// nodeEvent applies a memberlist event to the view; n is only read here,
// under memberlist's node lock.
func (m *Member) nodeEvent(t EventType, n *memberlist.Node) {
	now := time.Now()
	md, err := decodeMeta(n.Meta)
	if err != nil {
		// NotifyAlive admits no such member; keep what is known.
		m.log.Warn("gossip: undecodable metadata", "peer", n.Name, "err", err)
	}
	m.mu.Lock()
	p, ok := m.peers[n.Name]
	if !ok || t == EventJoin {
		var rtt time.Duration
		if ok {
			rtt = p.RTT
		}
		p = &Peer{Name: n.Name, RTT: rtt}
		m.peers[n.Name] = p
		delete(m.leaving, n.Name) // a notice from before it came back
	}
	p.Addr = n.Address()
	if err == nil {
		p.Org, p.Role, p.APIAddr, p.Version = md.Org, md.Role, md.APIAddr, md.Version
		p.Collections, p.Topics = md.Collections, md.Topics
	}
	state := StateAlive
	if t == EventFail && m.leavingNoticedLocked(n.Name, now) {
		md.Leaving = true // it said so itself, directly, before it left
	}
	switch {
	case md.Leaving:
		// Announced by Leave: an update with the flag, then the leave itself.
		if t != EventFail {
			p.LastSeen = now
		}
		t, state = EventLeave, StateLeft
	case t == EventFail:
		state = StateDead
	default:
		p.LastSeen = now
	}
	emit := true
	if ok && t == EventLeave && p.State == StateLeft {
		emit = false // already reported when the flag arrived
	}
	if state != p.State || !ok || t == EventJoin {
		p.State, p.StateChange = state, now
	}
	ev := Event{Type: t, Peer: clonePeer(p), At: now}
	closed := m.closed
	m.mu.Unlock()
	if emit && n.Name != m.name && !closed {
		m.events.push(ev)
	}
}

// logWriter turns memberlist's "[LEVEL] memberlist: text" lines into slog
// records and spots the line that says a probe of a member failed.
type logWriter struct {
	log       *slog.Logger
	onSuspect func(name string)
}

// Write handles one log line.
func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	level := slog.LevelInfo
	for _, p := range []struct {
		prefix string
		level  slog.Level
	}{
		{"[DEBUG] ", slog.LevelDebug}, {"[INFO] ", slog.LevelInfo},
		{"[WARN] ", slog.LevelWarn}, {"[ERR] ", slog.LevelError}, {"[ERROR] ", slog.LevelError},
	} {
		if rest, ok := strings.CutPrefix(line, p.prefix); ok {
			level, line = p.level, rest
			break
		}
	}
	// memberlist v0.7.0, state.go probeNode: the one place a member becomes
	// suspect because of the local member's own probe.
	if rest, ok := strings.CutPrefix(line, "memberlist: Suspect "); ok {
		if name, ok := strings.CutSuffix(rest, " has failed, no acks received"); ok {
			w.onSuspect(name)
		}
	}
	if w.log.Enabled(context.Background(), level) {
		w.log.Log(context.Background(), level, line)
	}
	return len(p), nil
}

// dispatcher delivers events to a callback in order on one goroutine, so that
// memberlist's callbacks never wait for the application.
type dispatcher struct {
	fn   func(Event)
	mu   sync.Mutex
	wake chan struct{}
	done chan struct{}
	q    []Event
	stop bool
}

func newDispatcher(fn func(Event)) *dispatcher {
	d := &dispatcher{fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if fn == nil {
		close(d.done)
		return d
	}
	go d.run()
	return d
}

func (d *dispatcher) push(e Event) {
	if d.fn == nil {
		return
	}
	d.mu.Lock()
	if d.stop {
		d.mu.Unlock()
		return
	}
	d.q = append(d.q, e)
	select { // under mu, so that close cannot close wake in between
	case d.wake <- struct{}{}:
	default:
	}
	d.mu.Unlock()
}

func (d *dispatcher) run() {
	defer close(d.done)
	for range d.wake {
		for {
			d.mu.Lock()
			if d.stop {
				d.mu.Unlock()
				return
			}
			if len(d.q) == 0 {
				d.mu.Unlock()
				break
			}
			e := d.q[0]
			d.q[0] = Event{}
			d.q = d.q[1:]
			d.mu.Unlock()
			d.fn(e)
		}
	}
}

// close drops undelivered events and waits for a callback in progress.
func (d *dispatcher) close() {
	d.mu.Lock()
	if !d.stop {
		d.stop = true
		d.q = nil
		if d.fn != nil {
			close(d.wake)
		}
	}
	d.mu.Unlock()
	<-d.done
}
