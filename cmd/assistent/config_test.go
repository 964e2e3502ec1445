package main

import (
	"net"
	"strings"
	"testing"
)

// A node registers an address other members can reach: the configured
// one, or its listener's when that names a host; a listener on every
// interface needs peer_advertise.
func TestAdvertiseAddr(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tt := range []struct {
		configured, listen, want, err string
	}{
		{"", "127.0.0.1:8443", "127.0.0.1:8443", ""},
		{"peer.meppel.nl:8443", "0.0.0.0:8443", "peer.meppel.nl:8443", ""},
		{"", "0.0.0.0:8443", "", "peer_advertise"},
		{"", "[::]:8443", "", "peer_advertise"},
		{"peer.meppel.nl", "0.0.0.0:8443", "", "want host:port"},
		{"peer.meppel.nl:0", "0.0.0.0:8443", "", "want host:port"},
	} {
		got, err := advertiseAddr(tt.configured, tcp(tt.listen))
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("advertiseAddr(%q, %s) = %q, %v; want %q, error with %q", tt.configured, tt.listen, got, err, tt.want, tt.err)
		}
	}
}
