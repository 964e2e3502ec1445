package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/federation/api"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/gossip"
	"github.com/assistent-nl/assistent/federation/trust"
)

const coordinatorSynopsis = "coordinator --data DIR --id ID --cert DIR --raft-addr HOST:PORT [--raft-advertise HOST:PORT] --api-addr HOST:PORT [--api-advertise URL] (--bootstrap | --join URL...) [--peer ID=URL]... [--ca DIR] [--gossip-addr IP:PORT --gossip-key FILE [--gossip-advertise IP:PORT] [--gossip-seed HOST:PORT]...]"

// runCoordinator runs one coordination server of the federation: a Raft
// member holding the registry, serving RegistryService on its API address
// with mutual TLS. Raft traffic is mutual TLS too, and only server
// certificates may speak it.
func (m *Main) runCoordinator(ctx context.Context, args []string) error {
	fs := m.flagSet("coordinator", coordinatorSynopsis)
	data := fs.String("data", "coordinator", "data directory (Raft log, snapshots, registry)")
	id := fs.String("id", "", "server id, the node id of its certificate, e.g. coord-1")
	certDir := fs.String("cert", "", "directory with node.crt, node.key and ca.crt (from 'federation issue --role server')")
	raftAddr := fs.String("raft-addr", "127.0.0.1:8300", "address for Raft traffic between servers")
	raftAdvertise := fs.String("raft-advertise", "", "HOST:PORT at which the other servers reach this server's Raft listener, when not the address it listens on (a stable DNS name in Kubernetes or compose, where a restart changes the IP; the certificate must name that host: 'federation issue --host')")
	apiAddr := fs.String("api-addr", "127.0.0.1:8301", "address of the registry API (HTTPS, mutual TLS)")
	apiAdvertise := fs.String("api-advertise", "", "https://HOST:PORT at which the other servers reach this API, announced in the registry (default: https:// and the --api-addr listener, unless it listens on all interfaces)")
	bootstrap := fs.Bool("bootstrap", false, "found a new cluster with this server as its first member")
	caDir := fs.String("ca", "", "federation CA directory: lets this server issue certificates for join tokens")
	gossipAddr := fs.String("gossip-addr", "", "IP:PORT for the federation's gossip (UDP and TCP), e.g. 0.0.0.0:7946; empty: no gossip")
	gossipAdvertise := fs.String("gossip-advertise", "", "IP:PORT other members dial for gossip, when not --gossip-addr")
	gossipKey := fs.String("gossip-key", "", "file with the 32-byte gossip key (raw or base64)")
	gossipTiming := fs.String("gossip-timing", "lan", "gossip timing: lan, or local for servers on one host (tests, demos)")
	var join, peers, gossipSeeds stringList
	fs.Var(&join, "join", "API URL of a server of the cluster to join, e.g. https://coord-1:8301 (repeatable)")
	fs.Var(&peers, "peer", "ID=URL of another server's API, a fallback for forwarding writes to the leader; servers announce their API in the registry, so this is rarely needed (repeatable)")
	fs.Var(&gossipSeeds, "gossip-seed", "gossip address HOST:PORT of another coordination server (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*gossipAddr == "") != (*gossipKey == "") {
		return usagef("coordinator: --gossip-addr and --gossip-key go together")
	}
	if *gossipTiming != "lan" && *gossipTiming != "local" {
		return usagef("coordinator: --gossip-timing %q: want lan or local", *gossipTiming)
	}
	if *raftAdvertise != "" {
		if host, port, err := net.SplitHostPort(*raftAdvertise); err != nil || host == "" || port == "" || port == "0" {
			return usagef("coordinator: --raft-advertise %q: must be HOST:PORT with a host and a port", *raftAdvertise)
		}
	}
	if *id == "" || *certDir == "" {
		return usagef("coordinator: --id and --cert are required")
	}
	if *bootstrap == (len(join) > 0) {
		return usagef("coordinator: give --bootstrap for the first server or --join for the others")
	}
	urls := map[string]string{}
	for _, p := range peers {
		pid, u, ok := strings.Cut(p, "=")
		if !ok || pid == "" || !strings.HasPrefix(u, "https://") {
			return usagef("coordinator: --peer %q: want ID=https://HOST:PORT", p)
		}
		urls[pid] = strings.TrimRight(u, "/")
	}
	cert, pool, err := loadMember(*certDir)
	if err != nil {
		return err
	}
	self, err := trust.ParseIdentity(cert.Leaf)
	if err != nil || self.Role != trust.RoleServer || self.Node != *id {
		return fmt.Errorf("coordinator: %s holds %v, want a server certificate for %s", *certDir, self, *id)
	}
	log := slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// Revocations in the registry apply to every handshake: Raft, the API
	// and this server's own dials. Every TLS configuration presents the
	// current certificate, which the server renews by itself.
	rev := trust.NewRevocationSet()
	mem := &member{dir: *certDir, pool: pool, self: self, rev: rev, conns: trust.NewConns()}
	mem.cert.Store(&cert)
	// Raft: mutual TLS, servers only.
	raftLn, err := tls.Listen("tcp", *raftAddr, mem.serverTLS(trust.RaftPolicy))
	if err != nil {
		return fmt.Errorf("coordinator: listen for Raft: %w", err)
	}
	var raftStream net.Listener = raftLn
	if *raftAdvertise != "" {
		raftStream = advertisedListener{Listener: raftLn, addr: *raftAdvertise}
	}
	dialCfg := mem.toServers()
	dialer := &tls.Dialer{Config: dialCfg}
	cfg := coordinator.DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Bootstrap, cfg.Logger = *id, *data, *bootstrap, log
	cfg.BindAddr, cfg.AdvertiseAddr = raftLn.Addr().String(), raftStream.Addr().String()
	cfg.StreamLayer = coordinator.NewStreamLayer(raftStream, func(ctx context.Context, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, "tcp", addr)
	})
	httpClient := client.NewHTTPClient(dialCfg)
	if len(join) > 0 {
		cfg.Join = join
		cfg.Joiner = func(ctx context.Context, server, id, addr string) error {
			return api.JoinCluster(ctx, httpClient, server, id, addr)
		}
	}
	// The API listener comes first: its address goes into the registry
	// when this server leads, and the others forward writes to it.
	apiLn, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		raftLn.Close()
		return fmt.Errorf("coordinator: listen for the API: %w", err)
	}
	url := "https://" + apiLn.Addr().String()
	cfg.APIURL = *apiAdvertise
	if cfg.APIURL == "" {
		if ip := apiLn.Addr().(*net.TCPAddr).IP; !ip.IsUnspecified() {
			cfg.APIURL = url
		} else {
			log.Warn("the API listens on all interfaces: give --api-advertise so that the other servers can forward writes to this one")
		}
	}
	srv, err := coordinator.Open(ctx, cfg)
	if err != nil {
		raftLn.Close()
		apiLn.Close()
		return fmt.Errorf("coordinator: %w", err)
	}
	defer srv.Close()

	opts := api.DefaultOptions()
	opts.Client, opts.Logger = httpClient, log
	if *caDir != "" {
		ca, err := loadCA(*caDir)
		if err != nil {
			apiLn.Close()
			return err
		}
		opts.Issuer = ca
	}
	resolve := api.AnnouncedResolver(srv, api.StaticResolver(urls))
	path, h := api.NewHandler(srv, resolve, opts)
	mux := http.NewServeMux()
	mux.Handle(path, h)
	mux.Handle(api.ClusterJoinPath, api.NewClusterJoinHandler(srv, resolve, httpClient))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		leader, _ := srv.Leader()
		if leader == "" {
			http.Error(w, "no leader", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok leader=%s index=%d\n", leader, srv.Registry().Index())
	})
	fmt.Fprintf(m.Stdout, "coordinator %s: Raft on %s, API on %s\n", *id, raftLn.Addr(), url)
	if *gossipAddr != "" {
		// Coordination servers are the seeds of the federation's gossip:
		// nodes join through them, and they join each other.
		key, err := readGossipKey(*gossipKey)
		if err != nil {
			apiLn.Close()
			return fmt.Errorf("coordinator: --gossip-key: %w", err)
		}
		timing := gossip.LANTiming()
		if *gossipTiming == "local" {
			timing = gossip.LocalTiming()
		}
		gm, err := startGossip(*gossipAddr, *gossipAdvertise, gossipSeeds, key, nil,
			memberSpec{self: self, apiAddr: apiLn.Addr().String(), timing: timing}, log)
		if err != nil {
			apiLn.Close()
			return fmt.Errorf("coordinator: %w", err)
		}
		defer gm.Close()
		gm.join(ctx)
		// The registry carries the keyring (rotation) and every server's
		// gossip address (the nodes' seeds).
		go followGossipSettings(ctx, srv.Registry(), gm, log)
		wc := client.DefaultWriterConfig()
		wc.Servers = []string{url}
		if w, err := client.NewWriter(wc, httpClient); err == nil {
			go announceSeed(ctx, w, *id, gm.m.Addr(), log)
		}
		fmt.Fprintf(m.Stdout, "coordinator %s: gossip on %s\n", *id, gm.m.Addr())
	}
	// Watch streams live long: no write timeout, only a header timeout.
	conns := mem.conns
	go followRevocations(ctx, srv.Registry(), rev, conns, log)
	renewVia := []string{url}
	for _, u := range urls {
		renewVia = append(renewVia, u)
	}
	go mem.renewWhenDue(ctx, renewVia, log)
	hs := &http.Server{
		Handler: mux, TLSConfig: mem.serving(api.ServerTLS(cert, pool, rev)), ConnState: conns.Track,
		ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 32 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if m.Ready != nil {
		m.Ready(url)
	}
	if err := hs.ServeTLS(apiLn, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("coordinator: serve: %w", err)
	}
	return nil
}

// advertisedListener is a listener that Raft advertises under another
// address than the one it is bound to (coordinator.NewStreamLayer
// advertises Addr()): a name that survives a restart with a new IP.
type advertisedListener struct {
	net.Listener
	addr string
}

func (l advertisedListener) Addr() net.Addr { return advertisedAddr(l.addr) }

// advertisedAddr is a host:port as given, possibly a DNS name.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// loadMember reads a member's certificate, key and the federation CA from
// dir (the layout 'federation issue' writes).
func loadMember(dir string) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("load certificate from %s: %w", dir, err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("load federation CA: %w", err)
	}
	pool, err := trust.PoolFromPEM(caPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("load federation CA: %w", err)
	}
	if cert.Leaf == nil {
		return tls.Certificate{}, nil, errors.New("certificate without a leaf")
	}
	return cert, pool, nil
}
