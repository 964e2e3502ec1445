package qdrant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/qdrant"
)

// fake is a gRPC server on 127.0.0.1 with Qdrant's Collections and Points
// services, answering with recorded responses (testdata/) and recording
// every request it gets.
type fake struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	requests []proto.Message
	// answer, when set, returns an error for a request (or nil to go on).
	answer func(req proto.Message) error
	// files name the recorded response per method.
	files map[string]string
	// hold delays upserts (backpressure test).
	hold time.Duration
	cur  atomic.Int32
	peak atomic.Int32
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, files: map[string]string{
		"CollectionExists": "collection-exists-false.json", "Create": "create-collection.json", "Get": "collection-info-128.json",
		"CreateFieldIndex": "update-completed.json", "Upsert": "update-completed.json", "Delete": "update-completed.json",
		"Query": "query-rrf.json", "Count": "count-8.json",
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The client module has no server stubs: the services are described
	// here, method by method, under Qdrant's gRPC names.
	srv := grpc.NewServer()
	srv.RegisterService(&grpc.ServiceDesc{ServiceName: "qdrant.Collections", HandlerType: (*any)(nil), Methods: []grpc.MethodDesc{
		unary("CollectionExists", f.CollectionExists), unary("Create", f.Create), unary("Get", f.Get),
	}}, f)
	srv.RegisterService(&grpc.ServiceDesc{ServiceName: "qdrant.Points", HandlerType: (*any)(nil), Methods: []grpc.MethodDesc{
		unary("CreateFieldIndex", f.CreateFieldIndex), unary("Upsert", f.Upsert), unary("Delete", f.Delete),
		unary("Query", f.Query), unary("Count", f.Count),
	}}, f)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	f.addr = ln.Addr().String()
	return f
}

// unary describes a unary method served by h.
func unary[Req proto.Message, Resp proto.Message](name string, h func(context.Context, Req) (Resp, error)) grpc.MethodDesc {
	return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var req Req
		req = req.ProtoReflect().Type().New().Interface().(Req)
		if err := dec(req); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}}
}

// reply records req and fills resp from the recorded response of method.
func (f *fake) reply(method string, req, resp proto.Message) error {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	answer, file := f.answer, f.files[method]
	f.mu.Unlock()
	if answer != nil {
		if err := answer(req); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.t.Errorf("fake: %v", err)
		return status.Error(codes.Internal, err.Error())
	}
	if err := protojson.Unmarshal(data, resp); err != nil {
		f.t.Errorf("fake: %s is no %T: %v", file, resp, err)
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

func (f *fake) received() []proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fake) CollectionExists(_ context.Context, r *qc.CollectionExistsRequest) (*qc.CollectionExistsResponse, error) {
	resp := &qc.CollectionExistsResponse{}
	return resp, f.reply("CollectionExists", r, resp)
}

func (f *fake) Create(_ context.Context, r *qc.CreateCollection) (*qc.CollectionOperationResponse, error) {
	resp := &qc.CollectionOperationResponse{}
	return resp, f.reply("Create", r, resp)
}

func (f *fake) Get(_ context.Context, r *qc.GetCollectionInfoRequest) (*qc.GetCollectionInfoResponse, error) {
	resp := &qc.GetCollectionInfoResponse{}
	return resp, f.reply("Get", r, resp)
}

func (f *fake) CreateFieldIndex(_ context.Context, r *qc.CreateFieldIndexCollection) (*qc.PointsOperationResponse, error) {
	resp := &qc.PointsOperationResponse{}
	return resp, f.reply("CreateFieldIndex", r, resp)
}

func (f *fake) Upsert(_ context.Context, r *qc.UpsertPoints) (*qc.PointsOperationResponse, error) {
	c := f.cur.Add(1)
	defer f.cur.Add(-1)
	for p := f.peak.Load(); c > p && !f.peak.CompareAndSwap(p, c); p = f.peak.Load() {
	}
	time.Sleep(f.hold)
	resp := &qc.PointsOperationResponse{}
	return resp, f.reply("Upsert", r, resp)
}

func (f *fake) Delete(_ context.Context, r *qc.DeletePoints) (*qc.PointsOperationResponse, error) {
	resp := &qc.PointsOperationResponse{}
	return resp, f.reply("Delete", r, resp)
}

func (f *fake) Query(_ context.Context, r *qc.QueryPoints) (*qc.QueryResponse, error) {
	resp := &qc.QueryResponse{}
	return resp, f.reply("Query", r, resp)
}

func (f *fake) Count(_ context.Context, r *qc.CountPoints) (*qc.CountResponse, error) {
	resp := &qc.CountResponse{}
	return resp, f.reply("Count", r, resp)
}

func open(t *testing.T, f *fake, tune func(*qdrant.Config)) *qdrant.Index {
	t.Helper()
	cfg := qdrant.DefaultConfig("assistent-test", 3)
	cfg.URL = "http://" + f.addr
	cfg.RetryBase = time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	x, err := qdrant.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// protoEqual compares a message with the JSON (protojson) it should be.
func protoEqual(t *testing.T, what string, got proto.Message, want string) {
	t.Helper()
	b, err := protojson.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	json.Unmarshal(b, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		wb, _ := json.Marshal(w)
		gb, _ := json.Marshal(g)
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := qdrant.DefaultConfig("assistent-meppel", 256)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		field string
		tune  func(*qdrant.Config)
	}{
		{"url", func(c *qdrant.Config) { c.URL = "127.0.0.1:6334" }},
		{"collection", func(c *qdrant.Config) { c.Collection = "" }},
		{"dim", func(c *qdrant.Config) { c.Dim = 0 }},
		{"batch_size", func(c *qdrant.Config) { c.BatchSize = 0 }},
	} {
		c := ok
		tt.tune(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Validate() = %v, want an error naming %s", err, tt.field)
		}
	}
}

// The collection and its tenant index, exactly.
func TestRequests_Collection(t *testing.T) {
	cfg := qdrant.DefaultConfig("assistent-meppel", 256)
	protoEqual(t, "collection", qdrant.CreateCollectionRequest(cfg), `{
	  "collectionName": "assistent-meppel",
	  "vectorsConfig": {"paramsMap": {"map": {"dense": {"size": "256", "distance": "Cosine"}}}},
	  "sparseVectorsConfig": {"map": {"bm25": {"modifier": "Idf"}}}
	}`)
	protoEqual(t, "tenant index", qdrant.TenantIndexRequest(cfg), `{
	  "collectionName": "assistent-meppel", "wait": true, "fieldName": "scope", "fieldType": "FieldTypeKeyword",
	  "fieldIndexParams": {"keywordIndexParams": {"isTenant": true}}
	}`)
}

// sparseJSON is the protojson of a sparse query over the analysed terms
// of text (weight 1) and expansion (weight 0.35), computed here
// independently: FNV-1a of each term, indices ascending.
func sparseJSON(text, expansion string) string {
	a := retrieval.NewAnalyzer()
	w := map[uint32]float32{}
	for _, t := range a.Terms(expansion) {
		h := fnv.New32a()
		h.Write([]byte(t))
		w[h.Sum32()] = 0.35
	}
	for _, t := range a.Terms(text) {
		h := fnv.New32a()
		h.Write([]byte(t))
		w[h.Sum32()] = 1
	}
	var idx []uint32
	for i := range w {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var vals []float32
	for _, i := range idx {
		vals = append(vals, w[i])
	}
	b, _ := json.Marshal(map[string]any{"indices": idx, "values": vals})
	return string(b)
}

func TestRequests_Query(t *testing.T) {
	f := newFake(t)
	x := open(t, f, nil)
	q := retrieval.Query{Text: "paspoort aanvragen", Expansion: "reisdocument", Vector: []float32{0.5, 0, -0.5},
		Scopes: []string{"t:meppel", "n:rijksoverheid"}, K: 5}
	filter := `{"must": [{"field": {"key": "scope", "match": {"keywords": {"strings": ["t:meppel", "n:rijksoverheid"]}}}}]}`
	protoEqual(t, "hybrid query", x.QueryRequest(q, 40), `{
	  "collectionName": "assistent-test",
	  "prefetch": [
	    {"query": {"nearest": {"sparse": `+sparseJSON(q.Text, q.Expansion)+`}}, "using": "bm25", "filter": `+filter+`, "limit": "40"},
	    {"query": {"nearest": {"dense": {"data": [0.5, 0, -0.5]}}}, "using": "dense", "filter": `+filter+`, "limit": "40"}
	  ],
	  "query": {"fusion": "RRF"},
	  "filter": `+filter+`,
	  "limit": "5",
	  "withPayload": {"include": {"fields": ["chunk_id"]}}
	}`)

	// Only words, only a vector, neither.
	q.Vector = nil
	protoEqual(t, "sparse only", x.QueryRequest(q, 40), `{
	  "collectionName": "assistent-test",
	  "query": {"nearest": {"sparse": `+sparseJSON(q.Text, q.Expansion)+`}}, "using": "bm25",
	  "filter": `+filter+`, "limit": "5", "withPayload": {"include": {"fields": ["chunk_id"]}}
	}`)
	if r := x.QueryRequest(retrieval.Query{Text: "u de het", Scopes: q.Scopes}, 40); r != nil {
		t.Errorf("a query of stop words and no vector: %v, want none", r)
	}
}

func TestPointID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := qdrant.PointID("t:meppel/paspoort#0"), qdrant.PointID("t:meppel/paspoort#1")
	if !uuid.MatchString(a) || !uuid.MatchString(b) {
		t.Errorf("PointID = %s, %s: want version-5 UUIDs", a, b)
	}
	if a == b || a != qdrant.PointID("t:meppel/paspoort#0") {
		t.Errorf("PointID is not a function of the chunk ID: %s %s", a, b)
	}
}

// The point of a chunk: payload, dense vector, and BM25 term weights
// tf·(k1+1)/(tf+k1) with k1 = 1.2.
func TestPoint(t *testing.T) {
	f := newFake(t)
	x := open(t, f, nil)
	c := retrieval.Chunk{ID: "paspoort", DocKey: "t:meppel/paspoort", Scope: "t:meppel", Title: "Paspoort",
		Text: "paspoort paspoort", Vector: []float32{1, 0, 0}}
	p := x.Point(c)
	if p.GetId().GetUuid() != qdrant.PointID("paspoort") {
		t.Errorf("id %v", p.GetId())
	}
	pl := p.GetPayload()
	if pl["chunk_id"].GetStringValue() != "paspoort" || pl["scope"].GetStringValue() != "t:meppel" || pl["doc_key"].GetStringValue() != "t:meppel/paspoort" {
		t.Errorf("payload %v", pl)
	}
	vs := p.GetVectors().GetVectors().GetVectors()
	if d := vs["dense"].GetData(); !slices.Equal(d, []float32{1, 0, 0}) {
		t.Errorf("dense %v", d)
	}
	sp := vs["bm25"]
	if len(sp.GetIndices().GetData()) != 1 || len(sp.GetData()) != 1 {
		t.Fatalf("sparse %v: want the one term of 'paspoort' three times", sp)
	}
	var tf float32 = 3
	if want := tf * (1.2 + 1) / (tf + 1.2); sp.GetData()[0] != want {
		t.Errorf("weight %v, want %v", sp.GetData()[0], want)
	}
	c.Vector = []float32{0, 0, 0}
	if _, ok := x.Point(c).GetVectors().GetVectors().GetVectors()["dense"]; ok {
		t.Error("a zero vector was sent (cosine refuses it)")
	}
}

func TestIndex_Open(t *testing.T) {
	f := newFake(t)
	x := open(t, f, nil)
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range f.received() {
		names = append(names, string(r.ProtoReflect().Descriptor().Name()))
	}
	if want := []string{"CollectionExistsRequest", "CreateCollection", "CreateFieldIndexCollection"}; !slices.Equal(names, want) {
		t.Fatalf("calls %v, want %v", names, want)
	}
	if !proto.Equal(f.received()[1], qdrant.CreateCollectionRequest(qdrant.Config{Collection: "assistent-test", Dim: 3})) {
		t.Errorf("created %v", f.received()[1])
	}

	// The collection exists with dense vectors of 128 dimensions.
	f.files["CollectionExists"] = "collection-exists-true.json"
	if err := x.Open(context.Background()); !errors.Is(err, qdrant.ErrMismatch) {
		t.Errorf("Open on a collection of 128 dimensions: %v, want ErrMismatch", err)
	}
	x128 := open(t, f, func(c *qdrant.Config) { c.Dim = 128 })
	if err := x128.Open(context.Background()); err != nil {
		t.Errorf("Open on a collection of the right size: %v", err)
	}
}

func chunks(n int) []retrieval.Chunk {
	var out []retrieval.Chunk
	for i := range n {
		id := fmt.Sprint("c", i)
		out = append(out, retrieval.Chunk{ID: id, DocKey: "t:meppel/" + id, Scope: "t:meppel", Title: "Titel", Text: "tekst " + id, Vector: []float32{1, 0, 0}})
	}
	return out
}

// Points go in batches, waiting for the write; a call refused for load is
// made again; other errors are returned.
func TestIndex_Index(t *testing.T) {
	f := newFake(t)
	x := open(t, f, func(c *qdrant.Config) { c.BatchSize = 2 })
	var refused atomic.Bool
	f.answer = func(req proto.Message) error {
		if _, ok := req.(*qc.UpsertPoints); ok && refused.CompareAndSwap(false, true) {
			return status.Error(codes.ResourceExhausted, "too many requests")
		}
		return nil
	}
	if err := x.Index(context.Background(), chunks(5)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range f.received() {
		up := r.(*qc.UpsertPoints)
		if up.GetCollectionName() != "assistent-test" || !up.GetWait() {
			t.Errorf("upsert %v", up)
		}
		sizes = append(sizes, len(up.GetPoints()))
	}
	if !slices.Equal(sizes, []int{2, 2, 2, 1}) {
		t.Errorf("upserts of %v points, want 2 (refused), 2 (again), 2, 1", sizes)
	}

	f.answer = func(proto.Message) error {
		return status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error")
	}
	if err := x.Index(context.Background(), chunks(1)); err == nil || !strings.Contains(err.Error(), "dimension") {
		t.Errorf("refused write: %v", err)
	}
	bad := chunks(1)
	bad[0].Vector = []float32{1}
	if err := x.Index(context.Background(), bad); err == nil {
		t.Error("a vector of the wrong dimension was accepted")
	}
}

func TestIndex_Backpressure(t *testing.T) {
	f := newFake(t)
	f.hold = 20 * time.Millisecond
	x := open(t, f, func(c *qdrant.Config) { c.MaxInflight = 2; c.BatchSize = 1 })
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := x.Index(context.Background(), chunks(1)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := f.peak.Load(); p != 2 {
		t.Errorf("peak of %d upserts in flight, want 2", p)
	}
}

func TestIndex_Search(t *testing.T) {
	f := newFake(t)
	x := open(t, f, nil)
	q := retrieval.Query{Text: "paspoort", Vector: []float32{1, 0, 0}, Scopes: []string{"t:meppel", "n:rijksoverheid"}, K: 3}
	hits, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	want := []retrieval.Hit{{ChunkID: "paspoort", Score: float64(float32(0.8333333))}, {ChunkID: "n-paspoort", Score: float64(float32(0.5833333))}, {ChunkID: "verhuizing", Score: 0.25}}
	if !slices.Equal(hits, want) {
		t.Errorf("hits %v, want %v", hits, want)
	}
	if got := f.received()[0]; !proto.Equal(got, x.QueryRequest(q, 40)) {
		t.Errorf("query sent %v", got)
	}

	n := len(f.received())
	if hits, err := x.Search(context.Background(), retrieval.Query{Text: "paspoort"}); err != nil || len(hits) != 0 || len(f.received()) != n {
		t.Errorf("no scopes: %v %v", hits, err)
	}
	f.answer = func(proto.Message) error { return status.Error(codes.Unavailable, "connection refused") }
	if _, err := x.Search(context.Background(), q); status.Code(err) != codes.Unavailable {
		t.Errorf("server down: %v", err)
	}
	if got := len(f.received()) - n; got != 6 {
		t.Errorf("%d calls to a server that is down, want 1 + 5 retries", got)
	}
}

func TestIndex_DeleteCountClose(t *testing.T) {
	f := newFake(t)
	x := open(t, f, nil)
	ctx := context.Background()
	if err := x.Delete(ctx, []string{"paspoort", "bestaat-niet"}); err != nil {
		t.Fatal(err)
	}
	del := f.received()[0].(*qc.DeletePoints)
	var ids []string
	for _, id := range del.GetPoints().GetPoints().GetIds() {
		ids = append(ids, id.GetUuid())
	}
	if !del.GetWait() || !slices.Equal(ids, []string{qdrant.PointID("paspoort"), qdrant.PointID("bestaat-niet")}) {
		t.Errorf("delete %v", del)
	}
	if n, err := x.Count(); err != nil || n != 8 {
		t.Errorf("Count() = %d, %v, want 8", n, err)
	}
	if c := f.received()[1].(*qc.CountPoints); !c.GetExact() {
		t.Errorf("count %v: want exact", c)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := x.Search(ctx, retrieval.Query{Text: "x", Scopes: []string{"t:a"}}); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Search after Close: %v", err)
	}
	if err := x.Index(ctx, chunks(1)); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Index after Close: %v", err)
	}
	if err := x.Delete(ctx, []string{"a"}); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Delete after Close: %v", err)
	}
	if _, err := x.Count(); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Count after Close: %v", err)
	}
}
