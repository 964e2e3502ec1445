package trust_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/assistent-nl/assistent/federation/trust"
)

func TestSigningKeyFiles(t *testing.T) {
	pub, priv, err := trust.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "publisher.key")
	if err := trust.SaveSigningKey(path, priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Fatalf("not a PKCS#8 PEM file: %.40s", data)
	}
	_, other, _ := trust.GenerateSigningKey()
	if err := trust.SaveSigningKey(path, other); !errors.Is(err, trust.ErrExists) {
		t.Fatalf("overwrite: %v, want ErrExists", err)
	}
	got, err := trust.LoadSigningKey(path)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("LoadSigningKey: %v", err)
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := trust.LoadSigningKey(path); err == nil {
		t.Fatal("loaded a key file readable by the group")
	}

	pubPEM, err := trust.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	gotPub, err := trust.ParsePublicKeyPEM(pubPEM)
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	if _, err := trust.ParsePublicKeyPEM(data); err == nil {
		t.Fatal("private key PEM accepted as public key")
	}

	// A TLS key (ECDSA) is not a signing key.
	ec, _ := trust.GenerateKey()
	ecPEM, _ := trust.MarshalPrivateKeyPEM(ec)
	ecPath := filepath.Join(t.TempDir(), "ec.key")
	os.WriteFile(ecPath, ecPEM, 0o600)
	if _, err := trust.LoadSigningKey(ecPath); err == nil {
		t.Fatal("ECDSA key loaded as signing key")
	}
}

func TestKeyID(t *testing.T) {
	a, _, _ := trust.GenerateSigningKey()
	b, _, _ := trust.GenerateSigningKey()
	if trust.KeyID(a) != trust.KeyID(append(ed25519.PublicKey(nil), a...)) {
		t.Fatal("KeyID not stable")
	}
	if trust.KeyID(a) == trust.KeyID(b) || len(trust.KeyID(a)) != 16 {
		t.Fatalf("KeyID %q %q", trust.KeyID(a), trust.KeyID(b))
	}
}
