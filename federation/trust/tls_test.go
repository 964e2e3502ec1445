package trust_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
)

func TestServerTLS_Handshake(t *testing.T) {
	ca := newCA(t)
	pool := ca.Pool()
	serverCert := issue(t, ca, "VNG", trust.RoleServer, "coord-1")
	nodeID := trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}
	nodeCert := issue(t, ca, nodeID.Org, nodeID.Role, nodeID.Node)
	rev := trust.NewRevocationSet()
	addr, results := startServer(t, trust.ServerTLS(serverCert, pool, rev, trust.FederationPolicy))

	t.Run("valid node connects", func(t *testing.T) {
		res, cerr := dial(t, addr, trust.ClientTLS(nodeCert, pool, nil, trust.AllowRoles(trust.RoleServer)), results)
		if cerr != nil || res.err != nil {
			t.Fatalf("client err %v, server err %v", cerr, res.err)
		}
		if res.id != nodeID {
			t.Fatalf("server saw %v, want %v", res.id, nodeID)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		cfg := trust.ClientTLS(tls.Certificate{}, pool, nil, nil)
		cfg.Certificates = nil
		res, cerr := dial(t, addr, cfg, results)
		if cerr == nil || res.err == nil {
			t.Fatalf("client err %v, server err %v; want both to fail", cerr, res.err)
		}
	})
	t.Run("client certificate from another ca", func(t *testing.T) {
		other := newCA(t)
		res, cerr := dial(t, addr, trust.ClientTLS(issue(t, other, "GM0119", trust.RoleNode, "meppel-1"), pool, nil, nil), results)
		var unknown x509.UnknownAuthorityError
		if cerr == nil || !errors.As(res.err, &unknown) {
			t.Fatalf("client err %v, server err %v; want unknown authority", cerr, res.err)
		}
	})
	t.Run("expired client certificate", func(t *testing.T) {
		old := newCA(t)
		pool := old.Pool()
		srv := issue(t, old, "VNG", trust.RoleServer, "coord-1")
		addr, results := startServer(t, trust.ServerTLS(srv, pool, nil, nil))
		old.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
		expired := issue(t, old, "GM0119", trust.RoleNode, "meppel-1")
		res, cerr := dial(t, addr, trust.ClientTLS(expired, pool, nil, nil), results)
		var invalid x509.CertificateInvalidError
		if cerr == nil || !errors.As(res.err, &invalid) || invalid.Reason != x509.Expired {
			t.Fatalf("client err %v, server err %v; want expired", cerr, res.err)
		}
	})
	t.Run("revoked serial", func(t *testing.T) {
		c := issue(t, ca, "GM0119", trust.RoleNode, "meppel-2")
		rev.RevokeSerial(c.Leaf.SerialNumber)
		res, cerr := dial(t, addr, trust.ClientTLS(c, pool, nil, nil), results)
		if cerr == nil || !errors.Is(res.err, trust.ErrRevoked) {
			t.Fatalf("client err %v, server err %v; want revoked", cerr, res.err)
		}
		// Another certificate of the same node is not affected.
		res, cerr = dial(t, addr, trust.ClientTLS(issue(t, ca, "GM0119", trust.RoleNode, "meppel-2"), pool, nil, nil), results)
		if cerr != nil || res.err != nil {
			t.Fatalf("fresh cert: client err %v, server err %v", cerr, res.err)
		}
	})
	t.Run("revoked node", func(t *testing.T) {
		c := issue(t, ca, "GM0150", trust.RoleNode, "deventer-1")
		rev.RevokeNode("GM0150", "deventer-1")
		res, cerr := dial(t, addr, trust.ClientTLS(c, pool, nil, nil), results)
		if cerr == nil || !errors.Is(res.err, trust.ErrRevoked) {
			t.Fatalf("client err %v, server err %v; want revoked", cerr, res.err)
		}
		// Same node id in another organisation still connects.
		res, cerr = dial(t, addr, trust.ClientTLS(issue(t, ca, "GM0151", trust.RoleNode, "deventer-1"), pool, nil, nil), results)
		if cerr != nil || res.err != nil {
			t.Fatalf("other org: client err %v, server err %v", cerr, res.err)
		}
	})
}

func TestClientTLS_RefusesServer(t *testing.T) {
	ca := newCA(t)
	node := issue(t, ca, "GM0119", trust.RoleNode, "meppel-1")
	serverID := trust.Identity{Org: "VNG", Role: trust.RoleServer, Node: "coord-1"}

	tests := []struct {
		name string
		// server returns the server's certificate and the pool the client trusts.
		server func(t *testing.T) (tls.Certificate, *x509.CertPool)
		rev    func(srv tls.Certificate) trust.Revocations
		expect func(trust.Identity) error
		check  func(error) bool
	}{
		{
			name: "accepted",
			server: func(t *testing.T) (tls.Certificate, *x509.CertPool) {
				return issue(t, ca, "VNG", trust.RoleServer, "coord-1"), ca.Pool()
			},
			expect: trust.ExpectNode(serverID),
			check:  func(err error) bool { return err == nil },
		},
		{
			name: "server from another ca",
			server: func(t *testing.T) (tls.Certificate, *x509.CertPool) {
				return issue(t, newCA(t), "VNG", trust.RoleServer, "coord-1"), ca.Pool()
			},
			check: func(err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) },
		},
		{
			name: "expired server",
			server: func(t *testing.T) (tls.Certificate, *x509.CertPool) {
				old := newCA(t)
				old.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
				return issue(t, old, "VNG", trust.RoleServer, "coord-1"), old.Pool()
			},
			check: func(err error) bool {
				var inv x509.CertificateInvalidError
				return errors.As(err, &inv) && inv.Reason == x509.Expired
			},
		},
		{
			name: "revoked server",
			server: func(t *testing.T) (tls.Certificate, *x509.CertPool) {
				return issue(t, ca, "VNG", trust.RoleServer, "coord-1"), ca.Pool()
			},
			rev: func(srv tls.Certificate) trust.Revocations {
				r := trust.NewRevocationSet()
				r.RevokeSerial(srv.Leaf.SerialNumber)
				return r
			},
			check: func(err error) bool { return errors.Is(err, trust.ErrRevoked) },
		},
		{
			name: "not the expected peer",
			server: func(t *testing.T) (tls.Certificate, *x509.CertPool) {
				return issue(t, ca, "GM0200", trust.RoleNode, "other"), ca.Pool()
			},
			expect: trust.ExpectNode(serverID),
			check:  func(err error) bool { return errors.Is(err, trust.ErrNotAllowed) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clientPool := tt.server(t)
			// The server trusts the node's CA: any refusal is the client's.
			addr, results := startServer(t, trust.ServerTLS(srv, ca.Pool(), nil, nil))
			var rev trust.Revocations
			if tt.rev != nil {
				rev = tt.rev(srv)
			}
			_, cerr := dial(t, addr, trust.ClientTLS(node, clientPool, rev, tt.expect), results)
			if !tt.check(cerr) {
				t.Fatalf("client err %v", cerr)
			}
		})
	}
}

func TestRaftPolicy(t *testing.T) {
	ca := newCA(t)
	pool := ca.Pool()
	addr, results := startServer(t, trust.ServerTLS(issue(t, ca, "VNG", trust.RoleServer, "coord-1"), pool, nil, trust.RaftPolicy))

	res, cerr := dial(t, addr, trust.ClientTLS(issue(t, ca, "GM0119", trust.RoleNode, "meppel-1"), pool, nil, nil), results)
	if cerr == nil || !errors.Is(res.err, trust.ErrNotAllowed) {
		t.Fatalf("node: client err %v, server err %v; want not allowed", cerr, res.err)
	}
	res, cerr = dial(t, addr, trust.ClientTLS(issue(t, ca, "VNG", trust.RoleServer, "coord-2"), pool, nil, trust.RaftPolicy), results)
	if cerr != nil || res.err != nil {
		t.Fatalf("server: client err %v, server err %v", cerr, res.err)
	}
	if res.id.Role != trust.RoleServer || res.id.Node != "coord-2" {
		t.Fatalf("server saw %v", res.id)
	}
}

func TestRequireIdentity(t *testing.T) {
	ca := newCA(t)
	pool := ca.Pool()
	srv := httptest.NewUnstartedServer(trust.RequireIdentity(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := trust.IdentityFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(id)
	})))
	srv.TLS = trust.ServerTLS(issue(t, ca, "VNG", trust.RoleServer, "coord-1"), pool, nil, nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	want := trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: trust.ClientTLS(issue(t, ca, want.Org, want.Role, want.Node), pool, nil, trust.RaftPolicy)}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got trust.Identity
	if err := json.Unmarshal(body, &got); err != nil || got != want {
		t.Fatalf("status %d body %s: got %v, want %v", resp.StatusCode, body, got, want)
	}

	// Without TLS state the middleware refuses.
	rec := httptest.NewRecorder()
	trust.RequireIdentity(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("plain request: status %d, want 403", rec.Code)
	}
}

func BenchmarkHandshake(b *testing.B) {
	ca := newCA(b)
	pool := ca.Pool()
	addr, results := startServer(b, trust.ServerTLS(issue(b, ca, "VNG", trust.RoleServer, "coord-1"), pool, trust.NewRevocationSet(), trust.FederationPolicy))
	cfg := trust.ClientTLS(issue(b, ca, "GM0119", trust.RoleNode, "meppel-1"), pool, trust.NewRevocationSet(), trust.RaftPolicy)
	b.ReportAllocs()
	for b.Loop() {
		res, cerr := dial(b, addr, cfg, results)
		if cerr != nil || res.err != nil {
			b.Fatal(cerr, res.err)
		}
	}
}

func TestTLS_NilPoolRefuses(t *testing.T) {
	ca := newCA(t)
	node := issue(t, ca, "GM0119", trust.RoleNode, "meppel-1")
	srv := issue(t, ca, "VNG", trust.RoleServer, "coord-1")

	addr, results := startServer(t, trust.ServerTLS(srv, nil, nil, nil))
	res, cerr := dial(t, addr, trust.ClientTLS(node, ca.Pool(), nil, nil), results)
	if cerr == nil || res.err == nil {
		t.Fatalf("server without pool: client err %v, server err %v", cerr, res.err)
	}
	addr, results = startServer(t, trust.ServerTLS(srv, ca.Pool(), nil, nil))
	if _, cerr := dial(t, addr, trust.ClientTLS(node, nil, nil, nil), results); cerr == nil {
		t.Fatal("client without pool connected")
	}
}
