package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// ErrClosed is returned by reads and waits on a closed FSM.
var ErrClosed = errors.New("registry closed")

// Options bound what the FSM remembers. Every replica of one cluster must use
// the same Options: pruning is part of the replicated state.
type Options struct {
	// IdempotencyWindow is how many log indexes an idempotency key is
	// remembered for (default 10,000).
	IdempotencyWindow uint64
	// IdempotencyTTL is how long, by the leader's append time, an idempotency
	// key is remembered at most (default 24 h).
	IdempotencyTTL time.Duration
	// HistoryWindow is how many log indexes of change history Watch can
	// replay; a watcher further behind gets a snapshot (default 10,000).
	HistoryWindow uint64
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{IdempotencyWindow: 10_000, IdempotencyTTL: 24 * time.Hour, HistoryWindow: 10_000}
}

// Bucket and key names of the FSM's bbolt file.
var (
	bucketMeta      = []byte("meta")      // keyApplied, keyFloor
	bucketObjects   = []byte("objects")   // one nested bucket per kind: key -> Object JSON
	bucketBlobs     = []byte("blobs")     // sha256 hex -> bytes
	bucketManifests = []byte("manifests") // sha256 hex -> blobManifest JSON
	bucketIdem      = []byte("idem")      // idempotency key -> Result JSON
	bucketIdemSeq   = []byte("idemseq")   // u64 index -> u64 append time (unix ns) + idempotency key
	bucketChanges   = []byte("changes")   // u64 index -> Object JSON (Deleted for tombstones)

	keyApplied = []byte("applied") // last applied log index
	keyFloor   = []byte("floor")   // highest index whose change record was pruned
	keyCluster = []byte("cluster") // the cluster id, set once by OpInitCluster
)

type blobManifest struct {
	Chunks []string `json:"chunks"`
	Size   int64    `json:"size"`
}

// FSM is the registry state machine: a raft.BatchingFSM over its own bbolt
// file. Apply and Restore are called by Raft only; reads, waits and watches
// are safe from any goroutine.
type FSM struct {
	path string
	opts Options

	// mu guards db: reads hold it shared, Restore and Close exclusively.
	mu     sync.RWMutex
	db     *bolt.DB
	closed bool

	index atomic.Uint64 // last applied index, mirrored from bucketMeta

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced on every apply
}

var _ raft.BatchingFSM = (*FSM)(nil)

// Open opens (creating if needed) the FSM's bbolt file at path. Zero fields of
// opts take their defaults.
func Open(path string, opts Options) (*FSM, error) {
	def := DefaultOptions()
	if opts.IdempotencyWindow == 0 {
		opts.IdempotencyWindow = def.IdempotencyWindow
	}
	if opts.IdempotencyTTL == 0 {
		opts.IdempotencyTTL = def.IdempotencyTTL
	}
	if opts.HistoryWindow == 0 {
		opts.HistoryWindow = def.HistoryWindow
	}
	f := &FSM{path: path, opts: opts, notify: make(chan struct{})}
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	f.db = db
	f.index.Store(readApplied(db))
	return f, nil
}

func openDB(path string) (*bolt.DB, error) {
	// A large initial mmap keeps writes from waiting for a long snapshot read
	// transaction to end before the file can be remapped.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, InitialMmapSize: 32 << 20})
	if err != nil {
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketBlobs, bucketManifests, bucketIdem, bucketIdemSeq, bucketChanges} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		objs, err := tx.CreateBucketIfNotExists(bucketObjects)
		if err != nil {
			return err
		}
		for _, k := range Kinds() {
			if _, err := objs.CreateBucketIfNotExists([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init registry %s: %w", path, err)
	}
	return db, nil
}

func readApplied(db *bolt.DB) uint64 {
	var idx uint64
	_ = db.View(func(tx *bolt.Tx) error {
		idx = getU64(tx.Bucket(bucketMeta), keyApplied)
		return nil
	})
	return idx
}

// Close closes the bbolt file and wakes every waiter with ErrClosed.
func (f *FSM) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.broadcast()
	if err := f.db.Close(); err != nil {
		return fmt.Errorf("close registry: %w", err)
	}
	return nil
}

// ClusterID returns the registry's cluster id, or "" before OpInitCluster.
func (f *FSM) ClusterID() string {
	var id string
	f.view(func(tx *bolt.Tx, _ uint64) error {
		id = string(tx.Bucket(bucketMeta).Get(keyCluster))
		return nil
	})
	return id
}

// Index returns the log index of the last applied command (0 if none).
func (f *FSM) Index() uint64 { return f.index.Load() }

// Apply applies one log entry; see ApplyBatch.
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies log entries in one bbolt transaction and returns one
// Result per command entry (nil for other entry types). A failed write to the
// FSM's own file panics: the state would no longer follow the log, and Raft
// offers no way to report it, so the process must stop and recover from a
// snapshot and the log.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		panic("registry: apply on a closed FSM")
	}
	var last uint64
	err := f.db.Update(func(tx *bolt.Tx) error {
		for i, l := range logs {
			if l.Type != raft.LogCommand {
				continue
			}
			res, err := f.applyOne(tx, l)
			if err != nil {
				return fmt.Errorf("apply index %d: %w", l.Index, err)
			}
			out[i] = res
			last = max(last, l.Index)
		}
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("registry: %v", err))
	}
	if last > f.index.Load() {
		f.index.Store(last)
		f.broadcast()
	}
	return out
}

func (f *FSM) applyOne(tx *bolt.Tx, l *raft.Log) (Result, error) {
	meta := tx.Bucket(bucketMeta)
	if l.Index <= getU64(meta, keyApplied) {
		// Raft replays entries the file already holds after a restart
		// without a snapshot; they were applied before.
		return Result{Index: l.Index, Status: StatusOK, Duplicate: true}, nil
	}
	if err := putU64(meta, keyApplied, l.Index); err != nil {
		return Result{}, err
	}
	c, err := DecodeCommand(l.Data)
	if err != nil {
		return Result{Index: l.Index, Status: StatusInvalid, Detail: err.Error()}, nil
	}
	idem := tx.Bucket(bucketIdem)
	if c.IdempotencyKey != "" {
		if raw := idem.Get([]byte(c.IdempotencyKey)); raw != nil {
			var prev Result
			if err := json.Unmarshal(raw, &prev); err != nil {
				return Result{}, err
			}
			prev.Duplicate = true
			return prev, nil
		}
	}
	res, err := f.exec(tx, l.Index, c)
	if err != nil {
		return Result{}, err
	}
	if c.IdempotencyKey != "" {
		raw, _ := json.Marshal(res)
		if err := idem.Put([]byte(c.IdempotencyKey), raw); err != nil {
			return Result{}, err
		}
		v := binary.BigEndian.AppendUint64(nil, uint64(l.AppendedAt.UnixNano()))
		if l.AppendedAt.IsZero() {
			v = binary.BigEndian.AppendUint64(nil, 0)
		}
		v = append(v, c.IdempotencyKey...)
		if err := tx.Bucket(bucketIdemSeq).Put(u64Key(l.Index), v); err != nil {
			return Result{}, err
		}
	}
	return res, f.prune(tx, l)
}

// exec performs a decoded command. It checks only what keeps the file sound;
// policy is Command.Validate's job, before the log.
func (f *FSM) exec(tx *bolt.Tx, idx uint64, c Command) (Result, error) {
	invalid := func(detail string) (Result, error) {
		return Result{Index: idx, Status: StatusInvalid, Detail: detail}, nil
	}
	switch c.Op {
	case OpPut, OpDelete:
		if !c.Kind.Valid() || checkKey(c.Key) != nil {
			return invalid("bad kind or key")
		}
		b := tx.Bucket(bucketObjects).Bucket([]byte(c.Kind))
		var cur *Object
		if raw := b.Get([]byte(c.Key)); raw != nil {
			cur = &Object{}
			if err := json.Unmarshal(raw, cur); err != nil {
				return Result{}, err
			}
		}
		var curIndex uint64
		if cur != nil {
			curIndex = cur.ModifyIndex
		}
		if c.CAS && c.CASIndex != curIndex {
			return Result{Index: idx, Status: StatusConflict, ModifyIndex: curIndex}, nil
		}
		if c.Op == OpDelete {
			if cur == nil {
				return Result{Index: idx, Status: StatusNotFound, Detail: fmt.Sprintf("%s %q", c.Kind, c.Key)}, nil
			}
			if err := b.Delete([]byte(c.Key)); err != nil {
				return Result{}, err
			}
			tomb := Object{Kind: c.Kind, Key: c.Key, CreateIndex: cur.CreateIndex, ModifyIndex: idx, Deleted: true}
			return Result{Index: idx, Status: StatusOK}, putJSON(tx.Bucket(bucketChanges), u64Key(idx), tomb)
		}
		if !json.Valid(c.Value) {
			return invalid("value is not JSON")
		}
		obj := Object{Kind: c.Kind, Key: c.Key, Value: c.Value, CreateIndex: idx, ModifyIndex: idx}
		if cur != nil {
			obj.CreateIndex = cur.CreateIndex
		}
		if err := putJSON(b, []byte(c.Key), obj); err != nil {
			return Result{}, err
		}
		return Result{Index: idx, Status: StatusOK, ModifyIndex: idx}, putJSON(tx.Bucket(bucketChanges), u64Key(idx), obj)
	case OpPutBlob:
		if SHA256Hex(c.Blob) != c.SHA256 {
			return invalid("sha256 does not match the blob")
		}
		b := tx.Bucket(bucketBlobs)
		if b.Get([]byte(c.SHA256)) == nil {
			if err := b.Put([]byte(c.SHA256), c.Blob); err != nil {
				return Result{}, err
			}
		}
		return Result{Index: idx, Status: StatusOK}, nil
	case OpInitCluster:
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyCluster) == nil {
			if err := meta.Put(keyCluster, []byte(c.SHA256)); err != nil {
				return Result{}, err
			}
		}
		return Result{Index: idx, Status: StatusOK}, nil
	case OpPutBlobManifest:
		if !isSHA256Hex(c.SHA256) {
			return invalid("bad sha256")
		}
		blobs := tx.Bucket(bucketBlobs)
		h := sha256.New()
		var size int64
		for _, ch := range c.Chunks {
			part := blobs.Get([]byte(ch))
			if part == nil {
				return Result{Index: idx, Status: StatusNotFound, Detail: "missing chunk " + ch}, nil
			}
			h.Write(part)
			size += int64(len(part))
		}
		if hex.EncodeToString(h.Sum(nil)) != c.SHA256 || size != c.Size {
			return invalid("chunks do not add up to sha256 and size")
		}
		return Result{Index: idx, Status: StatusOK},
			putJSON(tx.Bucket(bucketManifests), []byte(c.SHA256), blobManifest{Chunks: c.Chunks, Size: c.Size})
	}
	return invalid(fmt.Sprintf("unknown op %q", c.Op))
}

// prune forgets idempotency keys and change records that fell out of their
// windows. It depends only on the log entry, so every replica prunes alike.
func (f *FSM) prune(tx *bolt.Tx, l *raft.Log) error {
	seq, idem := tx.Bucket(bucketIdemSeq), tx.Bucket(bucketIdem)
	var cutoff int64
	if !l.AppendedAt.IsZero() {
		cutoff = l.AppendedAt.Add(-f.opts.IdempotencyTTL).UnixNano()
	}
	for {
		k, v := seq.Cursor().First()
		if k == nil {
			break
		}
		at := int64(binary.BigEndian.Uint64(v[:8]))
		expired := binary.BigEndian.Uint64(k)+f.opts.IdempotencyWindow <= l.Index || (cutoff != 0 && at != 0 && at < cutoff)
		if !expired {
			break
		}
		if err := idem.Delete(v[8:]); err != nil {
			return err
		}
		if err := seq.Delete(k); err != nil {
			return err
		}
	}
	changes, meta := tx.Bucket(bucketChanges), tx.Bucket(bucketMeta)
	for {
		k, _ := changes.Cursor().First()
		if k == nil || binary.BigEndian.Uint64(k)+f.opts.HistoryWindow > l.Index {
			return nil
		}
		if err := putU64(meta, keyFloor, binary.BigEndian.Uint64(k)); err != nil {
			return err
		}
		if err := changes.Delete(k); err != nil {
			return err
		}
	}
}

// Snapshot opens a read transaction; Persist streams it. Apply may continue
// meanwhile, and the snapshot still shows the state at this point.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return nil, ErrClosed
	}
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("snapshot registry: %w", err)
	}
	return &snapshot{tx: tx}, nil
}

type snapshot struct {
	tx   *bolt.Tx
	once sync.Once
}

// Persist writes the whole bbolt file as of the snapshot to sink.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist registry snapshot: %w", err)
	}
	return sink.Close()
}

// Release ends the read transaction.
func (s *snapshot) Release() {
	s.once.Do(func() { _ = s.tx.Rollback() })
}

// Restore replaces the registry with a snapshot stream: it writes the stream
// to a temporary file beside the database, checks that it opens as a
// registry, and renames it over the database, so a failure leaves the old
// state in place.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp := f.path + ".restore"
	if err := writeFileSync(tmp, rc); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore registry: %w", err)
	}
	check, err := openDB(tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore registry: snapshot is not a registry: %w", err)
	}
	check.Close()

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		os.Remove(tmp)
		return ErrClosed
	}
	if err := f.db.Close(); err != nil {
		return fmt.Errorf("restore registry: close old: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("restore registry: %w", err)
	}
	db, err := openDB(f.path)
	if err != nil {
		return fmt.Errorf("restore registry: reopen: %w", err)
	}
	f.db = db
	f.index.Store(readApplied(db))
	f.broadcast()
	return nil
}

func writeFileSync(path string, r io.Reader) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// view runs fn in a read transaction, passing the applied index it sees.
func (f *FSM) view(fn func(tx *bolt.Tx, index uint64) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return ErrClosed
	}
	return f.db.View(func(tx *bolt.Tx) error {
		return fn(tx, getU64(tx.Bucket(bucketMeta), keyApplied))
	})
}

// Get returns the object kind/key, or an error wrapping ErrNotFound.
func (f *FSM) Get(kind Kind, key string) (Object, error) {
	var obj Object
	err := f.view(func(tx *bolt.Tx, _ uint64) error {
		var err error
		obj, err = getObject(tx, kind, key)
		return err
	})
	return obj, err
}

func getObject(tx *bolt.Tx, kind Kind, key string) (Object, error) {
	var obj Object
	b := tx.Bucket(bucketObjects).Bucket([]byte(kind))
	if b == nil {
		return obj, fmt.Errorf("%w: unknown kind %q", ErrNotFound, kind)
	}
	raw := b.Get([]byte(key))
	if raw == nil {
		return obj, fmt.Errorf("%w: %s %q", ErrNotFound, kind, key)
	}
	err := json.Unmarshal(raw, &obj)
	return obj, err
}

// List returns all objects of kind, ordered by key.
func (f *FSM) List(kind Kind) ([]Object, error) {
	var objs []Object
	err := f.view(func(tx *bolt.Tx, _ uint64) error {
		var err error
		objs, err = listObjects(tx, kind)
		return err
	})
	return objs, err
}

func listObjects(tx *bolt.Tx, kind Kind) ([]Object, error) {
	b := tx.Bucket(bucketObjects).Bucket([]byte(kind))
	if b == nil {
		return nil, fmt.Errorf("%w: unknown kind %q", ErrNotFound, kind)
	}
	var objs []Object
	err := b.ForEach(func(_, v []byte) error {
		var o Object
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		objs = append(objs, o)
		return nil
	})
	return objs, err
}

// Blob returns the content of the blob with the given hex sha256, assembling
// chunked blobs, or an error wrapping ErrNotFound.
func (f *FSM) Blob(sum string) ([]byte, error) {
	var out []byte
	err := f.view(func(tx *bolt.Tx, _ uint64) error {
		if b := tx.Bucket(bucketBlobs).Get([]byte(sum)); b != nil {
			out = bytes.Clone(b)
			return nil
		}
		raw := tx.Bucket(bucketManifests).Get([]byte(sum))
		if raw == nil {
			return fmt.Errorf("%w: blob %s", ErrNotFound, sum)
		}
		var m blobManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out = make([]byte, 0, m.Size)
		for _, ch := range m.Chunks {
			out = append(out, tx.Bucket(bucketBlobs).Get([]byte(ch))...)
		}
		return nil
	})
	return out, err
}

func (f *FSM) changed() <-chan struct{} {
	f.notifyMu.Lock()
	defer f.notifyMu.Unlock()
	return f.notify
}

func (f *FSM) broadcast() {
	f.notifyMu.Lock()
	defer f.notifyMu.Unlock()
	close(f.notify)
	f.notify = make(chan struct{})
}

// WaitIndex blocks until the applied index exceeds minIndex and returns it. It
// fails with the context's error, or ErrClosed.
func (f *FSM) WaitIndex(ctx context.Context, minIndex uint64) (uint64, error) {
	for {
		ch := f.changed()
		if err := f.closedErr(); err != nil {
			return 0, err
		}
		if idx := f.Index(); idx > minIndex {
			return idx, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for registry index > %d: %w", minIndex, ctx.Err())
		}
	}
}

func (f *FSM) closedErr() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return ErrClosed
	}
	return nil
}

// GetWait is a blocking Get: it waits until the applied index exceeds
// minIndex, then returns the object and the index it was read at. With
// minIndex 0 on an empty registry it waits for the first command.
func (f *FSM) GetWait(ctx context.Context, kind Kind, key string, minIndex uint64) (Object, uint64, error) {
	if _, err := f.WaitIndex(ctx, minIndex); err != nil {
		return Object{}, 0, err
	}
	var obj Object
	var at uint64
	err := f.view(func(tx *bolt.Tx, index uint64) error {
		at = index
		var err error
		obj, err = getObject(tx, kind, key)
		return err
	})
	return obj, at, err
}

// ListWait is a blocking List: it waits until the applied index exceeds
// minIndex, then returns the objects of kind and the index they were read at.
func (f *FSM) ListWait(ctx context.Context, kind Kind, minIndex uint64) ([]Object, uint64, error) {
	if _, err := f.WaitIndex(ctx, minIndex); err != nil {
		return nil, 0, err
	}
	var objs []Object
	var at uint64
	err := f.view(func(tx *bolt.Tx, index uint64) error {
		at = index
		var err error
		objs, err = listObjects(tx, kind)
		return err
	})
	return objs, at, err
}

func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putU64(b *bolt.Bucket, k []byte, v uint64) error { return b.Put(k, u64Key(v)) }

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}
