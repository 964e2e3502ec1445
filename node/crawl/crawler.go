package crawl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Status is where a job is in its life.
type Status string

// Job statuses. A job whose process died, or whose Run context ended,
// stays StatusRunning in the store until Resume continues it.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusDone      Status = "done"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Counters count what a job did. Each URL counts once in Fetched plus at
// most one of the outcome counters.
type Counters struct {
	// Fetched counts page requests that got an HTTP response (after
	// retries and redirects).
	Fetched int `json:"fetched"`
	// Sitemaps counts sitemaps read.
	Sitemaps       int `json:"sitemaps"`
	New            int `json:"new"`
	Changed        int `json:"changed"`
	Unchanged      int `json:"unchanged"`       // fetched, same content hash: no sink call
	NotModified    int `json:"not_modified"`    // 304 on a conditional request
	SkippedLastmod int `json:"skipped_lastmod"` // sitemap lastmod unchanged: not requested
	NoIndex        int `json:"noindex"`         // pages asking not to be indexed
	OtherLanguage  int `json:"other_language"`  // pages in a language the source does not index
	Gone           int `json:"gone"`            // 404 or 410
	// Removed counts document IDs removed from the sink at the end of the
	// run: gone, missing for RemoveAfter runs, noindex or re-keyed.
	Removed int `json:"removed"`
	// Failed counts URLs that yielded nothing, by reason (the Reason…
	// constants).
	Failed map[string]int `json:"failed,omitempty"`
}

// JobError is one failed URL.
type JobError struct {
	URL     string    `json:"url"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// maxJobErrors is how many JobErrors a job keeps (the latest).
const maxJobErrors = 100

// Job is one crawl run of a source.
type Job struct {
	ID       string    `json:"id"`
	Tenant   string    `json:"tenant"`
	SourceID string    `json:"source_id"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Counters Counters  `json:"counters"`
	// Errors are the last 100 failed URLs.
	Errors []JobError `json:"errors,omitempty"`
	// Error says why a job failed.
	Error string `json:"error,omitempty"`
}

func (j Job) clone() Job {
	j.Counters.Failed = maps.Clone(j.Counters.Failed)
	j.Errors = slices.Clone(j.Errors)
	return j
}

// Options configure a Crawler; every field is optional.
type Options struct {
	Logger *slog.Logger
	// Now is the clock for job and record times.
	Now func() time.Time
	// Progress, when set, is called with a copy of a job after each batch
	// of pages is stored and when its status changes. It must not block
	// for long.
	Progress func(Job)
	// Workers is how many URLs a job handles at once (0: 4). Per-host
	// politeness, not this, is what limits speed.
	Workers int
}

// ErrJobActive is returned when a source already has a job running in this
// process.
var ErrJobActive = errors.New("a crawl job for this source is already running")

// errCancelled is the cause of a job's context when Cancel ends it.
var errCancelled = errors.New("job cancelled")

// errClosed is the cause of a job's context when the Crawler closes.
var errClosed = errors.New("crawler closed")

// Crawler runs crawl jobs and keeps their state in a bbolt file.
type Crawler struct {
	db   *bolt.DB
	sink Sink
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	watchers map[int]func(Job) // added by OnProgress
	nextW    int
	closed   bool
	active   map[string]*active // by job id
	bySource map[string]string  // tenant \x00 source -> job id
	wg       sync.WaitGroup
}

type active struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// New returns a Crawler keeping its buckets (named "crawl_…") in db and
// handing pages to sink. It creates the buckets.
func New(db *bolt.DB, sink Sink, opts Options) (*Crawler, error) {
	if db == nil || sink == nil {
		return nil, errors.New("crawl: new: db and sink are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if err := initBuckets(db); err != nil {
		return nil, fmt.Errorf("crawl: new: %w", err)
	}
	return &Crawler{
		db: db, sink: sink, opts: opts, log: opts.Logger,
		active: map[string]*active{}, bySource: map[string]string{},
	}, nil
}

// Run crawls src in the foreground and returns the finished job. If the
// source has a job left running by an earlier process, Run continues that
// job (with the source as it was then) instead of starting anew. When ctx
// ends, pages in flight are finished and stored, the job stays
// StatusRunning for Resume, and Run returns it with ctx's error.
func (c *Crawler) Run(ctx context.Context, src Source) (Job, error) {
	id, a, err := c.begin(src)
	if err != nil {
		return Job{}, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.mu.Lock()
	a.cancel = cancel
	c.mu.Unlock()
	return c.execute(runCtx, id, a)
}

// Start crawls src in the background and returns the job's ID; follow it
// with Job, Wait or Options.Progress. Like Run it continues an interrupted
// job of the same source. The job runs until it ends, Cancel, or Close;
// ctx only bounds starting it.
func (c *Crawler) Start(ctx context.Context, src Source) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id, a, err := c.begin(src)
	if err != nil {
		return "", err
	}
	c.background(id, a)
	return id, nil
}

// Resume continues, in the background, every job the store holds as queued
// or running that is not running in this process: jobs of a process that
// was killed or shut down. It returns their IDs.
func (c *Crawler) Resume(ctx context.Context) ([]string, error) {
	var recs []*jobRecord
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			var rec jobRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode job: %w", err)
			}
			if rec.Job.Status == StatusQueued || rec.Job.Status == StatusRunning {
				recs = append(recs, &rec)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("crawl: resume: %w", err)
	}
	var ids []string
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return ids, err
		}
		a, err := c.claim(rec.Job.ID, rec.Job.Tenant, rec.Job.SourceID)
		if errors.Is(err, ErrJobActive) {
			continue
		}
		if err != nil {
			return ids, err
		}
		c.log.Info("crawl: resuming job", "job", rec.Job.ID, "tenant", rec.Job.Tenant, "source", rec.Job.SourceID)
		c.background(rec.Job.ID, a)
		ids = append(ids, rec.Job.ID)
	}
	return ids, nil
}

// Cancel stops a job running in this process; it ends StatusCancelled and
// removes nothing. Unknown or finished jobs return an error wrapping
// ErrNotFound.
func (c *Crawler) Cancel(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.active[id]
	if a == nil || a.cancel == nil {
		return fmt.Errorf("crawl: cancel: active job %q: %w", id, ErrNotFound)
	}
	a.cancel(errCancelled)
	return nil
}

// Wait blocks until a job running in this process ends (or ctx does) and
// returns the job as stored.
func (c *Crawler) Wait(ctx context.Context, id string) (Job, error) {
	c.mu.Lock()
	a := c.active[id]
	c.mu.Unlock()
	if a != nil {
		select {
		case <-a.done:
		case <-ctx.Done():
			return Job{}, ctx.Err()
		}
	}
	return c.Job(id)
}

// Close stops background jobs, letting pages in flight finish, and waits
// for them. Their jobs stay StatusRunning for Resume. Close does not close
// the database.
func (c *Crawler) Close() error {
	c.mu.Lock()
	c.closed = true
	for _, a := range c.active {
		if a.cancel != nil {
			a.cancel(errClosed)
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// Job returns a stored job, or an error wrapping ErrNotFound.
func (c *Crawler) Job(id string) (Job, error) {
	var job Job
	err := c.db.View(func(tx *bolt.Tx) error {
		rec, err := getJob(tx, id)
		if err == nil {
			job = rec.Job
		}
		return err
	})
	return job, err
}

// Jobs returns the stored jobs of a tenant's source, newest first; an
// empty sourceID returns those of every source of the tenant.
func (c *Crawler) Jobs(tenant, sourceID string) ([]Job, error) {
	var jobs []Job
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			var rec jobRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode job: %w", err)
			}
			if rec.Job.Tenant == tenant && (sourceID == "" || rec.Job.SourceID == sourceID) {
				jobs = append(jobs, rec.Job)
			}
			return nil
		})
	})
	slices.SortFunc(jobs, func(a, b Job) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(b.ID, a.ID))
	})
	return jobs, err
}

// begin validates src and returns the job to run for it: an interrupted
// job of the same source, or a new queued one.
func (c *Crawler) begin(src Source) (string, *active, error) {
	if err := src.Validate(); err != nil {
		return "", nil, err
	}
	var id string
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			var rec jobRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode job: %w", err)
			}
			if rec.Job.Tenant == src.Tenant && rec.Job.SourceID == src.ID &&
				(rec.Job.Status == StatusRunning || rec.Job.Status == StatusQueued) {
				id = rec.Job.ID
			}
			return nil
		})
	})
	if err != nil {
		return "", nil, fmt.Errorf("crawl: find interrupted job: %w", err)
	}
	if id != "" {
		a, err := c.claim(id, src.Tenant, src.ID)
		return id, a, err
	}
	now := c.opts.Now()
	id = fmt.Sprintf("%s-%08x", now.UTC().Format("20060102T150405.000"), rand.Uint32())
	a, err := c.claim(id, src.Tenant, src.ID)
	if err != nil {
		return "", nil, err
	}
	rec := &jobRecord{
		Job:    Job{ID: id, Tenant: src.Tenant, SourceID: src.ID, Status: StatusQueued, Started: now},
		Source: src,
	}
	if err := c.db.Update(func(tx *bolt.Tx) error { return putJob(tx, rec) }); err != nil {
		c.release(id)
		return "", nil, fmt.Errorf("crawl: store job: %w", err)
	}
	return id, a, nil
}

// claim marks a job as running in this process; one per source.
func (c *Crawler) claim(id, tenant, source string) (*active, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("crawl: crawler is closed")
	}
	key := string(sourceKey(tenant, source))
	if other, ok := c.bySource[key]; ok {
		return nil, fmt.Errorf("crawl: source %s/%s (job %s): %w", tenant, source, other, ErrJobActive)
	}
	a := &active{done: make(chan struct{})}
	c.active[id] = a
	c.bySource[key] = id
	return a, nil
}

func (c *Crawler) release(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.active[id]; a != nil {
		close(a.done)
		delete(c.active, id)
	}
	for k, v := range c.bySource {
		if v == id {
			delete(c.bySource, k)
		}
	}
}

func (c *Crawler) background(id string, a *active) {
	ctx, cancel := context.WithCancelCause(context.Background())
	c.mu.Lock()
	a.cancel = cancel
	closed := c.closed
	c.mu.Unlock()
	if closed {
		cancel(errClosed)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel(nil)
		if _, err := c.execute(ctx, id, a); err != nil {
			c.log.Warn("crawl: job ended with error", "job", id, "err", err)
		}
	}()
}

func (c *Crawler) progress(job Job) {
	if c.opts.Progress != nil {
		c.opts.Progress(job.clone())
	}
	c.mu.Lock()
	ws := make([]func(Job), 0, len(c.watchers))
	for _, w := range c.watchers {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	for _, w := range ws {
		w(job.clone())
	}
}

// OnProgress adds f to the callbacks that see a copy of a job whenever
// Options.Progress would (nil f adds nothing); stop removes it again.
func (c *Crawler) OnProgress(f func(Job)) (stop func()) {
	if f == nil {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watchers == nil {
		c.watchers = map[int]func(Job){}
	}
	id := c.nextW
	c.nextW++
	c.watchers[id] = f
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.watchers, id)
	}
}
