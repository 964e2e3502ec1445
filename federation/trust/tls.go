package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ServerTLS returns a TLS 1.3 server configuration that presents cert and
// requires a client certificate chaining to pool. After the chain is verified
// it parses the client's identity, refuses it if rev reports it revoked
// (ErrRevoked) and asks allow (nil means FederationPolicy). A refusal fails the
// handshake with a bad-certificate alert. rev may be nil; a nil pool refuses
// every client rather than falling back to the system roots.
func ServerTLS(cert tls.Certificate, pool *x509.CertPool, rev Revocations, allow func(Identity) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if pool == nil {
				// A nil ClientCAs would mean the system roots.
				return errNoPool
			}
			if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
				return ErrNoPeerCertificate
			}
			return checkPeer(cs.VerifiedChains[0][0], rev, allow)
		},
	}
}

// ClientTLS returns a TLS 1.3 client configuration that presents cert and
// accepts a server whose certificate chains to pool, is valid now for server
// authentication, carries an unrevoked identity and passes expect (nil means
// FederationPolicy). The server's host name is not checked: members are
// reached by addresses learnt through gossip, and the identity is what
// authenticates them, so expect should pin the role or node the caller means
// to reach. rev may be nil; a nil pool refuses every server.
func ClientTLS(cert tls.Certificate, pool *x509.CertPool, rev Revocations, expect func(Identity) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		// The chain is verified below against pool, without the host name
		// check that the standard verification would add.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if pool == nil {
				// Verify with nil Roots would mean the system roots.
				return errNoPool
			}
			if len(cs.PeerCertificates) == 0 {
				return ErrNoPeerCertificate
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{
				Roots:         pool,
				Intermediates: inter,
				CurrentTime:   time.Now(),
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				return fmt.Errorf("verify server certificate: %w", err)
			}
			return checkPeer(leaf, rev, expect)
		},
	}
}

var errNoPool = errors.New("no federation ca pool configured")

func checkPeer(leaf *x509.Certificate, rev Revocations, policy func(Identity) error) error {
	id, err := ParseIdentity(leaf)
	if err != nil {
		return fmt.Errorf("peer identity: %w", err)
	}
	if rev != nil && rev.IsRevoked(leaf, id) {
		return fmt.Errorf("peer %s serial %x: %w", id, leaf.SerialNumber, ErrRevoked)
	}
	if policy == nil {
		policy = FederationPolicy
	}
	if err := policy(id); err != nil {
		return fmt.Errorf("peer %s: %w", id, err)
	}
	return nil
}

// FederationPolicy allows any member with a valid identity.
func FederationPolicy(id Identity) error {
	return id.Validate()
}

// RaftPolicy allows only coordination servers (RoleServer): only they speak
// Raft.
func RaftPolicy(id Identity) error {
	if id.Role != RoleServer {
		return fmt.Errorf("role %s may not speak raft: %w", id.Role, ErrNotAllowed)
	}
	return nil
}

// AllowRoles returns a policy that allows members with any of roles.
func AllowRoles(roles ...Role) func(Identity) error {
	return func(id Identity) error {
		for _, r := range roles {
			if id.Role == r {
				return nil
			}
		}
		return fmt.Errorf("role %s not in %v: %w", id.Role, roles, ErrNotAllowed)
	}
}

// ExpectNode returns a policy that allows exactly the member id (organisation,
// role and node), for clients that dial one known peer.
func ExpectNode(want Identity) func(Identity) error {
	return func(id Identity) error {
		if id != want {
			return fmt.Errorf("got %s, want %s: %w", id, want, ErrNotAllowed)
		}
		return nil
	}
}

// IdentityFromConnectionState returns the identity of the peer of a
// connection whose chain the TLS stack verified (the server side of
// ServerTLS). It returns ErrNoPeerCertificate when there is no verified chain,
// as for a client using ClientTLS, whose expect policy sees the identity.
func IdentityFromConnectionState(cs *tls.ConnectionState) (Identity, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, ErrNoPeerCertificate
	}
	return ParseIdentity(cs.VerifiedChains[0][0])
}

type identityKey struct{}

// ContextWithIdentity returns a context carrying id.
func ContextWithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFromContext returns the peer identity stored by ContextWithIdentity
// or RequireIdentity, and whether there was one.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// RequireIdentity is HTTP middleware for a listener using ServerTLS: it puts
// the peer's identity into the request context (see IdentityFromContext) and
// answers 403 Forbidden to requests without a verified identity.
func RequireIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := IdentityFromConnectionState(r.TLS)
		if err != nil {
			http.Error(w, "federation identity required", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithIdentity(r.Context(), id)))
	})
}
