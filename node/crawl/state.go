package crawl

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The crawler's buckets in the node's bbolt file.
var (
	bucketSources  = []byte("crawl_sources")  // tenant \x00 source id -> Source
	bucketJobs     = []byte("crawl_jobs")     // job id -> jobRecord
	bucketURLs     = []byte("crawl_urls")     // tenant \x00 source id -> { url -> urlRecord }
	bucketFrontier = []byte("crawl_frontier") // job id -> { q: queue, s: seen set, m: meta }
)

var (
	subQueue = []byte("q")
	subSeen  = []byte("s")
	subMeta  = []byte("m")
	keyCount = []byte("admitted")
)

// Queue priorities: sitemaps are read before any page is fetched, so their
// lastmod reaches the pages they list.
const (
	prioSitemap byte = 0
	prioPage    byte = 1
)

// ErrNotFound is returned for an unknown job or source.
var ErrNotFound = errors.New("not found")

// urlRecord is what the crawler remembers of one URL across runs.
type urlRecord struct {
	URL   string `json:"url"`
	DocID string `json:"doc_id,omitempty"`
	// Indexed says the sink holds DocID for this URL.
	Indexed        bool      `json:"indexed,omitempty"`
	NoIndex        bool      `json:"noindex,omitempty"`
	ETag           string    `json:"etag,omitempty"`
	LastModified   string    `json:"last_modified,omitempty"`
	SitemapLastmod time.Time `json:"sitemap_lastmod,omitzero"`
	Hash           string    `json:"hash,omitempty"`
	// Links are the in-scope links of the last extraction, followed again
	// when the page is not modified or skipped by its lastmod.
	Links       []string  `json:"links,omitempty"`
	LastFetched time.Time `json:"last_fetched,omitzero"`
	LastSeenRun string    `json:"last_seen_run,omitempty"`
	MissingRuns int       `json:"missing_runs,omitempty"`
	// GoneRun is the job that got a 404 or 410 for the URL.
	GoneRun string `json:"gone_run,omitempty"`
	// Orphans are document IDs once put for this URL that must go: a
	// changed canonical URL, or a page that became noindex.
	Orphans []string `json:"orphans,omitempty"`
}

// item is one entry of a job's queue.
type item struct {
	key     []byte
	URL     string    `json:"u"`
	Depth   int       `json:"d,omitempty"`
	Sitemap bool      `json:"s,omitempty"`
	Lastmod time.Time `json:"l,omitzero"`
	// Start marks a start URL: if it fails, the run cannot vouch for
	// what is missing.
	Start bool `json:"st,omitempty"`
}

func (it item) prio() byte {
	if it.Sitemap {
		return prioSitemap
	}
	return prioPage
}

func (it item) seenKey() []byte { return seenKey(it.Sitemap, it.URL) }

func seenKey(sitemap bool, u string) []byte {
	if sitemap {
		return []byte("s" + u)
	}
	return []byte("p" + u)
}

// jobRecord is a job as stored: the job and the source it runs.
type jobRecord struct {
	Job    Job    `json:"job"`
	Source Source `json:"source"`
	// Incomplete says why the run cannot vouch for what is missing (a
	// robots.txt or sitemap that could not be read); such a run fails.
	Incomplete string `json:"incomplete,omitempty"`
	// Truncated says MaxPages cut the run short; it then counts nobody as
	// missing.
	Truncated bool `json:"truncated,omitempty"`
}

func sourceKey(tenant, id string) []byte { return []byte(tenant + "\x00" + id) }

func initBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSources, bucketJobs, bucketURLs, bucketFrontier} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}

func putJob(tx *bolt.Tx, rec *jobRecord) error {
	return putJSON(tx.Bucket(bucketJobs), []byte(rec.Job.ID), rec)
}

func getJob(tx *bolt.Tx, id string) (*jobRecord, error) {
	var rec jobRecord
	ok, err := getJSON(tx.Bucket(bucketJobs), []byte(id), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return &rec, nil
}

// urlBucket returns the URL records of a source, creating the bucket in a
// writable transaction; nil in a read-only one when absent.
func urlBucket(tx *bolt.Tx, tenant, source string) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketURLs)
	key := sourceKey(tenant, source)
	if !tx.Writable() {
		return root.Bucket(key), nil
	}
	b, err := root.CreateBucketIfNotExists(key)
	if err != nil {
		return nil, fmt.Errorf("url bucket: %w", err)
	}
	return b, nil
}

func getURL(b *bolt.Bucket, u string) (*urlRecord, error) {
	var rec urlRecord
	ok, err := getJSON(b, []byte(u), &rec)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// frontier is a job's queue and seen set, inside a transaction.
type frontier struct {
	queue, seen, meta *bolt.Bucket
}

func openFrontier(tx *bolt.Tx, jobID string) *frontier {
	b := tx.Bucket(bucketFrontier).Bucket([]byte(jobID))
	if b == nil {
		return nil
	}
	return &frontier{queue: b.Bucket(subQueue), seen: b.Bucket(subSeen), meta: b.Bucket(subMeta)}
}

func createFrontier(tx *bolt.Tx, jobID string) (*frontier, error) {
	b, err := tx.Bucket(bucketFrontier).CreateBucket([]byte(jobID))
	if err != nil {
		return nil, fmt.Errorf("create frontier: %w", err)
	}
	f := &frontier{}
	for _, sub := range []struct {
		name []byte
		dst  **bolt.Bucket
	}{{subQueue, &f.queue}, {subSeen, &f.seen}, {subMeta, &f.meta}} {
		if *sub.dst, err = b.CreateBucket(sub.name); err != nil {
			return nil, fmt.Errorf("create frontier: %w", err)
		}
	}
	return f, nil
}

func deleteFrontier(tx *bolt.Tx, jobID string) error {
	err := tx.Bucket(bucketFrontier).DeleteBucket([]byte(jobID))
	if err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return fmt.Errorf("delete frontier: %w", err)
	}
	return nil
}

func (f *frontier) admitted() int {
	v := f.meta.Get(keyCount)
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

// push adds it unless it was seen. Pages beyond maxPages are refused and
// reported as truncated.
func (f *frontier) push(it item, maxPages int) (added, truncated bool, err error) {
	sk := it.seenKey()
	if f.seen.Get(sk) != nil {
		return false, false, nil
	}
	if !it.Sitemap {
		n := f.admitted()
		if n >= maxPages {
			return false, true, nil
		}
		if err := f.meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(n+1))); err != nil {
			return false, false, err
		}
	}
	if err := f.seen.Put(sk, seenMark); err != nil {
		return false, false, err
	}
	seq, err := f.queue.NextSequence()
	if err != nil {
		return false, false, err
	}
	key := binary.BigEndian.AppendUint64([]byte{it.prio()}, seq)
	if err := putJSON(f.queue, key, it); err != nil {
		return false, false, err
	}
	return true, false, nil
}

// markSeen records u as seen without queueing it (a redirect target
// fetched in its source's chain).
func (f *frontier) markSeen(u string) error { return f.seen.Put(seenKey(false, u), seenMark) }

// seenMark is the value of a seen key. It must not be empty: within the
// transaction that wrote it, bbolt's Get returns an empty value as nil,
// the same as a missing key, so two links to one page in the same commit
// would both be queued.
var seenMark = []byte{1}

// loadQueue returns up to n queued items after the key after.
func loadQueue(db *bolt.DB, jobID string, after []byte, n int) ([]item, error) {
	var items []item
	err := db.View(func(tx *bolt.Tx) error {
		f := openFrontier(tx, jobID)
		if f == nil {
			return nil
		}
		c := f.queue.Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(after)
			if k != nil && string(k) == string(after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(items) < n; k, v = c.Next() {
			var it item
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode queue item: %w", err)
			}
			it.key = slices.Clone(k)
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// PutSource validates and stores a source, replacing one with the same
// tenant and ID.
func (c *Crawler) PutSource(src Source) error {
	if err := src.Validate(); err != nil {
		return err
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSources), sourceKey(src.Tenant, src.ID), src)
	})
}

// Source returns a stored source, or an error wrapping ErrNotFound.
func (c *Crawler) Source(tenant, id string) (Source, error) {
	var src Source
	err := c.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketSources), sourceKey(tenant, id), &src)
		if err == nil && !ok {
			err = fmt.Errorf("source %s/%s: %w", tenant, id, ErrNotFound)
		}
		return err
	})
	return src, err
}

// Sources returns the stored sources of a tenant ordered by ID; an empty
// tenant returns those of every tenant.
func (c *Crawler) Sources(tenant string) ([]Source, error) {
	var out []Source
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			if tenant != "" && !strings.HasPrefix(string(k), tenant+"\x00") {
				return nil
			}
			var src Source
			if err := json.Unmarshal(v, &src); err != nil {
				return fmt.Errorf("decode source %q: %w", k, err)
			}
			out = append(out, src)
			return nil
		})
	})
	return out, err
}

// DeleteSource removes a stored source definition. The crawl state of its
// URLs stays, so adding the source again crawls incrementally; the
// documents it put stay in the node until the node removes them.
// Deleting an unknown source returns an error wrapping ErrNotFound.
func (c *Crawler) DeleteSource(tenant, id string) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSources)
		if b.Get(sourceKey(tenant, id)) == nil {
			return fmt.Errorf("source %s/%s: %w", tenant, id, ErrNotFound)
		}
		return b.Delete(sourceKey(tenant, id))
	})
}

// maxJobsKept is how many ended jobs per source the store keeps.
const maxJobsKept = 50

// pruneJobs deletes the oldest ended jobs of a source beyond maxJobsKept.
func pruneJobs(tx *bolt.Tx, tenant, source string) error {
	b := tx.Bucket(bucketJobs)
	type ended struct {
		id      string
		started time.Time
	}
	var list []ended
	err := b.ForEach(func(k, v []byte) error {
		var rec jobRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode job %q: %w", k, err)
		}
		j := rec.Job
		if j.Tenant == tenant && j.SourceID == source && j.Status != StatusRunning && j.Status != StatusQueued {
			list = append(list, ended{j.ID, j.Started})
		}
		return nil
	})
	if err != nil || len(list) <= maxJobsKept {
		return err
	}
	slices.SortFunc(list, func(a, b ended) int { return b.started.Compare(a.started) })
	for _, e := range list[maxJobsKept:] {
		if err := b.Delete([]byte(e.id)); err != nil {
			return err
		}
	}
	return nil
}
