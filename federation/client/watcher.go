package client

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/federation/registry"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
)

// Bucket and key names of the cache in the node's bbolt file.
var (
	bucketMeta    = []byte("federation_meta")    // keyIndex, keySynced
	bucketObjects = []byte("federation_objects") // one nested bucket per kind: key -> Object JSON

	keyIndex   = []byte("index")   // u64: registry index the cache reflects
	keyCluster = []byte("cluster") // id of the cluster the cache came from
	keySynced  = []byte("synced")  // u64 unix ns: when the last batch was applied
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Servers are the base URLs (https://host:port) of the coordination
	// servers' APIs.
	Servers []string
	// IdleTimeout is how long a stream may stay silent (servers send
	// heartbeats) before the Watcher gives up on it (default 30 s; keep it
	// at least twice the servers' heartbeat interval).
	IdleTimeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// connection attempts (defaults 100 ms and 10 s).
	MinBackoff, MaxBackoff time.Duration
	// OnChange, if set, is called after each batch is committed to the
	// cache, from the Watcher's goroutine; it should return quickly.
	OnChange func(Change)
	// Logger receives connection trouble; nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultWatcherConfig returns the defaults described on WatcherConfig.
func DefaultWatcherConfig() WatcherConfig {
	return WatcherConfig{IdleTimeout: 30 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second}
}

// Validate names the first unusable field.
func (c WatcherConfig) Validate() error {
	switch {
	case len(c.Servers) == 0:
		return errors.New("federation.servers: at least one coordination server url")
	case c.IdleTimeout <= 0:
		return errors.New("federation.idle_timeout: must be > 0")
	case c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff:
		return errors.New("federation.backoff: need 0 < min_backoff <= max_backoff")
	}
	return nil
}

// Change is a batch the Watcher committed to its cache. A snapshot replaced
// the whole cache (Objects is the new registry); otherwise Objects are the
// changes in index order, Deleted marking removals.
type Change struct {
	Snapshot bool
	Index    uint64
	Objects  []registry.Object
	// ClusterID is the id of the cluster the batch came from ("" if the
	// server did not say).
	ClusterID string
}

// Status describes the Watcher for /readyz and metrics.
type Status struct {
	// Index is the registry index the cache reflects.
	Index uint64
	// Server is the URL of the server the Watcher streams from; empty while
	// it has none.
	Server string
	// LastContact is when a server last sent anything (a batch or a
	// heartbeat); zero if none has in this process.
	LastContact time.Time
	// Synced is when the cache was last known to be current: the later of
	// LastContact and the last persisted batch. Zero if never.
	Synced time.Time
	// CacheAge is the time since Synced, or -1 if the cache was never synced.
	CacheAge time.Duration
	// Snapshots and Batches count what this Watcher received since New;
	// Reconnects counts streams that ended.
	Snapshots, Batches, Reconnects uint64
	// LastError is the last stream error, empty after a good connection.
	LastError string
}

// Watcher follows the registry into a bbolt cache and answers reads from it.
// Reads are safe for concurrent use and never touch the network.
type Watcher struct {
	cfg  WatcherConfig
	db   *bolt.DB
	srvs *servers
	log  *slog.Logger

	index atomic.Uint64
	// cluster is the id of the cluster the cache came from ("" unknown);
	// resync makes the next stream ask for a snapshot.
	cluster atomic.Pointer[string]
	resync  atomic.Bool

	mu          sync.Mutex
	server      string
	lastContact time.Time
	synced      time.Time
	snapshots   uint64
	batches     uint64
	reconnects  uint64
	lastErr     string

	cancel context.CancelFunc
	done   chan struct{}
}

// NewWatcher returns a Watcher over cfg.Servers through hc, an HTTP client
// that presents the node's certificate (NewHTTPClient with ClientTLS), caching
// in db. It creates the cache buckets and loads the persisted index; reads
// work at once, before Open and without any server.
func NewWatcher(cfg WatcherConfig, db *bolt.DB, hc connect.HTTPClient) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, errors.New("new watcher: no database")
	}
	srvs, err := newServers(cfg.Servers, hc)
	if err != nil {
		return nil, fmt.Errorf("new watcher: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{cfg: cfg, db: db, srvs: srvs, log: log}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketObjects); err != nil {
			return err
		}
		w.index.Store(getU64(meta, keyIndex))
		id := string(meta.Get(keyCluster))
		w.cluster.Store(&id)
		if ns := getU64(meta, keySynced); ns > 0 {
			w.synced = time.Unix(0, int64(ns))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("new watcher: create cache buckets: %w", err)
	}
	return w, nil
}

// Open starts following the registry in the background until Close. ctx
// bounds the Watcher's life as well.
func (w *Watcher) Open(ctx context.Context) error {
	if w.done != nil {
		return errors.New("watcher already open")
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		w.run(ctx)
	}()
	return nil
}

// Close stops the Watcher and waits for it. The cache stays readable; the
// database is the caller's to close.
func (w *Watcher) Close() error {
	if w.done == nil {
		return nil
	}
	w.cancel()
	<-w.done
	return nil
}

// Index returns the registry index the cache reflects.
func (w *Watcher) Index() uint64 { return w.index.Load() }

// Status returns the Watcher's state.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := Status{
		Index: w.index.Load(), Server: w.server, LastContact: w.lastContact, Synced: w.synced,
		Snapshots: w.snapshots, Batches: w.batches, Reconnects: w.reconnects, LastError: w.lastErr, CacheAge: -1,
	}
	if w.lastContact.After(st.Synced) {
		st.Synced = w.lastContact
	}
	if !st.Synced.IsZero() {
		st.CacheAge = w.cfg.Now().Sub(st.Synced)
	}
	return st
}

// Get returns the cached object kind/key, or an error wrapping
// registry.ErrNotFound.
func (w *Watcher) Get(kind registry.Kind, key string) (registry.Object, error) {
	var obj registry.Object
	err := w.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketObjects).Bucket([]byte(kind))
		var raw []byte
		if b != nil {
			raw = b.Get([]byte(key))
		}
		if raw == nil {
			return fmt.Errorf("%w: %s %q", registry.ErrNotFound, kind, key)
		}
		return json.Unmarshal(raw, &obj)
	})
	return obj, err
}

// List returns the cached objects of kind, ordered by key.
func (w *Watcher) List(kind registry.Kind) ([]registry.Object, error) {
	var objs []registry.Object
	err := w.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketObjects).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var o registry.Object
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			objs = append(objs, o)
			return nil
		})
	})
	return objs, err
}

// FetchBlob downloads the blob with the given hex sha256 from any server and
// checks its hash; see Writer.FetchBlob.
func (w *Watcher) FetchBlob(ctx context.Context, sum string) ([]byte, error) {
	return fetchBlob(ctx, w.srvs, sum)
}

// run streams from one server after another until ctx ends.
func (w *Watcher) run(ctx context.Context) {
	i := w.srvs.start()
	backoff := w.cfg.MinBackoff
	for ctx.Err() == nil {
		url := w.srvs.urls[i%len(w.srvs.urls)]
		got, err := w.stream(ctx, i%len(w.srvs.urls))
		i++
		if ctx.Err() != nil {
			break
		}
		if got {
			backoff = w.cfg.MinBackoff
		}
		w.mu.Lock()
		w.server = ""
		w.reconnects++
		if err != nil {
			w.lastErr = fmt.Sprintf("%s: %v", url, err)
		}
		w.mu.Unlock()
		w.log.Warn("registry watch ended; trying the next server", "server", url, "err", err)
		t := time.NewTimer(jitter(backoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(2*backoff, w.cfg.MaxBackoff)
	}
	w.mu.Lock()
	w.server = ""
	w.mu.Unlock()
}

// errIdle ends a stream that stayed silent for IdleTimeout.
var errIdle = errors.New("no message or heartbeat within the idle timeout")

// stream follows one server until the stream fails; got reports whether the
// server sent anything.
func (w *Watcher) stream(ctx context.Context, i int) (got bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(w.cfg.IdleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	from := w.Index()
	if w.resync.Load() {
		from = 0
	}
	st, err := w.srvs.clients[i].Watch(ctx, connect.NewRequest(&federationv1.WatchRequest{FromIndex: from, ClusterId: w.ClusterID()}))
	if err != nil {
		return false, err
	}
	defer st.Close()
	var pending []registry.Object
	for st.Receive() {
		idle.Reset(w.cfg.IdleTimeout)
		m := st.Msg()
		w.contact(w.srvs.urls[i])
		got = true
		foreign := m.GetClusterId() != "" && w.ClusterID() != "" && m.GetClusterId() != w.ClusterID()
		switch {
		case foreign && m.Heartbeat:
			// Its indexes mean nothing for this cache; the snapshot the
			// server owes follows.
			continue
		case foreign && !m.Snapshot:
			// A server of another cluster that sends changes, not a
			// snapshot: ask for a whole new copy.
			w.resync.Store(true)
			return got, fmt.Errorf("server %s belongs to cluster %s, the cache to %s; resyncing", w.srvs.urls[i], m.GetClusterId(), w.ClusterID())
		}
		if m.Heartbeat {
			if len(pending) == 0 && m.Index > w.Index() {
				if err := w.advance(m.Index, m.GetClusterId()); err != nil {
					return got, err
				}
			}
			continue
		}
		for _, o := range m.Objects {
			pending = append(pending, objectFromProto(o))
		}
		if m.More {
			continue
		}
		if err := w.apply(Change{Snapshot: m.Snapshot, Index: m.Index, Objects: pending, ClusterID: m.GetClusterId()}); err != nil {
			return got, err
		}
		pending = nil
	}
	err = st.Err()
	if cause := context.Cause(ctx); errors.Is(cause, errIdle) {
		err = cause
	}
	if err == nil {
		err = errors.New("server ended the stream")
	}
	return got, err
}

func (w *Watcher) contact(url string) {
	now := w.cfg.Now()
	w.mu.Lock()
	w.server, w.lastContact, w.lastErr = url, now, ""
	w.mu.Unlock()
}

// apply commits one batch and its index in one transaction, then tells
// OnChange.
func (w *Watcher) apply(c Change) error {
	if !c.Snapshot && c.Index <= w.Index() {
		return nil // already applied (a server replaying from an older index)
	}
	now := w.cfg.Now()
	err := w.db.Update(func(tx *bolt.Tx) error {
		if c.Snapshot {
			if tx.Bucket(bucketObjects) != nil {
				if err := tx.DeleteBucket(bucketObjects); err != nil {
					return err
				}
			}
			if _, err := tx.CreateBucket(bucketObjects); err != nil {
				return err
			}
		}
		objs := tx.Bucket(bucketObjects)
		for _, o := range c.Objects {
			b, err := objs.CreateBucketIfNotExists([]byte(o.Kind))
			if err != nil {
				return fmt.Errorf("kind %q: %w", o.Kind, err)
			}
			if o.Deleted {
				if err := b.Delete([]byte(o.Key)); err != nil {
					return err
				}
				continue
			}
			raw, err := json.Marshal(o)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(o.Key), raw); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyIndex, binary.BigEndian.AppendUint64(nil, c.Index)); err != nil {
			return err
		}
		if c.ClusterID != "" {
			if err := meta.Put(keyCluster, []byte(c.ClusterID)); err != nil {
				return err
			}
		}
		return meta.Put(keySynced, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	})
	if err != nil {
		return fmt.Errorf("apply registry batch at %d to the cache: %w", c.Index, err)
	}
	w.index.Store(c.Index)
	if c.ClusterID != "" {
		w.cluster.Store(&c.ClusterID)
	}
	if c.Snapshot {
		w.resync.Store(false)
	}
	w.mu.Lock()
	w.synced = now
	if c.Snapshot {
		w.snapshots++
	} else {
		w.batches++
	}
	w.mu.Unlock()
	if w.cfg.OnChange != nil {
		w.cfg.OnChange(c)
	}
	return nil
}

// advance records that the cache is current up to index although no object
// changed (the commands in between stored blobs).
func (w *Watcher) advance(index uint64, cluster string) error {
	err := w.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if cluster != "" {
			if err := meta.Put(keyCluster, []byte(cluster)); err != nil {
				return err
			}
		}
		return meta.Put(keyIndex, binary.BigEndian.AppendUint64(nil, index))
	})
	if err != nil {
		return fmt.Errorf("record registry index %d in the cache: %w", index, err)
	}
	w.index.Store(index)
	if cluster != "" {
		w.cluster.Store(&cluster)
	}
	return nil
}

// ClusterID returns the id of the cluster the cache came from, "" when it
// is not known yet.
func (w *Watcher) ClusterID() string {
	if p := w.cluster.Load(); p != nil {
		return *p
	}
	return ""
}

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
