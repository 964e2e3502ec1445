package store_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

func doc(scope, id, hash string, texts ...string) store.DocWrite {
	d := retrieval.Document{ID: id, Scope: scope, URL: "https://x.example/" + id, Title: id}
	w := store.DocWrite{Doc: d, Hash: hash}
	for i, t := range texts {
		w.Chunks = append(w.Chunks, retrieval.Chunk{ID: store.ChunkID(d.Key(), i), DocKey: d.Key(), DocID: id,
			Scope: scope, Text: t, Ord: i, Vector: []float32{1, float32(i)}})
	}
	return w
}

func TestStore_WriteBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := store.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	scope := retrieval.NationalScope("rijk")

	res, err := s.WriteBatch([]store.DocWrite{doc(scope, "a", "h1", "een", "twee", "drie"), doc(scope, "b", "h1", "vier")}, now)
	if err != nil || res.Written != 2 || res.Change.Seq != 1 || len(res.Change.Upserts) != 4 {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	// Unchanged documents write nothing and take no sequence number.
	res, err = s.WriteBatch([]store.DocWrite{doc(scope, "a", "h1", "een", "twee", "drie")}, now)
	if err != nil || res.Unchanged != 1 || res.Change.Seq != 0 {
		t.Fatalf("unchanged batch: %+v, %v", res, err)
	}
	// A shorter new version removes the chunks beyond its end.
	res, err = s.WriteBatch([]store.DocWrite{doc(scope, "a", "h2", "een nieuw")}, now)
	if err != nil || res.Change.Seq != 2 || len(res.Change.Deletes) != 2 {
		t.Fatalf("shrinking batch: %+v, %v", res, err)
	}
	got, err := s.Chunks([]string{store.ChunkID(retrieval.DocKey(scope, "a"), 0), store.ChunkID(retrieval.DocKey(scope, "a"), 1)})
	if err != nil || len(got) != 1 || got[store.ChunkID(retrieval.DocKey(scope, "a"), 0)].Text != "een nieuw" {
		t.Fatalf("chunks after shrink: %+v, %v", got, err)
	}
	changes, err := s.ChangesAfter(1)
	if err != nil || len(changes) != 1 || changes[0].Seq != 2 {
		t.Fatalf("ChangesAfter(1) = %+v, %v", changes, err)
	}
	if err := s.PruneChanges(2); err != nil {
		t.Fatal(err)
	}
	if changes, _ := s.ChangesAfter(0); len(changes) != 0 {
		t.Fatalf("changes after prune: %+v", changes)
	}
	cols, err := s.Collections()
	if err != nil || len(cols) != 1 || cols[0].Name != "rijk" || cols[0].Docs != 2 {
		t.Fatalf("collections: %+v, %v", cols, err)
	}
	// Vectors come back with their chunks.
	n := 0
	err = s.ForEachChunk(func(c retrieval.Chunk) error {
		if len(c.Vector) != 2 {
			t.Errorf("chunk %s has vector %v", c.ID, c.Vector)
		}
		n++
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("ForEachChunk: %d chunks, %v", n, err)
	}
	// A batch with a wrongly numbered chunk is refused whole.
	bad := doc(scope, "c", "h1", "x")
	bad.Chunks[0].ID = "verkeerd"
	if _, err := s.WriteBatch([]store.DocWrite{doc(scope, "d", "h1", "y"), bad}, now); err == nil {
		t.Fatal("a batch with a bad chunk id was accepted")
	}
	if _, err := s.Doc(retrieval.DocKey(scope, "d")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a document of the refused batch was stored: %v", err)
	}
}

func TestStore_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := store.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := store.Open(path, 50*time.Millisecond); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

// Asked numbers the questions of a conversation for feedback, also after
// old turns are dropped.
func TestStore_AddTurnCountsQuestions(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range store.MaxTurns + 3 {
		if err := s.AddTurn("c1", "proef", store.Turn{Question: "vraag", Time: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Conversation("c1")
	if err != nil || len(c.Turns) != store.MaxTurns || c.Asked != store.MaxTurns+3 || c.Questions() != store.MaxTurns+3 {
		t.Fatalf("conversation: %d turns, asked %d, %v", len(c.Turns), c.Asked, err)
	}
	// A conversation stored before Asked was counted has Asked 0.
	if q := (store.Conversation{Turns: make([]store.Turn, 4)}).Questions(); q != 4 {
		t.Errorf("Questions() of an old record = %d, want 4", q)
	}
}

func TestBackendState(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "a.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.BackendState("elastic/x"); ok || err != nil {
		t.Fatalf("no state yet: ok %v, %v", ok, err)
	}
	want := store.BackendState{Seq: 7, Embedder: "lexical/256"}
	if err := s.SetBackendState("elastic/x", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBackendState("qdrant/y", store.BackendState{Seq: 3}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.BackendState("elastic/x"); !ok || err != nil || got != want {
		t.Fatalf("BackendState = %+v, %v, %v", got, ok, err)
	}
	all, err := s.BackendStates()
	if err != nil || len(all) != 2 || all["qdrant/y"].Seq != 3 {
		t.Fatalf("BackendStates = %+v, %v", all, err)
	}
}

// TestNormaliseSite: the forms a gemeente types become the form origins
// are compared in; anything with a path, query, user or other scheme is
// refused; sites are added once and removed as typed or normalised.
func TestNormaliseSite(t *testing.T) {
	for in, want := range map[string]string{
		"www.meppel.nl":          "www.meppel.nl",
		" WWW.Meppel.NL ":        "www.meppel.nl",
		"https://www.meppel.nl/": "https://www.meppel.nl",
		"http://127.0.0.1:8765":  "http://127.0.0.1:8765",
		"localhost:8080":         "localhost:8080",
	} {
		if got, err := store.NormaliseSite(in); err != nil || got != want {
			t.Errorf("NormaliseSite(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "www.meppel.nl/pad", "ftp://meppel.nl", "https://u@meppel.nl", "meppel.nl?x=1", "meppel.nl:99999", "twee woorden"} {
		if got, err := store.NormaliseSite(in); err == nil {
			t.Errorf("NormaliseSite(%q) = %q, want an error", in, got)
		}
	}
	var tn store.Tenant
	tn.AddSite("www.meppel.nl")
	tn.AddSite("www.meppel.nl")
	tn.AddSite("http://127.0.0.1:8765")
	tn.RemoveSite("WWW.MEPPEL.NL")
	if len(tn.Sites) != 1 || tn.Sites[0] != "http://127.0.0.1:8765" {
		t.Errorf("sites after add, add again and remove: %v", tn.Sites)
	}
}
