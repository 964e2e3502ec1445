package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PEM block types written and read by this package.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
	pemPublicKey   = "PUBLIC KEY"
	pemCSR         = "CERTIFICATE REQUEST"
)

// GenerateKey returns a new ECDSA P-256 key for a TLS certificate.
func GenerateKey() (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate p-256 key: %w", err)
	}
	return k, nil
}

// GenerateSigningKey returns a new ed25519 key pair for signing manifests.
func GenerateSigningKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return pub, priv, nil
}

// KeyID returns a stable short id for an ed25519 public key: the first 16 hex
// digits of the SHA-256 of its PKIX encoding. Publishers may use any key id;
// this one is a convenient default.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Only possible for a key of the wrong length; keep the id distinct.
		return "invalid"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// MarshalPrivateKeyPEM encodes a private key (ECDSA, ed25519 or RSA) as a
// PKCS#8 PEM block.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes a PKCS#8 PEM private key.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	der, err := pemBlock(data, pemPrivateKey)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

// MarshalPublicKeyPEM encodes an ed25519 public key as a PKIX PEM block, the
// form in which publisher keys are distributed.
func MarshalPublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// ParsePublicKeyPEM decodes a PKIX PEM ed25519 public key; other key types are
// refused.
func ParsePublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, pemPublicKey)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want ed25519", k)
	}
	return pub, nil
}

// SaveSigningKey writes priv to path as a PKCS#8 PEM file with mode 0600. It
// refuses to overwrite an existing file (ErrExists).
func SaveSigningKey(path string, priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("save signing key %s: key has %d bytes, want %d", path, len(priv), ed25519.PrivateKeySize)
	}
	data, err := MarshalPrivateKeyPEM(priv)
	if err != nil {
		return fmt.Errorf("save signing key %s: %w", path, err)
	}
	return writeNewFile(path, data, 0o600)
}

// LoadSigningKey reads an ed25519 private key written by SaveSigningKey. It
// refuses key files readable by group or others.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load signing key %s: key is %T, want ed25519", path, k)
	}
	return priv, nil
}

// CertificatePEM encodes a certificate as a PEM block.
func CertificatePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: cert.Raw})
}

// ParseCertificatePEM decodes the first PEM certificate in data.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	der, err := pemBlock(data, pemCertificate)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return c, nil
}

// PoolFromPEM returns a pool holding every certificate in data, typically the
// federation CA certificate a node received when it joined.
func PoolFromPEM(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no certificates in pem data")
	}
	return pool, nil
}

// NewCSR returns a PEM certificate signing request for key that asks for the
// node id node (as the subject common name) and the given DNS names or IP
// addresses. The identity's organisation and role come from the join token,
// not from the request.
func NewCSR(key crypto.Signer, node string, hosts ...string) ([]byte, error) {
	if !ValidNodeID(node) {
		return nil, fmt.Errorf("new csr: node %q: %w", node, ErrInvalidIdentity)
	}
	tmpl := &x509.CertificateRequest{}
	tmpl.Subject.CommonName = node
	tmpl.DNSNames, tmpl.IPAddresses = splitHosts(hosts)
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("new csr: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCSR, Bytes: der}), nil
}

// checkPublicKey refuses key types and sizes the federation does not accept.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ecdsa curve %s not accepted", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("ed25519 key of wrong size")
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("rsa key of %d bits, want at least 2048", k.N.BitLen())
		}
	default:
		return fmt.Errorf("key type %T not accepted", pub)
	}
	return nil
}

func pemBlock(data []byte, typ string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("no pem block of type %s", typ)
	}
	if b.Type != typ {
		return nil, fmt.Errorf("pem block is %q, want %q", b.Type, typ)
	}
	return b.Bytes, nil
}

// writeNewFile creates path with perm and writes data, refusing to overwrite
// an existing file. A partly written file is removed.
func writeNewFile(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write %s: %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// readPrivateFile reads a key file, refusing one that group or others may read.
func readPrivateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read key %s: mode %v is too open, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	return data, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
