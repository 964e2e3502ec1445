package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The question log's buckets are created on first write, so that stores
// written before it open unchanged.
var (
	bucketQuestions   = []byte("questions")    // tenant → seq → Question
	bucketQuestionIDs = []byte("question_ids") // tenant → question id → seq
)

// Page is a page an answer cited or the search found.
type Page struct {
	ID    string `json:"id,omitempty"` // document id
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// Question is one resident question as the node answered it, for the
// admin portal's dashboard, unanswered questions and review. The text is
// scrubbed of personal data before it is stored.
type Question struct {
	ID         string        `json:"id"` // "<conversation>/<n>", the id feedback refers to
	Tenant     string        `json:"tenant"`
	Time       time.Time     `json:"time"`
	Text       string        `json:"text"`
	Mode       string        `json:"mode"` // answer, suggest, noinfo, refuse
	Route      string        `json:"route,omitempty"`
	Refused    bool          `json:"refused"`
	Confidence float64       `json:"confidence"`
	Latency    time.Duration `json:"latency_ns"`
	Fallback   bool          `json:"fallback,omitempty"` // answered from another gemeente's pages
	Answer     string        `json:"answer,omitempty"`
	Citations  []Page        `json:"citations,omitempty"`
	Found      []Page        `json:"found,omitempty"` // the best pages the search found
}

// AddQuestion appends q to its tenant's question log.
func (s *Store) AddQuestion(q Question) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tenantBucket(tx, bucketQuestions, q.Tenant)
		if err != nil {
			return err
		}
		ids, err := tenantBucket(tx, bucketQuestionIDs, q.Tenant)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if q.ID != "" {
			if err := ids.Put([]byte(q.ID), uintKey(seq)); err != nil {
				return err
			}
		}
		return PutJSON(b, uintKey(seq), q)
	})
}

func tenantBucket(tx *bolt.Tx, name []byte, tenant string) (*bolt.Bucket, error) {
	top, err := tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return top.CreateBucketIfNotExists([]byte(tenant))
}

func tenantBucketRO(tx *bolt.Tx, name []byte, tenant string) *bolt.Bucket {
	top := tx.Bucket(name)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(tenant))
}

// Question returns a tenant's question with id, or an error wrapping
// ErrNotFound.
func (s *Store) Question(tenant, id string) (Question, error) {
	var q Question
	err := s.db.View(func(tx *bolt.Tx) error {
		ids, b := tenantBucketRO(tx, bucketQuestionIDs, tenant), tenantBucketRO(tx, bucketQuestions, tenant)
		if ids == nil || b == nil {
			return ErrNotFound
		}
		seq := ids.Get([]byte(id))
		if seq == nil {
			return ErrNotFound
		}
		return GetJSON(b, seq, &q)
	})
	if err != nil {
		return Question{}, fmt.Errorf("question %s: %w", id, err)
	}
	return q, nil
}

// Questions calls fn with a tenant's questions asked at or after since,
// oldest first, until fn returns false.
func (s *Store) Questions(tenant string, since time.Time, fn func(Question) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tenantBucketRO(tx, bucketQuestions, tenant)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var q Question
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("question %d: %w", getUint(k), err)
			}
			if q.Time.Before(since) {
				continue
			}
			if !fn(q) {
				return nil
			}
		}
		return nil
	})
}

// DeleteQuestionsBefore removes a tenant's questions asked before cutoff,
// and its feedback given before it, and returns how many records it
// removed.
func (s *Store) DeleteQuestionsBefore(tenant string, cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, ids := tenantBucketRO(tx, bucketQuestions, tenant), tenantBucketRO(tx, bucketQuestionIDs, tenant)
		if b != nil {
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.First() {
				var q Question
				if err := json.Unmarshal(v, &q); err == nil && !q.Time.Before(cutoff) {
					break
				}
				if ids != nil && q.ID != "" && bytes.Equal(ids.Get([]byte(q.ID)), k) {
					if err := ids.Delete([]byte(q.ID)); err != nil {
						return err
					}
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		if fb := tx.Bucket(bucketFeedback).Bucket([]byte(tenant)); fb != nil {
			c := fb.Cursor()
			for k, v := c.First(); k != nil; k, v = c.First() {
				var f Feedback
				if err := json.Unmarshal(v, &f); err == nil && !f.Time.Before(cutoff) {
					break
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

// DeleteTenantConversationsBefore removes a tenant's conversations last
// updated before cutoff and returns how many it removed.
func (s *Store) DeleteTenantConversationsBefore(tenant string, cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var c Conversation
			if err := json.Unmarshal(v, &c); err == nil && c.Tenant == tenant && c.Updated.Before(cutoff) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
