package gossip

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/federation/trust"
)

func TestMeta_RoundTrip(t *testing.T) {
	for _, m := range []meta{
		{Org: "GM0363", Role: trust.RoleNode, APIAddr: "10.0.0.1:8443", Version: "1.2.3",
			Collections: []string{"b", "a", "b"}, Topics: []string{"afval"}},
		{Org: "VNG", Role: trust.RoleServer, APIAddr: "[::1]:8443", Leaving: true},
		{Org: "NVVB", Role: trust.RolePublisher, APIAddr: "h:1", Collections: []string{"ß-ünïcode"}},
		{Org: "VNG", Role: trust.RoleOperator, APIAddr: "h:1"},
	} {
		b, err := m.encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		got, err := decodeMeta(b)
		if err != nil {
			t.Fatalf("decode %x: %v", b, err)
		}
		want := m
		want.Collections, want.Topics = canonical(m.Collections), canonical(m.Topics)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("round trip = %+v, want %+v", got, want)
		}
	}
}

func TestMeta_SizeLimit(t *testing.T) {
	base := meta{Org: "GM0363", Role: trust.RoleNode, APIAddr: "127.0.0.1:8443"}
	b, err := base.encode()
	if err != nil {
		t.Fatal(err)
	}
	// One collection whose name fills the rest exactly: the list's count
	// byte is already there, the name adds a two-byte uvarint length.
	fill := MetaMaxSize - len(b) - 2
	m := base
	m.Collections = []string{strings.Repeat("x", fill)}
	b, err = m.encode()
	if err != nil || len(b) != MetaMaxSize {
		t.Fatalf("encode of exactly %d bytes: len %d, err %v", MetaMaxSize, len(b), err)
	}
	m.Collections = []string{strings.Repeat("x", fill+1)}
	if _, err := m.encode(); !errors.Is(err, ErrMetaTooLarge) || !strings.Contains(err.Error(), "513 bytes") {
		t.Fatalf("encode of %d bytes = %v, want ErrMetaTooLarge with the size", MetaMaxSize+1, err)
	}
}

func TestDecodeMeta_Rejects(t *testing.T) {
	good, err := meta{Org: "GM0363", Role: trust.RoleNode, APIAddr: "h:1", Topics: []string{"afval"}}.encode()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":          nil,
		"format 2":       edit(func(b []byte) []byte { b[0] = 2; return b }),
		"role 0":         edit(func(b []byte) []byte { b[1] = 0; return b }),
		"role 5":         edit(func(b []byte) []byte { b[1] = 5; return b }),
		"unknown flag":   edit(func(b []byte) []byte { b[2] = 2; return b }),
		"truncated":      good[:len(good)-1],
		"trailing":       append(bytes.Clone(good), 0),
		"length too big": edit(func(b []byte) []byte { b[3] = 200; return b }),
		"bad utf-8":      edit(func(b []byte) []byte { b[len(b)-1] = 0xff; return b }),
	} {
		if _, err := decodeMeta(b); !errors.Is(err, errBadMeta) {
			t.Errorf("%s: decode %x = %v, want errBadMeta", name, b, err)
		}
	}
	if _, err := decodeMeta(good); err != nil {
		t.Fatalf("the unedited encoding does not decode: %v", err)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	b, _ := meta{Org: "GM0363", Role: trust.RoleNode, APIAddr: "h:1", Collections: []string{"a", "b"}}.encode()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		again, err := m.encode()
		if err != nil {
			return // decodable but not encodable: empty names, unsorted input
		}
		m2, err := decodeMeta(again)
		if err != nil {
			t.Fatalf("re-encoding %+v does not decode: %v", m, err)
		}
		m.Collections, m.Topics = canonical(m.Collections), canonical(m.Topics)
		if !reflect.DeepEqual(normal(m), normal(m2)) {
			t.Fatalf("decode(encode(%+v)) = %+v", m, m2)
		}
	})
}

// normal maps empty lists to nil for comparison.
func normal(m meta) meta {
	if len(m.Collections) == 0 {
		m.Collections = nil
	}
	if len(m.Topics) == 0 {
		m.Topics = nil
	}
	return m
}
