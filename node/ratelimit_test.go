package node

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(RateConfig{PerMinute: 60, Burst: 3})
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.allow("10.0.0.1", now); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := l.allow("10.0.0.1", now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("4th request: ok=%v wait=%v, want refused with a wait of about 1s", ok, wait)
	}
	if ok, _ := l.allow("10.0.0.2", now); !ok {
		t.Fatal("another client is limited too")
	}
	if ok, _ := l.allow("10.0.0.1", now.Add(1100*time.Millisecond)); !ok {
		t.Fatal("no token after the refill time")
	}
	// Idle buckets are swept.
	l.allow("10.0.0.3", now.Add(20*time.Minute))
	if len(l.clients.m) != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", len(l.clients.m))
	}
}

func TestLimiter_Tenant(t *testing.T) {
	l := newLimiter(RateConfig{PerMinute: 60, Burst: 2, TenantPerMinute: 60, TenantBurst: 3})
	now := time.Unix(1000, 0)
	for i, c := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if ok, _ := l.question(c, "proef", now); !ok {
			t.Fatalf("question %d within the tenant's burst refused", i+1)
		}
	}
	ok, wait := l.question("10.0.0.4", "proef", now)
	if ok || wait <= 0 {
		t.Fatalf("4th question of the tenant: ok=%v wait=%v, want refused", ok, wait)
	}
	if ok, _ := l.question("10.0.0.4", "ander", now); !ok {
		t.Fatal("another tenant is limited too")
	}
	// The refused question did not cost 10.0.0.4 its own token.
	if ok, _ := l.question("10.0.0.4", "ander", now); !ok {
		t.Fatal("a question the tenant's limit refused was charged to the client")
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"10.1.0.0/16", "127.0.0.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"203.0.113.9:5000", "", proxies, "203.0.113.9"},
		{"203.0.113.9:5000", "198.51.100.1", proxies, "203.0.113.9"}, // not from a trusted proxy: ignored
		{"127.0.0.1:5000", "198.51.100.7, 198.51.100.1", proxies, "198.51.100.1"},
		{"[::1]:5000", "198.51.100.2", proxies, "198.51.100.2"},
		{"127.0.0.1:5000", "geen-ip", proxies, "127.0.0.1"},
		// A chain of trusted proxies: the client is the first hop from the
		// right that is not one of them.
		{"10.1.2.3:5000", "198.51.100.9, 10.1.0.7", proxies, "198.51.100.9"},
		// Loopback is not trusted unless listed.
		{"127.0.0.1:5000", "198.51.100.1", nil, "127.0.0.1"},
		{"[::1]:5000", "198.51.100.1", nil, "::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientAddr(r.RemoteAddr, r.Header, tt.trusted); got != tt.want {
			t.Errorf("clientAddr(%s, %q, %v) = %s, want %s", tt.remote, tt.xff, tt.trusted, got, tt.want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.0.0.5", " 192.168.0.0/16", "2001:db8::/32"})
	if err != nil || len(got) != 3 || got[0].String() != "10.0.0.5/32" || got[1].String() != "192.168.0.0/16" {
		t.Fatalf("ParseTrustedProxies = %v, %v", got, err)
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.5", "proxy.local"}); err == nil || !strings.Contains(err.Error(), "trusted_proxies[1]") {
		t.Fatalf("a host name: %v, want an error naming trusted_proxies[1]", err)
	}
}
