// Package gossip is the federation's membership layer: every gemeente node and
// coordination server runs one Member, a hashicorp/memberlist instance whose
// traffic is encrypted and verified with the federation's gossip keyring
// (DESIGN.md §6). Through it a member learns which other members exist, which
// are alive, what they serve (collections, topics, API address, version) and
// how far away they are (round-trip time of memberlist's own probes).
//
// # Hints, not decisions
//
// Gossip gives membership and liveness hints only. Nearest and Members tell the
// federated fallback whom it could ask; they never decide that a request goes
// to a peer, or that a peer is down for that request. Per-request deadlines and
// circuit breakers in the caller decide (DESIGN.md §2). A peer gossip calls
// alive may be unreachable on its API port, and one gossip calls suspect may
// answer fine.
//
// Metadata is authenticated only by the keyring: any holder of a gossip key
// can claim any name, organisation or role. A caller that dials a peer's
// APIAddr must check the peer's certificate against Peer.Identity (e.g. with
// trust.ExpectNode); gossip only says where to knock.
//
// # Metadata
//
// A member's metadata travels in memberlist's node meta, which is limited to
// MetaMaxSize (512) bytes. It is encoded compactly: a format byte (1), a role
// byte, a flags byte (bit 0: leaving), then organisation, API address and version as uvarint-length-prefixed
// strings, then the collections and the topics, each as a uvarint count
// followed by length-prefixed strings (sorted, without duplicates). Config
// validation and UpdateMeta refuse metadata that would not fit
// (ErrMetaTooLarge). A member whose metadata does not decode is not admitted.
//
// # States and round-trip times
//
// Join, update, leave and failure come from memberlist's event delegate.
// Memberlist's delegate does not say whether a member that went away left or
// failed, so Leave first publishes a leaving flag in the member's metadata
// and waits until that update has been broadcast, then sends every member a
// leaving notice directly (one UDP packet each: gossip alone reached some
// members only after the leave message, in a few percent of leaves), then
// announces the leave; a member that saw the flag or the notice reports
// EventLeave and StateLeft, one that saw neither (lost packets) reports
// EventFail. A
// peer is Suspect only from the point of view of a member whose own probe of it
// failed (memberlist has no hook for suspicions learnt through gossip; the
// package recognises memberlist's "Suspect ... has failed" log line); it is
// Alive again after the next acknowledged probe. Dead and left peers stay in
// the view for Timing.GossipToTheDeadTime, as in memberlist.
//
// RTT is an exponentially weighted moving average (weight 0.3 for a new
// sample) of the round trip of acknowledged direct probes (memberlist's
// PingDelegate; indirect and TCP probes are not counted). Memberlist probes one
// peer per ProbeInterval, round robin, so in a cluster of N members a peer's
// RTT is refreshed only every N probe intervals; Ping measures one on demand.
//
// # Keys
//
// The registry distributes gossip keys. A rotation is three steps, each done
// on every member before the next starts: InstallKey(new), UseKey(new),
// RemoveKey(old). Between the steps every member can still read every other.
package gossip
