package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/registry"
)

func next(tb testing.TB, w *registry.Watcher) registry.Batch {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := w.Next(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func keys(objs []registry.Object) []string {
	var out []string
	for _, o := range objs {
		k := string(o.Kind) + ":" + o.Key
		if o.Deleted {
			k += "(deleted)"
		}
		out = append(out, k)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWatcher_FromZero(t *testing.T) {
	h := newHarness(t, registry.Options{})
	h.put(setting("a", "1"))
	h.put(validOrg())
	h.apply(registry.Delete(registry.KindSetting, "a"))
	h.put(setting("b", "1"))

	w := h.fsm.Watch(0)
	snap := next(t, w)
	if !snap.Snapshot || snap.Index != 4 || !equal(keys(snap.Objects), []string{"org:GM0119", "setting:b"}) {
		t.Fatalf("snapshot = %+v", snap)
	}

	// Live changes arrive in index order, with tombstones, without polling.
	got := make(chan registry.Batch, 1)
	go func() {
		b, err := w.Next(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	select {
	case b := <-got:
		t.Fatalf("Next returned without a change: %+v", b)
	case <-time.After(30 * time.Millisecond):
	}
	h.put(setting("c", "1"))
	b := <-got
	if b.Snapshot || b.Index != 5 || !equal(keys(b.Objects), []string{"setting:c"}) {
		t.Fatalf("live batch = %+v", b)
	}
	h.apply(registry.Delete(registry.KindSetting, "b"))
	blob, _ := registry.PutBlob([]byte("no object change"))
	h.apply(blob[0])
	h.put(setting("d", "1"))
	b = next(t, w)
	if b.Index != 8 || !equal(keys(b.Objects), []string{"setting:b(deleted)", "setting:d"}) {
		t.Fatalf("batch = %+v", b)
	}
	if b.Objects[0].ModifyIndex != 6 || b.Objects[1].ModifyIndex != 8 {
		t.Fatalf("change indexes = %d, %d", b.Objects[0].ModifyIndex, b.Objects[1].ModifyIndex)
	}
}

func TestWatcher_FromCurrentIndex(t *testing.T) {
	h := newHarness(t, registry.Options{})
	h.put(setting("a", "1"))
	h.put(setting("b", "1"))
	w := h.fsm.Watch(h.fsm.Index())
	h.put(setting("c", "1"))
	b := next(t, w)
	if b.Snapshot || !equal(keys(b.Objects), []string{"setting:c"}) {
		t.Fatalf("batch = %+v, want only the later change", b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := w.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next without change = %v", err)
	}
}

func TestWatcher_BehindHistory(t *testing.T) {
	h := newHarness(t, registry.Options{HistoryWindow: 3})
	h.put(setting("a", "1"))
	old := h.fsm.Watch(1)
	for _, k := range []string{"b", "c", "d", "e"} {
		h.put(setting(k, "1"))
	}
	// index 5, history keeps changes 3..5; a watcher at 1 missed change 2.
	b := next(t, old)
	if !b.Snapshot || b.Index != 5 || len(b.Objects) != 5 {
		t.Fatalf("watcher behind history got %+v, want a snapshot of 5 objects", b)
	}
	recent := h.fsm.Watch(2)
	if b := next(t, recent); b.Snapshot || !equal(keys(b.Objects), []string{"setting:c", "setting:d", "setting:e"}) {
		t.Fatalf("watcher at the history floor got %+v", b)
	}
}

func TestWatcher_LargeBacklogInSteps(t *testing.T) {
	h := newHarness(t, registry.Options{HistoryWindow: 5000})
	h.put(setting("start", "1"))
	w := h.fsm.Watch(1)
	for range 1500 {
		h.put(setting("x", "1"))
	}
	b1, b2 := next(t, w), next(t, w)
	if len(b1.Objects) != 1000 || b1.Index != 1001 || len(b2.Objects) != 500 || b2.Index != 1501 {
		t.Fatalf("batches: %d up to %d, %d up to %d", len(b1.Objects), b1.Index, len(b2.Objects), b2.Index)
	}
}
