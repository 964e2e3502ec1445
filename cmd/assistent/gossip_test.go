package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
	peerv1 "github.com/assistent-nl/assistent/gen/assistent/peer/v1"
	"github.com/assistent-nl/assistent/gen/assistent/peer/v1/peerv1connect"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// gossipKeyFile writes a random gossip key in base64 and returns the key
// and the file.
func gossipKeyFile(t *testing.T) ([]byte, string) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	path := filepath.Join(t.TempDir(), "gossip.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, path
}

// startGossipCoordinator starts a bootstrapping coordination server that
// gossips on loopback (fast timing) and returns its API URL, a stop
// function, its log and its gossip address.
func startGossipCoordinator(t *testing.T, dir string, issue func(org, role, node string) string, keyFile string) (url string, stop func(), logs func() string, gossipAddr string) {
	t.Helper()
	url, stop, logs = startMain(t, "coordinator", "--data", filepath.Join(dir, "coord-1"), "--id", "coord-1",
		"--cert", issue("VNG", "server", "coord-1"), "--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--bootstrap",
		"--gossip-addr", "127.0.0.1:0", "--gossip-key", keyFile, "--gossip-timing", "local")
	m := regexp.MustCompile(`"msg":"gossip member started"[^\n]*"addr":"([0-9.:]+)"`).FindStringSubmatch(logs())
	if m == nil {
		t.Fatalf("the coordinator logged no gossip address:\n%s", logs())
	}
	return url, stop, logs, m[1]
}

// memberFor loads the federation identity in certDir as serve does; nil
// for "".
func memberFor(t *testing.T, certDir string) *member {
	t.Helper()
	fc := fileConfig{Federation: &federationConfig{Cert: certDir}}
	if err := fc.loadFederationMember(); err != nil {
		t.Fatal(err)
	}
	return fc.member
}

// federationCA creates a federation CA with the CLI in a fresh directory
// and returns the CA's directory and a function that issues a member
// certificate directory beside it (127.0.0.1 as host).
// publishNational registers NVVB as a publisher with a new signing key
// (through server, as operator) and publishes pages, JSONL, as version 1
// of the national collection name (through publishTo). It returns NVVB's
// publisher certificate directory.
func publishNational(t *testing.T, dir, server, operator, publishTo string, issue func(org, role, node string) string, name, pages string) (publisher string) {
	t.Helper()
	key := filepath.Join(dir, "nvvb.key")
	res := run(t, "", "federation", "keygen", "--out", key)
	_, entry, _ := strings.Cut(res.stdout, "registry entry for the organisation's public_keys: ")
	org := `{"id":"NVVB","name":"NVVB","role":"publisher","public_keys":[` + strings.TrimSpace(entry) + `]}`
	if res := run(t, "", "federation", "put", "--server", server, "--cert", operator, "--kind", "org", "--key", "NVVB", "--value", org); res.code != 0 {
		t.Fatalf("register the publisher: %s", res.stderr)
	}
	pagesFile := filepath.Join(dir, name+".jsonl")
	if err := os.WriteFile(pagesFile, []byte(pages), 0o600); err != nil {
		t.Fatal(err)
	}
	publisher = issue("NVVB", "publisher", "nvvb-1")
	res = run(t, "", "federation", "publish", "--server", publishTo, "--cert", publisher, "--key", key,
		"--org", "NVVB", "--collection", name, "--jsonl", pagesFile, "--version", "1")
	if res.code != 0 {
		t.Fatalf("publish: %s", res.stderr)
	}
	return publisher
}

func federationCA(t *testing.T) (dir string, issue func(org, role, node string) string) {
	t.Helper()
	dir = t.TempDir()
	ca := filepath.Join(dir, "ca")
	if res := run(t, "", "federation", "init", "--dir", ca); res.code != 0 {
		t.Fatal(res.stderr)
	}
	return ca, func(org, role, node string) string {
		t.Helper()
		out := filepath.Join(dir, node)
		res := run(t, "", "federation", "issue", "--dir", ca, "--org", org, "--role", role, "--node", node, "--host", "127.0.0.1", "--out", out)
		if res.code != 0 {
			t.Fatal(res.stderr)
		}
		return out
	}
}

// plainMember starts a gossip member that is no node of ours, joined to
// seed; it is shut down on cleanup.
func plainMember(t *testing.T, key []byte, name, org string, role trust.Role, apiAddr string, topics []string, delay time.Duration, timing gossip.Timing, seed string) *gossip.Member {
	t.Helper()
	cfg := gossip.Config{Name: name, Org: org, Role: role, BindAddr: "127.0.0.1", APIAddr: apiAddr, Topics: topics,
		Version: "test", Keyring: [][]byte{key}, Timing: timing}
	if delay > 0 {
		gossip.WithSendDelay(&cfg, delay)
	}
	m, err := gossip.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	if seed != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.Join(ctx, []string{seed}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func peerOrgs(ps []node.Peer) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Org)
	}
	return strings.Join(s, " ")
}

// rttTiming is local timing with probes slow enough to measure members
// delayed by up to 180 ms while the machine is busy.
func rttTiming() gossip.Timing {
	t := gossip.LocalTiming()
	t.ProbeInterval, t.ProbeTimeout = 400*time.Millisecond, 300*time.Millisecond
	return t
}

// The nearest policy's source picks alive gemeente nodes of other
// organisations that serve the same kind of content, lowest RTT first, at
// most N: not the coordination server, not a member that failed, not a
// waterschap, not the node's own organisation.
func TestGossipPeers_NearestHealthyByRTT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a gossip cluster; skipped with -short")
	}
	_, issue := federationCA(t)
	key, _ := gossipKeyFile(t)
	timing := rttTiming()
	seed := plainMember(t, key, "coord-1", "VNG", trust.RoleServer, "127.0.0.1:8301", nil, 0, timing, "")
	id := memberFor(t, issue("GM0001", "node", "alfa-1"))
	gm, err := startGossip("127.0.0.1:0", "", []string{seed.Addr()}, key, defaultTopics,
		memberSpec{self: trust.Identity{Org: "GM0001", Role: trust.RoleNode, Node: "alfa-1"}, apiAddr: "127.0.0.1:9001", timing: timing},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gm.Close() })
	gm.join(context.Background())
	src := &gossipPeers{m: gm.m, org: "GM0001", topics: defaultTopics, id: id}

	gemeente := []string{"gemeente"}
	plainMember(t, key, "fast-1", "GM0002", trust.RoleNode, "127.0.0.1:9002", gemeente, 0, timing, seed.Addr())
	plainMember(t, key, "mid-1", "GM0003", trust.RoleNode, "127.0.0.1:9003", gemeente, 60*time.Millisecond, timing, seed.Addr())
	plainMember(t, key, "slow-1", "GM0004", trust.RoleNode, "127.0.0.1:9004", gemeente, 180*time.Millisecond, timing, seed.Addr())
	dead := plainMember(t, key, "dead-1", "GM0005", trust.RoleNode, "127.0.0.1:9005", gemeente, 0, timing, seed.Addr())
	plainMember(t, key, "ws-1", "WS0155", trust.RoleNode, "127.0.0.1:9006", []string{"waterschap"}, 0, timing, seed.Addr())
	plainMember(t, key, "alfa-2", "GM0001", trust.RoleNode, "127.0.0.1:9007", gemeente, 0, timing, seed.Addr())

	waitUntil(t, 20*time.Second, "alfa-1 sees 8 alive members with RTTs", func() bool {
		ms := gm.m.Members()
		for _, p := range ms {
			if p.Name != "alfa-1" && (p.State != gossip.StateAlive || p.RTT == 0) {
				return false
			}
		}
		return len(ms) == 8
	})
	if got := strings.Fields(peerOrgs(src.Nearest(10))); len(got) != 4 || slices.Contains(got, "VNG") || slices.Contains(got, "WS0155") || slices.Contains(got, "GM0001") {
		t.Errorf("Nearest(10) = %v, want the four gemeenten of other organisations", got)
	}
	if err := dead.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "dead-1 is no longer alive", func() bool {
		for _, p := range gm.m.Members() {
			if p.Name == "dead-1" {
				return p.State != gossip.StateAlive
			}
		}
		return true
	})
	// The RTTs are moving averages of probes: on a busy machine one late
	// acknowledgement can put fast-1 behind mid-1 for a while, so the
	// order must settle within a few probe rounds (and a wrong sort never
	// settles).
	deadline := time.Now().Add(20 * time.Second)
	for got := peerOrgs(src.Nearest(10)); got != "GM0002 GM0003 GM0004"; got = peerOrgs(src.Nearest(10)) {
		if time.Now().After(deadline) {
			var rtts []string
			for _, p := range gm.m.Members() {
				rtts = append(rtts, fmt.Sprintf("%s=%v", p.Name, p.RTT))
			}
			t.Fatalf("Nearest(10) = %s, want GM0002 GM0003 GM0004 (alive gemeenten of other orgs by RTT); RTTs %v", got, rtts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := src.Nearest(2)
	for peerOrgs(got) != "GM0002 GM0003" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got = src.Nearest(2)
	}
	if peerOrgs(got) != "GM0002 GM0003" || got[0].URL != "https://127.0.0.1:9002" || got[0].Client == nil {
		t.Errorf("Nearest(2) = %+v", got)
	}
	states := map[string]string{}
	for _, m := range src.Members() {
		states[m.Name] = m.State + "/" + m.Org + "/" + m.Role
		if m.Name == "slow-1" && (m.RTT < 180*time.Millisecond || m.APIAddress != "127.0.0.1:9004" || m.Version != "test") {
			t.Errorf("slow-1 listed as %+v", m)
		}
	}
	if states["coord-1"] != "alive/VNG/server" || !strings.HasPrefix(states["dead-1"], "suspect/") && !strings.HasPrefix(states["dead-1"], "dead/") ||
		states["alfa-1"] != "alive/GM0001/node" {
		t.Errorf("members %v", states)
	}
}

// servePeerNode opens a node with one tenant and its pages and serves its
// SearchService with mutual TLS on ln.
func servePeerNode(t *testing.T, ln net.Listener, certDir, tenant, name string, pages []ingest.Page) {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.Store().PutTenant(store.Tenant{ID: tenant, Name: name, Phone: "14 0222"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(context.Background(), retrieval.TenantScope(tenant), pages, nil); err != nil {
		t.Fatal(err)
	}
	cert, pool, err := loadMember(certDir)
	if err != nil {
		t.Fatal(err)
	}
	self, _ := trust.ParseIdentity(cert.Leaf)
	path, h := n.PeerSearchHandler(tenant, self.Org, 100)
	mux := http.NewServeMux()
	mux.Handle(path, h)
	hs := &http.Server{Handler: mux, TLSConfig: trust.ServerTLS(cert, pool, nil, trust.FederationPolicy)}
	go hs.ServeTLS(ln, "", "")
	t.Cleanup(func() { hs.Close() })
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A coordination server started from the command line is the gossip seed;
// gemeente nodes join through it and find each other; a node under the
// nearest policy answers from the pages of a peer it learnt of by gossip,
// refuses a member that gossips another's address (its certificate does
// not match), and sees the coordinator leave when it stops.
func TestGossip_CoordinatorSeedAndNearestFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a coordinator, gossip and three nodes; skipped with -short")
	}
	dir, issue := federationCA(t)
	key, keyFile := gossipKeyFile(t)
	_, stopCoord, coordErr, seed := startGossipCoordinator(t, dir, issue, keyFile)

	log := slog.New(slog.DiscardHandler)
	member := func(certDir, policy string, ln net.Listener) *nodeFederation {
		t.Helper()
		f := &federationConfig{Cert: certDir, PeerAddr: ln.Addr().String()}
		nf, err := startNodeFederationWith(f, policy, &gossipConfig{Bind: "127.0.0.1:0", Seeds: []string{seed},
			KeyFile: keyFile, Timing: "local"}, memberFor(t, certDir), "", log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nf.Close() })
		nf.join(context.Background())
		return nf
	}
	betaLn, gammaLn, alfaLn := listenLoopback(t), listenLoopback(t), listenLoopback(t)
	defer alfaLn.Close()
	betaCert := issue("GM0002", "node", "beta-1")
	servePeerNode(t, betaLn, betaCert, "beta", "Gemeente Beta", []ingest.Page{{ID: "hond", URL: "https://www.beta.example/hondenbelasting",
		Title: "Hondenbelasting", Text: "Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € 98,40 per hond per jaar."}})
	member(betaCert, "", betaLn)
	gammaCert := issue("GM0003", "node", "gamma-1")
	servePeerNode(t, gammaLn, gammaCert, "gamma", "Gemeente Gamma", []ingest.Page{{ID: "park", URL: "https://www.gamma.example/parken",
		Title: "Parken", Text: "Honden moeten in het park aangelijnd zijn. Het park is open van zonsopkomst tot zonsondergang."}})
	member(gammaCert, "", gammaLn)
	// Mallory holds the gossip key and claims Beta's address as its own.
	plainMember(t, key, "mallory-1", "GM0009", trust.RoleNode, betaLn.Addr().String(), []string{"gemeente"}, 0, gossip.LocalTiming(), seed)

	alfa := member(issue("GM0001", "node", "alfa-1"), "nearest", alfaLn)
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	alfa.apply(&cfg)
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.Store().PutTenant(store.Tenant{ID: "alfa", Name: "Gemeente Alfa", Phone: "14 0111"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "alfa sees the coordinator, beta, gamma and mallory", func() bool {
		return len(cfg.Fallback.Source.Nearest(5)) == 3 && alfa.peers.m.NumAlive() == 5
	})

	a, err := n.AskPeers(context.Background(), "alfa", "Wat kost de hondenbelasting per jaar?")
	if err != nil || !strings.HasPrefix(a.Text, "Volgens Gemeente Beta; dit kan bij u anders zijn.") || !strings.Contains(a.Text, "14 0111") {
		t.Fatalf("want Beta's answer with Alfa's referral: %+v %v; %+v", a, err, n.FederationReport().Recent)
	}
	rep := n.FederationReport()
	got := map[string]string{}
	for _, p := range rep.Recent[0].Peers {
		got[p.Org] = p.Outcome
	}
	if got["GM0002"] != "answered" || got["GM0009"] == "answered" || len(got) != 3 {
		t.Errorf("outcomes %v: want Beta answered", got)
	}
	// The client for Mallory, at Beta's address, refuses Beta's certificate;
	// the one for Beta takes it.
	for _, p := range cfg.Fallback.Source.Nearest(5) {
		c := peerv1connect.NewSearchServiceClient(p.Client, p.URL)
		_, err := c.Search(context.Background(), connect.NewRequest(&peerv1.SearchRequest{Question: "hondenbelasting"}))
		switch {
		case p.Org == "GM0009" && err == nil:
			t.Error("a member that gossips Beta's address was taken for Beta")
		case p.Org != "GM0009" && err != nil:
			t.Errorf("%s: %v", p.Org, err)
		}
	}
	if len(rep.Members) != 5 || rep.Policy.Mode != node.FallbackNearest {
		t.Errorf("report: %d members, policy %+v", len(rep.Members), rep.Policy)
	}

	stopCoord()
	var state gossip.State
	waitUntil(t, 10*time.Second, "alfa sees the coordinator go", func() bool {
		for _, p := range alfa.peers.m.Members() {
			if p.Name == "coord-1" {
				state = p.State
			}
		}
		return state == gossip.StateLeft || state == gossip.StateDead
	})
	if state != gossip.StateLeft {
		t.Errorf("the coordinator is %v, want left (it leaves on shutdown):\n%s", state, coordErr())
	}
}

// Gossip settings that cannot work are refused before anything starts.
func TestStartNodeFederation_Config(t *testing.T) {
	_, keyFile := gossipKeyFile(t)
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("c2hvcnQ=\n"), 0o600)
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		name   string
		policy string
		f      federationConfig
		g      *gossipConfig
		want   string
	}{
		{"unknown policy", "everyone", federationConfig{}, nil, "federation.fallback"},
		{"nearest without gossip", "nearest", federationConfig{}, nil, "needs federation.gossip"},
		{"peers without peers", "peers", federationConfig{}, nil, "needs federation.peers"},
		{"no cert", "", federationConfig{PeerAddr: "127.0.0.1:9001"}, &gossipConfig{KeyFile: keyFile}, "federation.cert"},
	} {
		if _, err := startNodeFederationWith(&c.f, c.policy, c.g, memberFor(t, c.f.Cert), "", log); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
	if nf, err := startNodeFederationWith(&federationConfig{}, "", nil, nil, "", log); nf != nil || err != nil {
		t.Errorf("no policy, no gossip: %v %v", nf, err)
	}
	if _, err := readGossipKey(short); err == nil {
		t.Error("a 6-byte key was accepted")
	}
	if k, err := readGossipKey(keyFile); err != nil || len(k) != 32 {
		t.Errorf("readGossipKey = %d bytes, %v", len(k), err)
	}

	_, issue := federationCA(t)
	cert := issue("GM0001", "node", "alfa-1")
	for _, c := range []struct {
		name string
		f    federationConfig
		g    gossipConfig
		want string
	}{
		{"no key", federationConfig{Cert: cert, PeerAddr: "127.0.0.1:9001"}, gossipConfig{}, "key_file"},
		{"short key", federationConfig{Cert: cert, PeerAddr: "127.0.0.1:9001"}, gossipConfig{KeyFile: short}, "key_file"},
		{"no address", federationConfig{Cert: cert}, gossipConfig{KeyFile: keyFile}, "peer_addr"},
		{"port 0", federationConfig{Cert: cert, PeerAddr: "127.0.0.1:0"}, gossipConfig{KeyFile: keyFile}, "fixed port"},
		{"unspecified", federationConfig{Cert: cert, PeerAddr: "0.0.0.0:9001"}, gossipConfig{KeyFile: keyFile}, "api_addr"},
		{"bind host", federationConfig{Cert: cert, PeerAddr: "127.0.0.1:9001"}, gossipConfig{KeyFile: keyFile, Bind: "localhost:7946"}, "gossip.bind"},
		{"timing", federationConfig{Cert: cert, PeerAddr: "127.0.0.1:9001"}, gossipConfig{KeyFile: keyFile, Timing: "wan"}, "timing"},
	} {
		nf, err := startNodeFederationWith(&c.f, "", &c.g, memberFor(t, c.f.Cert), "", log)
		if err == nil {
			nf.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
	// An unspecified peer_addr takes the advertised host.
	if addr, err := gossipAPIAddr(&gossipConfig{Advertise: "192.0.2.7:7946"}, "0.0.0.0:9001"); err != nil || addr != "192.0.2.7:9001" {
		t.Errorf("gossipAPIAddr = %q, %v", addr, err)
	}
}
