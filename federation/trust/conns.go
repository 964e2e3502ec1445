package trust

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
)

// Conns tracks the TLS connections of an http.Server (set ConnState to its
// Track method), so that connections whose peer certificate was revoked
// after the handshake can be closed: a revocation must also end a
// long-lived stream, not only refuse the next handshake.
type Conns struct {
	mu    sync.Mutex
	conns map[*tls.Conn]struct{}
}

// NewConns returns an empty tracker.
func NewConns() *Conns { return &Conns{conns: map[*tls.Conn]struct{}{}} }

// Track is an http.Server.ConnState hook.
func (c *Conns) Track(conn net.Conn, state http.ConnState) {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateNew, http.StateActive, http.StateIdle:
		c.conns[tc] = struct{}{}
	case http.StateHijacked, http.StateClosed:
		delete(c.conns, tc)
	}
}

// CloseRevoked closes every tracked connection whose verified peer
// certificate rev reports revoked, and returns how many it closed.
func (c *Conns) CloseRevoked(rev Revocations) int {
	c.mu.Lock()
	var victims []*tls.Conn
	for tc := range c.conns {
		st := tc.ConnectionState()
		if !st.HandshakeComplete || len(st.PeerCertificates) == 0 {
			continue
		}
		leaf := st.PeerCertificates[0]
		id, err := ParseIdentity(leaf)
		if err == nil && rev.IsRevoked(leaf, id) {
			victims = append(victims, tc)
			delete(c.conns, tc)
		}
	}
	c.mu.Unlock()
	for _, tc := range victims {
		tc.Close()
	}
	return len(victims)
}
