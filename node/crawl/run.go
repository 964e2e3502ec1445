package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/node/crawl/extract"
)

// maxSitemapNesting bounds sitemap indexes within indexes.
const maxSitemapNesting = 3

// removeBatch is how many IDs one Sink.Remove call gets.
const removeBatch = 500

// run is one execution of a job in this process.
type run struct {
	c     *Crawler
	id    string
	src   Source // with defaults
	scope *scope
	fetch *fetcher
	log   *slog.Logger
	// stop ends dispatching and waiting; work bounds requests and sink
	// calls already under way, so a stopped run finishes its pages.
	stop, work context.Context

	mu      sync.Mutex
	rec     *jobRecord // the job as last stored, guarded by mu
	claimed map[string]bool

	commits chan *result
}

// result is the outcome of one queue item, stored in one transaction with
// other results.
type result struct {
	it      item
	rec     *urlRecord // new state of the URL record; nil: unchanged
	hops    []string   // redirect targets to mark seen
	enqueue []item
	count   func(*Counters)
	errs    []JobError
	// incomplete says the run can no longer vouch for missing URLs.
	incomplete string
	done       chan error
}

// execute runs the job to its end or until ctx ends.
func (c *Crawler) execute(ctx context.Context, id string, a *active) (Job, error) {
	defer c.release(id)
	var rec *jobRecord
	err := c.db.Update(func(tx *bolt.Tx) error {
		var err error
		if rec, err = getJob(tx, id); err != nil {
			return err
		}
		src := rec.Source.withDefaults()
		if openFrontier(tx, id) == nil {
			if err := seed(tx, id, src); err != nil {
				return err
			}
		}
		rec.Job.Status = StatusRunning
		return putJob(tx, rec)
	})
	if err != nil {
		return Job{}, fmt.Errorf("crawl: start job %s: %w", id, err)
	}
	c.progress(rec.Job)
	src := rec.Source.withDefaults()
	sc, err := newScope(src)
	if err != nil {
		return c.finish(rec, StatusFailed, err.Error())
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	r := &run{
		c: c, id: id, src: src, scope: sc, log: c.log.With("job", id, "tenant", src.Tenant, "source", src.ID),
		stop: ctx, work: work, rec: rec, claimed: map[string]bool{},
		commits: make(chan *result, c.opts.Workers),
	}
	r.fetch = newFetcher(src, sc, ctx)
	defer r.fetch.close()

	fatal := r.crawl()
	switch cause := context.Cause(ctx); {
	case fatal != nil:
		return c.finish(r.snapshot(), StatusFailed, fatal.Error())
	case errors.Is(cause, errCancelled):
		return c.finish(r.snapshot(), StatusCancelled, "cancelled")
	case ctx.Err() != nil:
		r.log.Info("crawl: job interrupted; Resume continues it")
		return r.snapshot().Job, ctx.Err()
	}
	return r.finalize()
}

// seed creates the frontier with the sitemaps and start URLs.
func seed(tx *bolt.Tx, id string, src Source) error {
	f, err := createFrontier(tx, id)
	if err != nil {
		return err
	}
	for _, raw := range src.Sitemaps {
		if u, err := normalizeURL(raw); err == nil {
			if _, _, err := f.push(item{URL: u.String(), Sitemap: true}, src.MaxPages); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
	}
	for _, raw := range src.StartURLs {
		if u, err := normalizeURL(raw); err == nil {
			if _, _, err := f.push(item{URL: u.String(), Start: true}, src.MaxPages); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
	}
	return nil
}

// finish stores the job's final status and drops its frontier.
func (c *Crawler) finish(rec *jobRecord, status Status, msg string) (Job, error) {
	rec.Job.Status = status
	rec.Job.Ended = c.opts.Now()
	if status == StatusFailed {
		rec.Job.Error = msg
	}
	err := c.db.Update(func(tx *bolt.Tx) error {
		if err := deleteFrontier(tx, rec.Job.ID); err != nil {
			return err
		}
		if err := putJob(tx, rec); err != nil {
			return err
		}
		return pruneJobs(tx, rec.Job.Tenant, rec.Job.SourceID)
	})
	if err != nil {
		return rec.Job, fmt.Errorf("crawl: finish job %s: %w", rec.Job.ID, err)
	}
	c.progress(rec.Job)
	if status == StatusFailed {
		return rec.Job, fmt.Errorf("crawl: job %s failed: %s", rec.Job.ID, msg)
	}
	return rec.Job, nil
}

func (r *run) snapshot() *jobRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := *r.rec
	cp.Job = r.rec.Job.clone()
	return &cp
}

// robotsSitemaps queues the sitemaps that the robots.txt of the start
// URLs' and configured sitemaps' origins list, before anything else is
// dispatched, so that they are read like configured ones (sitemaps sort
// before pages in the queue). robots.txt is fetched here once per origin,
// as the first page of that origin would.
func (r *run) robotsSitemaps() error {
	origins := map[string]*url.URL{}
	for _, raw := range append(slices.Clone(r.src.StartURLs), r.src.Sitemaps...) {
		if u, err := normalizeURL(raw); err == nil {
			origins[u.Scheme+"://"+u.Host] = u
		}
	}
	var items []item
	for _, u := range origins {
		if _, err := r.fetch.robotsFor(r.work, u); err != nil {
			return nil // stopped: the run resumes later
		}
		for _, raw := range r.fetch.takeSitemaps(u) {
			if v, err := url.Parse(raw); err == nil && v.IsAbs() {
				if v, err = normalize(v); err == nil && r.scope.hostAllowed(v) {
					items = append(items, item{URL: v.String(), Sitemap: true})
				}
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	return r.c.db.Update(func(tx *bolt.Tx) error {
		f := openFrontier(tx, r.id)
		if f == nil {
			return errors.New("frontier is gone")
		}
		for _, it := range items {
			if _, _, err := f.push(it, r.src.MaxPages); err != nil {
				return fmt.Errorf("queue robots.txt sitemap: %w", err)
			}
		}
		return nil
	})
}

// crawl dispatches the queue to the workers until it is empty or the run
// stops; it returns a fatal error (store or sink).
func (r *run) crawl() error {
	if err := r.robotsSitemaps(); err != nil {
		return err
	}
	workers := r.c.opts.Workers
	work := make(chan item)
	completed := make(chan bool, workers) // true for a sitemap
	var fatalMu sync.Mutex
	var fatal error
	setFatal := func(err error) {
		fatalMu.Lock()
		if fatal == nil {
			fatal = err
		}
		fatalMu.Unlock()
	}
	getFatal := func() error {
		fatalMu.Lock()
		defer fatalMu.Unlock()
		return fatal
	}

	commitDone := make(chan struct{})
	go func() {
		defer close(commitDone)
		r.committer()
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				res, err := r.process(it)
				if err == nil && res != nil {
					res.done = make(chan error, 1)
					r.commits <- res
					err = <-res.done
				}
				if err != nil {
					setFatal(err)
				}
				completed <- it.Sitemap
			}
		}()
	}

	var cursor []byte
	inflight, inflightSitemaps := 0, 0
	onDone := func(sitemap bool) {
		inflight--
		if sitemap {
			inflightSitemaps--
		}
	}
dispatch:
	for r.stop.Err() == nil && getFatal() == nil {
		items, err := loadQueue(r.c.db, r.id, cursor, 64)
		if err != nil {
			setFatal(fmt.Errorf("load queue: %w", err))
			break
		}
		if len(items) == 0 {
			if inflight == 0 {
				break
			}
			select {
			case s := <-completed:
				onDone(s)
			case <-r.stop.Done():
			}
			continue
		}
		for _, it := range items {
			// Pages wait until every sitemap is read, so that their
			// lastmod is known.
			if !it.Sitemap && inflightSitemaps > 0 {
				for inflightSitemaps > 0 {
					select {
					case s := <-completed:
						onDone(s)
					case <-r.stop.Done():
						break dispatch
					}
				}
				// Reload: the sitemaps just read may have queued more
				// sitemaps, which sort before this page.
				continue dispatch
			}
			sent := false
			for !sent {
				select {
				case work <- it:
					sent = true
					inflight++
					if it.Sitemap {
						inflightSitemaps++
					}
					cursor = it.key
				case s := <-completed:
					onDone(s)
					if getFatal() != nil {
						break dispatch
					}
				case <-r.stop.Done():
					break dispatch
				}
			}
		}
	}
	close(work)
	wg.Wait()
	close(r.commits)
	<-commitDone
	return getFatal()
}

// committer stores results in batches: whatever arrived while the previous
// transaction was being written goes into the next one, so each page is
// durable before its worker moves on, without one fsync per page.
func (r *run) committer() {
	for first := range r.commits {
		batch := []*result{first}
	drain:
		for len(batch) < 256 {
			select {
			case res, ok := <-r.commits:
				if !ok {
					break drain
				}
				batch = append(batch, res)
			default:
				break drain
			}
		}
		err := r.store(batch)
		for _, res := range batch {
			res.done <- err
		}
	}
}

// store applies a batch of results in one transaction.
func (r *run) store(batch []*result) error {
	r.mu.Lock()
	next := *r.rec
	next.Job = r.rec.Job.clone()
	r.mu.Unlock()
	err := r.c.db.Update(func(tx *bolt.Tx) error {
		f := openFrontier(tx, r.id)
		if f == nil {
			return errors.New("frontier is gone")
		}
		urls, err := urlBucket(tx, r.src.Tenant, r.src.ID)
		if err != nil {
			return err
		}
		for _, res := range batch {
			for _, h := range res.hops {
				if err := f.markSeen(h); err != nil {
					return err
				}
			}
			if res.rec != nil {
				if err := putJSON(urls, []byte(res.rec.URL), res.rec); err != nil {
					return err
				}
			}
			for _, it := range res.enqueue {
				if !it.Sitemap && r.isClaimed(it.URL) {
					continue // fetched as a redirect target of another URL
				}
				_, truncated, err := f.push(it, r.src.MaxPages)
				if err != nil {
					return fmt.Errorf("enqueue: %w", err)
				}
				next.Truncated = next.Truncated || truncated
			}
			if err := f.queue.Delete(res.it.key); err != nil {
				return err
			}
			if res.count != nil {
				if next.Job.Counters.Failed == nil {
					next.Job.Counters.Failed = map[string]int{}
				}
				res.count(&next.Job.Counters)
			}
			next.Job.Errors = append(next.Job.Errors, res.errs...)
			if n := len(next.Job.Errors); n > maxJobErrors {
				next.Job.Errors = next.Job.Errors[n-maxJobErrors:]
			}
			if next.Incomplete == "" {
				next.Incomplete = res.incomplete
			}
		}
		return putJob(tx, &next)
	})
	if err != nil {
		return fmt.Errorf("store results: %w", err)
	}
	r.mu.Lock()
	r.rec = &next
	r.mu.Unlock()
	r.c.progress(next.Job)
	return nil
}

func (r *run) isClaimed(u string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.claimed[u]
}

// claimURL reports whether redirect target u is new to the run, and if so
// claims it for the caller.
func (r *run) claimURL(u *url.URL) bool {
	key := u.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claimed[key] {
		return false
	}
	seen := false
	_ = r.c.db.View(func(tx *bolt.Tx) error {
		if f := openFrontier(tx, r.id); f != nil {
			seen = f.seen.Get(seenKey(false, key)) != nil
		}
		return nil
	})
	if seen {
		return false
	}
	r.claimed[key] = true
	return true
}

func (r *run) record(u string) (*urlRecord, error) {
	var rec *urlRecord
	err := r.c.db.View(func(tx *bolt.Tx) error {
		b, err := urlBucket(tx, r.src.Tenant, r.src.ID)
		if err != nil || b == nil {
			return err
		}
		rec, err = getURL(b, u)
		return err
	})
	return rec, err
}

// process handles one queue item. A nil result means "do not store": the
// run stopped and the item is redone on resume. The error is fatal.
func (r *run) process(it item) (*result, error) {
	u, err := normalizeURL(it.URL)
	if err != nil {
		return &result{it: it}, nil
	}
	var res *result
	if it.Sitemap {
		res = r.processSitemap(it, u)
	} else {
		res, err = r.processPage(it, u)
		if err != nil {
			return nil, err
		}
	}
	if res == nil {
		return nil, nil
	}
	return res, nil
}

// failed is the result of a URL that yielded nothing, or nil when the run
// stopped meanwhile (so the URL is redone on resume).
func (r *run) failed(it item, u string, fl *failure) *result {
	if r.stop.Err() != nil {
		return nil
	}
	res := &result{it: it}
	res.count = func(c *Counters) { c.Failed[fl.reason]++ }
	res.errs = []JobError{{URL: u, Reason: fl.reason, Message: fl.msg, Time: r.c.opts.Now()}}
	if fl.unavailable {
		res.incomplete = fl.Error()
	}
	r.log.Debug("crawl: url failed", "url", u, "reason", fl.reason, "msg", fl.msg)
	return res
}

func (r *run) processSitemap(it item, u *url.URL) *result {
	resp, fl := r.fetch.get(r.work, u, getOptions{purpose: purposeSitemap})
	if fl == nil && resp.status != http.StatusOK {
		fl = fail(ReasonSitemap, "status %d", resp.status)
	}
	var pages, maps []sitemapEntry
	if fl == nil {
		var err error
		if pages, maps, err = parseSitemap(resp.body, max(r.src.MaxBytes, maxSitemapBytes)); err != nil {
			fl = fail(ReasonSitemap, "%v", err)
		}
	}
	if fl != nil {
		// Without the sitemap the run cannot know which pages are gone.
		fl = &failure{reason: ReasonSitemap, msg: fl.Error(), unavailable: true}
		return r.failed(it, u.String(), fl)
	}
	res := &result{it: it, count: func(c *Counters) { c.Sitemaps++ }}
	if it.Depth < maxSitemapNesting {
		for _, e := range maps {
			if v, err := u.Parse(e.loc); err == nil {
				if v, err = normalize(v); err == nil && r.scope.hostAllowed(v) {
					res.enqueue = append(res.enqueue, item{URL: v.String(), Sitemap: true, Depth: it.Depth + 1})
				}
			}
		}
	}
	for _, e := range pages {
		if v, err := u.Parse(e.loc); err == nil {
			if v, err = normalize(v); err == nil && r.scope.hostAllowed(v) && r.scope.filtered(v.String()) {
				res.enqueue = append(res.enqueue, item{URL: v.String(), Lastmod: e.lastmod})
			}
		}
	}
	return res
}

func (r *run) processPage(it item, u *url.URL) (res *result, err error) {
	now := r.c.opts.Now()
	old, err := r.record(u.String())
	if err != nil {
		return nil, err
	}
	if old != nil && !it.Lastmod.IsZero() && old.SitemapLastmod.Equal(it.Lastmod) && old.Hash != "" && old.GoneRun == "" {
		rec := *old
		rec.GoneRun = ""
		res = &result{it: it, rec: &rec, count: func(c *Counters) { c.SkippedLastmod++ }}
		res.enqueue = r.follow(rec.Links, it.Depth)
		return res, nil
	}
	opt := getOptions{
		purpose: purposePage,
		claim:   r.claimURL,
		conditional: func(v *url.URL) (string, string) {
			rec := old
			if v.String() != u.String() {
				rec, _ = r.record(v.String())
			}
			if rec == nil || rec.Hash == "" {
				return "", ""
			}
			return rec.ETag, rec.LastModified
		},
	}
	resp, fl := r.fetch.get(r.work, u, opt)
	gotResponse := func(c *Counters) {}
	if resp != nil && !resp.claimed {
		gotResponse = func(c *Counters) { c.Fetched++ }
	}
	var hops []string
	if resp != nil {
		hops = resp.hops
	}
	if fl != nil && it.Start {
		// A site whose front door is gone or broken is more likely
		// misconfigured than emptied: do not let this run remove.
		defer func() {
			if res != nil {
				res.incomplete = fmt.Sprintf("start URL %s: %s", u, fl.Error())
			}
		}()
	}
	if fl != nil && fl.reason == reasonGone {
		final := resp.url.String()
		rec := old
		if final != u.String() {
			if rec, err = r.record(final); err != nil {
				return nil, err
			}
		}
		res = &result{it: it, hops: hops, count: func(c *Counters) { gotResponse(c); c.Gone++ }}
		if rec != nil {
			cp := *rec
			cp.GoneRun = r.id
			res.rec = &cp
		}
		return res, nil
	}
	if fl != nil {
		res = r.failed(it, u.String(), fl)
		if res != nil {
			res.hops = hops
			count := res.count
			res.count = func(c *Counters) { gotResponse(c); count(c) }
		}
		return res, nil
	}
	if resp.claimed {
		// Redirected to a URL this run already has: nothing more to do.
		return &result{it: it, hops: hops}, nil
	}
	final := resp.url
	rec := old
	if final.String() != u.String() {
		if rec, err = r.record(final.String()); err != nil {
			return nil, err
		}
	}
	if rec == nil {
		rec = &urlRecord{URL: final.String()}
	} else {
		cp := *rec
		rec = &cp
	}
	if resp.status == http.StatusNotModified {
		if rec.Hash == "" {
			return r.failed(it, final.String(), fail(ReasonStatus4xx, "304 to an unconditional request")), nil
		}
		rec.LastFetched, rec.GoneRun = now, ""
		if !it.Lastmod.IsZero() {
			rec.SitemapLastmod = it.Lastmod
		}
		res = &result{it: it, rec: rec, hops: hops, count: func(c *Counters) { c.Fetched++; c.NotModified++ }}
		res.enqueue = r.follow(rec.Links, it.Depth)
		return res, nil
	}

	var page extract.Page
	contentType := "text/html"
	if resp.kind == "pdf" {
		contentType = "application/pdf"
		page, err = extract.PDF(resp.body)
	} else {
		page, err = extract.HTML(resp.body, final, r.src.Rules)
	}
	if err != nil {
		res = r.failed(it, final.String(), fail(ReasonExtract, "%v", err))
		if res != nil {
			res.hops = hops
			res.count = func(c *Counters) { c.Fetched++; c.Failed[ReasonExtract]++ }
		}
		return res, nil
	}
	var links []string
	if !page.NoFollow {
		links = r.inScope(page.Links)
	}
	canonical := canonicalOf(page.Canonical, final, r.scope)
	docID := DocID(canonical)
	hash := contentHash(page)

	rec.ETag = resp.header.Get("ETag")
	rec.LastModified = resp.header.Get("Last-Modified")
	if !it.Lastmod.IsZero() {
		rec.SitemapLastmod = it.Lastmod
	}
	rec.Links = links
	rec.LastFetched = now
	rec.GoneRun = ""
	otherLang := len(r.src.Langs) > 0 && page.Lang != "" && !slices.Contains(r.src.Langs, page.Lang)
	rec.NoIndex = page.NoIndex || otherLang
	res = &result{it: it, rec: rec, hops: hops, enqueue: r.follow(links, it.Depth)}
	switch {
	case rec.NoIndex:
		if rec.Indexed {
			rec.Orphans = appendNew(rec.Orphans, rec.DocID)
		}
		rec.Indexed, rec.DocID, rec.Hash = false, docID, hash
		if otherLang && !page.NoIndex {
			res.count = func(c *Counters) { c.Fetched++; c.OtherLanguage++ }
		} else {
			res.count = func(c *Counters) { c.Fetched++; c.NoIndex++ }
		}
	case rec.Indexed && rec.Hash == hash && rec.DocID == docID:
		res.count = func(c *Counters) { c.Fetched++; c.Unchanged++ }
	default:
		modified := page.Modified
		if modified.IsZero() {
			if t, err := http.ParseTime(rec.LastModified); err == nil {
				modified = t
			} else {
				modified = it.Lastmod
			}
		}
		doc := Document{
			ID: docID, URL: final.String(), Canonical: canonical, Title: page.Title,
			Headings: page.Headings, HTML: page.HTML, Text: page.Text, ContentType: contentType,
			Lang: page.Lang, Hash: hash, SourceID: r.src.ID, Fetched: now, Modified: modified,
		}
		if err := r.c.sink.Put(r.work, r.src.Tenant, doc); err != nil {
			return nil, fmt.Errorf("sink put %s: %w", final, err)
		}
		wasIndexed := rec.Indexed
		if rec.Indexed && rec.DocID != docID {
			rec.Orphans = appendNew(rec.Orphans, rec.DocID)
		}
		rec.Indexed, rec.DocID, rec.Hash = true, docID, hash
		if wasIndexed {
			res.count = func(c *Counters) { c.Fetched++; c.Changed++ }
		} else {
			res.count = func(c *Counters) { c.Fetched++; c.New++ }
		}
	}
	return res, nil
}

func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// inScope keeps the links the run may crawl, normalised.
func (r *run) inScope(links []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range links {
		u, err := normalizeURL(l)
		if err != nil || !r.scope.hostAllowed(u) {
			continue
		}
		s := u.String()
		if seen[s] || !r.scope.filtered(s) {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// follow turns a page's links into queue items one level deeper, within
// MaxDepth.
func (r *run) follow(links []string, depth int) []item {
	if depth+1 > r.src.MaxDepth {
		return nil
	}
	items := make([]item, 0, len(links))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range links {
		if r.claimed[l] {
			continue // fetched as a redirect target of another URL
		}
		items = append(items, item{URL: l, Depth: depth + 1})
	}
	return items
}

// contentHash is the sha256 of what the node indexes of a page.
func contentHash(p extract.Page) string {
	h := sha256.New()
	for _, s := range []string{p.Title, p.Lang, p.Canonical, p.HTML, p.Text} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	for _, s := range p.Headings {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	if !p.Modified.IsZero() {
		h.Write([]byte(p.Modified.UTC().Format(time.RFC3339)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// finalize ends a run whose queue is empty: a complete run counts missing
// URLs and removes what is gone; an incomplete one removes nothing.
func (r *run) finalize() (Job, error) {
	rec := r.snapshot()
	job := &rec.Job
	ok := job.Counters.New + job.Counters.Changed + job.Counters.Unchanged + job.Counters.NotModified +
		job.Counters.SkippedLastmod + job.Counters.NoIndex + job.Counters.OtherLanguage + job.Counters.Gone
	failMsg := ""
	switch {
	case rec.Incomplete != "":
		failMsg = "incomplete run, nothing removed: " + rec.Incomplete
	case ok == 0:
		failMsg = "no page could be fetched, nothing removed"
	}
	complete := failMsg == ""
	countMissing := complete && !rec.Truncated

	type change struct {
		url    string
		rec    *urlRecord // nil: delete
		orig   urlRecord  // the record before this run, for a held removal
		remove []string
	}
	var changes []change
	live := map[string]bool{}
	indexed := 0
	err := r.c.db.View(func(tx *bolt.Tx) error {
		f := openFrontier(tx, r.id)
		if f == nil {
			return errors.New("frontier is gone")
		}
		urls, err := urlBucket(tx, r.src.Tenant, r.src.ID)
		if err != nil || urls == nil {
			return err
		}
		return urls.ForEach(func(k, v []byte) error {
			var u urlRecord
			if _, err := getJSON(urls, k, &u); err != nil {
				return err
			}
			seen := f.seen.Get(seenKey(false, u.URL)) != nil
			if u.Indexed {
				indexed++
			}
			ch := change{url: u.URL, rec: &u, orig: u}
			if seen {
				u.LastSeenRun, u.MissingRuns = r.id, 0
			} else if countMissing {
				u.MissingRuns++
			}
			if complete {
				gone := u.GoneRun == r.id || u.MissingRuns >= r.src.RemoveAfter
				if gone {
					if u.Indexed {
						ch.remove = append(ch.remove, u.DocID)
					}
					ch.rec = nil
				}
				ch.remove = append(ch.remove, u.Orphans...)
				if ch.rec != nil {
					u.Orphans = nil
				}
			}
			if ch.rec != nil && u.Indexed {
				live[u.DocID] = true
			}
			changes = append(changes, ch)
			return nil
		})
	})
	if err != nil {
		return r.c.finish(rec, StatusFailed, fmt.Sprintf("finalize: %v", err))
	}
	var ids []string
	dup := map[string]bool{}
	for _, ch := range changes {
		for _, id := range ch.remove {
			if id != "" && !live[id] && !dup[id] {
				dup[id] = true
				ids = append(ids, id)
			}
		}
	}
	if limit := max(massRemovalFloor, int(r.src.MaxRemoveShare*float64(indexed))); r.src.MaxRemoveShare < 1 && len(ids) > limit {
		// Too much at once: more likely a broken or moved site than that
		// many pages withdrawn. Remove nothing and keep every URL record as
		// it was (its missing count too), so the next run decides again.
		failMsg = fmt.Sprintf("removal held: this run would remove %d of %d indexed pages (more than %.0f%%); nothing removed. "+
			"If the site really dropped them, run the source once with max_remove_share 1", len(ids), indexed, r.src.MaxRemoveShare*100)
		complete = false
		r.log.Warn("crawl: mass removal held", "tenant", r.src.Tenant, "source", r.src.ID, "would_remove", len(ids), "indexed", indexed)
		for i := range changes {
			orig := changes[i].orig
			changes[i].rec = &orig
		}
		ids = nil
	}
	for start := 0; start < len(ids); start += removeBatch {
		end := min(start+removeBatch, len(ids))
		if err := r.c.sink.Remove(r.work, r.src.Tenant, ids[start:end]); err != nil {
			return r.c.finish(rec, StatusFailed, fmt.Sprintf("sink remove: %v", err))
		}
	}
	job.Counters.Removed += len(ids)
	job.Ended = r.c.opts.Now()
	job.Status = StatusDone
	if !complete {
		job.Status, job.Error = StatusFailed, failMsg
	}
	err = r.c.db.Update(func(tx *bolt.Tx) error {
		urls, err := urlBucket(tx, r.src.Tenant, r.src.ID)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if ch.rec == nil {
				err = urls.Delete([]byte(ch.url))
			} else {
				err = putJSON(urls, []byte(ch.url), ch.rec)
			}
			if err != nil {
				return err
			}
		}
		if err := deleteFrontier(tx, r.id); err != nil {
			return err
		}
		if err := putJob(tx, rec); err != nil {
			return err
		}
		return pruneJobs(tx, r.src.Tenant, r.src.ID)
	})
	if err != nil {
		return *job, fmt.Errorf("crawl: finalize job %s: %w", r.id, err)
	}
	r.c.progress(*job)
	r.log.Info("crawl: job ended", "status", job.Status, "fetched", job.Counters.Fetched,
		"new", job.Counters.New, "changed", job.Counters.Changed, "removed", job.Counters.Removed)
	if !complete {
		return *job, fmt.Errorf("crawl: job %s failed: %s", r.id, failMsg)
	}
	return *job, nil
}
