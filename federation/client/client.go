// Package client is the node side of the federation API: a Watcher that
// follows the registry from any coordination server into a bbolt cache and
// serves reads from it (fail static), a Writer that sends commands to any
// server with retries, blob downloads and collection verification.
//
// # Cache
//
// The cache lives in the node's bbolt file, in buckets "federation_meta"
// (applied index, time of the last sync) and "federation_objects" (one nested
// bucket per kind: key -> registry.Object JSON). Every batch is applied in one
// transaction together with its index, so a crash never leaves the cache
// between two indexes; a snapshot deletes and rebuilds "federation_objects"
// in the same transaction, so readers see the old or the new registry, never
// a mix.
//
// # Failure modes
//
// A Watcher that loses its stream (error, or no message, not even a
// heartbeat, for WatcherConfig.IdleTimeout) moves to the next server with
// jittered exponential backoff and resumes from its persisted index. A server
// that has never reached that index (a rebuilt cluster) answers with a
// snapshot, which replaces the cache. While no server answers, reads keep
// coming from the cache and Status shows how old it is.
package client

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
	"github.com/assistent-nl/assistent/gen/assistent/federation/v1/federationv1connect"
)

// ClientTLS returns the TLS configuration for talking to coordination
// servers: it presents cert and accepts only peers with role server whose
// certificates chain to pool and are not revoked in rev (may be nil).
func ClientTLS(cert tls.Certificate, pool *x509.CertPool, rev trust.Revocations) *tls.Config {
	return trust.ClientTLS(cert, pool, rev, trust.AllowRoles(trust.RoleServer))
}

// NewHTTPClient returns an HTTP/2 client over cfg for Watcher, Writer and
// Join. Watch streams are long-lived, so the client has no overall timeout;
// calls are bounded by their contexts.
func NewHTTPClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// maxResponseBytes bounds one received message: a watch part (about 1 MiB)
// with room for one large object.
const maxResponseBytes = 8 << 20

// servers holds one Connect client per server URL.
type servers struct {
	urls    []string
	clients []federationv1connect.RegistryServiceClient
}

func newServers(urls []string, hc connect.HTTPClient) (*servers, error) {
	if len(urls) == 0 {
		return nil, errors.New("no coordination server urls")
	}
	if hc == nil {
		return nil, errors.New("no http client")
	}
	s := &servers{}
	for _, u := range urls {
		u = strings.TrimRight(u, "/")
		if !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("server url %q: must be https://host:port", u)
		}
		s.urls = append(s.urls, u)
		s.clients = append(s.clients, federationv1connect.NewRegistryServiceClient(hc, u, connect.WithReadMaxBytes(maxResponseBytes)))
	}
	return s, nil
}

// start returns a random index to start rotating from, so that many nodes
// spread over the servers.
func (s *servers) start() int { return rand.IntN(len(s.urls)) }

// jitter returns a wait drawn uniformly from [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryable reports whether another attempt, perhaps on another server, may
// succeed. Callers check their own context first: a connection reset by a
// dying server surfaces as CodeCanceled too.
func retryable(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeAborted, connect.CodeDeadlineExceeded, connect.CodeUnknown, connect.CodeCanceled:
		return true
	}
	return false
}

func objectFromProto(o *federationv1.Object) registry.Object {
	return registry.Object{
		Kind: registry.Kind(o.Kind), Key: o.Key, Value: o.Value,
		CreateIndex: o.CreateIndex, ModifyIndex: o.ModifyIndex, Deleted: o.Deleted,
	}
}

// JoinRequest is what Join needs to redeem a token.
type JoinRequest struct {
	// Server is the base URL of any coordination server.
	Server string
	// Pool holds the federation CA, learnt out of band (it comes with the
	// token); the server must chain to it.
	Pool *x509.CertPool
	// Token is the one-time join token.
	Token string
	// Key is the new member's private key (trust.GenerateKey).
	Key crypto.Signer
	// Node is the node id to ask for.
	Node string
	// Hosts are DNS names or IP addresses to put in the certificate.
	Hosts []string
}

// Join redeems a join token at a coordination server, without a client
// certificate, and returns the certificate for req.Key and the CA PEM the
// server sent. It fails if the server does not chain to req.Pool.
func Join(ctx context.Context, req JoinRequest) (tls.Certificate, []byte, error) {
	csr, err := trust.NewCSR(req.Key, req.Node, req.Hosts...)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("join: %w", err)
	}
	cfg := ClientTLS(tls.Certificate{}, req.Pool, nil)
	cfg.Certificates = nil // anonymous: Join is the one call that allows it
	hc := NewHTTPClient(cfg)
	defer hc.CloseIdleConnections()
	c := federationv1connect.NewRegistryServiceClient(hc, strings.TrimRight(req.Server, "/"))
	resp, err := c.Join(ctx, connect.NewRequest(&federationv1.JoinRequest{Token: req.Token, CsrPem: csr}))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("join at %s: %w", req.Server, err)
	}
	leaf, err := trust.ParseCertificatePEM(resp.Msg.CertPem)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("join: issued certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: req.Key, Leaf: leaf}, resp.Msg.CaPem, nil
}
