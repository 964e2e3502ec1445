package node

import (
	"cmp"
	"net/http"
	"time"
)

// FederationReport is what an operator sees of the node's place in the
// federation: the fallback policy, the members gossip knows, the peers
// skipped for failing, the registry copy and the last fallbacks. It holds
// no question text and nothing about residents.
type FederationReport struct {
	Policy PolicyReport `json:"policy"`
	// Members is every member gossip knows, this node included; empty
	// when the node runs no gossip.
	Members []MemberReport `json:"members"`
	// OpenBreakers are the peers skipped until the time given.
	OpenBreakers []BreakerReport `json:"open_breakers"`
	// Registry is the node's copy of the federation registry, when it
	// watches one.
	Registry *FederationStatus `json:"registry,omitempty"`
	// Recent are the last 50 fallbacks, newest first. The policy and the
	// log are the node's: on a node shared by several tenants each
	// tenant's operator sees all of them.
	Recent []FallbackRecord `json:"recent_fallbacks"`
}

// PolicyReport is the fallback policy in force.
type PolicyReport struct {
	Mode FallbackMode `json:"mode"`
	// AsksPeers is false when the policy cannot ask anyone (no client,
	// no peers, no gossip).
	AsksPeers     bool    `json:"asks_peers"`
	Peers         []Peer  `json:"peers,omitempty"`
	Nearest       int     `json:"nearest,omitempty"`
	MinConfidence float64 `json:"min_confidence"`
	Deadline      float64 `json:"deadline_ms"`
	Grace         float64 `json:"grace_ms"`
	Failures      int     `json:"failures"`
	Cooldown      float64 `json:"cooldown_ms"`
}

// MemberReport is a member with its round-trip time in milliseconds (0:
// not measured yet).
type MemberReport struct {
	Member
	RTT float64 `json:"rtt_ms"`
}

// BreakerReport is a peer skipped by the fallback until Until.
type BreakerReport struct {
	URL   string    `json:"url"`
	Until time.Time `json:"until"`
}

// FederationReport returns the node's federation status for its operator.
func (n *Node) FederationReport() FederationReport {
	cfg := n.cfg.Fallback
	rep := FederationReport{
		Policy: PolicyReport{
			Mode: cfg.Policy(), AsksPeers: cfg.Enabled(), MinConfidence: cfg.MinConfidence,
			Deadline: ms(cfg.Deadline), Grace: ms(cfg.Grace), Failures: cfg.Failures, Cooldown: ms(cfg.Cooldown),
		},
		Members:      []MemberReport{},
		OpenBreakers: []BreakerReport{},
		Recent:       n.peerBreakers.last(),
	}
	switch rep.Policy.Mode {
	case FallbackPeers:
		rep.Policy.Peers = cfg.Peers
	case FallbackNearest:
		rep.Policy.Nearest = cmp.Or(cfg.Nearest, defaultNearest)
	}
	for _, m := range n.members() {
		rep.Members = append(rep.Members, MemberReport{Member: m, RTT: ms(m.RTT)})
	}
	for url, until := range n.peerBreakers.open(time.Now()) {
		rep.OpenBreakers = append(rep.OpenBreakers, BreakerReport{URL: url, Until: until.UTC()})
	}
	if st, ok := n.federationStatus(); ok {
		rep.Registry = &st
	}
	return rep
}

// members returns the members gossip knows, this node included; nil when
// the node runs no gossip.
func (n *Node) members() []Member {
	if ml, ok := n.cfg.Fallback.Source.(MemberLister); ok {
		return ml.Members()
	}
	return nil
}

// FederationStatusHandler serves the FederationReport as JSON to the
// operator of the tenant in the path ({tenant}), who shows the tenant's
// API token as "Authorization: Bearer …" (see NewTriggerToken); without
// it the answer is 401, for unknown tenants too. Mount it as
// GET /api/v1/tenants/{tenant}/federation.
func (n *Node) FederationStatusHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := n.crawlAuth(w, r); !ok {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, n.FederationReport())
	}
}
