package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/crawl"
)

// Crawler is what the portal uses of the node's crawler; *crawl.Crawler
// is one. Sources and jobs live in the crawler's own buckets.
type Crawler interface {
	Sources(tenant string) ([]crawl.Source, error)
	Source(tenant, id string) (crawl.Source, error)
	PutSource(crawl.Source) error
	DeleteSource(tenant, id string) error
	Start(ctx context.Context, src crawl.Source) (string, error)
	Job(id string) (crawl.Job, error)
	Jobs(tenant, sourceID string) ([]crawl.Job, error)
}

// jobsShown is how many of a source's latest jobs the portal shows.
const jobsShown = 10

// SourceRules are the parts of a crawl source staff edit: where the crawl
// starts, what it may fetch, its schedule and its limits. The API takes
// them whole (POST, PUT); a field left out is empty, and an empty limit
// takes the crawler's default.
type SourceRules struct {
	ID        string   `json:"id"`
	StartURLs []string `json:"start_urls"`
	Sitemaps  []string `json:"sitemaps"`
	// AllowHosts are hosts besides those of the start URLs and sitemaps.
	AllowHosts []string `json:"allow_hosts"`
	// AllowPrivate lets the crawler reach these hosts on internal
	// addresses (an intranet). Only a beheerder may change it: it opens
	// the node's own network to the crawler.
	AllowPrivate     []string `json:"allow_private"`
	Include          []string `json:"include"`
	Exclude          []string `json:"exclude"`
	ContentSelectors []string `json:"content_selectors"`
	DropSelectors    []string `json:"drop_selectors"`
	Langs            []string `json:"langs"`
	// Schedule is cron syntax ("0 3 * * *") or a descriptor (@daily);
	// empty: only when run by hand.
	Schedule       string  `json:"schedule"`
	MaxPages       int     `json:"max_pages"`
	MaxDepth       int     `json:"max_depth"`
	Rate           float64 `json:"rate"` // requests per second per host; 0: the default (1)
	MaxRemoveShare float64 `json:"max_remove_share"`
	ContactURL     string  `json:"contact_url"`
}

func rulesOf(s crawl.Source) SourceRules {
	n := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return SourceRules{ID: s.ID, StartURLs: n(s.StartURLs), Sitemaps: n(s.Sitemaps), AllowHosts: n(s.AllowHosts), AllowPrivate: n(s.AllowPrivate),
		Include: n(s.Include), Exclude: n(s.Exclude), ContentSelectors: n(s.Rules.ContentSelectors), DropSelectors: n(s.Rules.DropSelectors),
		Langs: n(s.Langs), Schedule: s.Schedule, MaxPages: s.MaxPages, MaxDepth: s.MaxDepth, Rate: s.Rate,
		MaxRemoveShare: s.MaxRemoveShare, ContactURL: s.ContactURL}
}

// source applies the rules to old (the stored source, or the zero source
// for a new one), keeping what the rules do not hold.
func (sr SourceRules) source(tenant string, old crawl.Source) crawl.Source {
	clean := func(l []string) []string {
		var out []string
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	s := old
	s.ID, s.Tenant = strings.TrimSpace(sr.ID), tenant
	s.StartURLs, s.Sitemaps, s.AllowHosts, s.AllowPrivate = clean(sr.StartURLs), clean(sr.Sitemaps), clean(sr.AllowHosts), clean(sr.AllowPrivate)
	s.Include, s.Exclude, s.Langs = clean(sr.Include), clean(sr.Exclude), clean(sr.Langs)
	s.Rules.ContentSelectors, s.Rules.DropSelectors = clean(sr.ContentSelectors), clean(sr.DropSelectors)
	s.Schedule, s.ContactURL = strings.TrimSpace(sr.Schedule), strings.TrimSpace(sr.ContactURL)
	s.MaxPages, s.MaxDepth, s.Rate, s.MaxRemoveShare = sr.MaxPages, sr.MaxDepth, sr.Rate, sr.MaxRemoveShare
	return s
}

// SourceView is a source as the admin API shows it, with its latest job.
type SourceView struct {
	SourceRules
	LastJob *crawl.Job `json:"last_job"`
}

// errNoCrawler: the node gave the portal no crawler (a test, or a node
// without one).
var errNoCrawler = errors.New("no crawler on this node")

func (a *Admin) crawler() (Crawler, error) {
	if a.deps.Crawler == nil {
		return nil, errNoCrawler
	}
	return a.deps.Crawler, nil
}

// source returns the crawler and tenant's stored source id.
func (a *Admin) source(tenant, id string) (Crawler, crawl.Source, error) {
	c, err := a.crawler()
	if err != nil {
		return nil, crawl.Source{}, err
	}
	src, err := c.Source(tenant, id)
	return c, src, err
}

// sourceError is an invalid source, with the crawler's own words (English,
// naming the field) for detail.
type sourceError struct {
	key, detail string
}

func (e *sourceError) Error() string { return "invalid source: " + e.detail }
func (e *sourceError) Unwrap() error { return ErrInvalid }

// saveSource checks src, stores it and audits the change. It refuses a
// change of AllowPrivate by an account that is not a beheerder.
func (a *Admin) saveSource(r *http.Request, p *principal, src crawl.Source, old *crawl.Source) error {
	c, err := a.crawler()
	if err != nil {
		return err
	}
	var oldPrivate []string
	if old != nil {
		oldPrivate = old.AllowPrivate
	}
	if !slices.Equal(src.AllowPrivate, oldPrivate) && p.user.Role != RoleBeheerder {
		return &sourceError{key: "sources.invalid.private", detail: "allow_private: only a beheerder may change it"}
	}
	if a.deps.ValidSchedule != nil {
		if err := a.deps.ValidSchedule(src.Schedule); err != nil {
			return &sourceError{key: "sources.invalid.schedule", detail: err.Error()}
		}
	}
	if err := src.Validate(); err != nil {
		return &sourceError{key: "sources.invalid", detail: err.Error()}
	}
	if err := c.PutSource(src); err != nil {
		return err
	}
	e := audit.Entry{Action: "source.create", Tenant: src.Tenant, Target: src.ID, After: audit.Value(rulesOf(src))}
	if old != nil {
		e.Action, e.Before = "source.update", audit.Value(rulesOf(*old))
	}
	a.record(r, p, e)
	return nil
}

// deleteSource removes a source (its pages stay) and audits it.
func (a *Admin) deleteSource(r *http.Request, p *principal, tenant, id string) error {
	c, old, err := a.source(tenant, id)
	if err != nil {
		return err
	}
	if err := c.DeleteSource(tenant, id); err != nil {
		return err
	}
	a.record(r, p, audit.Entry{Action: "source.delete", Tenant: tenant, Target: id, Before: audit.Value(rulesOf(old))})
	return nil
}

// runSource starts a crawl of a stored source now, or returns the job
// already running, and audits the start.
func (a *Admin) runSource(r *http.Request, p *principal, tenant, id string) (crawl.Job, error) {
	c, src, err := a.source(tenant, id)
	if err != nil {
		return crawl.Job{}, err
	}
	// The crawl outlives the request that started it.
	jobID, err := c.Start(context.WithoutCancel(r.Context()), src)
	if errors.Is(err, crawl.ErrJobActive) {
		jobs, jerr := c.Jobs(tenant, id)
		if jerr != nil || len(jobs) == 0 {
			return crawl.Job{}, err
		}
		return jobs[0], nil
	}
	if err != nil {
		return crawl.Job{}, err
	}
	a.record(r, p, audit.Entry{Action: "crawl.start", Tenant: tenant, Target: id, Detail: "job " + jobID})
	return c.Job(jobID)
}

// sourceViews lists a tenant's sources with their latest jobs.
func (a *Admin) sourceViews(tenant string) ([]SourceView, error) {
	c, err := a.crawler()
	if err != nil {
		return nil, err
	}
	srcs, err := c.Sources(tenant)
	if err != nil {
		return nil, err
	}
	out := []SourceView{}
	for _, s := range srcs {
		v := SourceView{SourceRules: rulesOf(s)}
		jobs, err := c.Jobs(tenant, s.ID)
		if err != nil {
			return nil, err
		}
		if len(jobs) > 0 {
			v.LastJob = &jobs[0]
		}
		out = append(out, v)
	}
	return out, nil
}

// failContent answers the errors of sources and documents: unknown is
// 404, an invalid field 400, a crawler or content store missing 404,
// anything else 500.
func (a *Admin) failContent(w http.ResponseWriter, r *http.Request, err error) {
	var se *sourceError
	switch {
	case errors.As(err, &se):
		if isAPI(r) {
			writeProblemDetail(w, r, http.StatusBadRequest, se.detail, se.key, "invalid")
			return
		}
		a.fail(w, r, err)
	case errors.Is(err, crawl.ErrNotFound), errors.Is(err, ErrNotFound), errors.Is(err, errNoCrawler), errors.Is(err, errNoContent):
		a.notFound(w, r)
	default:
		a.fail(w, r, err)
	}
}

// writeProblemDetail is writeProblem with the detail's technical words
// after the translated text.
func writeProblemDetail(w http.ResponseWriter, r *http.Request, status int, detail, key, code string) {
	lang := apiLang(r)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: "invalid source", Status: status, Detail: msg(lang, key) + " (" + detail + ")", Code: code})
}

// Portal.

type sourcesData struct {
	Sources []SourceView
	Form    SourceRules // the add form, filled again after an error
	Field   string
	Detail  string
}

type sourceData struct {
	Source SourceRules
	Jobs   []crawl.Job
	Detail string // the crawler's words on an invalid rule
}

type jobData struct {
	Job     crawl.Job
	Failed  int
	Running bool
}

func (a *Admin) sourcesPage(w http.ResponseWriter, r *http.Request, p *principal) {
	srcs, err := a.sourceViews(r.PathValue("tenant"))
	if err != nil && !errors.Is(err, errNoCrawler) {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "sources.title", "sources")
	v.Data = sourcesData{Sources: srcs, Form: SourceRules{ID: "website"}}
	a.render(w, r, http.StatusOK, "sources", v)
}

// rulesForm reads the source form: lists one entry a line.
func rulesForm(r *http.Request) (SourceRules, bool) {
	lines := func(k string) []string {
		return strings.Split(strings.ReplaceAll(r.PostFormValue(k), "\r\n", "\n"), "\n")
	}
	ok := true
	num := func(k string) float64 {
		s := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(k), ",", "."))
		if s == "" {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			ok = false
		}
		return f
	}
	sr := SourceRules{ID: r.PostFormValue("id"), StartURLs: lines("start_urls"), Sitemaps: lines("sitemaps"), AllowHosts: lines("allow_hosts"),
		AllowPrivate: lines("allow_private"), Include: lines("include"), Exclude: lines("exclude"), ContentSelectors: lines("content_selectors"),
		DropSelectors: lines("drop_selectors"), Langs: lines("langs"), Schedule: r.PostFormValue("schedule"), ContactURL: r.PostFormValue("contact_url"),
		MaxPages: int(num("max_pages")), MaxDepth: int(num("max_depth")), Rate: num("rate"), MaxRemoveShare: num("max_remove_share") / 100}
	return sr, ok
}

func (a *Admin) createSourceForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	sr, ok := rulesForm(r)
	src := sr.source(tenant, crawl.Source{})
	err := error(&sourceError{key: "sources.invalid.number", detail: "a limit is not a number"})
	if ok {
		if c, cerr := a.crawler(); cerr != nil {
			err = cerr
		} else if _, gerr := c.Source(tenant, src.ID); gerr == nil {
			err = &sourceError{key: "sources.invalid.exists", detail: "id: a source with this id exists"}
		} else {
			err = a.saveSource(r, p, src, nil)
		}
	}
	var se *sourceError
	if errors.As(err, &se) {
		srcs, _ := a.sourceViews(tenant)
		v := a.newView(w, r, p, "sources.title", "sources")
		v.Data = sourcesData{Sources: srcs, Form: sr, Detail: se.detail}
		v.Error = msg(v.Lang, se.key)
		a.render(w, r, http.StatusBadRequest, "sources", v)
		return
	}
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/sources/"+src.ID, "sourcesaved")
}

func (a *Admin) sourcePage(w http.ResponseWriter, r *http.Request, p *principal) {
	a.showSource(w, r, p, http.StatusOK, nil, nil)
}

// showSource renders a source's page: the stored rules, or form after an
// error, and its latest jobs.
func (a *Admin) showSource(w http.ResponseWriter, r *http.Request, p *principal, status int, form *SourceRules, se *sourceError) {
	tenant, id := r.PathValue("tenant"), r.PathValue("source")
	c, src, err := a.source(tenant, id)
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	jobs, err := c.Jobs(tenant, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := sourceData{Source: rulesOf(src), Jobs: jobs[:min(len(jobs), jobsShown)]}
	if form != nil {
		d.Source = *form
	}
	v := a.newView(w, r, p, "source.title", "sources")
	if se != nil {
		v.Error = msg(v.Lang, se.key)
		d.Detail = se.detail
	}
	v.Data = d
	a.render(w, r, status, "source", v)
}

func (a *Admin) sourceForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("source")
	_, old, err := a.source(tenant, id)
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	sr, ok := rulesForm(r)
	sr.ID = id
	if p.user.Role != RoleBeheerder {
		// The field is only on a beheerder's form.
		sr.AllowPrivate = old.AllowPrivate
	}
	err = &sourceError{key: "sources.invalid.number", detail: "a limit is not a number"}
	if ok {
		err = a.saveSource(r, p, sr.source(tenant, old), &old)
	}
	var se *sourceError
	if errors.As(err, &se) {
		a.showSource(w, r, p, http.StatusBadRequest, &sr, se)
		return
	}
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/sources/"+id, "sourcesaved")
}

func (a *Admin) runSourceForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	job, err := a.runSource(r, p, tenant, r.PathValue("source"))
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/jobs/"+job.ID, "crawlstarted")
}

func (a *Admin) deleteSourceForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	if err := a.deleteSource(r, p, tenant, r.PathValue("source")); err != nil {
		a.failContent(w, r, err)
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/sources", "sourcedeleted")
}

// tenantJob returns a job of the tenant; another tenant's is not found.
func (a *Admin) tenantJob(tenant, id string) (crawl.Job, error) {
	c, err := a.crawler()
	if err != nil {
		return crawl.Job{}, err
	}
	job, err := c.Job(id)
	if err == nil && job.Tenant != tenant {
		err = crawl.ErrNotFound
	}
	return job, err
}

func (a *Admin) jobPage(w http.ResponseWriter, r *http.Request, p *principal) {
	job, err := a.tenantJob(r.PathValue("tenant"), r.PathValue("job"))
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	failed := 0
	for _, n := range job.Counters.Failed {
		failed += n
	}
	v := a.newView(w, r, p, "job.title", "sources")
	v.Data = jobData{Job: job, Failed: failed, Running: job.Status == crawl.StatusRunning || job.Status == crawl.StatusQueued}
	a.render(w, r, http.StatusOK, "job", v)
}

// Admin API.

func (a *Admin) apiSources(w http.ResponseWriter, r *http.Request, p *principal) {
	srcs, err := a.sourceViews(r.PathValue("tenant"))
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, srcs)
}

func (a *Admin) apiSource(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("source")
	c, src, err := a.source(tenant, id)
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	v := SourceView{SourceRules: rulesOf(src)}
	if jobs, err := c.Jobs(tenant, id); err == nil && len(jobs) > 0 {
		v.LastJob = &jobs[0]
	}
	writeJSON(w, http.StatusOK, v)
}

// apiCreateSource adds a source: 201, or 409 when the id is taken.
func (a *Admin) apiCreateSource(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	var sr SourceRules
	if !readJSON(w, r, &sr) {
		return
	}
	c, err := a.crawler()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	src := sr.source(tenant, crawl.Source{})
	if _, err := c.Source(tenant, src.ID); err == nil {
		writeProblem(w, r, http.StatusConflict, "source exists", "sources.invalid.exists", "exists")
		return
	}
	if err := a.saveSource(r, p, src, nil); err != nil {
		a.failContent(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/admin/tenants/"+tenant+"/sources/"+src.ID)
	writeJSON(w, http.StatusCreated, SourceView{SourceRules: rulesOf(src)})
}

// apiPutSource replaces a source's rules; the id in the body, if any,
// must be the path's.
func (a *Admin) apiPutSource(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("source")
	var sr SourceRules
	if !readJSON(w, r, &sr) {
		return
	}
	if sr.ID != "" && sr.ID != id {
		writeProblem(w, r, http.StatusBadRequest, "id differs from the path", "sources.invalid.id", "invalid")
		return
	}
	sr.ID = id
	_, old, err := a.source(tenant, id)
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	src := sr.source(tenant, old)
	if err := a.saveSource(r, p, src, &old); err != nil {
		a.failContent(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SourceView{SourceRules: rulesOf(src)})
}

func (a *Admin) apiDeleteSource(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := a.deleteSource(r, p, r.PathValue("tenant"), r.PathValue("source")); err != nil {
		a.failContent(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRunSource starts a crawl: 202 with the job and its URL.
func (a *Admin) apiRunSource(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant := r.PathValue("tenant")
	job, err := a.runSource(r, p, tenant, r.PathValue("source"))
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/admin/tenants/"+tenant+"/jobs/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
}

// apiSourceJobs lists a source's latest jobs, newest first.
func (a *Admin) apiSourceJobs(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("source")
	c, err := a.crawler()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	if _, err := c.Source(tenant, id); err != nil {
		a.failContent(w, r, err)
		return
	}
	jobs, err := c.Jobs(tenant, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if jobs == nil {
		jobs = []crawl.Job{}
	}
	writeJSON(w, http.StatusOK, jobs[:min(len(jobs), jobsShown)])
}

func (a *Admin) apiJob(w http.ResponseWriter, r *http.Request, p *principal) {
	job, err := a.tenantJob(r.PathValue("tenant"), r.PathValue("job"))
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}
