package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
	"github.com/assistent-nl/assistent/node"
)

// gossipConfig is the "gossip" block of the config file's federation
// block: the node becomes a member of the federation's gossip, which tells
// it who is alive, what they serve and how far away they are (for the
// "nearest" fallback policy and the status page). The member's name and
// organisation are those of the node's certificate.
type gossipConfig struct {
	// Bind is where gossip listens, UDP and TCP (IP:port; default
	// 0.0.0.0:7946).
	Bind string `json:"bind"`
	// Advertise is the IP:port other members dial, when it is not Bind
	// (behind NAT, or when Bind is 0.0.0.0).
	Advertise string `json:"advertise"`
	// APIAddr is the host:port where other members reach this node's
	// SearchService; default federation.peer_addr.
	APIAddr string `json:"api_addr"`
	// Seeds are gossip addresses of coordination servers (host:port); the
	// registry adds those the servers announce (settings gossip.seed.*).
	Seeds []string `json:"seeds"`
	// KeyFile holds the first gossip key: 32 bytes, raw or in base64.
	// Relative paths are read from the config file's directory. Later keys
	// and rotations come from the registry (setting gossip.keyring).
	KeyFile string `json:"key_file"`
	// Topics say what kind of content the node serves (default
	// ["gemeente"]); the nearest policy asks members that share one.
	Topics []string `json:"topics"`
	// Nearest is how many members the nearest policy asks (default 3).
	Nearest int `json:"nearest"`
	// Timing is "lan" (default) or "local" (fast timing for members on one
	// host: tests and demos).
	Timing string `json:"timing"`
}

// federationExtras returns what this file reads from the federation block:
// the fallback policy ("off", "national-only", "peers" or "nearest"; empty:
// peers when peers are listed) and the gossip settings.
func federationExtras(f *federationConfig) (policy string, g *gossipConfig) {
	if f == nil {
		return "", nil
	}
	return f.Fallback, f.Gossip
}

// defaultTopics is what a gemeente node serves.
var defaultTopics = []string{"gemeente"}

// readGossipKey reads a gossip key file: 32 bytes, raw or base64.
func readGossipKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read gossip key: %w", err)
	}
	if len(b) == 32 {
		return b, nil
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("gossip key %s: want 32 bytes, raw or base64 (e.g. head -c 32 /dev/urandom | base64)", path)
	}
	return k, nil
}

// ipPort splits an IP:port address for gossip, which binds and advertises
// IP addresses only.
func ipPort(field, addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && net.ParseIP(host) == nil {
		err = errors.New("not an IP address")
	}
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("%s: %q must be IP:port", field, addr)
	}
	return host, p, nil
}

// gossipMember is a running gossip member and the seeds it keeps joined.
type gossipMember struct {
	m     *gossip.Member
	mu    sync.Mutex
	seeds []string // guarded by mu: the registry adds to them
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}
	once  sync.Once
}

// memberSpec is what startGossip needs beyond the file's settings.
type memberSpec struct {
	self    trust.Identity
	apiAddr string
	timing  gossip.Timing
}

// startGossip starts a member with the given settings; it listens at once
// but contacts the seeds only when join is called.
func startGossip(bind, advertise string, seeds []string, key []byte, topics []string, spec memberSpec, log *slog.Logger) (*gossipMember, error) {
	cfg := gossip.DefaultConfig()
	cfg.Name, cfg.Org, cfg.Role = spec.self.Node, spec.self.Org, spec.self.Role
	cfg.APIAddr, cfg.Version, cfg.Topics = spec.apiAddr, version, topics
	cfg.Keyring, cfg.Seeds, cfg.Timing, cfg.Logger = [][]byte{key}, seeds, spec.timing, log
	var err error
	if bind != "" {
		if cfg.BindAddr, cfg.BindPort, err = ipPort("gossip.bind", bind); err != nil {
			return nil, err
		}
	}
	if advertise != "" {
		if cfg.AdvertiseAddr, cfg.AdvertisePort, err = ipPort("gossip.advertise", advertise); err != nil {
			return nil, err
		}
	}
	m, err := gossip.Start(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("gossip member started", "name", cfg.Name, "addr", m.Addr(), "api_addr", cfg.APIAddr, "seeds", seeds)
	return &gossipMember{m: m, seeds: seeds, log: log}, nil
}

// join contacts the seeds in the background, and again whenever the
// member finds itself alone: a coordination server may start before the
// others, and a node may lose every seed for a while.
func (g *gossipMember) join(ctx context.Context) {
	if g == nil {
		return
	}
	ctx, g.stop = context.WithCancel(ctx)
	g.done = make(chan struct{})
	go func() {
		defer close(g.done)
		wait := time.Second
		for {
			if seeds := g.seedList(); g.m.NumAlive() <= 1 && len(seeds) > 0 {
				jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				n, err := g.m.Join(jctx, seeds)
				cancel()
				if err != nil {
					g.log.Warn("gossip: no seed answered; trying again", "seeds", seeds, "in", wait, "err", err)
					wait = min(2*wait, 30*time.Second)
				} else {
					g.log.Info("gossip: joined", "seeds_answered", n)
					wait = 30 * time.Second
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
}

// Close announces that the member leaves, so the others see it left rather
// than failed, and stops it.
func (g *gossipMember) Close() error {
	if g == nil {
		return nil
	}
	var err error
	g.once.Do(func() {
		if g.stop != nil {
			g.stop()
			<-g.done
		}
		if lerr := g.m.Leave(2 * time.Second); lerr != nil {
			g.log.Warn("gossip: leave", "err", lerr)
		}
		err = g.m.Shutdown()
	})
	return err
}

// nodeFederation is what serve adds to a node in a federation: the
// fallback policy and, when configured, a gossip member.
type nodeFederation struct {
	policy  node.FallbackMode
	nearest int
	member  *gossipMember
	peers   *gossipPeers
	client  *http.Client
}

// applyGossip applies the registry's gossip settings to the node's member
// (none when the node does not gossip).
func (nf *nodeFederation) applyGossip(gs gossipSettings) {
	if nf == nil || nf.member == nil {
		return
	}
	nf.member.applyRegistry(gs, nf.member.log)
}

// publishCollections gossips the names of the national collections the
// node serves, in place of what it gossiped before; the list the member
// already gossips is not sent again. The update spreads with gossip; waiting for its broadcast is
// bounded so that a quiet cluster does not hold up the caller.
func (nf *nodeFederation) publishCollections(names []string) {
	if nf == nil || nf.member == nil || nf.peers == nil || names == nil {
		return
	}
	names = append([]string{}, names...)
	slices.Sort(names)
	if slices.Equal(nf.member.m.Local().Collections, names) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := nf.member.m.UpdateMeta(ctx, names, nf.peers.topics)
	switch {
	case errors.Is(err, gossip.ErrMetaTooLarge) || errors.Is(err, gossip.ErrClosed):
		nf.member.log.Warn("gossip: publish collections", "collections", names, "err", err)
		return
	case err != nil:
		// The broadcast did not go out in time, but the metadata is in
		// force locally and spreads with the next push/pull.
		nf.member.log.Debug("gossip: collections still spreading", "err", err)
	}
	nf.member.log.Info("gossip: collections published", "collections", names)
}

// startNodeFederation reads the fallback policy and gossip settings of the
// federation block (dir: the config file's directory) and starts the gossip
// member, which joins its seeds only when join is called (once the node
// serves). It returns nil when the block sets neither. m is the node's
// federation identity (nil without federation.cert): gossip's peer clients
// present its current certificate and refuse revoked peers.
func startNodeFederation(f *federationConfig, m *member, dir string, log *slog.Logger) (*nodeFederation, error) {
	policy, gc := federationExtras(f)
	return startNodeFederationWith(f, policy, gc, m, dir, log)
}

func startNodeFederationWith(f *federationConfig, policy string, gc *gossipConfig, m *member, dir string, log *slog.Logger) (*nodeFederation, error) {
	if policy == "" && gc == nil {
		return nil, nil
	}
	nf := &nodeFederation{policy: node.FallbackMode(policy)}
	switch nf.policy {
	case "", node.FallbackOff, node.FallbackNationalOnly:
	case node.FallbackPeers:
		if len(f.Peers) == 0 {
			return nil, errors.New("config: federation.fallback: the peers policy needs federation.peers")
		}
	case node.FallbackNearest:
		if gc == nil {
			return nil, errors.New("config: federation.fallback: the nearest policy needs federation.gossip")
		}
	default:
		return nil, fmt.Errorf("config: federation.fallback: %q is not off, national-only, peers or nearest", policy)
	}
	if gc == nil {
		return nf, nil
	}
	if m == nil {
		return nil, errors.New("config: federation.gossip: needs federation.cert")
	}
	if gc.KeyFile == "" {
		return nil, errors.New("config: federation.gossip.key_file: the gossip key is required")
	}
	keyPath := gc.KeyFile
	if !filepath.IsAbs(keyPath) {
		keyPath = filepath.Join(dir, keyPath)
	}
	key, err := readGossipKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("config: federation.gossip.key_file: %w", err)
	}
	apiAddr, err := gossipAPIAddr(gc, f.PeerAddr)
	if err != nil {
		return nil, err
	}
	timing := gossip.LANTiming()
	switch gc.Timing {
	case "", "lan":
	case "local":
		timing = gossip.LocalTiming()
	default:
		return nil, fmt.Errorf("config: federation.gossip.timing: %q is not lan or local", gc.Timing)
	}
	if gc.Nearest < 0 {
		return nil, errors.New("config: federation.gossip.nearest: must not be negative")
	}
	topics := gc.Topics
	if len(topics) == 0 {
		topics = defaultTopics
	}
	bind := gc.Bind
	if bind == "" {
		bind = net.JoinHostPort("0.0.0.0", strconv.Itoa(gossip.DefaultPort))
	}
	gm, err := startGossip(bind, gc.Advertise, gc.Seeds, key, topics, memberSpec{self: m.self, apiAddr: apiAddr, timing: timing}, log)
	if err != nil {
		return nil, fmt.Errorf("config: federation.gossip: %w", err)
	}
	nf.member, nf.nearest = gm, gc.Nearest
	nf.peers = &gossipPeers{m: gm.m, org: m.self.Org, topics: topics, id: m}
	nf.client = &http.Client{Transport: &http.Transport{TLSClientConfig: m.toMembers()}}
	return nf, nil
}

// gossipAPIAddr returns the address published for the node's
// SearchService: api_addr, else peer_addr, which must name a host others
// can dial and a port.
func gossipAPIAddr(gc *gossipConfig, peerAddr string) (string, error) {
	addr := gc.APIAddr
	field := "federation.gossip.api_addr"
	if addr == "" {
		addr, field = peerAddr, "federation.peer_addr"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" || port == "" {
		return "", fmt.Errorf("config: %s: gossip publishes the SearchService address; want host:port with a fixed port, got %q", field, addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if gc.Advertise == "" {
			return "", fmt.Errorf("config: %s: %q is no address others can dial; set federation.gossip.api_addr", field, addr)
		}
		ah, _, _ := net.SplitHostPort(gc.Advertise)
		addr = net.JoinHostPort(ah, port)
	}
	return addr, nil
}

// apply sets the node's fallback policy, and with gossip its source of
// members (each with a client that accepts only the certificate of the
// identity it gossips).
func (nf *nodeFederation) apply(c *node.Config) {
	if nf == nil {
		return
	}
	c.Fallback.Mode = nf.policy
	if nf.peers == nil {
		return
	}
	c.Fallback.Source = nf.peers
	if nf.nearest > 0 {
		c.Fallback.Nearest = nf.nearest
	}
	if c.Fallback.Client == nil || c.Fallback.Mode == node.FallbackNearest {
		c.Fallback.Client = nf.client
	}
}

// join makes the gossip member contact its seeds; call it once the node
// serves its SearchService.
func (nf *nodeFederation) join(ctx context.Context) {
	if nf != nil {
		nf.member.join(ctx)
	}
}

// Close leaves the gossip gracefully.
func (nf *nodeFederation) Close() error {
	if nf == nil {
		return nil
	}
	return nf.member.Close()
}

// gossipPeers is the node's view of the federation through gossip: a
// node.PeerSource for the nearest policy and a node.MemberLister for the
// status page.
type gossipPeers struct {
	m      *gossip.Member
	org    string   // the node's own organisation, never asked
	topics []string // what it serves; peers must share one
	id     *member  // the node's certificate and the registry's revocations

	mu      sync.Mutex
	clients map[trust.Identity]*http.Client // per member, see clientFor
}

var (
	_ node.PeerSource   = (*gossipPeers)(nil)
	_ node.MemberLister = (*gossipPeers)(nil)
)

// Nearest returns up to n alive gemeente nodes of other organisations that
// publish a SearchService address and share one of the node's topics,
// lowest round-trip time first.
func (g *gossipPeers) Nearest(n int) []node.Peer {
	if g.m == nil {
		return nil
	}
	var out []node.Peer
	for _, p := range g.m.Nearest(n, g.serves) {
		out = append(out, node.Peer{Org: p.Org, Name: p.Org, URL: "https://" + p.APIAddr, Client: g.clientFor(p.Identity())})
	}
	return out
}

// serves reports whether p is a peer the node may ask.
func (g *gossipPeers) serves(p gossip.Peer) bool {
	if p.Role != trust.RoleNode || p.Org == g.org || p.APIAddr == "" {
		return false
	}
	return slices.ContainsFunc(p.Topics, func(t string) bool { return slices.Contains(g.topics, t) })
}

// Members returns every member in the gossip view, this node included.
func (g *gossipPeers) Members() []node.Member {
	if g.m == nil {
		return nil
	}
	var out []node.Member
	for _, p := range g.m.Members() {
		out = append(out, node.Member{Name: p.Name, Org: p.Org, Role: string(p.Role), Address: p.Addr,
			APIAddress: p.APIAddr, State: p.State.String(), RTT: p.RTT, Version: p.Version,
			Collections: p.Collections, Topics: p.Topics})
	}
	return out
}

// clientFor returns the HTTP client for peer searches to the member id:
// it presents the node's certificate and accepts only id's. Gossip metadata
// is vouched for by nothing but the shared key, so a member could claim
// another's address, name or organisation; the certificate cannot lie.
func (g *gossipPeers) clientFor(id trust.Identity) *http.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.clients[id]; ok {
		return c
	}
	if len(g.clients) >= maxPeerClients {
		for k, c := range g.clients {
			c.CloseIdleConnections()
			delete(g.clients, k)
		}
	}
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     g.id.presenting(trust.ClientTLS(*g.id.certificate(), g.id.pool, g.id.rev, trust.ExpectNode(id))),
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}}
	if g.clients == nil {
		g.clients = map[trust.Identity]*http.Client{}
	}
	g.clients[id] = c
	return c
}

// maxPeerClients bounds the cached clients; past it they are all dropped
// and made again as needed.
const maxPeerClients = 1024
