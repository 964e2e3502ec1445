// Package qdrant is a retrieval.Index on Qdrant 1.12, for nodes that
// outgrow one machine's embedded indexes.
//
// One collection per node holds every scope's chunks. The scope is a
// keyword payload field indexed with is_tenant, so Qdrant lays each
// tenant's (and each national collection's) points out together. Every
// point has two vectors: "dense", the chunk's embedding (cosine), and
// "bm25", a sparse vector of the chunk's analysed terms weighted by BM25's
// term-frequency saturation, to which Qdrant applies the IDF (the sparse
// vector's idf modifier). A search is one call of the Query API: a sparse
// and a dense prefetch, each filtered to the query's scopes, fused by
// reciprocal rank (Qdrant's rrf fusion, which weighs both lists alike).
// Writes go in batches, at most MaxInflight at a time per Index, and calls
// the server refuses for load or while unavailable are retried with
// backoff.
//
// It speaks gRPC through github.com/qdrant/go-client, pinned at v1.12.0 for
// Qdrant 1.12. Point IDs are UUIDs derived from the chunk ID (Qdrant takes
// only integers and UUIDs); the chunk ID is kept in the payload. The tests
// run against an in-process gRPC server on 127.0.0.1 that answers with
// recorded responses; the shared conformance suite runs against a real
// server only when ASSISTENT_QDRANT_URL is set.
package qdrant

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/assistent-nl/assistent/internal/httpretry"
	"github.com/assistent-nl/assistent/retrieval"
)

// Names in the collection.
const (
	vectorDense  = "dense"
	vectorSparse = "bm25"
	fieldChunkID = "chunk_id"
	fieldScope   = "scope"
	fieldDocKey  = "doc_key"
)

// BM25 term-frequency saturation; the document length is not normalised
// (b = 0): Qdrant keeps no average length to normalise by.
const bm25K1 = 1.2

// expansionWeight is the weight of expansion terms against typed terms in
// the sparse query, as in the embedded lexical index.
const expansionWeight = 0.35

// Config configures the connection and the collection.
type Config struct {
	// URL of Qdrant's gRPC port: http://HOST:6334, or https:// for TLS.
	URL        string
	APIKey     string // sent as the api-key header; use TLS with it
	Collection string // one per node, e.g. "assistent-meppel-1"
	Dim        int    // dimension of the chunks' dense vectors

	BatchSize   int           // points per upsert
	MaxInflight int           // upserts and deletes in flight per Index at once
	MaxRetries  int           // retries of a call refused for load or while unavailable
	RetryBase   time.Duration // first backoff; doubled per retry, with jitter
	Timeout     time.Duration // per call

	Candidates int // hits of each prefetch, at least the K asked for

	// DialOptions are added to the gRPC connection's (tests).
	DialOptions []grpc.DialOption
}

// DefaultConfig returns the defaults for the collection named collection
// with dense vectors of dim dimensions.
func DefaultConfig(collection string, dim int) Config {
	return Config{
		URL: "http://127.0.0.1:6334", Collection: collection, Dim: dim,
		BatchSize: 256, MaxInflight: 2, MaxRetries: 5, RetryBase: 200 * time.Millisecond, Timeout: 30 * time.Second,
		Candidates: 40,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		return fmt.Errorf("retrieval.qdrant.url: %q is no http(s)://HOST:PORT of the gRPC port", c.URL)
	case c.Collection == "" || strings.ContainsAny(c.Collection, "/ "):
		return fmt.Errorf("retrieval.qdrant.collection: %q is no collection name", c.Collection)
	case c.Dim < 1 || c.Dim > 65536:
		return errors.New("retrieval.qdrant.dim: must be 1 to 65536")
	case c.BatchSize < 1 || c.MaxInflight < 1 || c.Candidates < 1 || c.Timeout <= 0:
		return errors.New("retrieval.qdrant: batch_size, max_inflight, candidates and timeout must be positive")
	case c.MaxRetries < 0 || c.RetryBase < 0:
		return errors.New("retrieval.qdrant: max_retries and retry_base must not be negative")
	}
	return nil
}

// ErrMismatch is returned by Open when the collection exists with dense
// vectors of another size (another embedder): it must be rebuilt.
var ErrMismatch = errors.New("qdrant: the collection was built for other vectors")

// Index is a retrieval.Index on one Qdrant collection. It is safe for
// concurrent use.
type Index struct {
	cfg      Config
	log      *slog.Logger
	client   *qc.Client
	terms    *retrieval.Analyzer
	inflight chan struct{}
	closed   atomic.Bool
	once     sync.Once
}

var _ retrieval.Index = (*Index)(nil)

// New connects lazily to the server of cfg; Open prepares the collection.
func New(cfg Config, log *slog.Logger) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, _ := url.Parse(cfg.URL)
	port := 6334
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	client, err := qc.NewClient(&qc.Config{Host: u.Hostname(), Port: port, APIKey: cfg.APIKey, UseTLS: u.Scheme == "https",
		GrpcOptions: cfg.DialOptions})
	if err != nil {
		return nil, fmt.Errorf("qdrant: connect to %s: %w", net.JoinHostPort(u.Hostname(), strconv.Itoa(port)), err)
	}
	return &Index{cfg: cfg, log: log, client: client, terms: retrieval.NewAnalyzer(), inflight: make(chan struct{}, cfg.MaxInflight)}, nil
}

// CreateCollectionRequest returns the collection Open creates: the dense
// vector (cosine, cfg.Dim) and the sparse BM25 vector with Qdrant's IDF.
//
// https://qdrant.tech/documentation/concepts/collections/#collection-with-multiple-vectors,
// https://qdrant.tech/documentation/concepts/indexing/#idf-modifier.
func CreateCollectionRequest(cfg Config) *qc.CreateCollection {
	return &qc.CreateCollection{
		CollectionName: cfg.Collection,
		VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{
			vectorDense: {Size: uint64(cfg.Dim), Distance: qc.Distance_Cosine},
		}),
		SparseVectorsConfig: qc.NewSparseVectorsConfig(map[string]*qc.SparseVectorParams{
			vectorSparse: {Modifier: qc.Modifier_Idf.Enum()},
		}),
	}
}

// TenantIndexRequest returns the payload index of the scope field, marked
// as the tenant key.
//
// https://qdrant.tech/documentation/guides/multiple-partitions/#calibrate-performance,
// https://qdrant.tech/documentation/concepts/indexing/#tenant-index.
func TenantIndexRequest(cfg Config) *qc.CreateFieldIndexCollection {
	return &qc.CreateFieldIndexCollection{
		CollectionName:   cfg.Collection,
		Wait:             qc.PtrOf(true),
		FieldName:        fieldScope,
		FieldType:        qc.FieldType_FieldTypeKeyword.Enum(),
		FieldIndexParams: qc.NewPayloadIndexParams(&qc.KeywordIndexParams{IsTenant: qc.PtrOf(true)}),
	}
}

// Open creates the collection and its tenant index when the collection
// does not exist. An existing collection with dense vectors of another
// size fails with ErrMismatch.
func (x *Index) Open(ctx context.Context) error {
	var exists bool
	err := x.retry(ctx, func(ctx context.Context) (err error) {
		exists, err = x.client.CollectionExists(ctx, x.cfg.Collection)
		return err
	})
	if err != nil {
		return fmt.Errorf("qdrant: collection %s: %w", x.cfg.Collection, err)
	}
	if exists {
		var info *qc.CollectionInfo
		err := x.retry(ctx, func(ctx context.Context) (err error) {
			info, err = x.client.GetCollectionInfo(ctx, x.cfg.Collection)
			return err
		})
		if err != nil {
			return fmt.Errorf("qdrant: collection %s: %w", x.cfg.Collection, err)
		}
		dense := info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()[vectorDense]
		if dense.GetSize() != uint64(x.cfg.Dim) {
			return fmt.Errorf("%w: collection %s has dense vectors of %d dimensions, want %d: delete it and rebuild",
				ErrMismatch, x.cfg.Collection, dense.GetSize(), x.cfg.Dim)
		}
	} else {
		err := x.retry(ctx, func(ctx context.Context) error { return x.client.CreateCollection(ctx, CreateCollectionRequest(x.cfg)) })
		if status.Code(err) == codes.AlreadyExists {
			err = nil // another process made it meanwhile
		}
		if err != nil {
			return fmt.Errorf("qdrant: create collection %s: %w", x.cfg.Collection, err)
		}
		x.log.Info("qdrant: collection created", "collection", x.cfg.Collection, "dim", x.cfg.Dim)
	}
	// Creating an index that exists changes nothing: done every time, so
	// a collection made by an older version gains it.
	err = x.retry(ctx, func(ctx context.Context) error {
		_, err := x.client.CreateFieldIndex(ctx, TenantIndexRequest(x.cfg))
		return err
	})
	if err != nil {
		return fmt.Errorf("qdrant: tenant index of %s: %w", x.cfg.Collection, err)
	}
	return nil
}

// Drop deletes the collection on the server; a missing one is no error.
func (x *Index) Drop(ctx context.Context) error {
	err := x.retry(ctx, func(ctx context.Context) error { return x.client.DeleteCollection(ctx, x.cfg.Collection) })
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("qdrant: delete collection %s: %w", x.cfg.Collection, err)
	}
	return nil
}

// Close closes the connection; later calls fail with retrieval.ErrClosed.
func (x *Index) Close() error {
	var err error
	x.once.Do(func() {
		x.closed.Store(true)
		err = x.client.Close()
	})
	return err
}

// PointID returns the UUID of a chunk's point: a name-based UUID (version
// 5 layout) of the chunk ID, so the same chunk always lands on the same
// point.
func PointID(chunkID string) string {
	h := sha1.Sum([]byte("assistent/chunk/" + chunkID))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Point returns the point of a chunk: its payload, the dense vector (left
// out when zero: cosine cannot take it) and the sparse BM25 vector of
// title, headings and text.
func (x *Index) Point(c retrieval.Chunk) *qc.PointStruct {
	body := c.Title
	for _, h := range c.Headings {
		body += "\n" + h
	}
	body += "\n" + c.Text
	tf := map[uint32]float32{}
	for _, t := range x.terms.Terms(body) {
		tf[termIndex(t)]++
	}
	for i, n := range tf {
		tf[i] = n * (bm25K1 + 1) / (n + bm25K1)
	}
	vectors := map[string]*qc.Vector{}
	if idx, vals := sparse(tf); len(idx) > 0 {
		vectors[vectorSparse] = qc.NewVectorSparse(idx, vals)
	}
	if nonZero(c.Vector) {
		vectors[vectorDense] = qc.NewVectorDense(c.Vector)
	}
	return &qc.PointStruct{
		Id:      qc.NewIDUUID(PointID(c.ID)),
		Vectors: qc.NewVectorsMap(vectors),
		Payload: qc.NewValueMap(map[string]any{fieldChunkID: c.ID, fieldScope: c.Scope, fieldDocKey: c.DocKey}),
	}
}

// Index adds chunks, replacing those with the same ID.
func (x *Index) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	if x.closed.Load() {
		return retrieval.ErrClosed
	}
	points := make([]*qc.PointStruct, len(chunks))
	for i, c := range chunks {
		if len(c.Vector) > 0 && len(c.Vector) != x.cfg.Dim {
			return fmt.Errorf("qdrant: chunk %s has a vector of %d dimensions, the collection %d", c.ID, len(c.Vector), x.cfg.Dim)
		}
		points[i] = x.Point(c)
	}
	for batch := range slices.Chunk(points, x.cfg.BatchSize) {
		err := x.write(ctx, func(ctx context.Context) error {
			_, err := x.client.Upsert(ctx, &qc.UpsertPoints{CollectionName: x.cfg.Collection, Wait: qc.PtrOf(true), Points: batch})
			return err
		})
		if err != nil {
			return fmt.Errorf("qdrant: upsert %d points: %w", len(batch), err)
		}
	}
	return nil
}

// Delete removes the chunks with these IDs; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	if x.closed.Load() {
		return retrieval.ErrClosed
	}
	for batch := range slices.Chunk(ids, x.cfg.BatchSize) {
		pids := make([]*qc.PointId, len(batch))
		for i, id := range batch {
			pids[i] = qc.NewIDUUID(PointID(id))
		}
		err := x.write(ctx, func(ctx context.Context) error {
			_, err := x.client.Delete(ctx, &qc.DeletePoints{CollectionName: x.cfg.Collection, Wait: qc.PtrOf(true),
				Points: qc.NewPointsSelectorIDs(pids)})
			return err
		})
		if err != nil {
			return fmt.Errorf("qdrant: delete %d points: %w", len(batch), err)
		}
	}
	return nil
}

// QueryRequest returns the Query API call for q: a sparse (BM25) and a
// dense prefetch of n points each, filtered to q's scopes, fused by
// reciprocal rank into q.Limit() points; with only one of the two, that
// search alone. Nil when q has neither words nor vector.
//
// https://qdrant.tech/documentation/concepts/hybrid-queries/#hybrid-search,
// https://qdrant.tech/documentation/concepts/filtering/#match-any.
func (x *Index) QueryRequest(q retrieval.Query, n int) *qc.QueryPoints {
	filter := &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeywords(fieldScope, q.Scopes...)}}
	weights := map[uint32]float32{}
	for _, t := range x.terms.Terms(q.Expansion) {
		weights[termIndex(t)] = expansionWeight
	}
	for _, t := range x.terms.Terms(q.Text) {
		weights[termIndex(t)] = 1
	}
	var prefetch []*qc.PrefetchQuery
	if idx, vals := sparse(weights); len(idx) > 0 {
		prefetch = append(prefetch, &qc.PrefetchQuery{Query: qc.NewQuerySparse(idx, vals), Using: qc.PtrOf(vectorSparse),
			Filter: filter, Limit: qc.PtrOf(uint64(n))})
	}
	if nonZero(q.Vector) {
		prefetch = append(prefetch, &qc.PrefetchQuery{Query: qc.NewQueryDense(q.Vector), Using: qc.PtrOf(vectorDense),
			Filter: filter, Limit: qc.PtrOf(uint64(n))})
	}
	req := &qc.QueryPoints{CollectionName: x.cfg.Collection, Limit: qc.PtrOf(uint64(q.Limit())), Filter: filter,
		WithPayload: qc.NewWithPayloadInclude(fieldChunkID)}
	switch len(prefetch) {
	case 0:
		return nil
	case 1:
		req.Query, req.Using = prefetch[0].Query, prefetch[0].Using
	default:
		req.Prefetch, req.Query = prefetch, qc.NewQueryFusion(qc.Fusion_RRF)
	}
	return req
}

// Search returns the best q.Limit() chunks of q.Scopes.
func (x *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Hit, error) {
	if x.closed.Load() {
		return nil, retrieval.ErrClosed
	}
	if len(q.Scopes) == 0 {
		return nil, nil
	}
	if nonZero(q.Vector) && len(q.Vector) != x.cfg.Dim {
		return nil, fmt.Errorf("qdrant: query vector of %d dimensions, the collection %d", len(q.Vector), x.cfg.Dim)
	}
	req := x.QueryRequest(q, max(x.cfg.Candidates, q.Limit()))
	if req == nil {
		return nil, nil
	}
	var points []*qc.ScoredPoint
	err := x.retry(ctx, func(ctx context.Context) (err error) {
		points, err = x.client.Query(ctx, req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: query: %w", err)
	}
	hits := make([]retrieval.Hit, 0, len(points))
	for _, p := range points {
		id := p.GetPayload()[fieldChunkID].GetStringValue()
		if id == "" {
			return nil, fmt.Errorf("qdrant: point %v has no %s", p.GetId(), fieldChunkID)
		}
		hits = append(hits, retrieval.Hit{ChunkID: id, Score: float64(p.GetScore())})
	}
	return hits, nil
}

// Count returns the number of chunks in the collection (an exact count).
func (x *Index) Count() (int, error) {
	if x.closed.Load() {
		return 0, retrieval.ErrClosed
	}
	var n uint64
	err := x.retry(context.Background(), func(ctx context.Context) (err error) {
		n, err = x.client.Count(ctx, &qc.CountPoints{CollectionName: x.cfg.Collection, Exact: qc.PtrOf(true)})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("qdrant: count: %w", err)
	}
	return int(n), nil
}

// write runs a write holding one of the MaxInflight slots: callers beyond
// them wait (backpressure).
func (x *Index) write(ctx context.Context, op func(context.Context) error) error {
	select {
	case x.inflight <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-x.inflight }()
	return x.retry(ctx, op)
}

// retry runs op with the per-call timeout, again after a backoff when the
// server refused it for load (ResourceExhausted) or was unavailable, up to
// MaxRetries times.
func (x *Index) retry(ctx context.Context, op func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, x.cfg.Timeout)
		err := op(cctx)
		cancel()
		if err == nil {
			return nil
		}
		code := status.Code(err) // the client's errors wrap the gRPC status
		if (code != codes.Unavailable && code != codes.ResourceExhausted) || attempt >= x.cfg.MaxRetries || ctx.Err() != nil {
			return err
		}
		x.log.Warn("qdrant: call refused; trying again", "code", code.String(), "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(httpretry.Backoff(x.cfg.RetryBase, attempt)):
		}
	}
}

// termIndex is the sparse dimension of an analysed term: its FNV-1a hash.
// Two terms that collide share a dimension, which at 2^32 dimensions and a
// municipal vocabulary is rare and costs only a little precision.
func termIndex(term string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(term))
	return h.Sum32()
}

// sparse returns the indices (ascending) and values of m.
func sparse(m map[uint32]float32) ([]uint32, []float32) {
	idx := make([]uint32, 0, len(m))
	for i := range m {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	vals := make([]float32, len(idx))
	for j, i := range idx {
		vals[j] = m[i]
	}
	return idx, vals
}

func nonZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}
