package node_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/elastic"
)

// esIndex is the index name of retrieval/elastic's recorded responses.
const esIndex = "assistent-test"

// fakeES is an Elasticsearch 8 on 127.0.0.1 for a node: index setup is
// answered with the responses recorded in retrieval/elastic/testdata (the
// formats of the reference pages cited there); bulk and search answers are
// made in the same formats from the documents it was sent, so the node's
// answers come from what the backend returns. Lexical search scores a
// document by how often the query's words occur in it, kNN by cosine.
type fakeES struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	created bool
	docs    map[string]esDoc // by _id (chunk id)
	actions []string         // "index ID" and "delete ID", in order
	queries []map[string]any // search bodies
	hide    map[string]bool  // doc keys searches never return
}

type esDoc struct {
	Scope  string    `json:"scope"`
	DocKey string    `json:"doc_key"`
	Title  string    `json:"title"`
	Body   string    `json:"body"`
	Vector []float32 `json:"vector"`
}

func newFakeES(t *testing.T) *fakeES {
	f := &fakeES{t: t, docs: map[string]esDoc{}, hide: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeES) recorded(name string) []byte {
	data, err := os.ReadFile(filepath.Join("..", "retrieval", "elastic", "testdata", name))
	if err != nil {
		f.t.Errorf("fake elasticsearch: %v", err)
	}
	return data
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	reply := func(status int, data []byte) {
		w.WriteHeader(status)
		w.Write(data)
	}
	switch p := r.URL.Path; {
	case r.Method == "PUT" && p == "/_index_template/"+esIndex:
		reply(200, f.recorded("acknowledged.json"))
	case r.Method == "GET" && p == "/"+esIndex+"/_mapping":
		if !f.created {
			reply(404, f.recorded("index-not-found.json"))
			return
		}
		m := bytes.Replace(f.recorded("mapping-dims-128.json"), []byte(`"dims":128`), []byte(`"dims":256`), 1)
		reply(200, m)
	case r.Method == "PUT" && p == "/"+esIndex:
		f.created = true
		reply(200, f.recorded("create-index.json"))
	case strings.HasSuffix(p, "/_bulk"):
		reply(200, f.bulk(body))
	case strings.HasSuffix(p, "/_search"):
		reply(200, f.search(body))
	default:
		f.t.Errorf("fake elasticsearch: unexpected %s %s", r.Method, p)
		reply(400, nil)
	}
}

// bulk applies an NDJSON bulk body and answers as bulk-ok.json and
// bulk-delete.json do: one item per action.
func (f *fakeES) bulk(body []byte) []byte {
	var items []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var meta map[string]struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &meta); err != nil {
			f.t.Errorf("bulk action: %v", err)
			continue
		}
		for action, m := range meta {
			item := map[string]any{"_index": esIndex, "_id": m.ID, "result": "created", "status": 201,
				"_shards": map[string]int{"total": 1, "successful": 1, "failed": 0}}
			switch action {
			case "index":
				sc.Scan()
				var d esDoc
				if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
					f.t.Errorf("bulk source: %v", err)
				}
				f.docs[m.ID] = d
			case "delete":
				item["result"], item["status"] = "deleted", 200
				if _, ok := f.docs[m.ID]; !ok {
					item["result"], item["status"] = "not_found", 404
				}
				delete(f.docs, m.ID)
			}
			f.actions = append(f.actions, action+" "+m.ID)
			items = append(items, map[string]any{action: item})
		}
	}
	out, _ := json.Marshal(map[string]any{"took": 3, "errors": false, "items": items})
	return out
}

// search answers a lexical or a kNN search body as search-bm25.json and
// search-knn.json do.
func (f *fakeES) search(body []byte) []byte {
	var q struct {
		Size  int `json:"size"`
		Query struct {
			Bool struct {
				Filter []struct {
					Terms struct {
						Scope []string `json:"scope"`
					} `json:"terms"`
				} `json:"filter"`
				Should []struct {
					Match map[string]struct {
						Query string `json:"query"`
					} `json:"match"`
				} `json:"should"`
			} `json:"bool"`
		} `json:"query"`
		KNN *struct {
			QueryVector []float32 `json:"query_vector"`
			K           int       `json:"k"`
			Filter      struct {
				Terms struct {
					Scope []string `json:"scope"`
				} `json:"terms"`
			} `json:"filter"`
		} `json:"knn"`
	}
	var raw map[string]any
	json.Unmarshal(body, &raw)
	f.queries = append(f.queries, raw)
	if err := json.Unmarshal(body, &q); err != nil {
		f.t.Errorf("search body: %v", err)
	}
	type hit struct {
		id    string
		score float64
	}
	var hits []hit
	if q.KNN != nil {
		for id, d := range f.docs {
			if slices.Contains(q.KNN.Filter.Terms.Scope, d.Scope) && !f.hide[d.DocKey] && len(d.Vector) > 0 {
				hits = append(hits, hit{id, cosine(q.KNN.QueryVector, d.Vector)})
			}
		}
		q.Size = q.KNN.K
	} else {
		var scopes, words []string
		for _, fl := range q.Query.Bool.Filter {
			scopes = append(scopes, fl.Terms.Scope...)
		}
		for _, s := range q.Query.Bool.Should {
			for _, m := range s.Match {
				words = append(words, strings.Fields(strings.ToLower(m.Query))...)
			}
		}
		for id, d := range f.docs {
			if !slices.Contains(scopes, d.Scope) || f.hide[d.DocKey] {
				continue
			}
			text := strings.ToLower(d.Title + " " + d.Body)
			s := 0.0
			for _, w := range words {
				if len(w) > 3 {
					s += float64(strings.Count(text, w))
				}
			}
			if s > 0 {
				hits = append(hits, hit{id, s})
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		return hits[i].id < hits[j].id
	})
	if len(hits) > q.Size {
		hits = hits[:q.Size]
	}
	out := []map[string]any{}
	for _, h := range hits {
		out = append(out, map[string]any{"_index": esIndex, "_id": h.id, "_score": h.score})
	}
	data, _ := json.Marshal(map[string]any{"took": 4, "timed_out": false,
		"_shards": map[string]int{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":    map[string]any{"hits": out}})
	return data
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// received returns the bulk actions and search bodies so far.
func (f *fakeES) received() (actions []string, queries []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.actions), slices.Clone(f.queries)
}

// esBackend is what cmd/assistent builds for "retrieval.backend": "elastic".
type esBackend struct{ url string }

func (b esBackend) Name() string { return "elastic/" + esIndex }

func (b esBackend) Open(ctx context.Context, dim int) (retrieval.Index, error) {
	cfg := elastic.DefaultConfig(esIndex, dim)
	cfg.URLs, cfg.RetryBase, cfg.MaxRetries = []string{b.url}, time.Millisecond, 1
	x, err := elastic.New(cfg, nil)
	if err != nil {
		return nil, err
	}
	if err := x.Open(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

func openWithBackend(t *testing.T, dir string, b node.Backend) (*node.Node, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.Backend = dir, b
	n, err := node.Open(context.Background(), cfg, nil)
	if err == nil {
		t.Cleanup(func() { n.Close() })
	}
	return n, err
}

// A node with the elastic backend writes its batches there as well as to
// bbolt, answers from the backend's hits, deletes there, and catches up
// with batches it missed.
func TestBackend_Elastic(t *testing.T) {
	ctx := context.Background()
	es := newFakeES(t)
	dir := filepath.Join(t.TempDir(), "data")
	n, err := openWithBackend(t, dir, esBackend{es.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(ctx, retrieval.TenantScope("proef"), pages, nil); err != nil {
		t.Fatal(err)
	}
	actions, _ := es.received()
	if !slices.Contains(actions, "index t:proef/paspoort#0") {
		t.Fatalf("the backend was not sent the paspoort page's chunks: %v", actions)
	}
	if d := es.docs["t:proef/paspoort#0"]; d.Scope != "t:proef" || len(d.Vector) != 256 || !strings.Contains(d.Body, "balie") {
		t.Fatalf("chunk in the backend: %+v", d)
	}

	a, err := n.Ask(ctx, "proef", "hoe vraag ik een paspoort aan")
	if err != nil {
		t.Fatal(err)
	}
	if a.Refused || len(a.Citations) == 0 || a.Citations[0].ID != "paspoort" {
		t.Fatalf("want an answer citing the paspoort page, got %+v", a)
	}
	_, queries := es.received()
	var lexical, knn bool
	for _, q := range queries {
		b, _ := json.Marshal(q)
		if !strings.Contains(string(b), `"scope":["t:proef"]`) {
			t.Errorf("search without the tenant's scope: %s", b)
		}
		_, knn1 := q["knn"]
		knn = knn || knn1
		lexical = lexical || strings.Contains(string(b), "paspoort")
	}
	if !lexical || !knn {
		t.Fatalf("want a lexical and a kNN search in the backend, got %d searches: lexical %v, knn %v", len(queries), lexical, knn)
	}

	// The backend decides: a page it does not return is not cited,
	// though bbolt and the embedded indexes hold it.
	es.mu.Lock()
	es.hide["t:proef/paspoort"] = true
	es.mu.Unlock()
	if a, err := n.Ask(ctx, "proef", "hoe vraag ik een paspoort aan"); err != nil || slices.ContainsFunc(a.Citations, func(c answer.Citation) bool { return c.ID == "paspoort" }) {
		t.Fatalf("the page the backend does not return was cited: %+v, %v", a, err)
	}
	es.mu.Lock()
	es.hide = map[string]bool{}
	es.mu.Unlock()

	if err := n.Remove(ctx, retrieval.TenantScope("proef"), []string{"grofvuil"}); err != nil {
		t.Fatal(err)
	}
	if actions, _ := es.received(); !slices.Contains(actions, "delete t:proef/grofvuil#0") {
		t.Fatalf("the backend was not told of the removal: %v", actions)
	}
	if _, ok := es.docs["t:proef/grofvuil#0"]; ok {
		t.Fatal("grofvuil is still in the backend")
	}
	n.Close()

	// A batch written while the node ran without the backend (a CLI
	// command without the serve config) reaches it on the next start.
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	emb, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	extra := []ingest.Page{{ID: "afval", URL: "https://www.proef.example/afval", Title: "Afvalkalender",
		HTML: `<p>De afvalkalender staat in de app.</p>`}}
	if _, err := emb.Ingest(ctx, retrieval.TenantScope("proef"), extra, nil); err != nil {
		t.Fatal(err)
	}
	emb.Close()
	emb, err = node.Open(ctx, cfg, nil) // prunes the change log, but not past the backend
	if err != nil {
		t.Fatal(err)
	}
	emb.Close()
	if _, err := openWithBackend(t, dir, esBackend{es.URL}); err != nil {
		t.Fatal(err)
	}
	if _, ok := es.docs["t:proef/afval#0"]; !ok {
		t.Fatal("the batch written without the backend did not reach it on start")
	}
}

// A backend the store has no record of cannot serve a node with content:
// it must be filled with reindex first.
func TestBackend_RefusesUnfilled(t *testing.T) {
	es := newFakeES(t)
	n2dir := filepath.Join(t.TempDir(), "data")
	n2 := reopen(t, n2dir, nil)
	if err := n2.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Ingest(context.Background(), retrieval.TenantScope("proef"), pages[:1], nil); err != nil {
		t.Fatal(err)
	}
	n2.Close()
	_, err := openWithBackend(t, n2dir, esBackend{es.URL})
	if !errors.Is(err, node.ErrBackendBehind) || !strings.Contains(err.Error(), "assistent reindex --to elastic --name "+esIndex) {
		t.Fatalf("open with an unfilled backend: %v, want ErrBackendBehind naming reindex", err)
	}
	if actions, _ := es.received(); len(actions) > 0 {
		t.Errorf("the unfilled backend was written to: %v", actions)
	}
}
