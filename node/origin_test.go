package node

import "testing"

func TestOriginAllowed(t *testing.T) {
	sites := []string{"www.proef.example", "localhost:5173", "127.0.0.1", "https://test.proef.example:8443", "http://intranet.proef.example"}
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"https://www.proef.example", "assistent.example", true},
		{"https://WWW.Proef.Example", "assistent.example", true},
		{"https://www.proef.example:443", "assistent.example", true},
		{"http://www.proef.example", "assistent.example", false},       // a bare host means https
		{"https://www.proef.example:8443", "assistent.example", false}, // and its default port
		{"https://proef.example", "assistent.example", false},
		{"https://www.proef.example.kwaad.example", "assistent.example", false},
		{"http://localhost:5173", "assistent.example", true}, // http on loopback, for development
		{"https://localhost:5173", "assistent.example", true},
		{"http://localhost:5174", "assistent.example", false},
		{"http://127.0.0.1", "assistent.example", true},
		{"http://127.0.0.1:8080", "assistent.example", false},
		{"https://test.proef.example:8443", "assistent.example", true}, // explicit: exactly
		{"https://test.proef.example", "assistent.example", false},
		{"http://intranet.proef.example", "assistent.example", true},
		{"https://intranet.proef.example", "assistent.example", false},
		// The node's own origin.
		{"https://assistent.example", "assistent.example", true},
		{"http://127.0.0.1:8080", "127.0.0.1:8080", true},
		{"http://127.0.0.1:9090", "127.0.0.1:8080", false},
		{"https://kwaad.example", "assistent.example", false},
		{"null", "assistent.example", false},
		{"file://", "assistent.example", false},
		{"https://www.proef.example/pad", "assistent.example", false},
		{"javascript:alert(1)", "assistent.example", false},
	}
	for _, tt := range tests {
		if got := originAllowed(tt.origin, tt.host, sites); got != tt.want {
			t.Errorf("originAllowed(%q, host %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
}
