package trust

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
)

// TrustDomain is the SPIFFE trust domain of the federation.
const TrustDomain = "assistent.nl"

// Role says what a federation member is allowed to be.
type Role string

// The roles a federation certificate can carry.
const (
	// RoleServer is a coordination server; only servers speak Raft.
	RoleServer Role = "server"
	// RoleNode is a gemeente node.
	RoleNode Role = "node"
	// RolePublisher publishes national collections (e.g. NVVB).
	RolePublisher Role = "publisher"
	// RoleOperator operates the federation (e.g. VNG's tooling).
	RoleOperator Role = "operator"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleServer, RoleNode, RolePublisher, RoleOperator:
		return true
	}
	return false
}

// Identity is a federation member as named in its certificate.
type Identity struct {
	// Org is the organisation code, e.g. GM0119 or VNG.
	Org string
	// Role is what the member is.
	Role Role
	// Node is the member's id within its organisation, e.g. node-1.
	Node string
}

// String returns the identity's SPIFFE URI.
func (id Identity) String() string {
	return "spiffe://" + TrustDomain + "/org/" + id.Org + "/role/" + string(id.Role) + "/node/" + id.Node
}

// URL returns the identity's SPIFFE URI as a URL, for certificate SANs.
func (id Identity) URL() *url.URL {
	return &url.URL{Scheme: "spiffe", Host: TrustDomain, Path: "/org/" + id.Org + "/role/" + string(id.Role) + "/node/" + id.Node}
}

// Validate returns an error wrapping ErrInvalidIdentity when any part of id is
// missing or malformed.
func (id Identity) Validate() error {
	if !ValidOrg(id.Org) {
		return fmt.Errorf("org %q: %w", id.Org, ErrInvalidIdentity)
	}
	if !id.Role.Valid() {
		return fmt.Errorf("role %q: %w", id.Role, ErrInvalidIdentity)
	}
	if !ValidNodeID(id.Node) {
		return fmt.Errorf("node %q: %w", id.Node, ErrInvalidIdentity)
	}
	return nil
}

// ValidOrg reports whether s is a well-formed organisation code: an uppercase
// ASCII letter followed by 1 to 31 uppercase ASCII letters or digits (GM0119,
// VNG, NVVB).
func ValidOrg(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ValidNodeID reports whether s is a well-formed node id: 1 to 63 lowercase
// ASCII letters, digits or '-', starting and ending with a letter or digit.
func ValidNodeID(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// ParseIdentityURI parses a SPIFFE URI of the form
// spiffe://assistent.nl/org/<ORG>/role/<ROLE>/node/<NODE>. Anything else,
// including ports, user info, queries, fragments, escapes and trailing
// slashes, yields an error wrapping ErrInvalidIdentity.
func ParseIdentityURI(s string) (Identity, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Identity{}, fmt.Errorf("parse %q: %w", s, ErrInvalidIdentity)
	}
	return identityFromURL(u)
}

func identityFromURL(u *url.URL) (Identity, error) {
	s := u.String()
	if u.Scheme != "spiffe" {
		return Identity{}, fmt.Errorf("%q: scheme must be spiffe: %w", s, ErrInvalidIdentity)
	}
	if u.Host != TrustDomain || u.User != nil || u.Opaque != "" {
		return Identity{}, fmt.Errorf("%q: trust domain must be %s: %w", s, TrustDomain, ErrInvalidIdentity)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" || u.RawPath != "" {
		return Identity{}, fmt.Errorf("%q: query, fragment or escapes not allowed: %w", s, ErrInvalidIdentity)
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) != 7 || parts[0] != "" || parts[1] != "org" || parts[3] != "role" || parts[5] != "node" {
		return Identity{}, fmt.Errorf("%q: path must be /org/ORG/role/ROLE/node/NODE: %w", s, ErrInvalidIdentity)
	}
	id := Identity{Org: parts[2], Role: Role(parts[4]), Node: parts[6]}
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("%q: %w", s, err)
	}
	return id, nil
}

// ParseIdentity returns the federation identity of cert. The certificate must
// carry exactly one URI SAN and it must be a valid identity URI; otherwise the
// error wraps ErrInvalidIdentity. ParseIdentity does not verify the chain.
func ParseIdentity(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, fmt.Errorf("no certificate: %w", ErrInvalidIdentity)
	}
	if len(cert.URIs) != 1 {
		return Identity{}, fmt.Errorf("certificate has %d URI SANs, want 1: %w", len(cert.URIs), ErrInvalidIdentity)
	}
	return identityFromURL(cert.URIs[0])
}
