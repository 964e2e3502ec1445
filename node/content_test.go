package node_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// Issue 15, point 4: a page with a javascript: URL is not stored, and
// markup a page shows as text never comes back from the API.
func TestIngest_TextOnlyAndHTTPURLs(t *testing.T) {
	n, _ := openNode(t, nil)
	ctx := context.Background()
	scope := retrieval.TenantScope("proef")
	var bad []error
	res, err := n.Ingest(ctx, scope, []ingest.Page{
		{ID: "js", URL: "javascript:alert(1)", Title: "Klik", HTML: "<p>Hondenbelasting: klik hier.</p>"},
		{ID: "data", URL: "data:text/html,<script>alert(1)</script>", Title: "Data", Text: "Hondenbelasting als data."},
		{ID: "hond", URL: "https://www.proef.example/hondenbelasting", Title: "Hondenbelasting &lt;svg onload=alert(2)&gt;",
			HTML: `<h1>Hondenbelasting</h1><p>U betaalt hondenbelasting voor elke hond die u houdt. ` +
				`&lt;svg onload=alert(1)&gt; De aanslag hondenbelasting komt in maart &amp; u betaalt in termijnen.</p>`},
	}, func(p ingest.Page, err error) { bad = append(bad, err) })
	if err != nil || res.Written != 1 {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
	if len(bad) != 2 || !errors.Is(bad[0], ingest.ErrInvalidPage) || !strings.Contains(bad[0].Error(), "http") {
		t.Fatalf("rejected pages: %v", bad)
	}
	for _, id := range []string{"js", "data"} {
		if _, err := n.Store().Doc(retrieval.Document{ID: id, Scope: scope}.Key()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("page %s with an unsafe URL was stored: %v", id, err)
		}
	}
	key := retrieval.Document{ID: "hond", Scope: scope}.Key()
	chunks, err := n.Store().Chunks([]string{store.ChunkID(key, 0), store.ChunkID(key, 1), store.ChunkID(key, 2)})
	if err != nil || len(chunks) == 0 {
		t.Fatalf("chunks: %v, %v", chunks, err)
	}
	for _, c := range chunks {
		if strings.Contains(c.Text+c.Title, "<svg") || strings.Contains(c.Text+c.Title, "&lt;") {
			t.Errorf("stored chunk holds markup: %q %q", c.Title, c.Text)
		}
	}
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	resp, body := post(t, srv.URL+"/api/v1/tenants/proef/ask", "application/json",
		strings.NewReader(`{"question":"wanneer komt de aanslag hondenbelasting?"}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hondenbelasting") {
		t.Fatalf("ask: %d %s", resp.StatusCode, body)
	}
	if s := string(body); strings.Contains(s, "<svg") || strings.Contains(s, `\u003csvg`) || strings.Contains(s, "&lt;") {
		t.Errorf("answer JSON holds markup: %s", s)
	}
}

// Content stored before ingest kept text only, or a peer's answer, may
// still hold markup; the chat API drops it on the way out.
func TestConverse_NoMarkupFromOldContent(t *testing.T) {
	n, dir := openNode(t, nil)
	scope := retrieval.TenantScope("proef")
	doc := retrieval.Document{ID: "oud", Scope: scope, URL: "https://www.proef.example/oud", Title: "Hondenbelasting <b>oud</b>", Lang: "nl"}
	key := doc.Key()
	text := "U betaalt hondenbelasting voor elke hond. <svg onload=alert(1)> De aanslag hondenbelasting komt in maart."
	w := store.DocWrite{Doc: doc, Hash: "oud", Chunks: []retrieval.Chunk{{ID: store.ChunkID(key, 0), DocKey: key, DocID: doc.ID,
		Scope: scope, URL: doc.URL, Title: doc.Title, Text: text}}}
	if _, err := n.Store().WriteBatch([]store.DocWrite{w}, time.Now()); err != nil {
		t.Fatal(err)
	}
	n.Close()
	n = reopen(t, dir, nil) // the indexes catch up with the store
	a, err := n.Converse(context.Background(), "proef", "", "wanneer komt de aanslag hondenbelasting?")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) == 0 || a.Citations[0].ID != "oud" {
		t.Fatalf("answer not from the old page: %+v", a)
	}
	all := a.Text
	for _, c := range a.Citations {
		all += c.Title
	}
	if strings.Contains(all, "<svg") || strings.Contains(all, "<b>") {
		t.Errorf("answer holds markup: %q", all)
	}
}
