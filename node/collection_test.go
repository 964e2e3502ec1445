package node_test

import (
	"context"
	"testing"

	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// A new version of a national collection replaces the old one in one
// batch: pages it lacks are gone, changed pages are new, and the change is
// one step of the store's sequence.
func TestReplaceCollection(t *testing.T) {
	ctx := context.Background()
	n, _ := openNode(t, nil)
	page := func(id, text string) ingest.Page {
		return ingest.Page{ID: id, URL: "https://www.rijksoverheid.nl/" + id, Title: id, Text: text}
	}
	v1 := []ingest.Page{page("a", "Versie een: zeilbootje over het paspoort."), page("b", "Versie een: schaakbord over verhuizen."), page("c", "Kerkorgel over stemmen.")}
	if _, err := n.ReplaceCollection(ctx, "burgerzaken", v1, nil); err != nil {
		t.Fatal(err)
	}
	before, err := n.Store().Seq()
	if err != nil {
		t.Fatal(err)
	}
	v2 := []ingest.Page{page("b", "Versie twee: trompetspeler over verhuizen."), page("c", "Kerkorgel over stemmen."), page("d", "Tulpenbol over trouwen.")}
	res, err := n.ReplaceCollection(ctx, "burgerzaken", v2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 2 || res.Unchanged != 1 || res.Removed != 1 {
		t.Errorf("result %+v, want 2 written, 1 unchanged, 1 removed", res)
	}
	after, _ := n.Store().Seq()
	if after != before+1 {
		t.Errorf("sequence %d -> %d: the replacement took more than one batch", before, after)
	}
	for word, want := range map[string]string{"zeilbootje": "", "schaakbord": "", "trompetspeler": "b", "kerkorgel": "c", "tulpenbol": "d"} {
		hits, err := n.Search(ctx, "proef", word, 3, hybrid.ModeBM25)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(hits) > 0 {
			got = hits[0].Chunk.DocID
		}
		if got != want {
			t.Errorf("%s: found %q, want %q", word, got, want)
		}
	}
	if c, err := n.Store().DocCount("n:burgerzaken"); err != nil || c != 3 {
		t.Errorf("documents in the collection: %d, %v", c, err)
	}
}
