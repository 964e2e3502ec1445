package gossip

import (
	"bytes"
	"time"

	"github.com/hashicorp/memberlist"
)

// WithSendDelay makes the member built from cfg send every UDP packet
// (pings, acks, gossip) delay late, so that it looks farther away than it
// is: for tests and local demos that run members at different distances on
// one host. Real members never set it.
func WithSendDelay(cfg *Config, delay time.Duration) {
	cfg.wrapTransport = func(t memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		return &delayTransport{NodeAwareTransport: t, delay: delay}
	}
}

type delayTransport struct {
	memberlist.NodeAwareTransport
	delay time.Duration
}

func (t *delayTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	buf := bytes.Clone(b)
	time.AfterFunc(t.delay, func() { _, _ = t.NodeAwareTransport.WriteToAddress(buf, addr) })
	return time.Now(), nil
}

func (t *delayTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}
