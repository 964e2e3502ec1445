package trust

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"time"
)

// DefaultLeafTTL is the lifetime of certificates issued by Redeem when the CA's
// LeafTTL is zero.
const DefaultLeafTTL = 90 * 24 * time.Hour

// tokenBytes is the number of random bytes in a join token.
const tokenBytes = 32

// NewJoinToken creates a one-time join token that, redeemed within ttl, yields
// a certificate with tmpl's organisation and role. If tmpl.Node is set the
// token is bound to that node id; otherwise the node id comes from the CSR.
// Only the token's hash is stored in ca.Tokens; the token is returned once.
func (ca *CA) NewJoinToken(tmpl Identity, ttl time.Duration) (string, error) {
	if !ValidOrg(tmpl.Org) {
		return "", fmt.Errorf("new join token: org %q: %w", tmpl.Org, ErrInvalidIdentity)
	}
	if !tmpl.Role.Valid() {
		return "", fmt.Errorf("new join token: role %q: %w", tmpl.Role, ErrInvalidIdentity)
	}
	if tmpl.Node != "" && !ValidNodeID(tmpl.Node) {
		return "", fmt.Errorf("new join token: node %q: %w", tmpl.Node, ErrInvalidIdentity)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("new join token: ttl %v must be positive", ttl)
	}
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("new join token: %w", err)
	}
	now := ca.now()
	rec := TokenRecord{
		Hash:    hashToken(raw[:]),
		Org:     tmpl.Org,
		Role:    tmpl.Role,
		Node:    tmpl.Node,
		Expires: now.Add(ttl),
	}
	if err := ca.Tokens.Add(rec, now); err != nil {
		return "", fmt.Errorf("new join token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// Redeem exchanges a join token and a PEM CSR for a PEM certificate carrying
// the token's organisation and role, the node id from the token or else the
// CSR's common name, the CSR's public key and its DNS/IP names. The CSR is
// checked (signature, key type, node id, no URI or e-mail SANs) before the
// token is consumed, so a bad request (ErrBadCSR) leaves the token usable; an
// unknown, used or expired token yields ErrTokenUnknown, ErrTokenUsed or
// ErrTokenExpired. A token yields at most one certificate.
func (ca *CA) Redeem(token string, csrPEM []byte) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, fmt.Errorf("redeem: malformed token: %w", ErrTokenUnknown)
	}
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, fmt.Errorf("redeem: %w", err)
	}
	hosts := make([]string, 0, len(csr.DNSNames)+len(csr.IPAddresses))
	hosts = append(hosts, csr.DNSNames...)
	for _, ip := range csr.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	for _, h := range csr.DNSNames {
		if net.ParseIP(h) != nil || !validDNSName(h) {
			return nil, fmt.Errorf("redeem: dns name %q: %w", h, ErrBadCSR)
		}
	}
	node := csr.Subject.CommonName
	rec, err := ca.Tokens.Consume(hashToken(raw), ca.now(), func(r TokenRecord) error {
		switch {
		case r.Node != "" && node != "" && node != r.Node:
			return fmt.Errorf("csr asks for node %q, token is for %q: %w", node, r.Node, ErrBadCSR)
		case r.Node == "" && !ValidNodeID(node):
			return fmt.Errorf("csr common name %q is not a node id: %w", node, ErrBadCSR)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redeem: %w", err)
	}
	if rec.Node != "" {
		node = rec.Node
	}
	ttl := ca.LeafTTL
	if ttl <= 0 {
		ttl = DefaultLeafTTL
	}
	// The token is spent from here on: a failure below (a CA near its own
	// expiry, say) needs a new token.
	cert, err := ca.Issue(csr.PublicKey, Identity{Org: rec.Org, Role: rec.Role, Node: node}, ttl, hosts...)
	if err != nil {
		return nil, fmt.Errorf("redeem: %w", err)
	}
	return CertificatePEM(cert), nil
}

// Renew issues a new certificate for a member that already holds one, for
// the key in csrPEM: the same organisation, role and node as id (the
// identity of its current, verified certificate), the CSR's DNS/IP names,
// valid for LeafTTL. The CSR's common name, when set, must be id's node. A
// revoked member never gets here: its handshake fails.
func (ca *CA) Renew(id Identity, csrPEM []byte) ([]byte, error) {
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("renew: %w", err)
	}
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, fmt.Errorf("renew: %w", err)
	}
	if cn := csr.Subject.CommonName; cn != "" && cn != id.Node {
		return nil, fmt.Errorf("renew: csr asks for node %q, the certificate is for %q: %w", cn, id.Node, ErrBadCSR)
	}
	hosts := make([]string, 0, len(csr.DNSNames)+len(csr.IPAddresses))
	for _, h := range csr.DNSNames {
		if net.ParseIP(h) != nil || !validDNSName(h) {
			return nil, fmt.Errorf("renew: dns name %q: %w", h, ErrBadCSR)
		}
		hosts = append(hosts, h)
	}
	for _, ip := range csr.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	ttl := ca.LeafTTL
	if ttl <= 0 {
		ttl = DefaultLeafTTL
	}
	cert, err := ca.Issue(csr.PublicKey, id, ttl, hosts...)
	if err != nil {
		return nil, fmt.Errorf("renew: %w", err)
	}
	return CertificatePEM(cert), nil
}

// Fingerprint returns the lower-case hex sha256 of a certificate's DER
// encoding, as a joining member pins the federation CA with it.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	der, err := pemBlock(data, pemCSR)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrBadCSR, err)
	}
	if err := checkPublicKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	if len(csr.URIs) > 0 || len(csr.EmailAddresses) > 0 {
		return nil, fmt.Errorf("%w: uri and e-mail names are set by the ca", ErrBadCSR)
	}
	return csr, nil
}

func hashToken(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
