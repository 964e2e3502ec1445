package crawl

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Two links to one new page stored in the same transaction queue it once.
// (A regression: bbolt reads an empty value back as nil within the
// transaction that wrote it, so an empty seen mark looked missing and
// pages linked from several pages of one batch were fetched twice.)
func TestFrontier_PushOncePerTransaction(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "f.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketFrontier); err != nil {
			return err
		}
		f, err := createFrontier(tx, "job")
		if err != nil {
			return err
		}
		it := item{URL: "https://www.proef.example/p/1"}
		for i, want := range []bool{true, false} {
			added, _, err := f.push(it, 100)
			if err != nil {
				return err
			}
			if added != want {
				t.Errorf("push %d: added = %v, want %v", i+1, added, want)
			}
		}
		if err := f.markSeen("https://www.proef.example/p/2"); err != nil {
			return err
		}
		if added, _, _ := f.push(item{URL: "https://www.proef.example/p/2"}, 100); added {
			t.Error("a URL marked seen in this transaction was queued")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := loadQueue(db, "job", nil, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("queue: %v, %v", items, err)
	}
}
