package admin

import "net/http"

type federationData struct {
	Status    FederationStatus
	Federated bool
}

func (a *Admin) federationStatus() (FederationStatus, bool) {
	if a.deps.Federation == nil {
		return FederationStatus{}, false
	}
	return a.deps.Federation()
}

func (a *Admin) federationPage(w http.ResponseWriter, r *http.Request, p *principal) {
	st, ok := a.federationStatus()
	v := a.newView(w, r, p, "federation.title", "federation")
	v.Data = federationData{Status: st, Federated: ok}
	a.render(w, r, http.StatusOK, "federation", v)
}

func (a *Admin) apiFederation(w http.ResponseWriter, r *http.Request, p *principal) {
	st, ok := a.federationStatus()
	out := map[string]any{"federated": ok}
	if ok {
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
	writeJSON(w, http.StatusOK, out)
}
