package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/assistent-nl/assistent/node/answer"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/models"
)

// fileConfig is the --config file: JSON, every field optional; flags given
// on the command line win. API keys never stand in it: a provider names
// the environment variable that holds its key.
type fileConfig struct {
	Data      string           `json:"data"`
	Addr      string           `json:"addr"`
	Demo      bool             `json:"demo"`
	Providers []providerConfig `json:"providers"`
	Routes    []routeConfig    `json:"routes"`
	// Breaker tunes the circuit breaker of every model provider.
	Breaker *breakerConfig `json:"breaker"`
	// Templates override the built-in prompt templates, for every tenant
	// (tenant "") or one; the body stands in a file next to the config.
	Templates []templateConfig `json:"templates"`
	// dir is the directory of the config file, for relative paths.
	dir string
	// member is the node's federation identity, loaded once by
	// loadFederationMember; nil outside a federation.
	member *member
	// onGossip, when set, receives the registry's gossip settings (keyring,
	// seeds) whenever they change.
	onGossip func(gossipSettings)
	// onCollections, when set, receives the names of the national
	// collections the node holds, after each round of imports.
	onCollections func([]string)
	// Sources are websites the server crawls on their schedule; the
	// config file replaces stored sources with the same tenant and id.
	Sources []crawl.Source `json:"sources"`
	// Federation, when set, makes the node watch the federation's
	// registry and keep a copy of it.
	Federation *federationConfig `json:"federation"`
	// TrustedProxies are the reverse proxies (IP addresses or CIDR
	// prefixes) whose X-Forwarded-For header names the client for the rate
	// limits; empty (the default): the header is ignored, from loopback too.
	TrustedProxies []string `json:"trusted_proxies"`
	// Policy names what decides a question's intent: "both" (default),
	// "rules" or "classifier".
	Policy string `json:"policy"`
	// Admin configures the beheerportaal: cookies, sessions, OIDC
	// (adminconfig.go).
	Admin *adminConfig `json:"admin"`
	// Retrieval chooses the backend that serves the searches: the
	// embedded indexes (default), Qdrant or Elasticsearch (backend.go).
	Retrieval *retrievalConfig `json:"retrieval"`
}

// importCollections verifies and indexes every national collection in the
// cached registry that is newer than what the node holds: the publisher's
// signature over the manifest (with the key the registry lists for that
// publisher), version and expiry, and the content's hash. Anything that
// fails is logged and left out; the node keeps the version it has.
func importCollections(ctx context.Context, n *node.Node, w *client.Watcher, log *slog.Logger) {
	objs, err := w.List(registry.KindCollection)
	if err != nil {
		log.Error("federation: list collections", "err", err)
		return
	}
	for _, o := range objs {
		var c registry.Collection
		if err := o.Decode(&c); err != nil {
			log.Error("federation: collection record", "key", o.Key, "err", err)
			continue
		}
		last, err := n.Store().CollectionVersion(c.Name)
		if err != nil || c.Version <= last {
			continue
		}
		man, err := w.VerifyCollection(c, last)
		if err != nil {
			log.Warn("federation: collection refused", "collection", c.Name, "version", c.Version, "err", err)
			continue
		}
		data, err := w.FetchBlob(ctx, c.ContentSHA256)
		if err != nil {
			log.Warn("federation: collection content unavailable", "collection", c.Name, "err", err)
			continue
		}
		name := ""
		for _, f := range man.Files {
			if f.SHA256 == c.ContentSHA256 {
				name = f.Name
			}
		}
		if err := trust.VerifyContent(man, name, bytes.NewReader(data)); err != nil {
			log.Warn("federation: collection content refused", "collection", c.Name, "err", err)
			continue
		}
		if _, err := n.ImportCollection(ctx, c.Name, c.Version, bytes.NewReader(data)); err != nil {
			log.Error("federation: import collection", "collection", c.Name, "err", err)
		}
	}
}

// collectionNames returns the names of the national collections n holds,
// nil when they cannot be listed.
func collectionNames(n *node.Node, log *slog.Logger) []string {
	cols, err := n.Store().Collections()
	if err != nil {
		log.Error("federation: list collections", "err", err)
		return nil
	}
	names := make([]string, 0, len(cols))
	for _, c := range cols {
		names = append(names, c.Name)
	}
	return names
}

// federationConfig is how a gemeente node reaches the federation.
type federationConfig struct {
	Servers []string `json:"servers"` // API URLs of coordination servers
	Cert    string   `json:"cert"`    // directory with node.crt, node.key and ca.crt
	// Peers are other gemeente nodes asked when the own pages fall short
	// (the federated fallback); empty: no fallback.
	Peers []node.Peer `json:"peers"`
	// PeerAddr, when set, serves this node's SearchService to the other
	// members there (HTTPS, mutual TLS), answering from Tenant's pages.
	PeerAddr string `json:"peer_addr"`
	// PeerAdvertise is the host:port other members reach the peer
	// listener at, registered in the federation; default: peer_addr's
	// actual address, which must then name a host (not 0.0.0.0 or ::).
	PeerAdvertise string `json:"peer_advertise"`
	Tenant        string `json:"tenant"`
	// ProviderKeys names, for model providers the federation describes,
	// the environment variable that holds this node's key (the registry
	// holds no secrets).
	ProviderKeys map[string]string `json:"provider_keys"`
	// Fallback is the federated fallback policy: off, national-only, peers
	// or nearest (default: peers when peers are listed, else national-only).
	Fallback string `json:"fallback"`
	// FallbackTenants sets the policy of single tenants of a node that
	// serves several, e.g. {"meppel": "off"}.
	FallbackTenants map[string]string `json:"fallback_tenants"`
	// Gossip, when set, makes the node a member of the federation's gossip.
	Gossip *gossipConfig `json:"gossip"`
}

// member is a gemeente node's federation identity, loaded once and shared
// by everything that speaks to the federation: its certificate, the CA
// pool, the revocations the registry lists (kept current by the watcher)
// and the connections of its peer listener (closed when revoked).
type member struct {
	dir   string
	pool  *x509.CertPool
	self  trust.Identity
	rev   *trust.RevocationSet
	conns *trust.Conns
	cert  atomic.Pointer[tls.Certificate] // replaced when renewed
}

// certificate returns the member's current certificate.
func (m *member) certificate() *tls.Certificate { return m.cert.Load() }

// The member's TLS configurations present its current certificate, so a
// renewal applies to the next handshake. serving and presenting turn a
// server or client configuration into one that does; serverTLS, toServers
// and toMembers are the ones most callers need.
func (m *member) serving(cfg *tls.Config) *tls.Config {
	cfg.Certificates = nil
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return m.certificate(), nil }
	return cfg
}

func (m *member) presenting(cfg *tls.Config) *tls.Config {
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return m.certificate(), nil }
	return cfg
}

// serverTLS serves members that policy admits.
func (m *member) serverTLS(policy func(trust.Identity) error) *tls.Config {
	return m.serving(trust.ServerTLS(*m.certificate(), m.pool, m.rev, policy))
}

// toServers dials coordination servers (the registry API).
func (m *member) toServers() *tls.Config {
	return m.presenting(client.ClientTLS(*m.certificate(), m.pool, m.rev))
}

// toMembers dials any federation member (a peer's search service).
func (m *member) toMembers() *tls.Config {
	return m.presenting(trust.ClientTLS(*m.certificate(), m.pool, m.rev, trust.FederationPolicy))
}

// loadFederationMember loads the node's certificate when the config has a
// federation block with one.
func (c *fileConfig) loadFederationMember() error {
	f := c.Federation
	if f == nil || f.Cert == "" {
		return nil
	}
	cert, pool, err := loadMember(f.Cert)
	if err != nil {
		return fmt.Errorf("config: federation.cert: %w", err)
	}
	self, err := trust.ParseIdentity(cert.Leaf)
	if err != nil {
		return fmt.Errorf("config: federation.cert: %w", err)
	}
	c.member = &member{dir: f.Cert, pool: pool, self: self, rev: trust.NewRevocationSet(), conns: trust.NewConns()}
	c.member.cert.Store(&cert)
	return nil
}

// fallback returns the node's federated fallback, nil without peers.
func (c fileConfig) fallback() (*node.FallbackConfig, error) {
	f := c.Federation
	if f == nil || len(f.Peers) == 0 {
		return nil, nil
	}
	if c.member == nil {
		return nil, errors.New("config: federation.peers: needs federation.cert")
	}
	for i, p := range f.Peers {
		if p.Org == "" || !strings.HasPrefix(p.URL, "https://") {
			return nil, fmt.Errorf("config: federation.peers[%d]: want org, name and an https url", i)
		}
	}
	m := c.member
	return &node.FallbackConfig{Peers: f.Peers, Client: &http.Client{Transport: &http.Transport{
		TLSClientConfig: m.toMembers()}}}, nil
}

// servePeers serves the node's SearchService to the federation's members
// when the config names an address for it.
func (c fileConfig) servePeers(ctx context.Context, n *node.Node, log *slog.Logger) error {
	f := c.Federation
	if f == nil || f.PeerAddr == "" {
		return nil
	}
	m := c.member
	if m == nil {
		return errors.New("config: federation.peer_addr: needs federation.cert")
	}
	if err := validID(f.Tenant); err != nil {
		return fmt.Errorf("config: federation.tenant: %w", err)
	}
	path, h := n.PeerSearchHandler(f.Tenant, m.self.Org, 5)
	mux := http.NewServeMux()
	mux.Handle(path, h)
	ln, err := net.Listen("tcp", f.PeerAddr)
	if err != nil {
		return fmt.Errorf("config: federation.peer_addr: %w", err)
	}
	advertised, err := advertiseAddr(f.PeerAdvertise, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{Handler: mux, TLSConfig: m.serverTLS(trust.FederationPolicy), ConnState: m.conns.Track,
		ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	go func() {
		if err := hs.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			log.Error("peer search listener", "err", err)
		}
	}()
	log.Info("serving peer search", "addr", ln.Addr().String(), "advertised", advertised, "tenant", f.Tenant)
	// Register the node (its own record, which only it may write) so that
	// the other members can find its search service.
	if len(f.Servers) > 0 {
		go registerNode(ctx, f, m, advertised, log)
	}
	return nil
}

// advertiseAddr is the address other members reach a listener at: the
// configured one, else the listener's own when it names a host.
func advertiseAddr(configured string, listen net.Addr) (string, error) {
	if configured != "" {
		host, port, err := net.SplitHostPort(configured)
		if err != nil || host == "" || port == "" || port == "0" {
			return "", fmt.Errorf("config: federation.peer_advertise %q: want host:port", configured)
		}
		return configured, nil
	}
	host, _, err := net.SplitHostPort(listen.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "", fmt.Errorf("config: federation.peer_addr listens on every interface (%s); set federation.peer_advertise to the host:port other members reach", listen)
	}
	return listen.String(), nil
}

// registerNode writes the node's registry record, retrying until it is
// applied or ctx ends.
func registerNode(ctx context.Context, f *federationConfig, m *member, apiAddr string, log *slog.Logger) {
	wc := client.DefaultWriterConfig()
	wc.Servers = f.Servers
	self := m.self
	w, err := client.NewWriter(wc, client.NewHTTPClient(m.toServers()))
	if err != nil {
		log.Error("federation: register node", "err", err)
		return
	}
	cmd, err := registry.Put(registry.Node{ID: self.Node, Org: self.Org, APIAddr: apiAddr, Version: version})
	if err != nil {
		log.Error("federation: register node", "err", err)
		return
	}
	res, err := w.Apply(ctx, cmd)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		log.Warn("federation: register node", "err", err)
		return
	}
	log.Info("registered in the federation", "node", self.Node, "org", self.Org, "index", res.Index)
}

// watchFederation starts the registry watcher when the config asks for
// one, and reports its status through the node. The caller closes the
// returned watcher (nil when there is none).
func (c fileConfig) watchFederation(ctx context.Context, n *node.Node, getenv func(string) string, log *slog.Logger) (*client.Watcher, error) {
	f := c.Federation
	if f == nil {
		return nil, nil
	}
	if len(f.Servers) == 0 || f.Cert == "" {
		return nil, errors.New("config: federation needs servers and cert")
	}
	m := c.member
	if m == nil {
		return nil, errors.New("config: federation needs cert")
	}
	wc := client.DefaultWatcherConfig()
	wc.Servers, wc.Logger = f.Servers, log
	// Collections that change are imported one at a time, off the
	// watcher's goroutine; a newer change of the same collection while one
	// imports is picked up after it.
	imports := make(chan struct{}, 1)
	// Model providers, routes and templates that change are applied
	// together, off the watcher's goroutine too.
	modelChanges := make(chan struct{}, 1)
	revocations := make(chan struct{}, 1)
	gossipChanges := make(chan struct{}, 1)
	signal := func(ch chan struct{}) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	wc.OnChange = func(ch client.Change) {
		for _, o := range ch.Objects {
			switch o.Kind {
			case registry.KindCollection:
				if !o.Deleted {
					signal(imports)
				}
			case registry.KindProvider, registry.KindRoute, registry.KindTemplate:
				signal(modelChanges)
			case registry.KindRevocation:
				signal(revocations)
			case registry.KindSetting:
				if strings.HasPrefix(o.Key, "gossip.") {
					signal(gossipChanges)
				}
			}
		}
		if ch.Snapshot {
			signal(modelChanges)
			signal(revocations)
			signal(gossipChanges)
		}
	}
	w, err := client.NewWatcher(wc, n.Store().Bolt(), client.NewHTTPClient(m.toServers()))
	if err != nil {
		return nil, fmt.Errorf("config: federation: %w", err)
	}
	if err := w.Open(ctx); err != nil {
		return nil, err
	}
	imports <- struct{}{} // collections cached before a restart
	signal(modelChanges)  // and the models
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-imports:
				importCollections(ctx, n, w, log)
				if c.onCollections != nil {
					c.onCollections(collectionNames(n, log))
				}
			case <-modelChanges:
				c.applyFederationModels(n, w, getenv, log)
			case <-revocations:
				objs, err := w.List(registry.KindRevocation)
				if err != nil {
					log.Error("federation: list revocations", "err", err)
					continue
				}
				applyRevocations(objs, m.rev, m.conns, log)
			case <-gossipChanges:
				if c.onGossip == nil {
					continue
				}
				objs, err := w.List(registry.KindSetting)
				if err != nil {
					log.Error("federation: list settings", "err", err)
					continue
				}
				gs, err := readGossipSettings(objs)
				if err != nil {
					log.Error("federation: gossip settings refused", "err", err)
					continue
				}
				c.onGossip(gs)
			}
		}
	}()
	go m.renewWhenDue(ctx, f.Servers, log)
	n.AttachFederation(func() node.FederationStatus {
		st := w.Status()
		return node.FederationStatus{Index: st.Index, Server: st.Server, Synced: !st.Synced.IsZero(),
			LastContact: st.LastContact, CacheAge: st.CacheAge, LastError: st.LastError}
	})
	return w, nil
}

// putSources checks the file's sources and stores them.
func (c fileConfig) putSources(n *node.Node) error {
	for i, src := range c.Sources {
		if err := src.Validate(); err != nil {
			return fmt.Errorf("config: sources[%d]: %w", i, err)
		}
		if err := node.ValidSchedule(src.Schedule); err != nil {
			return fmt.Errorf("config: sources[%d]: %w", i, err)
		}
		if err := requireTenant(n, src.Tenant); err != nil {
			return fmt.Errorf("config: sources[%d]: %w", i, err)
		}
		if err := n.Crawler().PutSource(src); err != nil {
			return fmt.Errorf("config: sources[%d]: %w", i, err)
		}
	}
	return nil
}

type providerConfig struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`   // "openai", or a reranker: "tei", "cohere", "jina"
	Region    string   `json:"region"` // "nl", "eu", ...
	BaseURL   string   `json:"base_url"`
	Model     string   `json:"model"`
	APIKeyEnv string   `json:"api_key_env"`
	Timeout   duration `json:"timeout"`
	// MaxRetries is the number of retries after a 429, a 5xx or a
	// transport error (with backoff); absent: the client's default, 0: none.
	MaxRetries *int `json:"max_retries"`
	// EmbedDim is, for a provider of the embed route, the dimension of its
	// vectors; absent: learnt from the provider at start.
	EmbedDim int `json:"embed_dim"`
}

type breakerConfig struct {
	Failures int      `json:"failures"` // consecutive failures that open it (default 5)
	Cooldown duration `json:"cooldown"` // how long it stays open (default "30s")
}

type templateConfig struct {
	Tenant  string `json:"tenant"`  // "" for every tenant
	Name    string `json:"name"`    // "answer" or "rewrite"
	Version string `json:"version"` // carried by every prompt it renders, e.g. "meppel-3"
	Lang    string `json:"lang"`    // "nl", "en", or "" for every language
	File    string `json:"file"`    // the text/template body, relative to the config file
	body    string // the body itself, for templates from the federation
	origin  string // models.OriginFederation for the federation's; "" for the file's
}

type routeConfig struct {
	Task           string   `json:"task"`
	Tenant         string   `json:"tenant"`
	Providers      []string `json:"providers"`
	Timeout        duration `json:"timeout"`
	AllowedRegions []string `json:"allowed_regions"`
	origin         string   // models.OriginFederation for the federation's; "" for the file's
}

// duration reads "800ms" or "5s".
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"5s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// loadConfig reads path into cfg.
func loadConfig(path string, cfg *fileConfig) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("config %s: invalid JSON at byte %d: %v", path, se.Offset, err)
		}
		return fmt.Errorf("config %s: %v", path, err)
	}
	cfg.dir = filepath.Dir(path)
	return nil
}

// models turns the file's providers and routes into the node's model
// configuration, reading API keys from the environment.
func (c fileConfig) models(getenv func(string) string) (models.Config, error) {
	out := models.DefaultConfig()
	if c.Breaker != nil {
		if c.Breaker.Failures < 0 || c.Breaker.Cooldown < 0 {
			return out, errors.New("config: breaker: failures and cooldown must not be negative")
		}
		out.Breaker = models.BreakerConfig{Failures: c.Breaker.Failures, Cooldown: time.Duration(c.Breaker.Cooldown)}
	}
	for i, t := range c.Templates {
		field := fmt.Sprintf("config: templates[%d]", i)
		if t.body != "" {
			out.Templates = append(out.Templates, models.TenantTemplate{Tenant: t.Tenant,
				Template: models.Template{Name: t.Name, Version: t.Version, Lang: t.Lang, Body: t.body, Origin: origin(t.origin)}})
			continue
		}
		if strings.TrimSpace(t.File) == "" {
			return out, fmt.Errorf("%s.file: must name the template file", field)
		}
		path := t.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.dir, path)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return out, fmt.Errorf("%s.file: %w", field, err)
		}
		out.Templates = append(out.Templates, models.TenantTemplate{Tenant: t.Tenant,
			Template: models.Template{Name: t.Name, Version: t.Version, Lang: t.Lang, Body: string(body), Origin: origin(t.origin)}})
	}
	if len(c.Providers) == 0 && len(c.Routes) == 0 {
		if err := out.Validate(); err != nil {
			return out, fmt.Errorf("config: %w", err)
		}
		return out, nil
	}
	out.Providers = nil
	for i, p := range c.Providers {
		field := fmt.Sprintf("config: providers[%d]", i)
		key := ""
		if p.APIKeyEnv != "" {
			if key = getenv(p.APIKeyEnv); key == "" {
				return out, fmt.Errorf("%s.api_key_env: environment variable %s is empty", field, p.APIKeyEnv)
			}
		}
		if p.MaxRetries != nil && *p.MaxRetries < 0 {
			return out, fmt.Errorf("%s.max_retries: must not be negative", field)
		}
		mp := models.Provider{Name: p.Name, Kind: p.Kind, Region: p.Region}
		switch p.Kind {
		case models.KindTEI, models.KindCohere, models.KindJina:
			rc := models.DefaultRerankConfig()
			rc.BaseURL, rc.Model, rc.APIKey = p.BaseURL, p.Model, key
			if p.Timeout > 0 {
				rc.Timeout = time.Duration(p.Timeout)
			}
			if p.MaxRetries != nil {
				rc.MaxRetries = *p.MaxRetries
				if rc.MaxRetries == 0 {
					rc.MaxRetries = -1 // the client reads 0 as its default
				}
			}
			mp.Rerank = rc
		default:
			oc := models.DefaultOpenAIConfig()
			oc.BaseURL, oc.Model, oc.APIKey = p.BaseURL, p.Model, key
			if p.Timeout > 0 {
				oc.Timeout = time.Duration(p.Timeout)
				oc.FirstTokenTimeout = min(oc.FirstTokenTimeout, oc.Timeout)
			}
			if p.MaxRetries != nil {
				oc.MaxRetries = *p.MaxRetries
			}
			if p.EmbedDim < 0 {
				return out, fmt.Errorf("%s.embed_dim: must not be negative", field)
			}
			oc.EmbedDim = p.EmbedDim
			mp.OpenAI = oc
		}
		out.Providers = append(out.Providers, mp)
	}
	if len(c.Routes) > 0 {
		out.Routes = nil
	}
	for _, r := range c.Routes {
		out.Routes = append(out.Routes, models.Route{Task: r.Task, Tenant: r.Tenant, Providers: r.Providers,
			Timeout: time.Duration(r.Timeout), DataPolicy: models.Policy{AllowedRegions: r.AllowedRegions}, Origin: origin(r.origin)})
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("config: %w", err)
	}
	return out, nil
}

// origin is where a template or route of the merged config comes from:
// the federation's say so, the others are the file's.
func origin(o string) string {
	if o == "" {
		return models.OriginConfig
	}
	return o
}

// openNodeConfigured opens the node at data with the model routes of the
// config file at path ("" for the embedded default).
func (m *Main) openNodeConfigured(ctx context.Context, data, path string, tune ...func(*node.Config)) (*node.Node, error) {
	var fc fileConfig
	if path != "" {
		if err := loadConfig(path, &fc); err != nil {
			return nil, err
		}
	}
	mc, err := fc.models(m.getenv)
	if err != nil {
		return nil, err
	}
	return m.openNodeWith(ctx, data, mc, m.logger(slog.LevelWarn), append([]func(*node.Config){func(c *node.Config) {
		c.Policy = answer.PolicyDecider(fc.Policy)
	}}, tune...)...)
}
