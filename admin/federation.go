package admin

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/assistent-nl/assistent/node/store"
)

type federationData struct {
	Status    FederationStatus
	Federated bool
	// Collections are the national collections the node holds.
	Collections []store.Collection
}

// federation gathers the status page's data: the registry copy and the
// gossip members from the node (members sorted by name), the national
// collections from the store.
func (a *Admin) federation() (federationData, error) {
	var d federationData
	if a.deps.Federation != nil {
		d.Status, d.Federated = a.deps.Federation()
	}
	d.Status.Members = slices.Clone(d.Status.Members)
	slices.SortFunc(d.Status.Members, func(x, y FederationMember) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Org, y.Org))
	})
	cols, err := a.deps.Store.Collections()
	if err != nil {
		return d, err
	}
	d.Collections = cols
	return d, nil
}

func (a *Admin) federationPage(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := a.federation()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "federation.title", "federation")
	v.Data = d
	a.render(w, r, http.StatusOK, "federation", v)
}

// apiMember is a gossip member in the admin API.
type apiMember struct {
	Name        string   `json:"name"`
	Org         string   `json:"org"`
	Role        string   `json:"role"`
	Address     string   `json:"address"`
	APIAddress  string   `json:"api_address,omitempty"`
	State       string   `json:"state"`
	RTT         float64  `json:"rtt_ms"` // 0: not measured yet
	Version     string   `json:"version,omitempty"`
	Collections []string `json:"collections"`
	Topics      []string `json:"topics"`
}

// apiCollection is a national collection the node holds.
type apiCollection struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	// Version is the publisher's version; 0 for a collection that did not
	// come signed through the federation (the demo, or ingested locally).
	Version uint64    `json:"version"`
	Docs    int       `json:"docs"`
	Updated time.Time `json:"updated"`
}

func (a *Admin) apiFederation(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := a.federation()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st := d.Status
	out := map[string]any{"federated": d.Federated}
	if d.Federated {
		out["index"], out["synced"], out["server"] = st.Index, st.Synced, st.Server
		if st.CacheAge >= 0 {
			out["cache_age_seconds"] = st.CacheAge.Seconds()
		}
		if !st.LastContact.IsZero() {
			out["last_contact"] = st.LastContact
		}
		if st.LastError != "" {
			out["last_error"] = st.LastError
		}
	}
	members := make([]apiMember, 0, len(st.Members))
	for _, m := range st.Members {
		members = append(members, apiMember{Name: m.Name, Org: m.Org, Role: m.Role, Address: m.Address, APIAddress: m.APIAddress,
			State: m.State, RTT: float64(m.RTT.Microseconds()) / 1000, Version: m.Version,
			Collections: orEmpty(m.Collections), Topics: orEmpty(m.Topics)})
	}
	cols := make([]apiCollection, 0, len(d.Collections))
	for _, c := range d.Collections {
		cols = append(cols, apiCollection{Name: c.Name, Title: c.Title, Version: c.Version, Docs: c.Docs, Updated: c.Updated})
	}
	out["members"], out["collections"] = members, cols
	writeJSON(w, http.StatusOK, out)
}

// orEmpty returns list, or an empty list for nil (JSON [] rather than null).
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
