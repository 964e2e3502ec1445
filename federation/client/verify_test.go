package client_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// TestPublishVerifyFetch publishes a signed collection as NVVB and checks it
// the way a node does: from the cached registry, then the blob.
func TestPublishVerifyFetch(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	ctx := t.Context()
	pub, priv, err := trust.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, err := trust.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	keyID := trust.KeyID(pub)
	org := registry.Org{ID: "NVVB", Name: "NVVB", Role: registry.RolePublisher,
		PublicKeys: []registry.PublicKey{{ID: keyID, Key: base64.StdEncoding.EncodeToString(pub)}}}
	if _, err := operator(t, c).Apply(ctx, mustPut(t, org)); err != nil {
		t.Fatal(err)
	}

	content := bytes.Repeat([]byte(`{"id":"paspoort","text":"Een paspoort vraagt u aan bij de gemeente."}`+"\n"), 20_000) // > 1 MiB
	publisher := newWriter(t, c, c.Cert(t, "NVVB", trust.RolePublisher, "publish"))
	cmds, sum := registry.PutBlob(content)
	for _, cmd := range cmds {
		if _, err := publisher.Apply(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	m := trust.Manifest{Collection: "burgerzaken", Publisher: "NVVB", Version: 3, Created: now, Expires: now.Add(24 * time.Hour),
		Files: []trust.File{{Name: "burgerzaken.jsonl", SHA256: sum, Size: int64(len(content))}}}
	signed, err := trust.Sign(m, priv, keyID)
	if err != nil {
		t.Fatal(err)
	}
	col := registry.Collection{Name: "burgerzaken", Publisher: "NVVB", Manifest: signed.Payload, Signature: signed.Signature,
		Version: 3, Expires: m.Expires.UTC().Truncate(time.Second), ContentSHA256: sum}
	if _, err := publisher.Apply(ctx, mustPut(t, col)); err != nil {
		t.Fatal(err)
	}

	w := newWatcher(t, c, tempDB(t), nil)
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var cached registry.Collection
	waitFor(t, 2*time.Second, "the collection in the cache", func() bool {
		obj, err := w.Get(registry.KindCollection, "burgerzaken")
		return err == nil && obj.Decode(&cached) == nil
	})
	got, err := w.VerifyCollection(cached, 2)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Version != 3 || len(got.Files) != 1 || got.Files[0].SHA256 != sum {
		t.Fatalf("manifest = %+v", got)
	}
	data, err := w.FetchBlob(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.VerifyContent(got, "burgerzaken.jsonl", bytes.NewReader(data)); err != nil {
		t.Fatalf("fetched content: %v", err)
	}
	if _, err := w.FetchBlob(ctx, strings.Repeat("0", 64)); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("fetch of a missing blob: %v", err)
	}

	forged, err := trust.Sign(m, otherPriv, keyID)
	if err != nil {
		t.Fatal(err)
	}
	orgs := map[string]registry.Org{"NVVB": org}
	for _, tc := range []struct {
		name string
		mod  func(*registry.Collection)
		want error
	}{
		{"rollback", func(*registry.Collection) {}, trust.ErrRollback},
		{"forged signature", func(c *registry.Collection) { c.Signature = forged.Signature }, trust.ErrBadSignature},
		{"content not in the manifest", func(c *registry.Collection) { c.ContentSHA256 = strings.Repeat("b", 64) }, trust.ErrContentMismatch},
		{"version differs from the manifest", func(c *registry.Collection) { c.Version = 4 }, trust.ErrContentMismatch},
		{"unknown publisher", func(c *registry.Collection) { c.Publisher = "KADASTER" }, trust.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := cached
			tc.mod(&bad)
			last := uint64(2)
			if tc.name == "rollback" {
				last = 3
			}
			if _, err := client.VerifyCollection(bad, orgs, time.Now(), last); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := client.VerifyCollection(cached, orgs, m.Expires.Add(time.Second), 0); !errors.Is(err, trust.ErrManifestExpired) {
		t.Fatalf("expired manifest: %v", err)
	}
}
