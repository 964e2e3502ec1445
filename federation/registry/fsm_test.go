package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/assistent-nl/assistent/federation/registry"
)

// harness feeds commands to an FSM as Raft would, with increasing indexes.
type harness struct {
	tb    testing.TB
	fsm   *registry.FSM
	index uint64
	now   time.Time
}

func newHarness(tb testing.TB, opts registry.Options) *harness {
	tb.Helper()
	f, err := registry.Open(filepath.Join(tb.TempDir(), "registry.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return &harness{tb: tb, fsm: f, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (h *harness) apply(cmd registry.Command) registry.Result {
	h.tb.Helper()
	data, err := cmd.Encode()
	if err != nil {
		h.tb.Fatal(err)
	}
	h.index++
	h.now = h.now.Add(time.Second)
	res, ok := h.fsm.Apply(&raft.Log{Index: h.index, Term: 1, Type: raft.LogCommand, Data: data, AppendedAt: h.now}).(registry.Result)
	if !ok {
		h.tb.Fatalf("Apply returned %T", res)
	}
	return res
}

func (h *harness) put(v registry.Value) registry.Result {
	h.tb.Helper()
	cmd, err := registry.Put(v)
	if err != nil {
		h.tb.Fatal(err)
	}
	return h.apply(cmd)
}

func setting(name, value string) registry.Setting { return registry.Setting{Name: name, Value: value} }

func TestFSM_PutGetDelete(t *testing.T) {
	h := newHarness(t, registry.Options{})
	r1 := h.put(validOrg())
	if r1.Status != registry.StatusOK || r1.Index != 1 || r1.ModifyIndex != 1 {
		t.Fatalf("first put: %+v", r1)
	}
	h.put(setting("b", "1"))
	h.put(setting("a", "1"))
	o := validOrg()
	o.Name = "Gemeente Meppel (nieuw)"
	r4 := h.put(o)

	got, err := h.fsm.Get(registry.KindOrg, "GM0119")
	if err != nil {
		t.Fatal(err)
	}
	var dec registry.Org
	if err := got.Decode(&dec); err != nil {
		t.Fatal(err)
	}
	if got.CreateIndex != 1 || got.ModifyIndex != r4.Index || dec.Name != o.Name {
		t.Fatalf("after update: %+v %+v", got, dec)
	}
	list, err := h.fsm.List(registry.KindSetting)
	if err != nil || len(list) != 2 || list[0].Key != "a" || list[1].Key != "b" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if h.fsm.Index() != 4 {
		t.Fatalf("Index = %d, want 4", h.fsm.Index())
	}

	if res := h.apply(registry.Delete(registry.KindOrg, "GM0119")); res.Err() != nil {
		t.Fatalf("delete: %v", res.Err())
	}
	if _, err := h.fsm.Get(registry.KindOrg, "GM0119"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get after delete = %v, want ErrNotFound", err)
	}
	if res := h.apply(registry.Delete(registry.KindOrg, "GM0119")); !errors.Is(res.Err(), registry.ErrNotFound) {
		t.Fatalf("second delete = %+v, want not found", res)
	}
}

func TestFSM_CheckAndSet(t *testing.T) {
	h := newHarness(t, registry.Options{})
	create, _ := registry.Put(setting("x", "1"))
	r := h.apply(create.IfIndex(0))
	if r.Err() != nil {
		t.Fatalf("create-if-absent: %v", r.Err())
	}
	again, _ := registry.Put(setting("x", "2"))
	if c := h.apply(again.IfIndex(0)); !errors.Is(c.Err(), registry.ErrConflict) || c.ModifyIndex != r.ModifyIndex {
		t.Fatalf("second create-if-absent = %+v, want conflict naming index %d", c, r.ModifyIndex)
	}
	stale, _ := registry.Put(setting("x", "3"))
	if c := h.apply(stale.IfIndex(r.ModifyIndex + 100)); !errors.Is(c.Err(), registry.ErrConflict) {
		t.Fatalf("stale CAS = %+v, want conflict", c)
	}
	ok, _ := registry.Put(setting("x", "4"))
	r2 := h.apply(ok.IfIndex(r.ModifyIndex))
	if r2.Err() != nil {
		t.Fatalf("CAS with current index: %v", r2.Err())
	}
	if c := h.apply(registry.Delete(registry.KindSetting, "x").IfIndex(r.ModifyIndex)); !errors.Is(c.Err(), registry.ErrConflict) {
		t.Fatalf("delete with stale index = %+v", c)
	}
	got, _ := h.fsm.Get(registry.KindSetting, "x")
	var s registry.Setting
	if err := got.Decode(&s); err != nil || s.Value != "4" || got.ModifyIndex != r2.Index {
		t.Fatalf("state after CAS: %+v %+v", got, s)
	}
}

func TestFSM_Idempotency(t *testing.T) {
	t.Run("retry returns the original result", func(t *testing.T) {
		h := newHarness(t, registry.Options{})
		cmd, _ := registry.Put(setting("x", "1"))
		first := h.apply(cmd)
		h.put(setting("y", "1"))
		retry := h.apply(cmd) // the same command, as after raft.ErrLeadershipLost
		if !retry.Duplicate || retry.Index != first.Index || retry.ModifyIndex != first.ModifyIndex {
			t.Fatalf("retry = %+v, first = %+v", retry, first)
		}
		got, _ := h.fsm.Get(registry.KindSetting, "x")
		if got.ModifyIndex != first.Index {
			t.Fatalf("retry changed the object: ModifyIndex %d", got.ModifyIndex)
		}
		// A retried conflict stays a conflict, even though the state changed since.
		cas, _ := registry.Put(setting("z", "1"))
		cas = cas.IfIndex(99)
		c1 := h.apply(cas)
		h.put(setting("z", "0"))
		if c2 := h.apply(cas); c2.Status != registry.StatusConflict || c2.Index != c1.Index {
			t.Fatalf("retried conflict = %+v, want %+v", c2, c1)
		}
	})
	t.Run("window by index", func(t *testing.T) {
		h := newHarness(t, registry.Options{IdempotencyWindow: 5})
		cmd, _ := registry.Put(setting("x", "1"))
		first := h.apply(cmd)
		for range 5 {
			h.put(setting("y", "1"))
		}
		if again := h.apply(cmd); again.Duplicate || again.Index == first.Index {
			t.Fatalf("key outlived its window: %+v", again)
		}
	})
	t.Run("window by time", func(t *testing.T) {
		h := newHarness(t, registry.Options{IdempotencyTTL: time.Hour})
		cmd, _ := registry.Put(setting("x", "1"))
		first := h.apply(cmd)
		h.now = h.now.Add(30 * time.Minute)
		if r := h.apply(cmd); !r.Duplicate {
			t.Fatalf("key forgotten within its TTL: %+v", r)
		}
		h.now = h.now.Add(time.Hour)
		h.put(setting("y", "1")) // prunes
		if r := h.apply(cmd); r.Duplicate || r.Index == first.Index {
			t.Fatalf("key outlived its TTL: %+v", r)
		}
	})
}

func TestFSM_Blobs(t *testing.T) {
	h := newHarness(t, registry.Options{})
	small := []byte("kleine blob")
	cmds, sum := registry.PutBlob(small)
	for _, c := range cmds {
		if r := h.apply(c); r.Err() != nil {
			t.Fatal(r.Err())
		}
	}
	if got, err := h.fsm.Blob(sum); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("Blob small = %q, %v", got, err)
	}

	big := make([]byte, 2*registry.ChunkSize+12345)
	rand.Read(big)
	cmds, sum = registry.PutBlob(big)
	if len(cmds) != 4 || cmds[3].Op != registry.OpPutBlobManifest {
		t.Fatalf("PutBlob big: %d commands", len(cmds))
	}
	// The manifest before its chunks is refused and stores nothing.
	if r := h.apply(cmds[3]); !errors.Is(r.Err(), registry.ErrNotFound) {
		t.Fatalf("manifest without chunks = %+v", r)
	}
	for _, c := range cmds {
		if _, err := c.Encode(); err != nil {
			t.Fatalf("chunk command does not fit the log: %v", err)
		}
		c.IdempotencyKey = registry.NewIdempotencyKey()
		if r := h.apply(c); r.Err() != nil {
			t.Fatal(r.Err())
		}
	}
	if got, err := h.fsm.Blob(sum); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Blob big: %d bytes, %v", len(got), err)
	}
	if _, err := h.fsm.Blob(registry.SHA256Hex([]byte("nope"))); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing blob = %v", err)
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { return nil }

func snapshotOf(tb testing.TB, f *registry.FSM) []byte {
	tb.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	defer snap.Release()
	var sink memSink
	if err := snap.Persist(&sink); err != nil || sink.cancelled {
		tb.Fatalf("Persist: %v", err)
	}
	return sink.Bytes()
}

func TestFSM_SnapshotRestore(t *testing.T) {
	src := newHarness(t, registry.Options{})
	src.put(validOrg())
	src.put(setting("a", "1"))
	dup, _ := registry.Put(setting("b", "1"))
	first := src.apply(dup)
	data := snapshotOf(t, src.fsm)
	// Writes after the snapshot are not in it.
	src.put(setting("c", "1"))

	dst := newHarness(t, registry.Options{})
	dst.put(setting("stale", "1"))
	if err := dst.fsm.Restore(ioNopCloser{bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	if dst.fsm.Index() != 3 {
		t.Fatalf("Index after restore = %d, want 3", dst.fsm.Index())
	}
	for _, k := range registry.Kinds() {
		want, _ := src.fsm.List(k)
		if k == registry.KindSetting {
			want = want[:2]
		}
		got, _ := dst.fsm.List(k)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s after restore: %+v, want %+v", k, got, want)
		}
	}
	// The idempotency window travels with the snapshot.
	dst.index = 3
	if r := dst.apply(dup); !r.Duplicate || r.Index != first.Index {
		t.Fatalf("retry after restore = %+v", r)
	}
	// A corrupt stream leaves the state alone.
	if err := dst.fsm.Restore(ioNopCloser{bytes.NewReader([]byte("no bbolt"))}); err == nil {
		t.Fatal("Restore of garbage succeeded")
	}
	if _, err := dst.fsm.Get(registry.KindOrg, "GM0119"); err != nil {
		t.Fatalf("state lost after failed restore: %v", err)
	}
}

type ioNopCloser struct{ *bytes.Reader }

func (ioNopCloser) Close() error { return nil }

func TestFSM_GetWait(t *testing.T) {
	h := newHarness(t, registry.Options{})
	h.put(setting("x", "1"))
	start := h.fsm.Index()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := h.fsm.GetWait(ctx, registry.KindSetting, "x", start); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetWait without change = %v, want deadline exceeded", err)
	}

	cmd, _ := registry.Put(setting("x", "2"))
	data, _ := cmd.Encode()
	go func() {
		time.Sleep(20 * time.Millisecond)
		h.fsm.Apply(&raft.Log{Index: start + 1, Type: raft.LogCommand, Data: data})
	}()
	began := time.Now()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	obj, at, err := h.fsm.GetWait(ctx, registry.KindSetting, "x", start)
	if err != nil {
		t.Fatal(err)
	}
	if at != start+1 || obj.ModifyIndex != start+1 {
		t.Fatalf("GetWait = %+v at %d", obj, at)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("GetWait took %v after the change", d)
	}
	objs, at, err := h.fsm.ListWait(ctx, registry.KindSetting, start)
	if err != nil || len(objs) != 1 || at != start+1 {
		t.Fatalf("ListWait = %+v at %d, %v", objs, at, err)
	}
	h.fsm.Close()
	if _, err := h.fsm.WaitIndex(ctx, at); !errors.Is(err, registry.ErrClosed) {
		t.Fatalf("WaitIndex after Close = %v", err)
	}
}
