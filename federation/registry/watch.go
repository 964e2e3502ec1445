package registry

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// maxBatchChanges bounds the changes one Batch carries, so a watcher far
// behind catches up in steps instead of one huge message.
const maxBatchChanges = 1000

// Batch is what a Watcher yields. A snapshot batch holds every live object at
// Index, and the consumer replaces its whole cache with it. Any other batch
// holds the changes after the previous batch up to Index, in index order;
// Deleted marks tombstones.
type Batch struct {
	Snapshot bool
	Index    uint64
	Objects  []Object
}

// Watcher follows the registry from an index. It holds no resources; drop it
// when done. A Watcher is not safe for concurrent use.
type Watcher struct {
	f       *FSM
	index   uint64
	started bool
}

// Watch returns a Watcher that yields the changes after fromIndex. If
// fromIndex is 0, or older than the change history the FSM keeps, the first
// batch is a snapshot of all objects instead.
func (f *FSM) Watch(fromIndex uint64) *Watcher {
	return &Watcher{f: f, index: fromIndex}
}

// Index returns the index of the last batch the watcher yielded (or the index
// it started from).
func (w *Watcher) Index() uint64 { return w.index }

// Next blocks until there is a batch to yield and returns it. It never returns
// an empty non-snapshot batch. It fails with the context's error or ErrClosed.
func (w *Watcher) Next(ctx context.Context) (Batch, error) {
	for {
		ch := w.f.changed()
		b, ok, err := w.poll()
		if err != nil || ok {
			return b, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Batch{}, fmt.Errorf("watch registry after %d: %w", w.index, ctx.Err())
		}
	}
}

func (w *Watcher) poll() (Batch, bool, error) {
	var b Batch
	var ok bool
	err := w.f.view(func(tx *bolt.Tx, applied uint64) error {
		floor := getU64(tx.Bucket(bucketMeta), keyFloor)
		if (!w.started && w.index == 0) || w.index < floor {
			b = Batch{Snapshot: true, Index: applied}
			for _, k := range Kinds() {
				objs, err := listObjects(tx, k)
				if err != nil {
					return err
				}
				b.Objects = append(b.Objects, objs...)
			}
			w.index, w.started, ok = applied, true, true
			return nil
		}
		w.started = true
		if applied <= w.index {
			return nil
		}
		b.Index = applied
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(u64Key(w.index + 1)); k != nil; k, v = c.Next() {
			if len(b.Objects) == maxBatchChanges {
				b.Index = binary.BigEndian.Uint64(k) - 1
				break
			}
			var o Object
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			b.Objects = append(b.Objects, o)
		}
		// Commands that changed no object (blobs, failed CAS) still move the
		// watcher on, but yield nothing.
		w.index = b.Index
		ok = len(b.Objects) > 0
		return nil
	})
	return b, ok, err
}
