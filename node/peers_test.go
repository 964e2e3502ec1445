package node_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/trust"
	peerv1 "github.com/assistent-nl/assistent/gen/assistent/peer/v1"
	"github.com/assistent-nl/assistent/gen/assistent/peer/v1/peerv1connect"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// federationNode opens a node with one tenant and its pages.
func federationNode(t testing.TB, cfg node.Config, tenant, name string, pages []ingest.Page) *node.Node {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.Store().PutTenant(store.Tenant{ID: tenant, Name: name, Phone: "14 0111"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(context.Background(), retrieval.TenantScope(tenant), pages, nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// peerServer serves h on 127.0.0.1 with mutual TLS for federation members.
func peerServer(t testing.TB, ca *trust.CA, org, id string, h http.Handler) *httptest.Server {
	t.Helper()
	cert, err := ca.IssueKeyPair(trust.Identity{Org: org, Role: trust.RoleNode, Node: id}, time.Hour, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = trust.ServerTLS(cert, ca.Pool(), nil, trust.FederationPolicy)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func memberClient(t testing.TB, ca *trust.CA, org, id string) *http.Client {
	t.Helper()
	cert, err := ca.IssueKeyPair(trust.Identity{Org: org, Role: trust.RoleNode, Node: id}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: trust.ClientTLS(cert, ca.Pool(), nil, trust.AllowRoles(trust.RoleNode))}}
}

// A question the own gemeente's pages do not answer is answered from a
// peer's pages, labelled as the peer's, within the deadline; personal data
// never leaves the node; slow and broken peers do not hold the answer up;
// a caller without a federation certificate gets nothing.
func TestFederatedFallback(t *testing.T) {
	ctx := context.Background()
	ca, err := trust.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	beta := federationNode(t, node.DefaultConfig(), "beta", "Gemeente Beta", []ingest.Page{{
		ID: "hond", URL: "https://www.beta.example/hondenbelasting", Title: "Hondenbelasting",
		Text: "Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € 98,40 per hond per jaar. U meldt uw hond aan via het formulier.",
	}})
	path, h := beta.PeerSearchHandler("beta", "GM0002", 20)
	var mu sync.Mutex
	var received []string
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, string(body))
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h.ServeHTTP(w, r)
	}))
	betaSrv := peerServer(t, ca, "GM0002", "beta-1", mux)
	slow := peerServer(t, ca, "GM0003", "slow-1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	broken := peerServer(t, ca, "GM0004", "broken-1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "kapot", http.StatusInternalServerError)
	}))

	alfaPages := []ingest.Page{{ID: "paspoort", URL: "https://www.alfa.example/paspoort", Title: "Paspoort aanvragen",
		Text: "Een paspoort vraagt u aan bij de balie van het gemeentehuis. Neem een pasfoto mee."}}
	cfg := node.DefaultConfig()
	cfg.Fallback.Client = memberClient(t, ca, "GM0001", "alfa-1")
	cfg.Fallback.Peers = []node.Peer{
		{Org: "GM0003", Name: "Gemeente Traag", URL: slow.URL},
		{Org: "GM0004", Name: "Gemeente Kapot", URL: broken.URL},
		{Org: "GM0002", Name: "Gemeente Beta", URL: betaSrv.URL},
	}
	alfa := federationNode(t, cfg, "alfa", "Gemeente Alfa", alfaPages)

	start := time.Now()
	a, err := alfa.Ask(ctx, "alfa", "Mijn BSN is 111222333. Wat kost de hondenbelasting per jaar?")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused || !strings.HasPrefix(a.Text, "Volgens Gemeente Beta; dit kan bij u anders zijn.") || !strings.Contains(a.Text, "98,40") {
		t.Fatalf("fallback answer: %+v", a)
	}
	if len(a.Citations) == 0 || a.Citations[0].URL != "https://www.beta.example/hondenbelasting" || !strings.Contains(a.Text, "14 0111") {
		t.Errorf("citations %+v; the own gemeente's referral must close the answer: %q", a.Citations, a.Text)
	}
	if took > cfg.Fallback.Deadline+700*time.Millisecond {
		t.Errorf("the answer took %v with a peer that hangs; deadline %v", took, cfg.Fallback.Deadline)
	}
	mu.Lock()
	for _, q := range received {
		if strings.Contains(q, "111222333") {
			t.Errorf("the peer received personal data: %q", q)
		}
	}
	if len(received) == 0 {
		t.Error("the peer was not asked")
	}
	mu.Unlock()

	// A question the own pages answer does not leave the node.
	mu.Lock()
	before := len(received)
	mu.Unlock()
	if a, err := alfa.Ask(ctx, "alfa", "hoe vraag ik een paspoort aan"); err != nil || a.Refused || strings.Contains(a.Text, "Volgens") {
		t.Errorf("local answer: %+v %v", a, err)
	}
	mu.Lock()
	if len(received) != before {
		t.Error("a question answered locally was sent to a peer")
	}
	mu.Unlock()

	// Without a federation certificate the peer answers nothing.
	stranger, err := trust.NewCA("other", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bad := memberClient(t, stranger, "GM0009", "x-1")
	bad.Transport.(*http.Transport).TLSClientConfig.RootCAs = ca.Pool()
	bad.Transport.(*http.Transport).TLSClientConfig.VerifyConnection = func(tls.ConnectionState) error { return nil }
	c := peerv1connect.NewSearchServiceClient(bad, betaSrv.URL)
	if _, err := c.Search(ctx, connect.NewRequest(&peerv1.SearchRequest{Question: "hondenbelasting"})); err == nil {
		t.Error("a node outside the federation could search a peer")
	}
}

// peerNode is a gemeente node serving its pages to the federation.
type peerNode struct {
	node.Peer
	n *node.Node
	// asked counts the searches that reached it.
	asked atomic.Int64
}

// startPeer opens a node for org with one tenant and its pages and serves
// its SearchService with mutual TLS on 127.0.0.1. wrap, when not nil,
// wraps the handler (a slow or broken peer).
func startPeer(tb testing.TB, ca *trust.CA, org, name string, pages []ingest.Page, wrap func(http.Handler) http.Handler) *peerNode {
	tb.Helper()
	tenant := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	p := &peerNode{n: federationNode(tb, node.DefaultConfig(), tenant, name, pages)}
	path, h := p.n.PeerSearchHandler(tenant, org, 1000)
	mux := http.NewServeMux()
	var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.asked.Add(1)
		h.ServeHTTP(w, r)
	})
	if wrap != nil {
		hh = wrap(hh)
	}
	mux.Handle(path, hh)
	srv := peerServer(tb, ca, org, strings.ToLower(org)+"-1", mux)
	p.Peer = node.Peer{Org: org, Name: name, URL: srv.URL}
	return p
}

// slowly delays every request by d, or until the caller gives up.
func slowly(d time.Duration) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(d):
				h.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	}
}

// asker opens the node that falls back, for tenant "alfa" with pages on
// passports only.
func asker(tb testing.TB, ca *trust.CA, set func(*node.FallbackConfig)) *node.Node {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.Fallback.Client = memberClient(tb, ca, "GM0001", "alfa-1")
	set(&cfg.Fallback)
	if err := cfg.Fallback.Validate(); err != nil {
		tb.Fatal(err)
	}
	return federationNode(tb, cfg, "alfa", "Gemeente Alfa", []ingest.Page{{ID: "paspoort", URL: "https://www.alfa.example/paspoort",
		Title: "Paspoort aanvragen", Text: "Een paspoort vraagt u aan bij de balie van het gemeentehuis. Neem een pasfoto mee."}})
}

func newCA(tb testing.TB) *trust.CA {
	tb.Helper()
	ca, err := trust.NewCA("test", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

// dogPages are Gemeente Beta's pages on the dog tax.
var dogPages = []ingest.Page{{
	ID: "hond", URL: "https://www.beta.example/hondenbelasting", Title: "Hondenbelasting",
	Text: "Heeft u een hond? Dan betaalt u hondenbelasting. In 2026 is de hondenbelasting € 98,40 per hond per jaar. U meldt uw hond aan via het formulier.",
}}

// parkPages mention dogs, but say nothing the question asks.
var parkPages = []ingest.Page{{
	ID: "park", URL: "https://www.gamma.example/parken", Title: "Parken en groen",
	Text: "In het stadspark is een speeltuin. Honden moeten in het park aangelijnd zijn. Het park is open van zonsopkomst tot zonsondergang.",
}}

const dogQuestion = "Wat kost de hondenbelasting per jaar?"

// statusOf returns the node's latest fallback record.
func lastFallback(t *testing.T, n *node.Node) node.FallbackRecord {
	t.Helper()
	rec := n.FederationReport().Recent
	if len(rec) == 0 {
		t.Fatal("no fallback recorded")
	}
	return rec[0]
}

func outcomes(r node.FallbackRecord) string {
	var s []string
	for _, p := range r.Peers {
		s = append(s, p.Org+"="+p.Outcome)
	}
	return strings.Join(s, " ")
}

// The first peer to answer has passages, but they do not answer the
// question: the next peer's pages do, and the answer is theirs alone.
func TestFallback_NextPeerWhenFirstDoesNotAnswer(t *testing.T) {
	ca := newCA(t)
	gamma := startPeer(t, ca, "GM0003", "Gemeente Gamma", parkPages, nil)
	beta := startPeer(t, ca, "GM0002", "Gemeente Beta", dogPages, slowly(50*time.Millisecond))
	alfa := asker(t, ca, func(c *node.FallbackConfig) {
		c.Mode = node.FallbackPeers
		c.Peers = []node.Peer{gamma.Peer, beta.Peer}
	})
	// Gamma does send passages: the defect was to stop at them.
	c := peerv1connect.NewSearchServiceClient(memberClient(t, ca, "GM0001", "alfa-2"), gamma.URL)
	resp, err := c.Search(context.Background(), connect.NewRequest(&peerv1.SearchRequest{Question: dogQuestion, K: 6}))
	if err != nil || len(resp.Msg.GetPassages()) == 0 {
		t.Fatalf("Gamma sends no passages (%v); the test needs some that do not answer", err)
	}
	a, err := alfa.Ask(context.Background(), "alfa", dogQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused || !strings.HasPrefix(a.Text, "Volgens Gemeente Beta; dit kan bij u anders zijn.") || !strings.Contains(a.Text, "98,40") {
		t.Fatalf("want Beta's answer, got %+v", a)
	}
	for _, c := range a.Citations {
		if !strings.HasPrefix(c.URL, "https://www.beta.example/") {
			t.Errorf("the answer mixes in another gemeente's page: %+v", c)
		}
	}
	rec := lastFallback(t, alfa)
	if got := outcomes(rec); got != "GM0003=refused GM0002=answered" || rec.AnsweredBy != "GM0002" {
		t.Errorf("recorded %q answered by %q", got, rec.AnsweredBy)
	}
}

// Peers are tried in the configured order: a better-ranked peer that
// answers wins over a faster one, as long as it replies within the grace.
func TestFallback_PolicyOrderWithinGrace(t *testing.T) {
	ca := newCA(t)
	beta := startPeer(t, ca, "GM0002", "Gemeente Beta", dogPages, slowly(40*time.Millisecond))
	delta := startPeer(t, ca, "GM0004", "Gemeente Delta", []ingest.Page{{
		ID: "hond", URL: "https://www.delta.example/hond", Title: "Hondenbelasting",
		Text: "In 2026 is de hondenbelasting € 120,00 per hond per jaar. U meldt uw hond aan bij de gemeente.",
	}}, nil)
	alfa := asker(t, ca, func(c *node.FallbackConfig) {
		c.Peers = []node.Peer{beta.Peer, delta.Peer}
		c.Grace = 300 * time.Millisecond
	})
	a, err := alfa.AskPeers(context.Background(), "alfa", dogQuestion)
	if err != nil || !strings.Contains(a.Text, "Volgens Gemeente Beta") {
		t.Fatalf("want the preferred Beta's answer: %+v %v", a, err)
	}
	// Delta's reply is not used: it is recorded as unused, or as late when
	// a loaded machine delivered it after Beta's.
	if got := outcomes(lastFallback(t, alfa)); got != "GM0002=answered GM0004=unused" && got != "GM0002=answered GM0004=late" {
		t.Errorf("recorded %q", got)
	}

	// With a grace shorter than Beta's delay, Delta's answer is taken and
	// Beta is not waited for.
	fast := asker(t, ca, func(c *node.FallbackConfig) {
		c.Peers = []node.Peer{beta.Peer, delta.Peer}
		c.Grace = 5 * time.Millisecond
	})
	a, err = fast.AskPeers(context.Background(), "alfa", dogQuestion)
	if err != nil || !strings.Contains(a.Text, "Volgens Gemeente Delta") || !strings.Contains(a.Text, "120,00") {
		t.Fatalf("want Delta's answer: %+v %v", a, err)
	}
	if got := outcomes(lastFallback(t, fast)); got != "GM0002=late GM0004=answered" {
		t.Errorf("recorded %q", got)
	}
}

// Peers that hang, are down or send garbage never hold the answer beyond
// the deadline; they are recorded as such, and one that keeps failing is
// skipped (circuit breaker) without being asked.
func TestFallback_BadPeersStayWithinBudget(t *testing.T) {
	ca := newCA(t)
	slow := peerServer(t, ca, "GM0005", "slow-1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	down := peerServer(t, ca, "GM0006", "down-1", http.NotFoundHandler())
	down.Close()
	var garbageHits atomic.Int64
	garbage := peerServer(t, ca, "GM0007", "garbage-1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		garbageHits.Add(1)
		w.Header().Set("Content-Type", "application/proto")
		w.Write([]byte("\xff\xfe this is not a SearchResponse \x00\x01"))
	}))
	alfa := asker(t, ca, func(c *node.FallbackConfig) {
		c.Deadline = 400 * time.Millisecond
		c.Peers = []node.Peer{
			{Org: "GM0005", Name: "Gemeente Traag", URL: slow.URL},
			{Org: "GM0006", Name: "Gemeente Weg", URL: down.URL},
			{Org: "GM0007", Name: "Gemeente Onzin", URL: garbage.URL},
		}
	})
	for i := range 3 {
		start := time.Now()
		a, err := alfa.Ask(context.Background(), "alfa", dogQuestion)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Refused || strings.Contains(a.Text, "Volgens") || !strings.Contains(a.Text, "14 0111") {
			t.Errorf("round %d: want the own refusal with the referral, got %+v", i, a)
		}
		if took > 400*time.Millisecond+300*time.Millisecond {
			t.Errorf("round %d took %v with a 400ms budget", i, took)
		}
		rec := lastFallback(t, alfa)
		if got := outcomes(rec); got != "GM0005=timeout GM0006=error GM0007=error" {
			t.Errorf("round %d recorded %q", i, got)
		}
		if rec.Duration > 700 {
			t.Errorf("round %d: fallback recorded %.0f ms", i, rec.Duration)
		}
	}
	// Three failures in a row: every peer is skipped now.
	before := garbageHits.Load()
	start := time.Now()
	if _, err := alfa.AskPeers(context.Background(), "alfa", dogQuestion); !errors.Is(err, node.ErrNoPeerAnswer) {
		t.Fatalf("AskPeers = %v, want ErrNoPeerAnswer", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("with every breaker open the fallback took %v", took)
	}
	if got := outcomes(lastFallback(t, alfa)); got != "GM0005=skipped-breaker GM0006=skipped-breaker GM0007=skipped-breaker" {
		t.Errorf("recorded %q", got)
	}
	if garbageHits.Load() != before {
		t.Error("a peer with an open breaker was asked")
	}
	if open := alfa.FederationReport().OpenBreakers; len(open) != 3 {
		t.Errorf("open breakers %+v, want 3", open)
	}
}

// nearestList is a PeerSource over a fixed list, nearest first: the gossip
// adapter in cmd/assistent is tested against real gossip.
type nearestList []node.Peer

func (l nearestList) Nearest(n int) []node.Peer { return l[:min(n, len(l))] }

// The policy decides whom the node asks: "off" and "national-only" ask no
// one even with peers listed; "nearest" asks the N nearest, in order.
func TestFallback_Policies(t *testing.T) {
	ca := newCA(t)
	gamma := startPeer(t, ca, "GM0003", "Gemeente Gamma", parkPages, nil)
	beta := startPeer(t, ca, "GM0002", "Gemeente Beta", dogPages, nil)
	far := startPeer(t, ca, "GM0008", "Gemeente Ver", dogPages, nil)
	for _, mode := range []node.FallbackMode{node.FallbackOff, node.FallbackNationalOnly} {
		n := asker(t, ca, func(c *node.FallbackConfig) { c.Mode = mode; c.Peers = []node.Peer{beta.Peer} })
		before := beta.asked.Load()
		a, err := n.Ask(context.Background(), "alfa", dogQuestion)
		if err != nil || !a.Refused || beta.asked.Load() != before {
			t.Errorf("%s: asked a peer (%d) or answered: %+v %v", mode, beta.asked.Load()-before, a, err)
		}
		if p := n.FederationReport().Policy; p.Mode != mode || p.AsksPeers {
			t.Errorf("%s: policy reported as %+v", mode, p)
		}
	}
	// One tenant of the node may keep its questions at home.
	n0 := asker(t, ca, func(c *node.FallbackConfig) {
		c.Peers = []node.Peer{beta.Peer}
		c.TenantModes = map[string]node.FallbackMode{"alfa": node.FallbackOff}
	})
	before := beta.asked.Load()
	if a, err := n0.Ask(context.Background(), "alfa", dogQuestion); err != nil || !a.Refused || beta.asked.Load() != before {
		t.Errorf("tenant with fallback off: asked a peer (%d) or answered: %+v %v", beta.asked.Load()-before, a, err)
	}
	if p := asker(t, ca, func(*node.FallbackConfig) {}).FederationReport().Policy; p.Mode != node.FallbackNationalOnly {
		t.Errorf("default policy %q, want national-only", p.Mode)
	}

	n := asker(t, ca, func(c *node.FallbackConfig) {
		c.Mode = node.FallbackNearest
		c.Nearest = 2
		c.Source = nearestList{gamma.Peer, beta.Peer, far.Peer}
	})
	a, err := n.AskPeers(context.Background(), "alfa", dogQuestion)
	if err != nil || !strings.Contains(a.Text, "Volgens Gemeente Beta") {
		t.Fatalf("nearest: want Beta's answer: %+v %v", a, err)
	}
	if got := outcomes(lastFallback(t, n)); got != "GM0003=refused GM0002=answered" {
		t.Errorf("nearest recorded %q", got)
	}
	if far.asked.Load() != 0 {
		t.Error("nearest asked a peer beyond the nearest 2")
	}
	if p := n.FederationReport().Policy; p.Mode != node.FallbackNearest || p.Nearest != 2 || !p.AsksPeers {
		t.Errorf("nearest policy reported as %+v", p)
	}

	for _, bad := range []node.FallbackConfig{
		{Mode: "everyone", Deadline: time.Second, Failures: 1},
		{TenantModes: map[string]node.FallbackMode{"alfa": "iedereen"}, Deadline: time.Second, Failures: 1},
		{Mode: node.FallbackNearest, Deadline: time.Second, Failures: 1},
		{Mode: node.FallbackPeers, Deadline: time.Second, Failures: 1},
		{Peers: []node.Peer{{Org: "GM0002", URL: "http://plain"}}, Deadline: time.Second, Failures: 1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}
