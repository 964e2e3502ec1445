package node

import (
	"net/http"

	"github.com/assistent-nl/assistent/admin"
)

// openAdmin opens the beheerportaal on the node's store (its accounts,
// sessions, tokens and audit log live in the same bbolt file).
func (n *Node) openAdmin() error {
	a, err := admin.New(n.cfg.Admin, admin.Deps{
		DB: n.store.Bolt(), Store: n.store, Terms: n.analyzer.Terms, ClientIP: n.clientOf, Log: n.log,
		Crawler: n.crawler, ValidSchedule: ValidSchedule, Content: adminContent{n}, Models: adminModels{n},
		Federation: n.adminFederation,
	})
	if err != nil {
		return err
	}
	n.admin = a
	return nil
}

// adminFederation is the federation status the portal shows: the registry
// copy (false when the node watches none) and the members gossip knows.
func (n *Node) adminFederation() (admin.FederationStatus, bool) {
	st, ok := n.federationStatus()
	out := admin.FederationStatus{Index: st.Index, Synced: st.Synced, Server: st.Server, CacheAge: st.CacheAge,
		LastContact: st.LastContact, LastError: st.LastError}
	for _, m := range n.members() {
		out.Members = append(out.Members, admin.FederationMember{Name: m.Name, Org: m.Org, Role: m.Role, Address: m.Address,
			APIAddress: m.APIAddress, State: m.State, RTT: m.RTT, Version: m.Version, Collections: m.Collections, Topics: m.Topics})
	}
	return out, ok
}

// Admin returns the node's beheerportaal.
func (n *Node) Admin() *admin.Admin { return n.admin }

// mountAdmin serves the portal at /admin/ and the admin API at
// /api/v1/admin/; the admin package checks every route itself.
func (n *Node) mountAdmin(mux *http.ServeMux) {
	h := n.admin.Handler()
	mux.Handle("/admin/", h)
	mux.Handle("/api/v1/admin/", h)
}
