// Package store keeps a node's own state in one bbolt file: tenants,
// collections, documents and their chunks, and the change log that the
// derived search indexes replay after a crash.
//
// bbolt is the source of truth. Every ingest batch is one bbolt transaction
// that also appends a change record with a new sequence number; the indexes
// record the last sequence they applied, so the node can bring them up to
// date on start (see node.Open).
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/assistent-nl/assistent/retrieval"
)

// ErrNotFound is returned when a tenant, collection or document does not exist.
var ErrNotFound = errors.New("not found")

// ErrLocked is returned by Open when another process holds the data file.
var ErrLocked = errors.New("data file in use by another process")

var (
	bucketMeta          = []byte("meta")
	bucketTenants       = []byte("tenants")
	bucketCollections   = []byte("collections")
	bucketDocs          = []byte("docs")
	bucketChunks        = []byte("chunks")
	bucketVectors       = []byte("vectors")
	bucketChanges       = []byte("changes")
	bucketFeedback      = []byte("feedback")
	bucketConversations = []byte("conversations")

	keySeq    = []byte("seq")
	keySchema = []byte("schema")
)

const schemaVersion = "1"

// Store is the node's bbolt database. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the bbolt file at path. It waits at most timeout
// for the file lock and then returns an error wrapping ErrLocked.
func Open(path string, timeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketTenants, bucketCollections, bucketDocs, bucketChunks, bucketVectors, bucketChanges, bucketFeedback, bucketConversations} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keySchema); {
		case v == nil:
			return meta.Put(keySchema, []byte(schemaVersion))
		case string(v) != schemaVersion:
			return fmt.Errorf("schema version %s, this binary reads %s", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Tenant is a gemeente served by the node, with the contact details used
// when the assistant refers a resident to a human.
type Tenant struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone,omitempty"`
	ContactURL string    `json:"contact_url,omitempty"`
	Hours      string    `json:"hours,omitempty"`
	Sites      []string  `json:"sites,omitempty"`
	Updated    time.Time `json:"updated"`
	// TokenHash is the sha256 (hex) of the tenant's trigger token for the
	// crawl API; the token itself is never stored.
	TokenHash string `json:"token_hash,omitempty"`
	// RetentionDays is how long the tenant's conversations, question log
	// and feedback are kept; 0: the node's retention.
	RetentionDays int `json:"retention_days,omitempty"`
}

// PutTenant creates or replaces a tenant.
func (s *Store) PutTenant(t Tenant) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return PutJSON(tx.Bucket(bucketTenants), []byte(t.ID), t)
	})
}

// Tenant returns the tenant with id, or an error wrapping ErrNotFound.
func (s *Store) Tenant(id string) (Tenant, error) {
	var t Tenant
	err := s.db.View(func(tx *bolt.Tx) error {
		return GetJSON(tx.Bucket(bucketTenants), []byte(id), &t)
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant %s: %w", id, err)
	}
	return t, nil
}

// Tenants returns all tenants ordered by id.
func (s *Store) Tenants() ([]Tenant, error) {
	var out []Tenant
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
			var t Tenant
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("tenant %s: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// Collection is a national knowledge collection held on the node.
type Collection struct {
	Name    string    `json:"name"`
	Title   string    `json:"title,omitempty"`
	Docs    int       `json:"docs"`
	Updated time.Time `json:"updated"`
	// Version is the publisher's version of the content, for collections
	// that come signed through the federation; a lower or equal version is
	// refused (no rollback).
	Version uint64 `json:"version,omitempty"`
}

// SetCollectionVersion records the version of a collection's content.
func (s *Store) SetCollectionVersion(name string, version uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var col Collection
		if err := GetJSON(tx.Bucket(bucketCollections), []byte(name), &col); err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		col.Version = version
		return PutJSON(tx.Bucket(bucketCollections), []byte(name), col)
	})
}

// CollectionVersion returns the recorded version of a collection, 0 when
// it has none or does not exist.
func (s *Store) CollectionVersion(name string) (uint64, error) {
	var col Collection
	err := s.db.View(func(tx *bolt.Tx) error {
		return GetJSON(tx.Bucket(bucketCollections), []byte(name), &col)
	})
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return col.Version, err
}

// Collections returns the national collections on the node, ordered by name.
func (s *Store) Collections() ([]Collection, error) {
	var out []Collection
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCollections).ForEach(func(k, v []byte) error {
			var c Collection
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("collection %s: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// Doc is a stored document: its metadata, the hash of its content and the
// number of chunks it has.
type Doc struct {
	retrieval.Document
	Hash     string    `json:"hash"`
	Chunks   int       `json:"chunks"`
	Seq      uint64    `json:"seq"`
	Ingested time.Time `json:"ingested"`
	Meta     *DocMeta  `json:"meta,omitempty"`
}

// DocMeta describes where a crawled document came from, for the admin
// portal and for the crawler's change detection. Documents ingested from
// files have none.
type DocMeta struct {
	Canonical   string    `json:"canonical,omitempty"`
	Headings    []string  `json:"headings,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Source      string    `json:"source,omitempty"`       // the crawl source's id
	ContentHash string    `json:"content_hash,omitempty"` // sha256 of the extracted content
	Fetched     time.Time `json:"fetched,omitzero"`
	Modified    time.Time `json:"modified,omitzero"` // as the page or server says
}

// Doc returns the document with key (see retrieval.DocKey).
func (s *Store) Doc(key string) (Doc, error) {
	var d Doc
	err := s.db.View(func(tx *bolt.Tx) error {
		return GetJSON(tx.Bucket(bucketDocs), []byte(key), &d)
	})
	if err != nil {
		return Doc{}, fmt.Errorf("document %s: %w", key, err)
	}
	return d, nil
}

// DocCount returns the number of documents in scope, or in all scopes when
// scope is "".
func (s *Store) DocCount(scope string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDocs).Cursor()
		prefix := []byte(scope + "/")
		if scope == "" {
			n = tx.Bucket(bucketDocs).Stats().KeyN
			return nil
		}
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// DocWrite is one document to store with its chunks. The chunks' IDs must
// be ChunkID(doc key, ordinal).
type DocWrite struct {
	Doc    retrieval.Document
	Hash   string
	Chunks []retrieval.Chunk
	Meta   *DocMeta // may be nil
}

// ChunkID returns the id of chunk ord of the document with key docKey.
func ChunkID(docKey string, ord int) string { return fmt.Sprintf("%s#%d", docKey, ord) }

// Change is one committed batch: the chunks it wrote and removed, under a
// sequence number that grows by one per batch.
type Change struct {
	Seq     uint64   `json:"seq"`
	Upserts []string `json:"upserts,omitempty"`
	Deletes []string `json:"deletes,omitempty"`
}

// BatchResult tells what a batch did.
type BatchResult struct {
	Change    Change
	Written   int // documents new or changed
	Unchanged int // documents whose hash was already stored
}

// WriteBatch stores documents and their chunks in one transaction: after a
// crash either all of them are stored, with their change record, or none.
// A document whose hash is unchanged is skipped. Chunks of an earlier
// version beyond the new chunk count are removed. A collection record is
// kept up to date for national scopes.
func (s *Store) WriteBatch(docs []DocWrite, now time.Time) (BatchResult, error) {
	return s.ReplaceBatch(docs, nil, now)
}

// ReplaceBatch removes the documents with the keys in remove and stores
// docs, in one transaction with one change record: readers and a restarted
// node see the old set or the new one, never a mix. It is how a new
// version of a national collection replaces the previous one.
func (s *Store) ReplaceBatch(docs []DocWrite, remove []string, now time.Time) (BatchResult, error) {
	var res BatchResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		docsB, chunksB, vecB := tx.Bucket(bucketDocs), tx.Bucket(bucketChunks), tx.Bucket(bucketVectors)
		meta := tx.Bucket(bucketMeta)
		seq := getUint(meta.Get(keySeq)) + 1
		change := Change{Seq: seq}
		national := map[string]bool{}
		removed := 0
		for _, key := range remove {
			var d Doc
			if err := GetJSON(docsB, []byte(key), &d); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			for i := range d.Chunks {
				id := []byte(ChunkID(key, i))
				if err := chunksB.Delete(id); err != nil {
					return err
				}
				if err := vecB.Delete(id); err != nil {
					return err
				}
				change.Deletes = append(change.Deletes, string(id))
			}
			if err := docsB.Delete([]byte(key)); err != nil {
				return err
			}
			if retrieval.IsNational(d.Scope) {
				national[d.Scope] = true
			}
			removed++
		}
		for _, w := range docs {
			key := w.Doc.Key()
			var old Doc
			switch err := GetJSON(docsB, []byte(key), &old); {
			case err == nil:
				if old.Hash == w.Hash && old.Chunks == len(w.Chunks) {
					res.Unchanged++
					continue
				}
			case errors.Is(err, ErrNotFound):
			default:
				return err
			}
			for i := len(w.Chunks); i < old.Chunks; i++ {
				id := []byte(ChunkID(key, i))
				if err := chunksB.Delete(id); err != nil {
					return err
				}
				if err := vecB.Delete(id); err != nil {
					return err
				}
				change.Deletes = append(change.Deletes, string(id))
			}
			for i, c := range w.Chunks {
				if c.ID != ChunkID(key, i) {
					return fmt.Errorf("chunk %d of %s has id %q, want %q", i, key, c.ID, ChunkID(key, i))
				}
				if err := putChunk(chunksB, vecB, c); err != nil {
					return err
				}
				change.Upserts = append(change.Upserts, c.ID)
			}
			d := Doc{Document: w.Doc, Hash: w.Hash, Chunks: len(w.Chunks), Seq: seq, Ingested: now, Meta: w.Meta}
			if err := PutJSON(docsB, []byte(key), d); err != nil {
				return err
			}
			if retrieval.IsNational(w.Doc.Scope) {
				national[w.Doc.Scope] = true
			}
			res.Written++
		}
		if res.Written == 0 && removed == 0 {
			return nil // nothing changed: no sequence, no change record
		}
		for scope := range national {
			if err := updateCollection(tx, scope, now); err != nil {
				return err
			}
		}
		if err := PutJSON(tx.Bucket(bucketChanges), uintKey(seq), change); err != nil {
			return err
		}
		res.Change = change
		return meta.Put(keySeq, uintKey(seq))
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("write batch: %w", err)
	}
	return res, nil
}

// DocKeys returns the keys of the documents in scope, in order.
func (s *Store) DocKeys(scope string) ([]string, error) {
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(scope + "/")
		c := tx.Bucket(bucketDocs).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list documents of %s: %w", scope, err)
	}
	return keys, nil
}

func updateCollection(tx *bolt.Tx, scope string, now time.Time) error {
	name := strings.TrimPrefix(scope, "n:")
	n := 0
	prefix := []byte(scope + "/")
	c := tx.Bucket(bucketDocs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	var col Collection
	if err := GetJSON(tx.Bucket(bucketCollections), []byte(name), &col); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	col.Name, col.Docs, col.Updated = name, n, now
	return PutJSON(tx.Bucket(bucketCollections), []byte(name), col)
}

// Seq returns the sequence of the last committed batch, 0 when none.
func (s *Store) Seq() (uint64, error) {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = getUint(tx.Bucket(bucketMeta).Get(keySeq))
		return nil
	})
	return seq, err
}

// ChangesAfter returns the change records with a sequence above seq, in order.
func (s *Store) ChangesAfter(seq uint64) ([]Change, error) {
	var out []Change
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(uintKey(seq + 1)); k != nil; k, v = c.Next() {
			var ch Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("change %d: %w", getUint(k), err)
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}

// PruneChanges removes change records up to and including seq, once every
// index has applied them.
func (s *Store) PruneChanges(seq uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketChanges).Cursor()
		for k, _ := c.First(); k != nil && getUint(k) <= seq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Chunks returns the stored chunks with the given ids, without vectors.
// Unknown ids are absent from the map.
func (s *Store) Chunks(ids []string) (map[string]retrieval.Chunk, error) {
	out := make(map[string]retrieval.Chunk, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChunks)
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			c, err := decodeChunk(id, v)
			if err != nil {
				return err
			}
			out[id] = c
		}
		return nil
	})
	return out, err
}

// ForEachChunk calls fn for every stored chunk, with its vector when one is
// stored, in key order. fn must not keep the Vector slice's backing array
// beyond the call.
func (s *Store) ForEachChunk(fn func(retrieval.Chunk) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		vecB := tx.Bucket(bucketVectors)
		return tx.Bucket(bucketChunks).ForEach(func(k, v []byte) error {
			c, err := decodeChunk(string(k), v)
			if err != nil {
				return err
			}
			c.Vector = decodeVector(vecB.Get(k))
			return fn(c)
		})
	})
}

// chunkRecord is the stored form of a chunk; the vector is kept apart.
type chunkRecord struct {
	DocKey   string   `json:"d"`
	DocID    string   `json:"i"`
	Scope    string   `json:"s"`
	URL      string   `json:"u"`
	Title    string   `json:"t"`
	Headings []string `json:"h,omitempty"`
	Text     string   `json:"x"`
	Ord      int      `json:"o"`
	Anchor   string   `json:"a,omitempty"`
}

func putChunk(chunksB, vecB *bolt.Bucket, c retrieval.Chunk) error {
	rec := chunkRecord{DocKey: c.DocKey, DocID: c.DocID, Scope: c.Scope, URL: c.URL, Title: c.Title, Headings: c.Headings, Text: c.Text, Ord: c.Ord, Anchor: c.Anchor}
	if err := PutJSON(chunksB, []byte(c.ID), rec); err != nil {
		return err
	}
	if len(c.Vector) == 0 {
		return vecB.Delete([]byte(c.ID))
	}
	return vecB.Put([]byte(c.ID), encodeVector(c.Vector))
}

func decodeChunk(id string, v []byte) (retrieval.Chunk, error) {
	var rec chunkRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return retrieval.Chunk{}, fmt.Errorf("chunk %s: %w", id, err)
	}
	return retrieval.Chunk{ID: id, DocKey: rec.DocKey, DocID: rec.DocID, Scope: rec.Scope, URL: rec.URL, Title: rec.Title, Headings: rec.Headings, Text: rec.Text, Ord: rec.Ord, Anchor: rec.Anchor}, nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// PutJSON stores v as JSON under key in b: the form of every record in the
// node's bbolt file (the admin portal's buckets too).
func PutJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// GetJSON reads the JSON record under key in b into v, or returns
// ErrNotFound.
func GetJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	return json.Unmarshal(data, v)
}

func uintKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// PutVectors stores the vectors of existing chunks (after the embedder
// changed); chunks that no longer exist are skipped.
func (s *Store) PutVectors(chunks []retrieval.Chunk) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		chunksB, vecB := tx.Bucket(bucketChunks), tx.Bucket(bucketVectors)
		for _, c := range chunks {
			if chunksB.Get([]byte(c.ID)) == nil || len(c.Vector) == 0 {
				continue
			}
			if err := vecB.Put([]byte(c.ID), encodeVector(c.Vector)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForEachDoc calls fn with the key and chunk count of every stored
// document, in key order.
func (s *Store) ForEachDoc(fn func(key string, chunks int) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			var d Doc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("document %s: %w", k, err)
			}
			return fn(string(k), d.Chunks)
		})
	})
}

// Feedback is a resident's rating of one answer.
type Feedback struct {
	Tenant     string    `json:"tenant"`
	QuestionID string    `json:"question_id,omitempty"`
	Rating     string    `json:"rating"` // "up" or "down"
	Comment    string    `json:"comment,omitempty"`
	Time       time.Time `json:"time"`
}

// AddFeedback appends feedback under its tenant, in time order.
func (s *Store) AddFeedback(f Feedback) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketFeedback).CreateBucketIfNotExists([]byte(f.Tenant))
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return PutJSON(b, uintKey(seq), f)
	})
}

// FeedbackFor returns a tenant's feedback, oldest first.
func (s *Store) FeedbackFor(tenant string) ([]Feedback, error) {
	var out []Feedback
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeedback).Bucket([]byte(tenant))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var f Feedback
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("feedback %d: %w", getUint(k), err)
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// Turn is one question in a conversation, with personal data scrubbed.
type Turn struct {
	Question string    `json:"question"`
	Topic    string    `json:"topic"` // the search terms the turn used
	Refused  bool      `json:"refused"`
	Time     time.Time `json:"time"`
}

// Conversation is a resident's chat with a tenant, kept until it expires.
type Conversation struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Turns  []Turn `json:"turns"`
	// Asked counts the questions ever asked in the conversation, also those
	// whose turns were dropped (MaxTurns): question n (1-based) was asked
	// when n <= Asked.
	Asked   int       `json:"asked,omitempty"`
	Updated time.Time `json:"updated"`
}

// Questions returns how many questions were asked in c, also in a
// conversation stored before Asked was counted.
func (c Conversation) Questions() int { return max(c.Asked, len(c.Turns)) }

// MaxTurns bounds the turns kept per conversation; older ones are dropped.
const MaxTurns = 50

// Conversation returns the conversation with id, or an error wrapping
// ErrNotFound.
func (s *Store) Conversation(id string) (Conversation, error) {
	var c Conversation
	err := s.db.View(func(tx *bolt.Tx) error {
		return GetJSON(tx.Bucket(bucketConversations), []byte(id), &c)
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("conversation: %w", err)
	}
	return c, nil
}

// AddTurn appends a turn to conversation id of tenant, creating it when
// absent, and counts it in Asked.
func (s *Store) AddTurn(id, tenant string, t Turn) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var c Conversation
		if err := GetJSON(b, []byte(id), &c); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		c.ID, c.Tenant, c.Updated = id, tenant, t.Time
		c.Asked = c.Questions() + 1
		c.Turns = append(c.Turns, t)
		if len(c.Turns) > MaxTurns {
			c.Turns = c.Turns[len(c.Turns)-MaxTurns:]
		}
		return PutJSON(b, []byte(id), c)
	})
}

// DeleteConversationsBefore removes conversations last updated before
// cutoff and returns how many it removed.
func (s *Store) DeleteConversationsBefore(cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var c Conversation
			if err := json.Unmarshal(v, &c); err != nil || c.Updated.Before(cutoff) {
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

// DeleteDocs removes documents and their chunks in one transaction, with a
// change record like WriteBatch. Unknown keys are ignored; when none is
// known the result has sequence 0.
func (s *Store) DeleteDocs(keys []string) (Change, error) {
	res, err := s.ReplaceBatch(nil, keys, time.Now().UTC())
	return res.Change, err
}

// ForEachVector calls fn with the id, scope and vector of every chunk that
// has a stored vector, without decoding the chunk records: the fast way to
// fill a vector index on start. The vector is fn's to keep.
func (s *Store) ForEachVector(fn func(id, scope string, v []float32) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVectors).ForEach(func(k, v []byte) error {
			id := string(k)
			scope, _, _ := strings.Cut(id, "/")
			return fn(id, scope, decodeVector(v))
		})
	})
}

// ChunkCount returns the number of stored chunks.
func (s *Store) ChunkCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketChunks).Stats().KeyN
		return nil
	})
	return n, err
}

// keyEmbedder records the embedder (name and dimension) whose vectors the
// store holds.
var keyEmbedder = []byte("embedder")

// Embedder returns the identity of the embedder whose vectors the store
// holds ("lexical-256", "openai:bge-m3/1024"), or "" when none is recorded.
func (s *Store) Embedder() (string, error) {
	var out string
	err := s.db.View(func(tx *bolt.Tx) error {
		out = string(tx.Bucket(bucketMeta).Get(keyEmbedder))
		return nil
	})
	return out, err
}

// SetEmbedder records the identity of the embedder whose vectors the store
// holds.
func (s *Store) SetEmbedder(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyEmbedder, []byte(id))
	})
}

// Bolt returns the underlying database, for packages that keep their own
// buckets in the node's one file (the crawler's frontier and jobs). Their
// bucket names must start with their package name and an underscore, so
// they never collide with the store's.
func (s *Store) Bolt() *bolt.DB { return s.db }

// ChunksWithVectors is Chunks with each chunk's stored vector (nil when it
// has none): what a search backend is sent.
func (s *Store) ChunksWithVectors(ids []string) (map[string]retrieval.Chunk, error) {
	out := make(map[string]retrieval.Chunk, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		b, vecB := tx.Bucket(bucketChunks), tx.Bucket(bucketVectors)
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			c, err := decodeChunk(id, v)
			if err != nil {
				return err
			}
			c.Vector = decodeVector(vecB.Get([]byte(id)))
			out[id] = c
		}
		return nil
	})
	return out, err
}

// BackendState is how far a scale-out search backend (a Qdrant collection,
// an Elasticsearch index) has been brought: every batch up to Seq, with
// vectors of Embedder (an embedder id as Embedder returns it; "" unknown).
type BackendState struct {
	Seq      uint64 `json:"seq"`
	Embedder string `json:"embedder"`
}

// backendPrefix starts the meta keys of backend states; the rest of the
// key is the backend's name ("elastic/assistent").
const backendPrefix = "backend:"

// BackendState returns the recorded state of the backend name; ok is
// false when none is recorded.
func (s *Store) BackendState(name string) (st BackendState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		err := GetJSON(tx.Bucket(bucketMeta), []byte(backendPrefix+name), &st)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return st, ok, err
}

// SetBackendState records the state of the backend name.
func (s *Store) SetBackendState(name string, st BackendState) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return PutJSON(tx.Bucket(bucketMeta), []byte(backendPrefix+name), st)
	})
}

// BackendStates returns the recorded state of every backend by name. The
// change log must be kept back to the oldest of them, so each can catch
// up when the node next uses it.
func (s *Store) BackendStates() (map[string]BackendState, error) {
	out := map[string]BackendState{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMeta).Cursor()
		prefix := []byte(backendPrefix)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var st BackendState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("backend state %s: %w", k, err)
			}
			out[string(k[len(prefix):])] = st
		}
		return nil
	})
	return out, err
}
