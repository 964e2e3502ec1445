package node

import (
	"net/http/httptest"
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
	if len(l.clients) != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", len(l.clients))
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:5000", "", "203.0.113.9"},
		{"203.0.113.9:5000", "198.51.100.1", "203.0.113.9"}, // not from a local proxy: ignored
		{"127.0.0.1:5000", "198.51.100.7, 198.51.100.1", "198.51.100.1"},
		{"[::1]:5000", "198.51.100.2", "198.51.100.2"},
		{"127.0.0.1:5000", "geen-ip", "127.0.0.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientAddr(r); got != tt.want {
			t.Errorf("clientAddr(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}
