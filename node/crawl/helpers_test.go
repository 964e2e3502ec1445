package crawl_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/node/crawl"
)

// openDB opens a bbolt file in a temporary directory.
func openDB(tb testing.TB) *bolt.DB {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "node.db"), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// memSink is the node's index in memory.
type memSink struct {
	mu      sync.Mutex
	docs    map[string]crawl.Document // by tenant/id
	puts    []string                  // ids in call order
	removes []string
}

func newMemSink() *memSink { return &memSink{docs: map[string]crawl.Document{}} }

func (s *memSink) Put(_ context.Context, tenant string, doc crawl.Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[tenant+"/"+doc.ID] = doc
	s.puts = append(s.puts, doc.ID)
	return nil
}

func (s *memSink) Remove(_ context.Context, tenant string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.docs, tenant+"/"+id)
		s.removes = append(s.removes, id)
	}
	return nil
}

// take returns and resets the puts and removes so far, sorted.
func (s *memSink) take() (puts, removes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	puts, removes = s.puts, s.removes
	s.puts, s.removes = nil, nil
	slices.Sort(puts)
	slices.Sort(removes)
	return puts, removes
}

func (s *memSink) doc(tenant, id string) (crawl.Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[tenant+"/"+id]
	return d, ok
}

func (s *memSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.docs))
}

// hit is one request a test server saw.
type hit struct {
	Path        string // path and query
	At          time.Time
	IfNoneMatch string
	IfModSince  string
	UserAgent   string
}

// recorder records every request before handing it on.
type recorder struct {
	mu   sync.Mutex
	hits []hit
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.hits = append(rec.hits, hit{
			Path: r.URL.RequestURI(), At: time.Now(), IfNoneMatch: r.Header.Get("If-None-Match"),
			IfModSince: r.Header.Get("If-Modified-Since"), UserAgent: r.Header.Get("User-Agent"),
		})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// take returns and resets the hits so far.
func (rec *recorder) take() []hit {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	h := rec.hits
	rec.hits = nil
	return h
}

// counts maps each path to how often it was requested.
func counts(hits []hit) map[string]int {
	m := map[string]int{}
	for _, h := range hits {
		m[h.Path]++
	}
	return m
}

// startServer serves h on 127.0.0.1, recording requests.
func startServer(tb testing.TB, h http.Handler) (*httptest.Server, *recorder) {
	tb.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(h))
	tb.Cleanup(srv.Close)
	return srv, rec
}

func newCrawler(tb testing.TB, db *bolt.DB, sink crawl.Sink, opts crawl.Options) *crawl.Crawler {
	tb.Helper()
	c, err := crawl.New(db, sink, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
