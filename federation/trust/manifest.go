package trust

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ClockSkew is how far a manifest's Created time may lie in the future of the
// verifier's clock before Verify refuses it as not yet valid.
const ClockSkew = 5 * time.Minute

// manifestDomain separates manifest signatures from any other use of a key.
const manifestDomain = "assistent-manifest-v1\n"

// Manifest describes one version of a national collection: which files make
// it up, who published it and for how long it may be used.
type Manifest struct {
	// Collection is the collection id: 1-128 of a-z, 0-9, '.', '_' and '-'.
	Collection string
	// Publisher is the publishing organisation's code (see ValidOrg).
	Publisher string
	// Version increases with every publication of the collection; at least 1.
	Version uint64
	// Created and Expires bound when the manifest may be used. They are
	// encoded in UTC with whole seconds; Sign truncates finer precision.
	Created, Expires time.Time
	// Files lists the collection's blobs; names are unique. Sign sorts them
	// by name.
	Files []File
}

// File is one blob of a collection.
type File struct {
	// Name is a relative slash-separated path without "." or ".." elements.
	Name string
	// SHA256 is the blob's SHA-256 as 64 lowercase hex digits.
	SHA256 string
	// Size is the blob's length in bytes.
	Size int64
}

// SignedManifest is a manifest as published: the canonical encoding, the id of
// the signing key and the ed25519 signature over the domain separator and the
// payload. Its JSON form carries payload and signature in base64.
type SignedManifest struct {
	Payload   []byte `json:"payload"`
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature"`
}

type wireManifest struct {
	Collection string     `json:"collection"`
	Created    string     `json:"created"`
	Expires    string     `json:"expires"`
	Files      []wireFile `json:"files"`
	Publisher  string     `json:"publisher"`
	Version    uint64     `json:"version"`
}

type wireFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Canonical returns the canonical encoding of m described in the package
// documentation, or an error wrapping ErrMalformedManifest if m breaks a rule
// (empty or malformed collection or publisher, version 0, Expires not after
// Created, bad or duplicate file names, bad hashes, negative sizes).
func Canonical(m Manifest) ([]byte, error) {
	w := wireManifest{
		Collection: m.Collection,
		Created:    m.Created.UTC().Format(time.RFC3339),
		Expires:    m.Expires.UTC().Format(time.RFC3339),
		Files:      make([]wireFile, len(m.Files)),
		Publisher:  m.Publisher,
		Version:    m.Version,
	}
	for i, f := range m.Files {
		w.Files[i] = wireFile(f)
	}
	slices.SortFunc(w.Files, func(a, b wireFile) int { return strings.Compare(a.Name, b.Name) })
	if err := w.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedManifest, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedManifest, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (w wireManifest) validate() error {
	if !validCollection(w.Collection) {
		return fmt.Errorf("collection %q", w.Collection)
	}
	if !ValidOrg(w.Publisher) {
		return fmt.Errorf("publisher %q", w.Publisher)
	}
	if w.Version == 0 {
		return fmt.Errorf("version must be at least 1")
	}
	if w.Expires <= w.Created { // RFC 3339 UTC with whole seconds sorts as text
		return fmt.Errorf("expires %s not after created %s", w.Expires, w.Created)
	}
	for i, f := range w.Files {
		if !validFileName(f.Name) {
			return fmt.Errorf("file name %q", f.Name)
		}
		if i > 0 && w.Files[i-1].Name == f.Name {
			return fmt.Errorf("file %q listed twice", f.Name)
		}
		if len(f.SHA256) != 64 || strings.ToLower(f.SHA256) != f.SHA256 {
			return fmt.Errorf("file %q: sha256 must be 64 lowercase hex digits", f.Name)
		}
		if _, err := hex.DecodeString(f.SHA256); err != nil {
			return fmt.Errorf("file %q: sha256: %w", f.Name, err)
		}
		if f.Size < 0 {
			return fmt.Errorf("file %q: negative size", f.Name)
		}
	}
	return nil
}

func validCollection(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func validFileName(s string) bool {
	if s == "" || len(s) > 1024 || !utf8.ValidString(s) || strings.ContainsAny(s, "\\\x00") {
		return false
	}
	if strings.HasPrefix(s, "/") || path.Clean(s) != s {
		return false
	}
	for _, el := range strings.Split(s, "/") {
		if el == ".." || el == "." {
			return false
		}
	}
	return true
}

// Sign returns m in its canonical encoding, signed with priv under keyID.
func Sign(m Manifest, priv ed25519.PrivateKey, keyID string) (SignedManifest, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return SignedManifest{}, fmt.Errorf("sign manifest: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if keyID == "" {
		return SignedManifest{}, fmt.Errorf("sign manifest: key id is empty")
	}
	payload, err := Canonical(m)
	if err != nil {
		return SignedManifest{}, fmt.Errorf("sign manifest: %w", err)
	}
	return SignedManifest{Payload: payload, KeyID: keyID, Signature: ed25519.Sign(priv, signedMessage(payload))}, nil
}

// Verify checks s and returns its manifest. It refuses, each with its own
// error: a key id not in keys (ErrUnknownKey), a signature that does not verify
// (ErrBadSignature), a payload that does not decode or is not canonical
// (ErrMalformedManifest), a Created time more than ClockSkew after now
// (ErrManifestNotYetValid), an Expires time at or before now
// (ErrManifestExpired), and a version not above lastAccepted (ErrRollback).
// The blobs themselves are checked with VerifyContent.
func Verify(s SignedManifest, keys map[string]ed25519.PublicKey, now time.Time, lastAccepted uint64) (Manifest, error) {
	pub, ok := keys[s.KeyID]
	if !ok {
		return Manifest{}, fmt.Errorf("verify manifest: key %q: %w", s.KeyID, ErrUnknownKey)
	}
	if len(pub) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, signedMessage(s.Payload), s.Signature) {
		return Manifest{}, fmt.Errorf("verify manifest: key %q: %w", s.KeyID, ErrBadSignature)
	}
	m, err := decodeManifest(s.Payload)
	if err != nil {
		return Manifest{}, fmt.Errorf("verify manifest: %w", err)
	}
	if m.Created.After(now.Add(ClockSkew)) {
		return Manifest{}, fmt.Errorf("verify manifest %s v%d: created %s: %w", m.Collection, m.Version, m.Created.Format(time.RFC3339), ErrManifestNotYetValid)
	}
	if !now.Before(m.Expires) {
		return Manifest{}, fmt.Errorf("verify manifest %s v%d: expired %s: %w", m.Collection, m.Version, m.Expires.Format(time.RFC3339), ErrManifestExpired)
	}
	if m.Version <= lastAccepted {
		return Manifest{}, fmt.Errorf("verify manifest %s: version %d, last accepted %d: %w", m.Collection, m.Version, lastAccepted, ErrRollback)
	}
	return m, nil
}

func signedMessage(payload []byte) []byte {
	msg := make([]byte, 0, len(manifestDomain)+len(payload))
	msg = append(msg, manifestDomain...)
	return append(msg, payload...)
}

// decodeManifest parses a payload and insists that it is canonical, so that
// one manifest has exactly one signed form.
func decodeManifest(payload []byte) (Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var w wireManifest
	if err := dec.Decode(&w); err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrMalformedManifest, err)
	}
	created, err := time.Parse(time.RFC3339, w.Created)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: created: %w", ErrMalformedManifest, err)
	}
	expires, err := time.Parse(time.RFC3339, w.Expires)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: expires: %w", ErrMalformedManifest, err)
	}
	m := Manifest{Collection: w.Collection, Publisher: w.Publisher, Version: w.Version, Created: created.UTC(), Expires: expires.UTC()}
	for _, f := range w.Files {
		m.Files = append(m.Files, File(f))
	}
	canon, err := Canonical(m)
	if err != nil {
		return Manifest{}, err
	}
	if !bytes.Equal(canon, payload) {
		return Manifest{}, fmt.Errorf("%w: payload is not canonical", ErrMalformedManifest)
	}
	return m, nil
}

// VerifyContent reads r and checks that it is the file name of m: the same
// size and SHA-256. It returns ErrUnknownFile if m does not list name and
// ErrContentMismatch if the content differs; it reads at most one byte more
// than the listed size.
func VerifyContent(m Manifest, name string, r io.Reader) error {
	i := slices.IndexFunc(m.Files, func(f File) bool { return f.Name == name })
	if i < 0 {
		return fmt.Errorf("verify %s: %w", name, ErrUnknownFile)
	}
	f := m.Files[i]
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, f.Size+1))
	if err != nil {
		return fmt.Errorf("verify %s: read: %w", name, err)
	}
	if n != f.Size {
		return fmt.Errorf("verify %s: size %d, manifest says %d: %w", name, n, f.Size, ErrContentMismatch)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("verify %s: sha256 %s, manifest says %s: %w", name, got, f.SHA256, ErrContentMismatch)
	}
	return nil
}
