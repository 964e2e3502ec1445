package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketExcluded holds the keys of documents staff left out of answers,
// apart from the documents themselves, so a new crawl of a page does not
// let it back in.
var bucketExcluded = []byte("excluded")

// Exclusion records that a document is left out of answers.
type Exclusion struct {
	Key  string    `json:"key"`
	Time time.Time `json:"time"`
}

// SetExcluded leaves the document with key out of answers (excluded) or
// lets it back in; changed is false when it already was so. It does not
// check that the document exists.
func (s *Store) SetExcluded(key string, excluded bool, now time.Time) (changed bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketExcluded)
		if err != nil {
			return err
		}
		has := b.Get([]byte(key)) != nil
		if has == excluded {
			return nil
		}
		changed = true
		if !excluded {
			return b.Delete([]byte(key))
		}
		return PutJSON(b, []byte(key), Exclusion{Key: key, Time: now.UTC()})
	})
	return changed, err
}

// Excluded returns the exclusions by document key.
func (s *Store) Excluded() (map[string]Exclusion, error) {
	out := map[string]Exclusion{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketExcluded)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e Exclusion
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("exclusion %s: %w", k, err)
			}
			out[string(k)] = e
			return nil
		})
	})
	return out, err
}

// DocsIn calls fn for every document of scope, in key order, until fn
// returns an error, which DocsIn returns.
func (s *Store) DocsIn(scope string, fn func(Doc) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(scope + "/")
		c := tx.Bucket(bucketDocs).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var d Doc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("document %s: %w", k, err)
			}
			if err := fn(d); err != nil {
				return err
			}
		}
		return nil
	})
}
