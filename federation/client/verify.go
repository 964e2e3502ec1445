package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// VerifyCollection checks a published collection against its publisher's
// public keys in orgs (organisation ID -> Org) and returns the manifest it
// carries. Collection.Manifest is the canonical manifest payload and
// Collection.Signature the raw ed25519 signature (trust.SignedManifest's
// Payload and Signature); the key id is not stored, so every key of the
// publisher is tried. Beyond trust.Verify (signature, expiry, rollback against
// lastAccepted, with its errors), it refuses a publisher that is not a
// publisher org (trust.ErrUnknownKey), and a manifest whose collection,
// publisher or version differ from the registry entry, or that does not list
// the entry's ContentSHA256 (trust.ErrContentMismatch).
func VerifyCollection(c registry.Collection, orgs map[string]registry.Org, now time.Time, lastAccepted uint64) (trust.Manifest, error) {
	org, ok := orgs[c.Publisher]
	if !ok || org.Role != registry.RolePublisher || len(org.PublicKeys) == 0 {
		return trust.Manifest{}, fmt.Errorf("verify collection %s: publisher %q has no publishing keys: %w", c.Name, c.Publisher, trust.ErrUnknownKey)
	}
	var m trust.Manifest
	var err error
	for _, k := range org.PublicKeys {
		raw, derr := base64.StdEncoding.DecodeString(k.Key)
		if derr != nil || len(raw) != ed25519.PublicKeySize {
			continue
		}
		signed := trust.SignedManifest{Payload: c.Manifest, KeyID: k.ID, Signature: c.Signature}
		m, err = trust.Verify(signed, map[string]ed25519.PublicKey{k.ID: raw}, now, lastAccepted)
		if !errors.Is(err, trust.ErrBadSignature) {
			break
		}
	}
	if err != nil {
		return trust.Manifest{}, fmt.Errorf("verify collection %s: %w", c.Name, err)
	}
	if m.Collection != c.Name || m.Publisher != c.Publisher || m.Version != c.Version {
		return trust.Manifest{}, fmt.Errorf("verify collection %s: manifest is for %s by %s v%d, registry says %s by %s v%d: %w",
			c.Name, m.Collection, m.Publisher, m.Version, c.Name, c.Publisher, c.Version, trust.ErrContentMismatch)
	}
	for _, f := range m.Files {
		if f.SHA256 == c.ContentSHA256 {
			return m, nil
		}
	}
	return trust.Manifest{}, fmt.Errorf("verify collection %s: content %s is not in the signed manifest: %w", c.Name, c.ContentSHA256, trust.ErrContentMismatch)
}

// VerifyCollection verifies c against the publisher keys in the cached
// registry; see the package function VerifyCollection.
func (w *Watcher) VerifyCollection(c registry.Collection, lastAccepted uint64) (trust.Manifest, error) {
	obj, err := w.Get(registry.KindOrg, c.Publisher)
	orgs := map[string]registry.Org{}
	switch {
	case errors.Is(err, registry.ErrNotFound):
	case err != nil:
		return trust.Manifest{}, fmt.Errorf("verify collection %s: %w", c.Name, err)
	default:
		var org registry.Org
		if err := obj.Decode(&org); err != nil {
			return trust.Manifest{}, fmt.Errorf("verify collection %s: %w", c.Name, err)
		}
		orgs[org.ID] = org
	}
	return VerifyCollection(c, orgs, w.cfg.Now(), lastAccepted)
}
