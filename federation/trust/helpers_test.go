package trust_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
)

// testNow is a fixed issue time for CAs whose clock matters to a test.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newCA(tb testing.TB) *trust.CA {
	tb.Helper()
	ca, err := trust.NewCA("test federation", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

func issue(tb testing.TB, ca *trust.CA, org string, role trust.Role, node string) tls.Certificate {
	tb.Helper()
	c, err := ca.IssueKeyPair(trust.Identity{Org: org, Role: role, Node: node}, time.Hour, "127.0.0.1", "localhost")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// serverResult is what the test server saw of one connection.
type serverResult struct {
	err error
	id  trust.Identity
}

// startServer listens on loopback with cfg; every accepted connection is
// handshaken, reported on the returned channel, and on success answered "ok".
func startServer(tb testing.TB, cfg *tls.Config) (string, <-chan serverResult) {
	tb.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	results := make(chan serverResult, 16)
	done := make(chan struct{})
	tb.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			var res serverResult
			if res.err = tc.Handshake(); res.err == nil {
				st := tc.ConnectionState()
				res.id, res.err = trust.IdentityFromConnectionState(&st)
				if res.err == nil {
					_, res.err = tc.Write([]byte("ok"))
				}
			}
			tc.Close()
			select {
			case results <- res:
			default:
			}
		}
	}()
	return ln.Addr().String(), results
}

// dial connects with cfg and reads the server's "ok"; it returns what the
// server reported and the client's error.
func dial(tb testing.TB, addr string, cfg *tls.Config, results <-chan serverResult) (serverResult, error) {
	tb.Helper()
	clientErr := func() error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if string(buf) != "ok" {
			return errors.New("unexpected reply " + string(buf))
		}
		return nil
	}()
	select {
	case res := <-results:
		return res, clientErr
	case <-time.After(5 * time.Second):
		tb.Fatal("server reported nothing")
		return serverResult{}, nil
	}
}
