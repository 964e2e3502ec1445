package node_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
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
func federationNode(t *testing.T, cfg node.Config, tenant, name string, pages []ingest.Page) *node.Node {
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
func peerServer(t *testing.T, ca *trust.CA, org, id string, h http.Handler) *httptest.Server {
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

func memberClient(t *testing.T, ca *trust.CA, org, id string) *http.Client {
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
