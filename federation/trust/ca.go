package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names used by CA.Save and LoadCA.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// CAValidity is the lifetime of a root created by NewCA.
const CAValidity = 10 * 365 * 24 * time.Hour

// Backdate is how far NotBefore of issued certificates lies before the issue
// time, so peers whose clocks run slightly behind accept fresh certificates.
const Backdate = 5 * time.Minute

// CA is the federation certificate authority: a self-signed ECDSA P-256 root
// that issues member certificates and redeems join tokens. Its methods are safe
// for concurrent use once Now and Tokens are set.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer

	// Now is the CA's clock; nil means time.Now. Set it before first use.
	Now func() time.Time
	// Tokens holds the hashes of join tokens. NewCA and LoadCA set an
	// in-memory store; replace it (e.g. with a FileTokenStore) before use.
	Tokens TokenStore
	// LeafTTL is the lifetime of certificates issued by Redeem; zero means
	// DefaultLeafTTL.
	LeafTTL time.Duration
}

// NewCA creates a new self-signed root named name, valid from now (backdated by
// Backdate) for CAValidity. The root may sign leaf certificates only
// (path length zero).
func NewCA(name string, now time.Time) (*CA, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("new ca: name is empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new ca: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("new ca: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Assistent federation"}},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("new ca: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new ca: parse certificate: %w", err)
	}
	return &CA{cert: cert, key: key, Tokens: NewMemoryTokenStore()}, nil
}

// LoadCA reads a CA written by Save from dir. It refuses a key file readable
// by group or others and a key that does not match the certificate.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("load ca: certificate is not a ca")
	}
	keyPEM, err := readPrivateFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("load ca: key does not match certificate")
	}
	return &CA{cert: cert, key: key, Tokens: NewMemoryTokenStore()}, nil
}

// Save writes the CA certificate (CACertFile, 0644) and key (CAKeyFile, 0600)
// to dir, creating dir with mode 0700 if needed. It refuses to overwrite either
// file (ErrExists) and leaves no half-written CA behind.
func (ca *CA) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save ca: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("save ca %s: %w", p, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("save ca: %w", err)
		}
	}
	keyPEM, err := MarshalPrivateKeyPEM(ca.key)
	if err != nil {
		return fmt.Errorf("save ca: %w", err)
	}
	if err := writeNewFile(keyPath, keyPEM, 0o600); err != nil {
		return fmt.Errorf("save ca: %w", err)
	}
	if err := writeNewFile(certPath, CertificatePEM(ca.cert), 0o644); err != nil {
		os.Remove(keyPath)
		return fmt.Errorf("save ca: %w", err)
	}
	return nil
}

// Certificate returns the CA's root certificate. Callers must not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertPEM returns the CA's root certificate as PEM, for distribution to members.
func (ca *CA) CertPEM() []byte { return CertificatePEM(ca.cert) }

// Pool returns a new pool holding the CA's root certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func (ca *CA) now() time.Time {
	if ca.Now != nil {
		return ca.Now()
	}
	return time.Now()
}

// Issue signs a leaf certificate for pub with identity id, valid from the CA's
// now minus Backdate for ttl. hosts are DNS names or IP addresses to put in the
// certificate (for servers that are also reached by name); they do not affect
// federation identity checks. The certificate may be used for both client and
// server authentication and cannot outlive the root.
func (ca *CA) Issue(pub crypto.PublicKey, id Identity, ttl time.Duration, hosts ...string) (*x509.Certificate, error) {
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, fmt.Errorf("issue %s: %w", id, err)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("issue %s: ttl %v must be positive", id, ttl)
	}
	dns, ips := splitHosts(hosts)
	for _, d := range dns {
		if !validDNSName(d) {
			return nil, fmt.Errorf("issue %s: host %q is neither an ip address nor a dns name", id, d)
		}
	}
	now := ca.now()
	notAfter := now.Add(ttl)
	if notAfter.After(ca.cert.NotAfter) {
		return nil, fmt.Errorf("issue %s: certificate would outlive the ca (until %s)", id, ca.cert.NotAfter.Format(time.RFC3339))
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("issue %s: %w", id, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         id.Node,
			Organization:       []string{id.Org},
			OrganizationalUnit: []string{string(id.Role)},
		},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{id.URL()},
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("issue %s: %w", id, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("issue %s: parse: %w", id, err)
	}
	return cert, nil
}

// IssueKeyPair generates a P-256 key and issues a certificate for it, returned
// as a tls.Certificate with Leaf set. Coordination servers use it for their own
// certificates; nodes normally join with a token instead.
func (ca *CA) IssueKeyPair(id Identity, ttl time.Duration, hosts ...string) (tls.Certificate, error) {
	key, err := GenerateKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := ca.Issue(key.Public(), id, ttl, hosts...)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	var b [16]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

func splitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

// validDNSName accepts host names made of letters, digits, '-' and '.', with
// an optional leading "*." wildcard.
func validDNSName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
