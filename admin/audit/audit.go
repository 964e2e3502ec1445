// Package audit keeps the admin audit log: an append-only, hash-chained
// list of every change and every sign-in, in the node's bbolt file.
//
// Each entry holds the SHA-256 of the entry before it (Prev) and its own
// hash over Prev and its canonical JSON (Hash). An entry edited in place,
// deleted from the middle or moved breaks the chain at that entry; a head
// record (the last sequence and hash) makes a cut-off tail visible too.
// Verify walks the chain and names the first bad entry.
//
// Entries never hold a password, a token or a resident's personal data:
// callers record who (an account's e-mail), what, when, from where and,
// where it helps, the setting before and after.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names in the node's bbolt file (package name, underscore).
var (
	bucketEntries = []byte("admin_audit")
	bucketMeta    = []byte("admin_audit_meta")
	keyHead       = []byte("head")
)

// Entry is one audit record.
type Entry struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`             // account e-mail, "cli" or "system"
	Via     string          `json:"via,omitempty"`     // portal, api, cli, oidc
	Action  string          `json:"action"`            // e.g. login, tenant.update, user.create
	Outcome string          `json:"outcome,omitempty"` // ok, failed, denied
	Tenant  string          `json:"tenant,omitempty"`
	Target  string          `json:"target,omitempty"` // what was changed: a user, a token id, a site
	IP      string          `json:"ip,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	Detail  string          `json:"detail,omitempty"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash"`
}

// head is the last entry's sequence and hash.
type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Log is the audit log in a bbolt database. It is safe for concurrent use.
type Log struct {
	db  *bolt.DB
	now func() time.Time
	mu  sync.Mutex // orders appends made outside a caller's transaction
}

// Open returns the audit log kept in db, creating its buckets.
func Open(db *bolt.DB, now func() time.Time) (*Log, error) {
	if now == nil {
		now = time.Now
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Log{db: db, now: now}, nil
}

// Value returns v as JSON for Before and After; nil when v is nil or does
// not marshal.
func Value(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return compact(b)
}

func compact(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil
	}
	return buf.Bytes()
}

// Append adds e at the end of the chain and returns it as stored, with
// its sequence, time (when zero), Prev and Hash set.
func (l *Log) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.db.Update(func(tx *bolt.Tx) error {
		var err error
		e, err = l.AppendTx(tx, e)
		return err
	})
	return e, err
}

// AppendTx is Append within the caller's write transaction, so that a
// change and its audit entry are committed together.
func (l *Log) AppendTx(tx *bolt.Tx, e Entry) (Entry, error) {
	b, meta := tx.Bucket(bucketEntries), tx.Bucket(bucketMeta)
	if b == nil || meta == nil {
		return Entry{}, errors.New("audit log buckets missing")
	}
	var h head
	if v := meta.Get(keyHead); v != nil {
		if err := json.Unmarshal(v, &h); err != nil {
			return Entry{}, fmt.Errorf("audit head: %w", err)
		}
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	e.Before, e.After = compact(e.Before), compact(e.After)
	e.Seq, e.Prev = h.Seq+1, h.Hash
	e.Hash = hashOf(e)
	data, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	if err := b.Put(seqKey(e.Seq), data); err != nil {
		return Entry{}, err
	}
	hb, _ := json.Marshal(head{Seq: e.Seq, Hash: e.Hash})
	if err := meta.Put(keyHead, hb); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// hashOf is the hash of e: SHA-256 over its canonical JSON with Hash
// empty (Prev is inside, so each hash covers the chain before it).
func hashOf(e Entry) string {
	e.Hash = ""
	b, _ := json.Marshal(e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// ChainError names the first entry where the chain is broken.
type ChainError struct {
	Seq    uint64 // the sequence of the bad entry (or the one expected there)
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

// ErrBroken is wrapped by every *ChainError.
var ErrBroken = errors.New("audit chain broken")

// Unwrap makes errors.Is(err, ErrBroken) true.
func (e *ChainError) Unwrap() error { return ErrBroken }

// Verify walks the whole chain and returns the number of intact entries,
// or a *ChainError naming the first entry that was edited, deleted,
// reordered or cut off.
func (l *Log) Verify() (int, error) {
	count := 0
	err := l.db.View(func(tx *bolt.Tx) error {
		b, meta := tx.Bucket(bucketEntries), tx.Bucket(bucketMeta)
		if b == nil || meta == nil {
			return nil
		}
		var want uint64 = 1
		prev := ""
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return &ChainError{Seq: want, Reason: fmt.Sprintf("key %x is not a sequence number", k)}
			}
			seq := binary.BigEndian.Uint64(k)
			if seq != want {
				return &ChainError{Seq: want, Reason: fmt.Sprintf("entry missing (next stored entry is %d)", seq)}
			}
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return &ChainError{Seq: seq, Reason: "entry is not valid JSON"}
			}
			switch {
			case e.Seq != seq:
				return &ChainError{Seq: seq, Reason: fmt.Sprintf("entry carries sequence %d (moved)", e.Seq)}
			case e.Prev != prev:
				return &ChainError{Seq: seq, Reason: "previous hash does not match the entry before (deleted or reordered)"}
			case hashOf(e) != e.Hash:
				return &ChainError{Seq: seq, Reason: "hash does not match the content (edited)"}
			}
			prev = e.Hash
			want++
			count++
		}
		var h head
		if v := meta.Get(keyHead); v != nil {
			if err := json.Unmarshal(v, &h); err != nil {
				return &ChainError{Seq: want, Reason: "head record unreadable"}
			}
		}
		switch {
		case h.Seq > uint64(count):
			return &ChainError{Seq: uint64(count) + 1, Reason: fmt.Sprintf("entries %d to %d missing at the end", count+1, h.Seq)}
		case h.Seq != uint64(count) || h.Hash != prev:
			return &ChainError{Seq: uint64(count), Reason: "head record does not match the last entry"}
		}
		return nil
	})
	return count, err
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Actor    string    // exact account
	Action   string    // prefix: "tenant." selects every tenant change
	Tenant   string    // exact
	From, To time.Time // From inclusive, To exclusive
	Before   uint64    // only entries with a lower sequence (paging)
	Limit    int       // at most this many, newest first; 0: all
}

func (f Filter) match(e Entry) bool {
	switch {
	case f.Actor != "" && !strings.EqualFold(e.Actor, f.Actor),
		f.Action != "" && !strings.HasPrefix(e.Action, f.Action),
		f.Tenant != "" && e.Tenant != f.Tenant,
		!f.From.IsZero() && e.Time.Before(f.From),
		!f.To.IsZero() && !e.Time.Before(f.To):
		return false
	}
	return true
}

// List returns the entries f selects, newest first.
func (l *Log) List(f Filter) ([]Entry, error) {
	var out []Entry
	err := l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if f.Before > 0 {
			if k, _ = c.Seek(seqKey(f.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		for ; k != nil; k, v = c.Prev() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("audit entry %x: %w", k, err)
			}
			if !f.match(e) {
				continue
			}
			out = append(out, e)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Formats Export writes.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// CSVHeader is the first line of a CSV export.
var CSVHeader = []string{"seq", "time", "actor", "via", "action", "outcome", "tenant", "target", "ip", "before", "after", "detail", "prev", "hash"}

// Export writes the entries f selects, oldest first, as JSON Lines (one
// entry a line, exactly as stored, so the export can be verified) or CSV.
func (l *Log) Export(w io.Writer, format string, f Filter) error {
	limit := f.Limit
	f.Limit = 0
	entries, err := l.List(f)
	if err != nil {
		return err
	}
	if limit > 0 && len(entries) > limit {
		entries = entries[:limit]
	}
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for i := len(entries) - 1; i >= 0; i-- {
			if err := enc.Encode(entries[i]); err != nil {
				return err
			}
		}
		return nil
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
		for i := len(entries) - 1; i >= 0; i-- {
			e := entries[i]
			row := []string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano), e.Actor, e.Via, e.Action, e.Outcome,
				e.Tenant, e.Target, e.IP, string(e.Before), string(e.After), e.Detail, e.Prev, e.Hash}
			for j, s := range row {
				row[j] = CSVSafe(s)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("unknown export format %q: use jsonl or csv", format)
}

// CSVSafe defuses a cell that a spreadsheet would run as a formula
// (=, +, -, @, tab, carriage return at the start) by prefixing a quote.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
