package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// PruneAfter is how long a store keeps a token record after the token expired.
// Expired tokens are refused anyway; pruning only bounds the store's size.
const PruneAfter = 24 * time.Hour

// TokenRecord is what a TokenStore keeps about one join token. The token
// itself is never stored, only its hash.
type TokenRecord struct {
	// Hash is the hex SHA-256 of the token's 32 raw bytes.
	Hash string `json:"hash"`
	// Org and Role are what the certificate issued for the token will carry.
	Org  string `json:"org"`
	Role Role   `json:"role"`
	// Node, if set, binds the token to one node id.
	Node string `json:"node,omitempty"`
	// Expires is when the token stops being redeemable.
	Expires time.Time `json:"expires"`
	// UsedAt is when the token was redeemed; zero while unused.
	UsedAt time.Time `json:"used_at,omitzero"`
}

// Used reports whether the token was redeemed.
func (r TokenRecord) Used() bool { return !r.UsedAt.IsZero() }

// TokenStore keeps join token records. Implementations must make Consume
// atomic: of any number of concurrent Consume calls for one hash, at most one
// succeeds.
type TokenStore interface {
	// Add stores a new record and may prune records that expired more than
	// PruneAfter before now. It returns ErrExists if the hash is present.
	Add(rec TokenRecord, now time.Time) error
	// Consume looks up hash and, if the record is unused, unexpired at now and
	// accepted by check (which may be nil), marks it used at now and returns
	// it. It returns an error wrapping ErrTokenUnknown, ErrTokenUsed,
	// ErrTokenExpired or check's error, and then leaves the record unchanged.
	Consume(hash string, now time.Time, check func(TokenRecord) error) (TokenRecord, error)
}

// tokenMap is the logic shared by both stores; callers hold the lock.
type tokenMap map[string]TokenRecord

func (m tokenMap) add(rec TokenRecord, now time.Time) error {
	if _, ok := m[rec.Hash]; ok {
		return fmt.Errorf("add token: %w", ErrExists)
	}
	for h, r := range m {
		if r.Expires.Add(PruneAfter).Before(now) {
			delete(m, h)
		}
	}
	m[rec.Hash] = rec
	return nil
}

func (m tokenMap) consume(hash string, now time.Time, check func(TokenRecord) error) (TokenRecord, error) {
	rec, ok := m[hash]
	switch {
	case !ok:
		return TokenRecord{}, ErrTokenUnknown
	case rec.Used():
		return TokenRecord{}, fmt.Errorf("used at %s: %w", rec.UsedAt.Format(time.RFC3339), ErrTokenUsed)
	case !now.Before(rec.Expires):
		return TokenRecord{}, fmt.Errorf("expired at %s: %w", rec.Expires.Format(time.RFC3339), ErrTokenExpired)
	}
	if check != nil {
		if err := check(rec); err != nil {
			return TokenRecord{}, err
		}
	}
	rec.UsedAt = now
	m[hash] = rec
	return rec, nil
}

// MemoryTokenStore is a TokenStore in memory, for tests and for a CA whose
// tokens need not survive a restart. It is safe for concurrent use.
type MemoryTokenStore struct {
	mu sync.Mutex
	m  tokenMap
}

// NewMemoryTokenStore returns an empty in-memory store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{m: tokenMap{}}
}

// Add implements TokenStore.
func (s *MemoryTokenStore) Add(rec TokenRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.add(rec, now)
}

// Consume implements TokenStore.
func (s *MemoryTokenStore) Consume(hash string, now time.Time, check func(TokenRecord) error) (TokenRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.consume(hash, now, check)
}

// FileTokenStore is a TokenStore backed by one JSON file, rewritten atomically
// (temporary file, fsync, rename, fsync of the directory) on every change.
// Every change reads the file again under an exclusive lock (flock on
// path + ".lock"), so several processes may share it: the operator's
// 'federation token' adds tokens that the issuing coordinator, running,
// redeems.
type FileTokenStore struct {
	path string
	mu   sync.Mutex
	m    tokenMap
}

type tokenFile struct {
	Version int           `json:"version"`
	Tokens  []TokenRecord `json:"tokens"`
}

// OpenFileTokenStore opens the store at path, creating an empty one in memory
// if the file does not exist yet (it is written on the first change).
func OpenFileTokenStore(path string) (*FileTokenStore, error) {
	m, err := readTokenFile(path)
	if err != nil {
		return nil, err
	}
	return &FileTokenStore{path: path, m: m}, nil
}

// readTokenFile reads the records in path; a missing file holds none.
func readTokenFile(path string) (tokenMap, error) {
	m := tokenMap{}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open token store: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("open token store %s: %w", path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("open token store %s: unknown version %d", path, f.Version)
	}
	for _, r := range f.Tokens {
		m[r.Hash] = r
	}
	return m, nil
}

// Add implements TokenStore; the record is on disk when Add returns nil.
func (s *FileTokenStore) Add(rec TokenRecord, now time.Time) error {
	return s.update(func(m tokenMap) error { return m.add(rec, now) })
}

// Consume implements TokenStore; the use is on disk when Consume returns a
// record, and a failed write leaves the token unused.
func (s *FileTokenStore) Consume(hash string, now time.Time, check func(TokenRecord) error) (TokenRecord, error) {
	var rec TokenRecord
	err := s.update(func(m tokenMap) error {
		var err error
		rec, err = m.consume(hash, now, check)
		return err
	})
	return rec, err
}

// update applies change to the file's current records under the lock and
// writes the result; a change that fails writes nothing.
func (s *FileTokenStore) update(change func(tokenMap) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lock, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("token store lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("token store lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cur, err := readTokenFile(s.path)
	if err != nil {
		return err
	}
	s.m = cur
	next := s.copy()
	if err := change(next); err != nil {
		return err
	}
	if err := s.write(next); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	s.m = next
	return nil
}

func (s *FileTokenStore) copy() tokenMap {
	m := make(tokenMap, len(s.m)+1)
	for k, v := range s.m {
		m[k] = v
	}
	return m
}

func (s *FileTokenStore) write(m tokenMap) error {
	f := tokenFile{Version: 1, Tokens: make([]TokenRecord, 0, len(m))}
	for _, r := range m {
		f.Tokens = append(f.Tokens, r)
	}
	slices.SortFunc(f.Tokens, func(a, b TokenRecord) int { return strings.Compare(a.Hash, b.Hash) })
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode token store: %w", err)
	}
	return writeFileAtomic(s.path, data, 0o600)
}

// writeFileAtomic replaces path with data so that readers and crashes see
// either the old or the new contents.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}
