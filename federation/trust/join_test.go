package trust_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
)

// stores runs f against each TokenStore implementation.
func stores(t *testing.T, f func(t *testing.T, ca *trust.CA)) {
	t.Run("memory", func(t *testing.T) { f(t, newCA(t)) })
	t.Run("file", func(t *testing.T) {
		s, err := trust.OpenFileTokenStore(filepath.Join(t.TempDir(), "tokens.json"))
		if err != nil {
			t.Fatal(err)
		}
		ca := newCA(t)
		ca.Tokens = s
		f(t, ca)
	})
}

func csr(tb testing.TB, node string, hosts ...string) ([]byte, []byte) {
	tb.Helper()
	key, err := trust.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	req, err := trust.NewCSR(key, node, hosts...)
	if err != nil {
		tb.Fatal(err)
	}
	keyPEM, err := trust.MarshalPrivateKeyPEM(key)
	if err != nil {
		tb.Fatal(err)
	}
	return req, keyPEM
}

func TestCA_Redeem(t *testing.T) {
	stores(t, func(t *testing.T, ca *trust.CA) {
		tok, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
			t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
		}
		req, keyPEM := csr(t, "meppel-1", "node.meppel.example")
		certPEM, err := ca.Redeem(tok, req)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatalf("certificate does not match the CSR's key: %v", err)
		}
		id, err := trust.ParseIdentity(pair.Leaf)
		want := trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}
		if err != nil || id != want {
			t.Fatalf("identity %v, %v; want %v", id, err, want)
		}
		if len(pair.Leaf.DNSNames) != 1 || pair.Leaf.DNSNames[0] != "node.meppel.example" {
			t.Fatalf("DNS names %v", pair.Leaf.DNSNames)
		}
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Redeem(tok, req); !errors.Is(err, trust.ErrTokenUsed) {
			t.Fatalf("second Redeem: %v, want ErrTokenUsed", err)
		}
	})
}

func TestCA_Redeem_Concurrent(t *testing.T) {
	stores(t, func(t *testing.T, ca *trust.CA) {
		tok, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		reqs := make([][]byte, n)
		for i := range reqs {
			reqs[i], _ = csr(t, "meppel-1")
		}
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			ok, used  int
			unexpects []error
		)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := ca.Redeem(tok, reqs[i])
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, trust.ErrTokenUsed):
					used++
				default:
					unexpects = append(unexpects, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok != 1 || used != n-1 || len(unexpects) > 0 {
			t.Fatalf("%d succeeded, %d used, other errors %v; want 1 and %d", ok, used, unexpects, n-1)
		}
	})
}

func TestCA_Redeem_Refusals(t *testing.T) {
	stores(t, func(t *testing.T, ca *trust.CA) {
		now := time.Now()
		ca.Now = func() time.Time { return now }
		tmpl := trust.Identity{Org: "GM0119", Role: trust.RoleNode}

		t.Run("expired token", func(t *testing.T) {
			tok, err := ca.NewJoinToken(tmpl, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			later := now.Add(time.Minute)
			ca.Now = func() time.Time { return later }
			defer func() { ca.Now = func() time.Time { return now } }()
			req, _ := csr(t, "meppel-1")
			if _, err := ca.Redeem(tok, req); !errors.Is(err, trust.ErrTokenExpired) {
				t.Fatalf("got %v, want ErrTokenExpired", err)
			}
		})
		t.Run("forged token", func(t *testing.T) {
			if _, err := ca.NewJoinToken(tmpl, time.Hour); err != nil {
				t.Fatal(err)
			}
			raw := make([]byte, 32)
			rand.Read(raw)
			req, _ := csr(t, "meppel-1")
			for _, tok := range []string{base64.RawURLEncoding.EncodeToString(raw), "", "not a token", base64.RawURLEncoding.EncodeToString(raw[:31])} {
				if _, err := ca.Redeem(tok, req); !errors.Is(err, trust.ErrTokenUnknown) {
					t.Fatalf("token %q: got %v, want ErrTokenUnknown", tok, err)
				}
			}
		})
		t.Run("bad csr leaves the token usable", func(t *testing.T) {
			tok, err := ca.NewJoinToken(tmpl, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			good, _ := csr(t, "meppel-1")
			block, _ := pem.Decode(good)
			der := bytes.Clone(block.Bytes)
			der[len(der)-1] ^= 0x01 // last byte of the signature
			badSig := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
			upper := mustCSRWithCN(t, "Meppel_1")
			for name, req := range map[string][]byte{
				"bad signature": badSig,
				"not pem":       []byte("hello"),
				"wrong pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}),
				"bad node id":   upper,
			} {
				if _, err := ca.Redeem(tok, req); !errors.Is(err, trust.ErrBadCSR) {
					t.Fatalf("%s: got %v, want ErrBadCSR", name, err)
				}
			}
			if _, err := ca.Redeem(tok, good); err != nil {
				t.Fatalf("token unusable after bad CSRs: %v", err)
			}
		})
		t.Run("token bound to a node", func(t *testing.T) {
			tok, err := ca.NewJoinToken(trust.Identity{Org: "VNG", Role: trust.RoleServer, Node: "coord-2"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			other, _ := csr(t, "coord-3")
			if _, err := ca.Redeem(tok, other); !errors.Is(err, trust.ErrBadCSR) {
				t.Fatalf("other node: got %v, want ErrBadCSR", err)
			}
			same, _ := csr(t, "coord-2", "127.0.0.1")
			certPEM, err := ca.Redeem(tok, same)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := trust.ParseCertificatePEM(certPEM)
			if id, _ := trust.ParseIdentity(c); id != (trust.Identity{Org: "VNG", Role: trust.RoleServer, Node: "coord-2"}) || len(c.IPAddresses) != 1 {
				t.Fatalf("identity %v, IPs %v", id, c.IPAddresses)
			}
		})
	})
}

// mustCSRWithCN builds a correctly signed CSR whose common name is not a valid
// node id (NewCSR refuses to).
func mustCSRWithCN(tb testing.TB, cn string) []byte {
	tb.Helper()
	key, _ := trust.GenerateKey()
	tmpl := &x509.CertificateRequest{}
	tmpl.Subject.CommonName = cn
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestCA_NewJoinToken_Refusals(t *testing.T) {
	ca := newCA(t)
	for _, tmpl := range []trust.Identity{
		{Org: "gm0119", Role: trust.RoleNode},
		{Org: "GM0119", Role: "admin"},
		{Org: "GM0119", Role: trust.RoleNode, Node: "Bad Node"},
	} {
		if _, err := ca.NewJoinToken(tmpl, time.Hour); !errors.Is(err, trust.ErrInvalidIdentity) {
			t.Errorf("%+v: %v, want ErrInvalidIdentity", tmpl, err)
		}
	}
	if _, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, 0); err == nil {
		t.Error("zero ttl accepted")
	}
}

func TestFileTokenStore_Persists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	s, err := trust.OpenFileTokenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	ca := newCA(t)
	ca.Tokens = s
	tok1, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := csr(t, "meppel-1")
	if _, err := ca.Redeem(tok1, req); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), tok1) || strings.Contains(string(data), tok2) {
		t.Fatal("token file holds a raw token")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tokens.json.tmp-*")); len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}

	// A restarted CA sees the first token used and the second still valid.
	reopened, err := trust.OpenFileTokenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	ca.Tokens = reopened
	if _, err := ca.Redeem(tok1, req); !errors.Is(err, trust.ErrTokenUsed) {
		t.Fatalf("used token after reopen: %v, want ErrTokenUsed", err)
	}
	if _, err := ca.Redeem(tok2, req); err != nil {
		t.Fatalf("unused token after reopen: %v", err)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := trust.OpenFileTokenStore(path); err == nil {
		t.Fatal("corrupt token file opened")
	}
}

func TestTokenStore_Prunes(t *testing.T) {
	s := trust.NewMemoryTokenStore()
	now := time.Now()
	old := trust.TokenRecord{Hash: "a", Org: "GM0119", Role: trust.RoleNode, Expires: now}
	if err := s.Add(old, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(old, now); !errors.Is(err, trust.ErrExists) {
		t.Fatalf("duplicate hash: %v, want ErrExists", err)
	}
	if _, err := s.Consume("a", now, nil); !errors.Is(err, trust.ErrTokenExpired) {
		t.Fatalf("before pruning: %v, want ErrTokenExpired", err)
	}
	later := now.Add(trust.PruneAfter + time.Second)
	if err := s.Add(trust.TokenRecord{Hash: "b", Expires: later.Add(time.Hour)}, later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consume("a", later, nil); !errors.Is(err, trust.ErrTokenUnknown) {
		t.Fatalf("after pruning: %v, want ErrTokenUnknown", err)
	}
}

// TestTokenStore_ConsumeAtomic widens the window between lookup and marking
// (check sleeps) so that a store that checks outside its critical section
// lets more than one caller through.
func TestTokenStore_ConsumeAtomic(t *testing.T) {
	fileStore, err := trust.OpenFileTokenStore(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]trust.TokenStore{"memory": trust.NewMemoryTokenStore(), "file": fileStore} {
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			if err := s.Add(trust.TokenRecord{Hash: "h", Org: "GM0119", Role: trust.RoleNode, Expires: now.Add(time.Hour)}, now); err != nil {
				t.Fatal(err)
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				winners int
			)
			for range 20 {
				wg.Go(func() {
					_, err := s.Consume("h", now, func(trust.TokenRecord) error {
						time.Sleep(time.Millisecond)
						return nil
					})
					if err == nil {
						mu.Lock()
						winners++
						mu.Unlock()
					} else if !errors.Is(err, trust.ErrTokenUsed) {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if winners != 1 {
				t.Fatalf("%d callers consumed the token, want 1", winners)
			}
		})
	}
}

// Two stores on one file stand for two processes (the operator's
// 'federation token' and the issuing coordinator): a token one adds, the
// other redeems, once; the other's additions are never overwritten.
func TestFileTokenStore_SharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	operator, err := trust.OpenFileTokenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	server, err := trust.OpenFileTokenStore(path) // opened before the token exists
	if err != nil {
		t.Fatal(err)
	}
	ca := newCA(t)
	ca.Tokens = operator
	tok, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issuer := *ca
	issuer.Tokens = server
	req, _ := csr(t, "meppel-1")
	if _, err := issuer.Redeem(tok, req); err != nil {
		t.Fatalf("the other process cannot redeem a new token: %v", err)
	}
	later, err := ca.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Redeem(tok, req); !errors.Is(err, trust.ErrTokenUsed) {
		t.Errorf("a token redeemed by the other process: %v, want ErrTokenUsed", err)
	}
	req2, _ := csr(t, "meppel-2")
	if _, err := issuer.Redeem(later, req2); err != nil {
		t.Errorf("a token added after the other's write: %v", err)
	}
}

// Renewal keeps the identity of the certificate the member holds and
// refuses a CSR for another node.
func TestCA_Renew(t *testing.T) {
	ca := newCA(t)
	id := trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}
	req, _ := csr(t, "meppel-1")
	pemCert, err := ca.Renew(id, req)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := trust.ParseCertificatePEM(pemCert)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := trust.ParseIdentity(cert); err != nil || got != id {
		t.Errorf("renewed identity %v, %v; want %v", got, err, id)
	}
	other, _ := csr(t, "zwolle-1")
	if _, err := ca.Renew(id, other); !errors.Is(err, trust.ErrBadCSR) {
		t.Errorf("renewal for another node: %v, want ErrBadCSR", err)
	}
}
