package trust_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
)

func blobHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var (
	paspoort  = []byte("Een paspoort vraagt u aan bij de gemeente.")
	verhuizen = []byte("Verhuizen geeft u binnen 5 dagen door.")
)

func testManifest() trust.Manifest {
	return trust.Manifest{
		Collection: "burgerzaken",
		Publisher:  "NVVB",
		Version:    7,
		Created:    testNow,
		Expires:    testNow.Add(30 * 24 * time.Hour),
		Files: []trust.File{
			{Name: "verhuizen.jsonl", SHA256: blobHash(verhuizen), Size: int64(len(verhuizen))},
			{Name: "docs/paspoort.jsonl", SHA256: blobHash(paspoort), Size: int64(len(paspoort))},
		},
	}
}

type signer struct {
	id   string
	priv ed25519.PrivateKey
	keys map[string]ed25519.PublicKey
}

func newSigner(tb testing.TB) signer {
	tb.Helper()
	pub, priv, err := trust.GenerateSigningKey()
	if err != nil {
		tb.Fatal(err)
	}
	id := trust.KeyID(pub)
	return signer{id: id, priv: priv, keys: map[string]ed25519.PublicKey{id: pub}}
}

func TestManifest_RoundTrip(t *testing.T) {
	s := newSigner(t)
	m := testManifest()
	m.Created = m.Created.Add(123 * time.Millisecond).In(time.FixedZone("CET", 3600))
	signed, err := trust.Sign(m, s.priv, s.id)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := json.Marshal(signed)
	if err != nil {
		t.Fatal(err)
	}
	var back trust.SignedManifest
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	got, err := trust.Verify(back, s.keys, testNow.Add(time.Hour), 6)
	if err != nil {
		t.Fatal(err)
	}
	want := testManifest()
	want.Files[0], want.Files[1] = want.Files[1], want.Files[0] // sorted by name
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if err := trust.VerifyContent(got, "docs/paspoort.jsonl", bytes.NewReader(paspoort)); err != nil {
		t.Fatal(err)
	}
	if err := trust.VerifyContent(got, "verhuizen.jsonl", bytes.NewReader(verhuizen)); err != nil {
		t.Fatal(err)
	}
}

func TestCanonical(t *testing.T) {
	m := trust.Manifest{
		Collection: "c", Publisher: "NVVB", Version: 2,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Expires: time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC),
		Files: []trust.File{{Name: "b<&>", SHA256: strings.Repeat("b", 64), Size: 2}, {Name: "a", SHA256: strings.Repeat("a", 64), Size: 1}},
	}
	got, err := trust.Canonical(m)
	if err != nil {
		t.Fatal(err)
	}
	// The documented layout: sorted keys, sorted files, UTC seconds, no HTML escaping.
	want := `{"collection":"c","created":"2026-01-02T03:04:05Z","expires":"2026-02-02T03:04:05Z","files":[` +
		`{"name":"a","sha256":"` + strings.Repeat("a", 64) + `","size":1},` +
		`{"name":"b<&>","sha256":"` + strings.Repeat("b", 64) + `","size":2}],"publisher":"NVVB","version":2}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestVerify_Refusals(t *testing.T) {
	s := newSigner(t)
	now := testNow.Add(time.Hour)
	sign := func(m trust.Manifest) trust.SignedManifest {
		t.Helper()
		signed, err := trust.Sign(m, s.priv, s.id)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	good := sign(testManifest())
	other := newSigner(t)

	tests := []struct {
		name   string
		signed trust.SignedManifest
		now    time.Time
		last   uint64
		want   error
	}{
		{"accepted", good, now, 6, nil},
		{"unknown key", trust.SignedManifest{Payload: good.Payload, KeyID: "nope", Signature: good.Signature}, now, 0, trust.ErrUnknownKey},
		{"signed by another key under a trusted id", func() trust.SignedManifest {
			sm, _ := trust.Sign(testManifest(), other.priv, s.id)
			return sm
		}(), now, 0, trust.ErrBadSignature},
		{"truncated signature", trust.SignedManifest{Payload: good.Payload, KeyID: s.id, Signature: good.Signature[:10]}, now, 0, trust.ErrBadSignature},
		{"expired", good, testManifest().Expires, 0, trust.ErrManifestExpired},
		{"not yet valid", good, testNow.Add(-trust.ClockSkew - time.Second), 0, trust.ErrManifestNotYetValid},
		{"created within clock skew", good, testNow.Add(-trust.ClockSkew), 0, nil},
		{"same version", good, now, 7, trust.ErrRollback},
		{"older version", good, now, 8, trust.ErrRollback},
		{"non-canonical payload", func() trust.SignedManifest {
			var v map[string]any
			json.Unmarshal(good.Payload, &v)
			indented, _ := json.MarshalIndent(v, "", " ")
			return trust.SignedManifest{Payload: indented, KeyID: s.id, Signature: ed25519.Sign(s.priv, append([]byte("assistent-manifest-v1\n"), indented...))}
		}(), now, 0, trust.ErrMalformedManifest},
		{"signature without domain separator", trust.SignedManifest{Payload: good.Payload, KeyID: s.id, Signature: ed25519.Sign(s.priv, good.Payload)}, now, 0, trust.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trust.Verify(tt.signed, s.keys, tt.now, tt.last)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Every refusal is distinct: no error value matches another's check.
	all := []error{trust.ErrUnknownKey, trust.ErrBadSignature, trust.ErrMalformedManifest, trust.ErrManifestExpired, trust.ErrManifestNotYetValid, trust.ErrRollback, trust.ErrUnknownFile, trust.ErrContentMismatch}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v matches %v", a, b)
			}
		}
	}
}

func TestVerify_TamperedByte(t *testing.T) {
	s := newSigner(t)
	signed, err := trust.Sign(testManifest(), s.priv, s.id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range signed.Payload {
		bad := signed
		bad.Payload = bytes.Clone(signed.Payload)
		bad.Payload[i] ^= 0x01
		if _, err := trust.Verify(bad, s.keys, testNow.Add(time.Hour), 0); !errors.Is(err, trust.ErrBadSignature) {
			t.Fatalf("payload byte %d flipped: %v, want ErrBadSignature", i, err)
		}
	}
	for i := range signed.Signature {
		bad := signed
		bad.Signature = bytes.Clone(signed.Signature)
		bad.Signature[i] ^= 0x80
		if _, err := trust.Verify(bad, s.keys, testNow.Add(time.Hour), 0); !errors.Is(err, trust.ErrBadSignature) {
			t.Fatalf("signature byte %d flipped: %v, want ErrBadSignature", i, err)
		}
	}
}

func TestVerifyContent(t *testing.T) {
	m := testManifest()
	changed := bytes.Clone(paspoort)
	changed[0] ^= 0x20
	tests := []struct {
		name, file string
		blob       []byte
		want       error
	}{
		{"match", "docs/paspoort.jsonl", paspoort, nil},
		{"same size, other content", "docs/paspoort.jsonl", changed, trust.ErrContentMismatch},
		{"shorter", "docs/paspoort.jsonl", paspoort[:10], trust.ErrContentMismatch},
		{"longer", "docs/paspoort.jsonl", append(bytes.Clone(paspoort), '!'), trust.ErrContentMismatch},
		{"other file's content", "docs/paspoort.jsonl", verhuizen, trust.ErrContentMismatch},
		{"unknown file", "docs/rijbewijs.jsonl", paspoort, trust.ErrUnknownFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := trust.VerifyContent(m, tt.file, bytes.NewReader(tt.blob))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSign_Refusals(t *testing.T) {
	s := newSigner(t)
	tests := map[string]func(*trust.Manifest){
		"empty collection":     func(m *trust.Manifest) { m.Collection = "" },
		"collection uppercase": func(m *trust.Manifest) { m.Collection = "Burgerzaken" },
		"publisher":            func(m *trust.Manifest) { m.Publisher = "nvvb" },
		"version zero":         func(m *trust.Manifest) { m.Version = 0 },
		"expires before":       func(m *trust.Manifest) { m.Expires = m.Created.Add(-time.Second) },
		"expires same second":  func(m *trust.Manifest) { m.Expires = m.Created.Add(500 * time.Millisecond) },
		"duplicate file":       func(m *trust.Manifest) { m.Files[1].Name = m.Files[0].Name },
		"dot dot":              func(m *trust.Manifest) { m.Files[0].Name = "../etc/passwd" },
		"absolute":             func(m *trust.Manifest) { m.Files[0].Name = "/etc/passwd" },
		"not clean":            func(m *trust.Manifest) { m.Files[0].Name = "a//b" },
		"backslash":            func(m *trust.Manifest) { m.Files[0].Name = `a\b` },
		"empty name":           func(m *trust.Manifest) { m.Files[0].Name = "" },
		"upper hex":            func(m *trust.Manifest) { m.Files[0].SHA256 = strings.ToUpper(m.Files[0].SHA256) },
		"short hash":           func(m *trust.Manifest) { m.Files[0].SHA256 = m.Files[0].SHA256[:62] },
		"non-hex hash":         func(m *trust.Manifest) { m.Files[0].SHA256 = strings.Repeat("g", 64) },
		"negative size":        func(m *trust.Manifest) { m.Files[0].Size = -1 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			m := testManifest()
			mutate(&m)
			if _, err := trust.Sign(m, s.priv, s.id); !errors.Is(err, trust.ErrMalformedManifest) {
				t.Fatalf("got %v, want ErrMalformedManifest", err)
			}
		})
	}
	if _, err := trust.Sign(testManifest(), s.priv, ""); err == nil {
		t.Fatal("empty key id accepted")
	}
	if _, err := trust.Sign(testManifest(), s.priv[:10], s.id); err == nil {
		t.Fatal("short private key accepted")
	}
}

func BenchmarkVerifyManifest(b *testing.B) {
	s := newSigner(b)
	m := testManifest()
	m.Files = nil
	for i := range 100 {
		m.Files = append(m.Files, trust.File{Name: fmt.Sprintf("part-%03d.jsonl", i), SHA256: blobHash([]byte{byte(i)}), Size: int64(i) * 1000})
	}
	signed, err := trust.Sign(m, s.priv, s.id)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(signed.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trust.Verify(signed, s.keys, testNow.Add(time.Hour), 6); err != nil {
			b.Fatal(err)
		}
	}
}
