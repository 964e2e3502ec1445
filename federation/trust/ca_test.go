package trust_test

import (
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
)

func TestNewCA(t *testing.T) {
	ca, err := trust.NewCA("Assistent federation root", testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Certificate()
	if !c.IsCA || !c.MaxPathLenZero || c.Subject.CommonName != "Assistent federation root" {
		t.Fatalf("root: IsCA %v MaxPathLenZero %v CN %q", c.IsCA, c.MaxPathLenZero, c.Subject.CommonName)
	}
	if !c.NotBefore.Before(testNow) || !c.NotAfter.Equal(testNow.Add(trust.CAValidity)) {
		t.Fatalf("root validity %s..%s", c.NotBefore, c.NotAfter)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("root key %v, want ECDSA", c.PublicKeyAlgorithm)
	}
	if _, err := trust.NewCA(" ", testNow); err == nil {
		t.Fatal("empty name accepted")
	}
}

func TestCA_SaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca := newCA(t)
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, trust.CAKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := ca.Save(dir); !errors.Is(err, trust.ErrExists) {
		t.Fatalf("second Save: %v, want ErrExists", err)
	}
	if err := newCA(t).Save(dir); !errors.Is(err, trust.ErrExists) {
		t.Fatalf("Save of another CA over the first: %v, want ErrExists", err)
	}

	loaded, err := trust.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Certificate().Equal(ca.Certificate()) {
		t.Fatal("loaded certificate differs")
	}
	// A certificate issued by the loaded CA verifies against the original pool.
	leaf := issue(t, loaded, "GM0119", trust.RoleNode, "meppel-1").Leaf
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("verify leaf of loaded CA: %v", err)
	}
	pool, err := trust.PoolFromPEM(ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Fatalf("verify against PoolFromPEM: %v", err)
	}

	t.Run("key readable by others", func(t *testing.T) {
		if err := os.Chmod(filepath.Join(dir, trust.CAKeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(filepath.Join(dir, trust.CAKeyFile), 0o600)
		if _, err := trust.LoadCA(dir); err == nil {
			t.Fatal("LoadCA accepted a 0644 key file")
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		if err := newCA(t).Save(other); err != nil {
			t.Fatal(err)
		}
		mixed := t.TempDir()
		copyFile(t, filepath.Join(dir, trust.CACertFile), filepath.Join(mixed, trust.CACertFile))
		copyFile(t, filepath.Join(other, trust.CAKeyFile), filepath.Join(mixed, trust.CAKeyFile))
		if _, err := trust.LoadCA(mixed); err == nil {
			t.Fatal("LoadCA accepted a key that does not match the certificate")
		}
	})
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func TestCA_Issue(t *testing.T) {
	ca, err := trust.NewCA("test", testNow)
	if err != nil {
		t.Fatal(err)
	}
	ca.Now = func() time.Time { return testNow }
	key, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id := trust.Identity{Org: "VNG", Role: trust.RoleServer, Node: "coord-1"}
	cert, err := ca.Issue(key.Public(), id, 24*time.Hour, "coord-1.vng.example", "10.0.0.7", "::1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := trust.ParseIdentity(cert); err != nil || got != id {
		t.Fatalf("identity %v, %v", got, err)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}) {
		t.Fatalf("EKU %v", cert.ExtKeyUsage)
	}
	if cert.IsCA {
		t.Fatal("leaf is a CA")
	}
	if !cert.NotBefore.Equal(testNow.Add(-trust.Backdate)) || !cert.NotAfter.Equal(testNow.Add(24*time.Hour)) {
		t.Fatalf("validity %s..%s", cert.NotBefore, cert.NotAfter)
	}
	if !slices.Equal(cert.DNSNames, []string{"coord-1.vng.example"}) || len(cert.IPAddresses) != 2 ||
		!cert.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")) || !cert.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Fatalf("SANs %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if err := cert.CheckSignatureFrom(ca.Certificate()); err != nil {
		t.Fatalf("signature: %v", err)
	}

	seen := map[string]bool{}
	for range 50 {
		c, err := ca.Issue(key.Public(), id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || seen[c.SerialNumber.String()] {
			t.Fatalf("serial %v: positive, at most 128 bits and unique expected", c.SerialNumber)
		}
		seen[c.SerialNumber.String()] = true
	}

	refusals := map[string]func() error{
		"invalid identity": func() error {
			_, err := ca.Issue(key.Public(), trust.Identity{Org: "vng", Role: trust.RoleServer, Node: "a"}, time.Hour)
			return err
		},
		"bad host": func() error { _, err := ca.Issue(key.Public(), id, time.Hour, "bad host"); return err },
		"zero ttl": func() error { _, err := ca.Issue(key.Public(), id, 0); return err },
		"outlives the root": func() error {
			_, err := ca.Issue(key.Public(), id, trust.CAValidity+time.Hour)
			return err
		},
		"no key": func() error { _, err := ca.Issue(nil, id, time.Hour); return err },
	}
	for name, f := range refusals {
		if f() == nil {
			t.Errorf("%s: issued", name)
		}
	}
}
