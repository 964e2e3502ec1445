package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/assistent-nl/assistent/node"
)

// fakeElastic answers the calls reindex makes like Elasticsearch 8 (the
// formats retrieval/elastic's tests record) and keeps the documents it is
// sent.
type fakeElastic struct {
	mu    sync.Mutex
	docs  map[string]map[string]any
	calls []string
}

func (f *fakeElastic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "DELETE", r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/_mapping"):
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":{"type":"index_not_found_exception","reason":"no such index [assistent]"},"status":404}`)
	case strings.HasSuffix(r.URL.Path, "/_bulk"):
		var items []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var action map[string]map[string]string
			json.Unmarshal(sc.Bytes(), &action)
			sc.Scan()
			var doc map[string]any
			json.Unmarshal(sc.Bytes(), &doc)
			id := action["index"]["_id"]
			f.docs[id] = doc
			items = append(items, fmt.Sprintf(`{"index":{"_index":"assistent","_id":%q,"status":201,"result":"created"}}`, id))
		}
		fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	case strings.HasSuffix(r.URL.Path, "/_count"):
		fmt.Fprintf(w, `{"count":%d}`, len(f.docs))
	default: // template, create, refresh
		fmt.Fprint(w, `{"acknowledged":true}`)
	}
}

func TestReindex(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var jsonl strings.Builder
	for _, p := range []struct{ id, title, text string }{
		{"paspoort", "Paspoort aanvragen", "Een paspoort vraagt u aan bij de balie in het stadhuis. Maak eerst een afspraak."},
		{"grofvuil", "Grofvuil ophalen", "Grofvuil zoals meubels en matrassen halen wij op afspraak bij u op."},
	} {
		b, _ := json.Marshal(map[string]string{"id": p.id, "url": "https://www.meppel.nl/" + p.id, "title": p.title, "text": p.text})
		jsonl.Write(append(b, '\n'))
	}
	pages := filepath.Join(dir, "pages.jsonl")
	os.WriteFile(pages, []byte(jsonl.String()), 0o600)
	if res := run(t, "", "ingest", "--data", data, "--tenant", "meppel", "--jsonl", pages); res.code != 0 {
		t.Fatal(res.stderr)
	}

	f := &fakeElastic{docs: map[string]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	res := run(t, "", "reindex", "--data", data, "--to", "elastic", "--url", srv.URL, "--drop", "--json")
	if res.code != 0 {
		t.Fatalf("reindex: exit %d: %s", res.code, res.stderr)
	}
	var sum reindexSummary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("summary %q: %v", res.stdout, err)
	}
	if sum.Chunks == 0 || sum.Count != sum.Chunks || sum.Dim == 0 || len(f.docs) != sum.Chunks {
		t.Errorf("summary %+v, %d documents received", sum, len(f.docs))
	}
	for id, doc := range f.docs {
		if !strings.HasPrefix(id, "t:meppel/") || doc["scope"] != "t:meppel" || len(doc["vector"].([]any)) != sum.Dim {
			t.Errorf("document %s: %v", id, doc)
		}
	}
	f.mu.Lock()
	calls := strings.Join(f.calls, ", ")
	f.mu.Unlock()
	for _, want := range []string{"DELETE /assistent", "PUT /_index_template/assistent", "PUT /assistent", "POST /assistent/_refresh"} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls %s: no %s", calls, want)
		}
	}

	// The node takes over from the batch reindex filled up to: a node
	// whose config names the backend opens, with nothing to send.
	before := len(f.docs)
	cfg := fileConfig{Retrieval: &retrievalConfig{Backend: "elastic", URL: srv.URL}}
	backend, err := cfg.backend(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := node.DefaultConfig()
	nc.DataDir, nc.Backend = data, backend
	n, err := node.Open(context.Background(), nc, nil)
	if err != nil {
		t.Fatalf("open the node with the filled backend: %v", err)
	}
	st, ok, err := n.Store().BackendState("elastic/assistent")
	seq, _ := n.Store().Seq()
	n.Close()
	if !ok || err != nil || st.Seq != seq || seq == 0 || st.Embedder == "" {
		t.Errorf("backend state after reindex %+v (ok %v, %v), store at %d", st, ok, err, seq)
	}
	if len(f.docs) != before {
		t.Errorf("opening sent %d documents again", len(f.docs)-before)
	}
	// Another index was never filled: the node refuses it.
	cfg.Retrieval.Name = "assistent-2"
	if backend, err = cfg.backend(func(string) string { return "" }, nil); err != nil {
		t.Fatal(err)
	}
	nc.Backend = backend
	if n, err := node.Open(context.Background(), nc, nil); !errors.Is(err, node.ErrBackendBehind) || !strings.Contains(err.Error(), "reindex --to elastic --name assistent-2") {
		if err == nil {
			n.Close()
		}
		t.Errorf("open with an unfilled index: %v", err)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--data", data, "--to", "solr", "--url", srv.URL}, 2, "qdrant or elastic"},
		{[]string{"--data", data, "--to", "elastic"}, 2, "--url"},
		{[]string{"--data", data, "--to", "qdrant", "--url", "http://127.0.0.1:6334", "--user", "x"}, 2, "--api-key-env"},
		{[]string{"--data", filepath.Join(dir, "nothing"), "--to", "elastic", "--url", srv.URL}, 1, "give the node's --data"},
		{[]string{"--data", data, "--to", "elastic", "--url", srv.URL, "--api-key-env", "ASSISTENT_TEST_UNSET_KEY"}, 1, "is empty"},
	} {
		res := run(t, "", append([]string{"reindex"}, tt.args...)...)
		if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("reindex %v: exit %d %q, want %d and %q", tt.args, res.code, res.stderr, tt.code, tt.want)
		}
	}
}
