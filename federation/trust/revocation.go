package trust

import (
	"crypto/x509"
	"math/big"
	"sync"
)

// Revocations tells TLS verification which certificates are no longer
// trusted. Implementations must be safe for concurrent use; the registry may
// provide one backed by its replicated state.
type Revocations interface {
	// IsRevoked reports whether cert, whose verified identity is id, is
	// revoked.
	IsRevoked(cert *x509.Certificate, id Identity) bool
}

// RevocationSet is a Revocations held in memory: certificate serial numbers
// and whole nodes (an organisation and node id, whatever their role). It is
// safe for concurrent use; changes apply to the next handshake.
type RevocationSet struct {
	mu      sync.RWMutex
	serials map[string]struct{}
	nodes   map[nodeKey]struct{}
}

type nodeKey struct{ org, node string }

// NewRevocationSet returns an empty set.
func NewRevocationSet() *RevocationSet {
	return &RevocationSet{serials: map[string]struct{}{}, nodes: map[nodeKey]struct{}{}}
}

// RevokeSerial revokes the certificate with the given serial number.
func (s *RevocationSet) RevokeSerial(serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serials[serial.Text(16)] = struct{}{}
}

// RevokeNode revokes every certificate of node in org, past and future.
func (s *RevocationSet) RevokeNode(org, node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[nodeKey{org, node}] = struct{}{}
}

// IsRevoked implements Revocations.
func (s *RevocationSet) IsRevoked(cert *x509.Certificate, id Identity) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.nodes[nodeKey{id.Org, id.Node}]; ok {
		return true
	}
	if cert != nil && cert.SerialNumber != nil {
		if _, ok := s.serials[cert.SerialNumber.Text(16)]; ok {
			return true
		}
	}
	return false
}

// ReplaceWith makes s hold exactly what o holds (o is not changed), for a
// set rebuilt from the registry; it applies to the next handshake.
func (s *RevocationSet) ReplaceWith(o *RevocationSet) {
	o.mu.RLock()
	serials, nodes := make(map[string]struct{}, len(o.serials)), make(map[nodeKey]struct{}, len(o.nodes))
	for k := range o.serials {
		serials[k] = struct{}{}
	}
	for k := range o.nodes {
		nodes[k] = struct{}{}
	}
	o.mu.RUnlock()
	s.mu.Lock()
	s.serials, s.nodes = serials, nodes
	s.mu.Unlock()
}
