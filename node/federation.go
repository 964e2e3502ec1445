package node

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/assistent-nl/assistent/node/ingest"
)

// FederationStatus is what a node knows of its link to the federation's
// registry: it serves from its cached copy whether or not a coordination
// server is reachable ("fail static").
type FederationStatus struct {
	Index       uint64        `json:"index"`            // registry index of the cached copy
	Server      string        `json:"server,omitempty"` // server streaming to the node, if any
	Synced      bool          `json:"synced"`           // the cache holds a full copy
	LastContact time.Time     `json:"last_contact,omitzero"`
	CacheAge    time.Duration `json:"-"` // since the cache was last known current; < 0: never synced
	LastError   string        `json:"last_error,omitempty"`
}

// AttachFederation makes the node report the registry watcher's status on
// /readyz and in metrics. A node that is not part of a federation never
// calls it.
func (n *Node) AttachFederation(status func() FederationStatus) {
	n.federation.Store(&status)
}

// federationStatus returns the attached status, and false when the node
// is not part of a federation.
func (n *Node) federationStatus() (FederationStatus, bool) {
	f := n.federation.Load()
	if f == nil {
		return FederationStatus{}, false
	}
	return (*f)(), true
}

// federationSlot holds the attached status function.
type federationSlot = atomic.Pointer[func() FederationStatus]

// ImportCollection makes the JSON Lines pages in data the content of the
// national collection name at version, replacing the previous version in
// one batch (see ReplaceCollection). The caller has verified the content
// (signature, hash, version); a version at or below the recorded one is
// refused all the same, so nothing rolls back.
func (n *Node) ImportCollection(ctx context.Context, name string, version uint64, data io.Reader) (IngestResult, error) {
	last, err := n.store.CollectionVersion(name)
	if err != nil {
		return IngestResult{}, err
	}
	if version <= last {
		return IngestResult{}, fmt.Errorf("collection %s: version %d is not newer than %d", name, version, last)
	}
	var pages []ingest.Page
	var bad []string
	err = ingest.ReadJSONL(data, name+".jsonl", func(p ingest.Page) error {
		pages = append(pages, p)
		return nil
	}, func(e *ingest.LineError) { bad = append(bad, e.Error()) })
	if err != nil {
		return IngestResult{}, err
	}
	if len(bad) > 0 {
		return IngestResult{}, fmt.Errorf("collection %s v%d: %d bad lines, first: %s", name, version, len(bad), bad[0])
	}
	res, err := n.ReplaceCollection(ctx, name, pages, nil)
	if err != nil {
		return res, err
	}
	if err := n.store.SetCollectionVersion(name, version); err != nil {
		return res, err
	}
	n.log.InfoContext(ctx, "national collection imported", "collection", name, "version", version,
		"written", res.Written, "unchanged", res.Unchanged, "removed", res.Removed)
	return res, nil
}
