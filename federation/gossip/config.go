package gossip

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/assistent-nl/assistent/federation/trust"
)

// DefaultPort is memberlist's customary gossip port (UDP and TCP).
const DefaultPort = 7946

// Config configures one Member.
type Config struct {
	// Name is the member's node id, unique in the federation (the registry's
	// node or server id, also the node part of its certificate identity).
	Name string
	// Org is the member's organisation code, e.g. GM0119 or VNG.
	Org string
	// Role is what the member is: a server, node, publisher or operator.
	Role trust.Role
	// BindAddr and BindPort are where gossip listens (UDP and TCP on the same
	// port). BindPort 0 picks a free port; Member.Addr reports it.
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what other members dial; empty/0
	// means the bound address and port.
	AdvertiseAddr string
	AdvertisePort int
	// APIAddr is the member's mutual-TLS API address (host:port), published
	// in its metadata.
	APIAddr string
	// Collections are the national collections the member serves; Topics
	// what it can answer about. Both are published, sorted and deduplicated.
	Collections []string
	Topics      []string
	// Version is the member's software version, published as is.
	Version string
	// Keyring holds the gossip encryption keys (AES, 16, 24 or 32 bytes);
	// the first is the primary key, used to encrypt. At least one is required:
	// gossip is never sent in clear text.
	Keyring [][]byte
	// Seeds are gossip addresses (host:port) of members to join, usually the
	// coordination servers' gossip addresses from the registry.
	Seeds []string
	// Timing tunes memberlist; zero fields take LANTiming's values.
	Timing Timing
	// OnEvent, if set, receives membership events about other members, one
	// at a time and in order, on a goroutine of the Member (never under
	// memberlist's locks). It must not call Leave or Shutdown.
	OnEvent func(Event)
	// Logger receives memberlist's logs at matching levels; nil discards.
	Logger *slog.Logger

	// wrapTransport wraps the network transport (WithSendDelay); nil uses
	// memberlist's own.
	wrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
}

// DefaultConfig returns a configuration that listens on all addresses on
// DefaultPort with LAN timing. Name, Org, Role, APIAddr and Keyring must still
// be set.
func DefaultConfig() Config {
	return Config{BindAddr: "0.0.0.0", BindPort: DefaultPort, Timing: LANTiming()}
}

// Timing holds memberlist's protocol periods; see memberlist.Config for each
// field's exact meaning.
type Timing struct {
	// GossipInterval is how often a member sends queued broadcasts to
	// GossipNodes random members.
	GossipInterval time.Duration
	GossipNodes    int
	// ProbeInterval is how often a member probes one other member (round
	// robin); ProbeTimeout how long it waits for a direct ack before asking
	// IndirectChecks others to probe.
	ProbeInterval  time.Duration
	ProbeTimeout   time.Duration
	IndirectChecks int
	// SuspicionMult scales the suspicion timeout:
	// SuspicionMult * max(1, log10(N)) * ProbeInterval at the least, up to
	// SuspicionMaxTimeoutMult times that without confirmations.
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	// RetransmitMult: a broadcast is sent RetransmitMult * ceil(log10(N+1))
	// times.
	RetransmitMult int
	// PushPullInterval is the period of full state exchanges (scaled up by
	// memberlist above 32 members).
	PushPullInterval time.Duration
	// TCPTimeout bounds a TCP exchange (join, push/pull, fallback probe).
	TCPTimeout time.Duration
	// GossipToTheDeadTime is how long dead members are still gossiped to and
	// kept in the view.
	GossipToTheDeadTime time.Duration
}

// LANTiming returns memberlist.DefaultLANConfig's timing: gossip every 200 ms
// to 3 members, probe every 1 s with a 500 ms timeout, suspicion multiplier 4.
func LANTiming() Timing {
	return timingOf(memberlist.DefaultLANConfig())
}

// LocalTiming returns fast timing for members on one host (tests, a local
// federation demo): gossip every 50 ms, probe every 200 ms with a 100 ms
// timeout, suspicion multiplier 3. It is unsuitable for real networks.
func LocalTiming() Timing {
	return Timing{
		GossipInterval:          50 * time.Millisecond,
		GossipNodes:             3,
		ProbeInterval:           200 * time.Millisecond,
		ProbeTimeout:            100 * time.Millisecond,
		IndirectChecks:          1,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 3,
		RetransmitMult:          3,
		PushPullInterval:        2 * time.Second,
		TCPTimeout:              time.Second,
		GossipToTheDeadTime:     5 * time.Second,
	}
}

func timingOf(c *memberlist.Config) Timing {
	return Timing{
		GossipInterval:          c.GossipInterval,
		GossipNodes:             c.GossipNodes,
		ProbeInterval:           c.ProbeInterval,
		ProbeTimeout:            c.ProbeTimeout,
		IndirectChecks:          c.IndirectChecks,
		SuspicionMult:           c.SuspicionMult,
		SuspicionMaxTimeoutMult: c.SuspicionMaxTimeoutMult,
		RetransmitMult:          c.RetransmitMult,
		PushPullInterval:        c.PushPullInterval,
		TCPTimeout:              c.TCPTimeout,
		GossipToTheDeadTime:     c.GossipToTheDeadTime,
	}
}

// withDefaults fills zero fields from LANTiming.
func (t Timing) withDefaults() Timing {
	d := LANTiming()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&t.GossipInterval, d.GossipInterval)
	setInt(&t.GossipNodes, d.GossipNodes)
	setDur(&t.ProbeInterval, d.ProbeInterval)
	setDur(&t.ProbeTimeout, d.ProbeTimeout)
	setInt(&t.IndirectChecks, d.IndirectChecks)
	setInt(&t.SuspicionMult, d.SuspicionMult)
	setInt(&t.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult)
	setInt(&t.RetransmitMult, d.RetransmitMult)
	setDur(&t.PushPullInterval, d.PushPullInterval)
	setDur(&t.TCPTimeout, d.TCPTimeout)
	setDur(&t.GossipToTheDeadTime, d.GossipToTheDeadTime)
	return t
}

func (t Timing) apply(c *memberlist.Config) {
	c.GossipInterval = t.GossipInterval
	c.GossipNodes = t.GossipNodes
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.IndirectChecks = t.IndirectChecks
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.RetransmitMult = t.RetransmitMult
	c.PushPullInterval = t.PushPullInterval
	c.TCPTimeout = t.TCPTimeout
	c.GossipToTheDeadTime = t.GossipToTheDeadTime
}

// Validate reports the first unusable field by its name, e.g.
// "gossip.keyring[1]: must be 16, 24 or 32 bytes". Metadata that would not
// fit in MetaMaxSize bytes yields an error wrapping ErrMetaTooLarge.
func (c Config) Validate() error {
	field := func(name, msg string) error { return fmt.Errorf("gossip.%s: %s", name, msg) }
	switch {
	case !trust.ValidNodeID(c.Name):
		return field("name", "must be a node id (lowercase letters, digits and '-', 1-63 characters)")
	case !trust.ValidOrg(c.Org):
		return field("org", "must be an organisation code such as GM0119")
	case !c.Role.Valid():
		return field("role", "must be server, node, publisher or operator")
	case c.BindAddr == "" || net.ParseIP(c.BindAddr) == nil:
		return field("bind_addr", "must be an IP address")
	case c.BindPort < 0 || c.BindPort > 65535:
		return field("bind_port", "must be 0-65535")
	case c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil:
		return field("advertise_addr", "must be an IP address")
	case c.AdvertisePort < 0 || c.AdvertisePort > 65535:
		return field("advertise_port", "must be 0-65535")
	case len(c.Keyring) == 0:
		return field("keyring", "at least one key is required")
	}
	if _, _, err := net.SplitHostPort(c.APIAddr); err != nil {
		return field("api_addr", "must be host:port")
	}
	for i, k := range c.Keyring {
		if err := memberlist.ValidateKey(k); err != nil {
			return field("keyring["+strconv.Itoa(i)+"]", "must be 16, 24 or 32 bytes")
		}
	}
	for i, s := range c.Seeds {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return field("seeds["+strconv.Itoa(i)+"]", "must be host:port")
		}
	}
	t := c.Timing.withDefaults()
	switch {
	case t.GossipInterval < 0 || t.ProbeInterval < 0 || t.ProbeTimeout < 0 ||
		t.PushPullInterval < 0 || t.TCPTimeout < 0 || t.GossipToTheDeadTime < 0:
		return field("timing", "durations must not be negative")
	case t.ProbeTimeout >= t.ProbeInterval:
		return field("timing.probe_timeout", "must be shorter than probe_interval")
	case t.GossipNodes < 0 || t.IndirectChecks < 0 || t.SuspicionMult < 0 ||
		t.SuspicionMaxTimeoutMult < 0 || t.RetransmitMult < 0:
		return field("timing", "counts must not be negative")
	}
	if _, err := c.meta().encode(); err != nil {
		return fmt.Errorf("gossip.collections: %w", err)
	}
	return nil
}

func (c Config) meta() meta {
	return meta{
		Org:         c.Org,
		Role:        c.Role,
		APIAddr:     c.APIAddr,
		Version:     c.Version,
		Collections: c.Collections,
		Topics:      c.Topics,
	}
}
