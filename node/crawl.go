package node

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// crawlSink puts crawled pages into a tenant's content. Pages that arrive
// together (the crawler's workers, several jobs) are committed together:
// one ingest batch, one fsync, one index update, while each page is still
// all-or-nothing for readers and after a crash.
type crawlSink struct {
	n    *Node
	puts chan *pagePut
}

// pagePut is one page waiting for its batch.
type pagePut struct {
	ctx    context.Context
	tenant string
	page   ingest.Page
	done   chan error
}

// maxGroup bounds the pages committed together.
const maxGroup = 64

func newCrawlSink(n *Node) *crawlSink {
	return &crawlSink{n: n, puts: make(chan *pagePut)}
}

// run commits the pages put, batching those that wait, until stop closes.
func (s *crawlSink) run(stop <-chan struct{}) {
	for {
		var first *pagePut
		select {
		case first = <-s.puts:
		case <-stop:
			return
		}
		group := []*pagePut{first}
	more:
		for len(group) < maxGroup {
			select {
			case p := <-s.puts:
				group = append(group, p)
			default:
				break more
			}
		}
		byTenant := map[string][]*pagePut{}
		for _, p := range group {
			if p.ctx.Err() != nil {
				p.done <- p.ctx.Err()
				continue
			}
			byTenant[p.tenant] = append(byTenant[p.tenant], p)
		}
		for tenant, ps := range byTenant {
			s.commit(tenant, ps)
		}
	}
}

// commit ingests one tenant's pages as one batch and tells each Put.
func (s *crawlSink) commit(tenant string, ps []*pagePut) {
	pages := make([]ingest.Page, len(ps))
	for i, p := range ps {
		pages[i] = p.page
	}
	// The batch belongs to several requests; it runs to the end even when
	// one of them gives up, so the others are not lost.
	ctx := context.WithoutCancel(ps[0].ctx)
	_, err := s.n.Ingest(ctx, retrieval.TenantScope(tenant), pages, func(p ingest.Page, err error) {
		s.n.log.WarnContext(ctx, "crawled page not indexed", "tenant", tenant, "doc", p.ID, "err", err)
	})
	for _, p := range ps {
		p.done <- err
	}
}

// Put indexes one crawled page and returns when it is committed. A page
// without text is skipped, not an error: the crawl goes on.
func (s *crawlSink) Put(ctx context.Context, tenant string, d crawl.Document) error {
	if _, err := s.n.tenant(tenant); err != nil {
		return err
	}
	p := ingest.Page{
		ID: d.ID, URL: cmp.Or(d.Canonical, d.URL), Title: d.Title, HTML: d.HTML, Text: d.Text, Lang: d.Lang,
		Meta: &store.DocMeta{
			Canonical: d.Canonical, Headings: d.Headings, ContentType: d.ContentType, Source: d.SourceID,
			ContentHash: d.Hash, Fetched: d.Fetched.UTC(), Modified: d.Modified.UTC(),
		},
	}
	if p.HTML != "" && p.Text != "" {
		p.Text = ""
	}
	if !d.Modified.IsZero() {
		p.Updated = d.Modified.UTC().Format(time.DateOnly)
	}
	put := &pagePut{ctx: ctx, tenant: tenant, page: p, done: make(chan error, 1)}
	select {
	case s.puts <- put:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-put.done
}

// Remove drops documents of the tenant; unknown ids are ignored.
func (s *crawlSink) Remove(ctx context.Context, tenant string, ids []string) error {
	return s.n.Remove(ctx, retrieval.TenantScope(tenant), ids)
}

// Crawler returns the node's crawler: sources, jobs and crawls of the
// tenants' websites.
func (n *Node) Crawler() *crawl.Crawler { return n.crawler }

// cronParser reads the schedules of sources: standard five-field cron
// ("0 3 * * *" is every night at 3:00) and descriptors such as "@daily".
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidSchedule checks a source's schedule; empty means "only on demand".
func ValidSchedule(s string) error {
	if s == "" {
		return nil
	}
	if _, err := cronParser.Parse(s); err != nil {
		return fmt.Errorf("schedule %q: %w (use cron syntax such as \"0 3 * * *\", or @daily)", s, err)
	}
	return nil
}

// RunScheduler resumes crawls a stopped process left unfinished, then
// starts each scheduled source's crawl when its schedule says, until ctx
// ends. A source whose last job started after the previous scheduled time
// is not started again.
func (n *Node) RunScheduler(ctx context.Context, tick time.Duration) {
	since := time.Now()
	if ids, err := n.crawler.Resume(ctx); err != nil {
		n.log.Error("resume crawls", "err", err)
	} else if len(ids) > 0 {
		n.log.Info("resumed crawls", "jobs", len(ids))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		n.startDue(ctx, since, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startDue starts the crawl of every scheduled source that is due at now;
// since is when scheduling began.
func (n *Node) startDue(ctx context.Context, since, now time.Time) {
	tenants, err := n.store.Tenants()
	if err != nil {
		n.log.Error("scheduler: list tenants", "err", err)
		return
	}
	for _, t := range tenants {
		srcs, err := n.crawler.Sources(t.ID)
		if err != nil {
			n.log.Error("scheduler: list sources", "tenant", t.ID, "err", err)
			continue
		}
		for _, src := range srcs {
			if src.Schedule == "" {
				continue
			}
			sched, err := cronParser.Parse(src.Schedule)
			if err != nil {
				n.log.Error("scheduler: bad schedule", "tenant", t.ID, "source", src.ID, "err", err)
				continue
			}
			jobs, err := n.crawler.Jobs(t.ID, src.ID)
			if err != nil {
				n.log.Error("scheduler: list jobs", "tenant", t.ID, "source", src.ID, "err", err)
				continue
			}
			if !due(sched, jobs, since, now) {
				continue
			}
			switch id, err := n.crawler.Start(ctx, src); {
			case errors.Is(err, crawl.ErrJobActive):
			case err != nil:
				n.log.Error("scheduler: start crawl", "tenant", t.ID, "source", src.ID, "err", err)
			default:
				n.log.Info("scheduled crawl started", "tenant", t.ID, "source", src.ID, "job", id)
			}
		}
	}
}

// due reports whether a source with schedule s and jobs (newest first)
// should start a crawl at now: a scheduled time has passed since its
// newest job started, or, for a source that never ran, since scheduling
// began. A nightly crawl missed while the node was down runs once when it
// is back.
func due(s cron.Schedule, jobs []crawl.Job, since, now time.Time) bool {
	last := since
	if len(jobs) > 0 {
		last = jobs[0].Started
	}
	return !s.Next(last).After(now)
}

// NewTriggerToken creates a new trigger token for the tenant's crawl API,
// stores its hash (replacing any earlier token) and returns it. It is shown
// once; only the hash is kept.
func (n *Node) NewTriggerToken(tenant string) (string, error) {
	t, err := n.tenant(tenant)
	if err != nil {
		return "", err
	}
	var b [32]byte
	rand.Read(b[:])
	token := "ast_" + base64.RawURLEncoding.EncodeToString(b[:])
	t.TokenHash = tokenHash(token)
	if err := n.store.PutTenant(t); err != nil {
		return "", err
	}
	return token, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// authorized reports whether r carries the tenant's trigger token as
// "Authorization: Bearer …".
func (n *Node) authorized(r *http.Request, tenant store.Tenant) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tenant.TokenHash == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tokenHash(token)), []byte(tenant.TokenHash)) == 1
}

// handleCrawlTrigger starts a crawl of a stored source: 202 with the job,
// its id and its URL.
func (n *Node) handleCrawlTrigger(w http.ResponseWriter, r *http.Request) {
	t, ok := n.crawlAuth(w, r)
	if !ok {
		return
	}
	src, err := n.crawler.Source(t.ID, r.PathValue("source"))
	if errors.Is(err, crawl.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "unknown source", "Deze bron bestaat niet.")
		return
	}
	if err != nil {
		n.fail(w, r, err)
		return
	}
	id, err := n.crawler.Start(context.WithoutCancel(r.Context()), src)
	if errors.Is(err, crawl.ErrJobActive) {
		// The source is being crawled: that job is the answer.
		jobs, jerr := n.crawler.Jobs(t.ID, src.ID)
		if jerr == nil && len(jobs) > 0 {
			id, err = jobs[0].ID, nil
		}
	}
	if err != nil {
		n.fail(w, r, err)
		return
	}
	job, err := n.crawler.Job(id)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tenants/"+t.ID+"/jobs/"+id)
	n.log.InfoContext(r.Context(), "crawl triggered", "tenant", t.ID, "source", src.ID, "job", id)
	writeJSON(w, http.StatusAccepted, job)
}

// handleCrawlJob shows a crawl job's progress.
func (n *Node) handleCrawlJob(w http.ResponseWriter, r *http.Request) {
	t, ok := n.crawlAuth(w, r)
	if !ok {
		return
	}
	job, err := n.crawler.Job(r.PathValue("job"))
	if errors.Is(err, crawl.ErrNotFound) || err == nil && job.Tenant != t.ID {
		writeProblem(w, http.StatusNotFound, "unknown job", "Deze taak bestaat niet.")
		return
	}
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

// crawlAuth resolves the tenant and checks the trigger token; it writes the
// problem response itself when either fails.
func (n *Node) crawlAuth(w http.ResponseWriter, r *http.Request) (store.Tenant, bool) {
	t, err := n.tenant(r.PathValue("tenant"))
	if err != nil {
		// Unknown tenant and wrong token look alike to a caller without a
		// token, so tenants cannot be probed.
		w.Header().Set("WWW-Authenticate", `Bearer realm="assistent"`)
		writeProblem(w, http.StatusUnauthorized, "unauthorized", "Een geldige sleutel is nodig.")
		return store.Tenant{}, false
	}
	if !n.authorized(r, t) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="assistent"`)
		writeProblem(w, http.StatusUnauthorized, "unauthorized", "Een geldige sleutel is nodig.")
		return store.Tenant{}, false
	}
	return t, true
}
