package node

import (
	"sync/atomic"
	"time"
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
