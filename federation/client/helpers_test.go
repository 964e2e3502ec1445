package client_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

func openDB(tb testing.TB, path string) *bolt.DB {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func tempDB(tb testing.TB) *bolt.DB {
	tb.Helper()
	return openDB(tb, filepath.Join(tb.TempDir(), "node.db"))
}

func watcherConfig(urls []string) client.WatcherConfig {
	cfg := client.DefaultWatcherConfig()
	cfg.Servers = urls
	cfg.IdleTimeout = time.Second
	cfg.MinBackoff = 20 * time.Millisecond
	cfg.MaxBackoff = 200 * time.Millisecond
	return cfg
}

// newWatcher returns an unopened Watcher with a node certificate of c.
func newWatcher(tb testing.TB, c *apitest.Cluster, db *bolt.DB, mod func(*client.WatcherConfig)) *client.Watcher {
	tb.Helper()
	cfg := watcherConfig(c.URLs())
	if mod != nil {
		mod(&cfg)
	}
	w, err := client.NewWatcher(cfg, db, c.HTTPClient(tb, c.Cert(tb, "GM0119", trust.RoleNode, "meppel-1")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

func newWriter(tb testing.TB, c *apitest.Cluster, cert tls.Certificate) *client.Writer {
	tb.Helper()
	cfg := client.DefaultWriterConfig()
	cfg.Servers = c.URLs()
	cfg.AttemptTimeout = 5 * time.Second
	cfg.MinBackoff = 20 * time.Millisecond
	cfg.MaxBackoff = 300 * time.Millisecond
	w, err := client.NewWriter(cfg, c.HTTPClient(tb, cert))
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func operator(tb testing.TB, c *apitest.Cluster) *client.Writer {
	tb.Helper()
	return newWriter(tb, c, c.Cert(tb, "VNG", trust.RoleOperator, "tool"))
}

func mustPut(tb testing.TB, v registry.Value) registry.Command {
	tb.Helper()
	cmd, err := registry.Put(v)
	if err != nil {
		tb.Fatal(err)
	}
	return cmd
}

// waitFor polls cond every 5 ms until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dump returns every object of every kind, as JSON, for comparisons.
func dump(tb testing.TB, list func(registry.Kind) ([]registry.Object, error)) []byte {
	tb.Helper()
	var all []registry.Object
	for _, k := range registry.Kinds() {
		objs, err := list(k)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, objs...)
	}
	raw, err := json.Marshal(all)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// sameAsRegistry reports whether the watcher's cache equals fsm's objects.
func sameAsRegistry(tb testing.TB, w *client.Watcher, fsm *registry.FSM) bool {
	tb.Helper()
	return w.Index() >= fsm.Index() && bytes.Equal(dump(tb, w.List), dump(tb, fsm.List))
}
