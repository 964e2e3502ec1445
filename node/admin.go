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
		Federation: func() (admin.FederationStatus, bool) {
			st, ok := n.federationStatus()
			return admin.FederationStatus{Index: st.Index, Synced: st.Synced, Server: st.Server, CacheAge: st.CacheAge,
				LastContact: st.LastContact, LastError: st.LastError}, ok
		},
	})
	if err != nil {
		return err
	}
	n.admin = a
	return nil
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
