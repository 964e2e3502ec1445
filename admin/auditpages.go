package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/assistent-nl/assistent/admin/audit"
)

// auditFilter reads the filters of the audit log page and API from the
// query: actor, action (a prefix), tenant, from and to (dates), before (a
// sequence, for paging).
func auditFilter(r *http.Request) audit.Filter {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Tenant: q.Get("tenant"), Limit: 100}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), time.Local); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), time.Local); err == nil {
		f.To = t.AddDate(0, 0, 1) // the whole day
	}
	if n, err := strconv.ParseUint(q.Get("before"), 10, 64); err == nil {
		f.Before = n
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		f.Limit = min(n, 1000)
	}
	return f
}

type auditData struct {
	Entries  []audit.Entry
	Filter   audit.Filter
	Query    map[string]string
	Intact   bool
	Count    int
	Broken   string
	Older    uint64 // the sequence to page before, 0: no older entries
	Exported string // the query string of the current filter for export links
}

func (a *Admin) auditPage(w http.ResponseWriter, r *http.Request, p *principal) {
	f := auditFilter(r)
	es, err := a.audit.List(f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := auditData{Entries: es, Filter: f, Query: map[string]string{}}
	for _, k := range []string{"actor", "action", "tenant", "from", "to"} {
		d.Query[k] = r.URL.Query().Get(k)
	}
	q := r.URL.Query()
	q.Del("before")
	q.Del("lang")
	d.Exported = q.Encode()
	if len(es) == f.Limit {
		d.Older = es[len(es)-1].Seq
	}
	n, verr := a.audit.Verify()
	d.Count, d.Intact = n, verr == nil
	var ce *audit.ChainError
	if errors.As(verr, &ce) {
		d.Broken = ce.Error()
	} else if verr != nil {
		a.fail(w, r, verr)
		return
	}
	v := a.newView(w, r, p, "audit.title", "audit")
	v.Data = d
	a.render(w, r, http.StatusOK, "audit", v)
}

// auditExport writes the filtered log as JSON Lines or CSV; the export
// itself is audited.
func (a *Admin) auditExport(w http.ResponseWriter, r *http.Request, p *principal) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = audit.FormatJSONL
	}
	if format != audit.FormatJSONL && format != audit.FormatCSV {
		writeProblem(w, r, http.StatusBadRequest, "format must be jsonl or csv", "audit.invalid.format", "invalid")
		return
	}
	f := auditFilter(r)
	f.Limit = 0
	if r.URL.Query().Get("limit") != "" {
		f.Limit = auditFilter(r).Limit
	}
	a.record(r, p, audit.Entry{Action: "audit.export", Detail: format})
	if format == audit.FormatCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="audit.`+format+`"`)
	if err := a.audit.Export(w, format, f); err != nil {
		a.deps.Log.ErrorContext(r.Context(), "audit export", "err", err)
	}
}

func (a *Admin) apiAudit(w http.ResponseWriter, r *http.Request, p *principal) {
	if r.URL.Query().Get("format") != "" {
		a.auditExport(w, r, p)
		return
	}
	es, err := a.audit.List(auditFilter(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if es == nil {
		es = []audit.Entry{}
	}
	writeJSON(w, http.StatusOK, es)
}

func (a *Admin) apiAuditVerify(w http.ResponseWriter, r *http.Request, p *principal) {
	n, err := a.audit.Verify()
	out := map[string]any{"intact": err == nil, "entries": n}
	var ce *audit.ChainError
	if errors.As(err, &ce) {
		out["first_bad"] = ce.Seq
		out["reason"] = ce.Reason
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
