package trust_test

import (
	"crypto/x509"
	"errors"
	"net/url"
	"testing"

	"github.com/assistent-nl/assistent/federation/trust"
)

func TestParseIdentityURI(t *testing.T) {
	valid := []trust.Identity{
		{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"},
		{Org: "VNG", Role: trust.RoleServer, Node: "coord-1"},
		{Org: "NVVB", Role: trust.RolePublisher, Node: "p"},
		{Org: "VNG", Role: trust.RoleOperator, Node: "ops-2026"},
	}
	for _, id := range valid {
		got, err := trust.ParseIdentityURI(id.String())
		if err != nil || got != id {
			t.Errorf("round trip %v: got %v, %v", id, got, err)
		}
		if id.URL().String() != id.String() {
			t.Errorf("URL %s != String %s", id.URL(), id)
		}
	}

	invalid := map[string]string{
		"wrong scheme":         "https://assistent.nl/org/GM0119/role/node/node/meppel-1",
		"no scheme":            "//assistent.nl/org/GM0119/role/node/node/meppel-1",
		"other trust domain":   "spiffe://example.org/org/GM0119/role/node/node/meppel-1",
		"upper trust domain":   "spiffe://ASSISTENT.NL/org/GM0119/role/node/node/meppel-1",
		"port":                 "spiffe://assistent.nl:443/org/GM0119/role/node/node/meppel-1",
		"user info":            "spiffe://x@assistent.nl/org/GM0119/role/node/node/meppel-1",
		"lowercase org":        "spiffe://assistent.nl/org/gm0119/role/node/node/meppel-1",
		"org with dash":        "spiffe://assistent.nl/org/GM-0119/role/node/node/meppel-1",
		"org starting digit":   "spiffe://assistent.nl/org/0119/role/node/node/meppel-1",
		"one letter org":       "spiffe://assistent.nl/org/G/role/node/node/meppel-1",
		"empty org":            "spiffe://assistent.nl/org//role/node/node/meppel-1",
		"unknown role":         "spiffe://assistent.nl/org/GM0119/role/admin/node/meppel-1",
		"uppercase role":       "spiffe://assistent.nl/org/GM0119/role/NODE/node/meppel-1",
		"node uppercase":       "spiffe://assistent.nl/org/GM0119/role/node/node/Meppel",
		"node underscore":      "spiffe://assistent.nl/org/GM0119/role/node/node/meppel_1",
		"node leading dash":    "spiffe://assistent.nl/org/GM0119/role/node/node/-meppel",
		"empty node":           "spiffe://assistent.nl/org/GM0119/role/node/node/",
		"trailing slash":       "spiffe://assistent.nl/org/GM0119/role/node/node/meppel-1/",
		"extra segment":        "spiffe://assistent.nl/org/GM0119/role/node/node/meppel-1/x",
		"segments swapped":     "spiffe://assistent.nl/role/node/org/GM0119/node/meppel-1",
		"query":                "spiffe://assistent.nl/org/GM0119/role/node/node/meppel-1?x=1",
		"fragment":             "spiffe://assistent.nl/org/GM0119/role/node/node/meppel-1#x",
		"escaped slash":        "spiffe://assistent.nl/org/GM0119/role/node/node/a%2Fb",
		"escaped letter":       "spiffe://assistent.nl/org/GM0119/role/node/node/meppel%2D1",
		"node too long (64)":   "spiffe://assistent.nl/org/GM0119/role/node/node/" + string(make64('a')),
		"org too long (33)":    "spiffe://assistent.nl/org/G" + string(make64('1')[:32]) + "/role/node/node/a",
		"not a url":            "spiffe://assistent.nl/org/GM0119/role/node/node/%zz",
		"empty":                "",
		"opaque spiffe scheme": "spiffe:assistent.nl/org/GM0119/role/node/node/meppel-1",
	}
	for name, s := range invalid {
		t.Run(name, func(t *testing.T) {
			id, err := trust.ParseIdentityURI(s)
			if !errors.Is(err, trust.ErrInvalidIdentity) {
				t.Fatalf("ParseIdentityURI(%q) = %v, %v; want ErrInvalidIdentity", s, id, err)
			}
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestParseIdentity(t *testing.T) {
	good := trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}
	other := trust.Identity{Org: "GM0119", Role: trust.RoleServer, Node: "meppel-1"}
	https, _ := url.Parse("https://assistent.nl/org/GM0119/role/node/node/meppel-1")
	tests := []struct {
		name string
		uris []*url.URL
		ok   bool
	}{
		{"one valid uri", []*url.URL{good.URL()}, true},
		{"no uri", nil, false},
		{"two uris", []*url.URL{good.URL(), other.URL()}, false},
		{"same uri twice", []*url.URL{good.URL(), good.URL()}, false},
		{"wrong scheme", []*url.URL{https}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := trust.ParseIdentity(&x509.Certificate{URIs: tt.uris})
			if tt.ok && (err != nil || id != good) {
				t.Fatalf("got %v, %v; want %v", id, err, good)
			}
			if !tt.ok && !errors.Is(err, trust.ErrInvalidIdentity) {
				t.Fatalf("got %v, %v; want ErrInvalidIdentity", id, err)
			}
		})
	}
	if _, err := trust.ParseIdentity(nil); !errors.Is(err, trust.ErrInvalidIdentity) {
		t.Fatalf("nil certificate: %v", err)
	}
}
