// Package node is a gemeente node: it wires storage, retrieval and the
// answer pipeline together and serves them over HTTP.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/internal/reqid"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/node/chat"
	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/policy"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/embed"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
	"github.com/assistent-nl/assistent/retrieval/vector"
)

// Config configures a node.
type Config struct {
	DataDir    string // holds assistent.db and the derived indexes
	EmbedDim   int    // dimension of the built-in lexical embedder
	Search     hybrid.Config
	Extractive extractive.Config
	Modes      answer.ModeConfig // when a reply answers, suggests pages, or refers; zero: as fitted
	// Policy names what decides a question's intent: "both" (default:
	// rules, then the classifier of node/policy), "rules" or "classifier".
	Policy      answer.PolicyDecider
	Models      models.Config // model providers and routes; default extractive only
	Chunk       chunk.Options
	MaxQuestion int // longest question in characters
	Rate        RateConfig
	Retention   time.Duration // how long conversations are kept
	Chat        chat.Config   // WebSocket limits and timeouts
	// Fallback asks other gemeente nodes when the own sources fall short.
	Fallback    FallbackConfig
	AnswerK     int // passages retrieved for an answer
	LockTimeout time.Duration

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the rate limits); empty: the header is ignored.
	TrustedProxies []netip.Prefix

	// Admin configures the beheerportaal at /admin/ and /api/v1/admin/.
	Admin admin.Config

	// Backend, when set, serves the searches from a scale-out backend
	// (Qdrant, Elasticsearch) instead of the embedded indexes, which are
	// kept as they are (backend.go); nil: the embedded indexes.
	Backend Backend
}

// DefaultConfig returns the embedded defaults with data in ./data.
func DefaultConfig() Config {
	return Config{
		DataDir:     "data",
		EmbedDim:    256,
		Search:      hybrid.DefaultConfig(),
		Extractive:  extractive.DefaultConfig(),
		Models:      models.DefaultConfig(),
		Chunk:       chunk.DefaultOptions(),
		MaxQuestion: 1000,
		Rate:        DefaultRateConfig(),
		Retention:   30 * 24 * time.Hour,
		Chat:        chat.DefaultConfig(),
		Fallback:    DefaultFallbackConfig(),
		AnswerK:     6,
		LockTimeout: 2 * time.Second,
		Admin:       admin.DefaultConfig(),
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case strings.TrimSpace(c.DataDir) == "":
		return errors.New("node.data_dir: must not be empty")
	case c.EmbedDim < 16:
		return errors.New("node.embed_dim: must be at least 16")
	case c.MaxQuestion < 10:
		return errors.New("node.max_question: must be at least 10")
	case c.AnswerK < 1:
		return errors.New("node.answer_k: must be at least 1")
	case c.Retention < time.Hour:
		return errors.New("node.retention: must be at least 1h")
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("node.%w", err)
	}
	if err := c.Rate.Validate(); err != nil {
		return err
	}
	if err := c.Search.Validate(); err != nil {
		return err
	}
	if err := c.Models.Validate(); err != nil {
		return err
	}
	if err := c.Fallback.Validate(); err != nil {
		return err
	}
	if err := c.Chat.Validate(); err != nil {
		return err
	}
	if err := c.Modes.Validate(); err != nil {
		return err
	}
	if err := c.Admin.Validate(); err != nil {
		return err
	}
	return c.Extractive.Validate()
}

// Node is an open gemeente node. Its methods are safe for concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	crawler *crawl.Crawler
	// peerBreakers skip peers of the federated fallback that keep failing.
	peerBreakers breakers
	// federation reports the registry watcher's status, when attached.
	federation federationSlot
	sinkStop   chan struct{} // stops the crawl sink's committer
	stopSink   sync.Once
	sinkDone   chan struct{}
	store      *store.Store
	lexical    *bleve.Index
	vectors    *vector.Index
	embedder   retrieval.Embedder
	analyzer   *retrieval.Analyzer
	expander   *retrieval.Expander // synonyms and the English glossary
	searcher   *hybrid.Searcher
	// backend is the open Config.Backend, nil without one; backendSeq is
	// the last batch it took (guarded by ingest).
	backend    retrieval.Index
	backendSeq uint64
	answerer   answer.Generator              // the extractive answerer, the end of every chain
	pipeline   *answer.Pipeline              // the question path
	router     atomic.Pointer[models.Router] // replaced whole by SetModels
	modelsMu   sync.Mutex                    // serialises SetModels and the overrides; guards the three below
	// modelsBase is the model config from the node's config or the
	// federation (SetModels); cfg.Models is it with the overrides staff
	// made in the portal, modelsSkipped the overrides that did not fit.
	modelsBase    models.Config
	modelsSkipped map[string]error
	metrics       *metrics
	// scrub removes personal data from text before it is stored or logged.
	scrub   func(string) string
	limiter *limiter
	// health says whether the lexical index answers, and heals it (heal.go).
	health lexicalHealth
	// admin is the beheerportaal (admin.go).
	admin *admin.Admin
	// excluded are the documents left out of answers (documents.go);
	// excludedMu serialises their changes.
	excluded   atomic.Pointer[excludedDocs]
	excludedMu sync.Mutex

	// mu orders index updates against searches: a search sees a batch in
	// both indexes or in neither.
	mu     sync.RWMutex
	ingest sync.Mutex // one batch at a time
}

// Sentinel errors callers map to their edge (HTTP status, exit code).
var (
	// ErrUnknownTenant: the tenant does not exist on this node.
	ErrUnknownTenant = errors.New("unknown tenant")
	// ErrBadQuestion: the question is empty or too long.
	ErrBadQuestion = errors.New("bad question")
)

// Open opens the node's data directory, creating it when absent, and
// brings the derived indexes up to date with the store: it replays batches
// the lexical index has not applied (after a crash) and rebuilds the index
// when it is corrupt or missing.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Records logged with a request's context carry its id.
	log = slog.New(reqid.Handler{Handler: log.Handler()})
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "assistent.db"), cfg.LockTimeout)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log, store: st, embedder: embed.NewLexical(cfg.EmbedDim), limiter: newLimiter(cfg.Rate)}
	sink := newCrawlSink(n)
	n.sinkStop = make(chan struct{})
	n.sinkDone = make(chan struct{})
	go func() {
		defer close(n.sinkDone)
		sink.run(n.sinkStop)
	}()
	// Politeness (the per-host rate) limits a crawl; more workers only let
	// the sink commit more pages together when the limit is off.
	n.crawler, err = crawl.New(st.Bolt(), sink, crawl.Options{Logger: log, Workers: 16})
	if err != nil {
		n.stopSink.Do(func() { close(n.sinkStop) })
		st.Close()
		return nil, err
	}
	n.metrics = newMetrics(n)
	if err := n.loadExcluded(); err != nil {
		n.Close()
		return nil, err
	}
	n.scrub = func(s string) string { t, _ := guard.Scrub(s); return t }
	if err := n.open(ctx); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.openAdmin(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) open(ctx context.Context) error {
	var err error
	n.analyzer = retrieval.NewAnalyzer()
	n.expander = retrieval.DefaultExpander()
	// The pivot synonyms are built once per process (a third of a second)
	// before the node answers: answers must not depend on how soon after
	// start a question comes.
	n.expander.Pivot()
	// The policy classifier is trained once per process, before the node
	// answers, for the same reason.
	policy.Default()
	dir := filepath.Join(n.cfg.DataDir, "index", "bleve")
	n.lexical, err = bleve.Open(dir)
	if errors.Is(err, bleve.ErrCorrupt) {
		n.log.Warn("lexical index is corrupt; rebuilding it from the store", "dir", dir, "err", err)
		if err = bleve.Remove(dir); err != nil {
			return err
		}
		n.lexical, err = bleve.Open(dir)
	}
	if err != nil {
		return err
	}
	if err := n.catchUp(ctx); err != nil {
		return err
	}
	n.answerer, err = extractive.New(n.cfg.Extractive, n.analyzer.Terms, chunk.Sentences)
	if err != nil {
		return err
	}
	if err := n.applyModels(n.cfg.Models); err != nil {
		return err
	}
	deps := answer.PipelineDeps{Retriever: retriever{n}, Generators: generators{n}, Peers: peers{n}, Judge: judge{n}, Policy: n.cfg.Policy, Scorer: n.answerer,
		Thresholds: n.cfg.Modes, Terms: n.analyzer.Terms, Expand: n.expander.Expand, Log: n.log}
	if mm, err := answer.DefaultModeModel(); err == nil {
		deps.Modes = &mm
	} else {
		n.log.Warn("no calibrated mode model; modes follow the answer's confidence", "err", err)
	}
	if n.pipeline, err = answer.NewPipeline(deps); err != nil {
		return err
	}
	query, err := n.routeEmbedder(ctx)
	if err != nil {
		return err
	}
	n.vectors = vector.New(n.embedder.Dim())
	if err := n.loadVectors(ctx); err != nil {
		return err
	}
	onEmbedError := func(err error) {
		n.log.Warn("question not embedded; searching lexically", "embedder", n.embedder.Name(), "err", err)
	}
	sdeps := hybrid.Deps{
		Lexical: healingIndex{n}, Vector: n.vectors, Embedder: query,
		Chunks: n.store, Expander: n.expander, Terms: n.analyzer.Terms,
		OnEmbedError: onEmbedError,
	}
	if n.cfg.Backend != nil {
		if err := n.openBackend(ctx); err != nil {
			return err
		}
		applied, err := n.lexical.Applied()
		if err != nil {
			return err
		}
		if err := n.pruneChanges(applied); err != nil {
			return err
		}
		// The backend fuses its own lexical and vector lists; the
		// searcher hydrates and re-ranks them as it does the embedded
		// ones. The bleve speller is not asked (hybrid/spell.go).
		sdeps.Lexical = backendSearch{x: n.backend, embedder: query, onEmbedError: onEmbedError}
		sdeps.Vector, sdeps.Embedder = nil, nil
	}
	n.searcher, err = hybrid.New(n.cfg.Search, sdeps)
	return err
}

// catchUp applies to the lexical index the batches it has not seen.
func (n *Node) catchUp(ctx context.Context) error {
	applied, err := n.lexical.Applied()
	if err != nil {
		return err
	}
	seq, err := n.store.Seq()
	if err != nil {
		return err
	}
	if applied == seq {
		return n.pruneChanges(applied)
	}
	changes, err := n.store.ChangesAfter(applied)
	if err != nil {
		return err
	}
	if applied > seq || len(changes) == 0 || changes[0].Seq != applied+1 {
		// The index is ahead of the store (restored from another copy) or the
		// change log no longer reaches back to it: rebuild from scratch.
		return n.rebuildLexical(ctx, seq)
	}
	n.log.Info("replaying batches into the lexical index", "from", applied+1, "to", seq)
	for _, ch := range changes {
		if err := n.applyChange(ctx, ch); err != nil {
			return err
		}
	}
	return n.pruneChanges(seq)
}

func (n *Node) applyChange(ctx context.Context, ch store.Change) error {
	stored, err := n.store.Chunks(ch.Upserts)
	if err != nil {
		return err
	}
	var ups []retrieval.Chunk
	dels := append([]string(nil), ch.Deletes...)
	for _, id := range ch.Upserts {
		if c, ok := stored[id]; ok {
			ups = append(ups, c)
		} else {
			dels = append(dels, id) // removed by a later batch
		}
	}
	return n.lexical.Apply(ctx, ups, dels, ch.Seq)
}

// rebuildLexical fills a fresh lexical index from the store, recording seq
// as applied, and swaps it in for the current one.
func (n *Node) rebuildLexical(ctx context.Context, seq uint64) error {
	start := time.Now()
	n.log.Warn("rebuilding the lexical index from the store", "seq", seq)
	var count int
	err := n.lexical.Rebuild(ctx, func(fresh *bleve.Index) error {
		var err error
		count, err = n.fillLexical(ctx, fresh, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("rebuild lexical index: %w", err)
	}
	n.log.Info("lexical index rebuilt", "chunks", count, "took", time.Since(start).Round(time.Millisecond))
	return n.pruneChanges(seq)
}

// embedderID names an embedder and its dimension, as the store records it.
func embedderID(e retrieval.Embedder) string { return fmt.Sprintf("%s/%d", e.Name(), e.Dim()) }

// loadVectors fills the in-memory vector index from the store, embedding
// chunks whose stored vector is missing or from another embedder. When the
// store's vectors come from another model (the embed route changed), every
// chunk is embedded again.
func (n *Node) loadVectors(ctx context.Context) error {
	var batch []retrieval.Chunk
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := n.vectors.Index(ctx, batch)
		batch = batch[:0]
		return err
	}
	id := embedderID(n.embedder)
	stored, err := n.store.Embedder()
	if err != nil {
		return err
	}
	// A store without a record predates it: its vectors are taken by
	// their dimension, as then.
	stale := stored != "" && stored != id
	dim := n.embedder.Dim()
	loaded := 0
	if !stale {
		err = n.store.ForEachVector(func(cid, scope string, v []float32) error {
			if len(v) != dim {
				return nil
			}
			loaded++
			batch = append(batch, retrieval.Chunk{ID: cid, Scope: scope, Vector: v})
			if len(batch) >= 1000 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load vectors: %w", err)
		}
		if err := flush(); err != nil {
			return err
		}
	}
	total, err := n.store.ChunkCount()
	if err != nil {
		return err
	}
	if total > loaded {
		// Chunks without a vector of this embedder: after a change of the
		// embed route, or an interrupted migration. Rare, so which ones is
		// found only now.
		have := map[string]bool{}
		if !stale {
			err = n.store.ForEachVector(func(cid, _ string, v []float32) error {
				have[cid] = len(v) == dim
				return nil
			})
			if err != nil {
				return fmt.Errorf("load vectors: %w", err)
			}
		}
		var missing []retrieval.Chunk
		err = n.store.ForEachChunk(func(c retrieval.Chunk) error {
			if !have[c.ID] {
				missing = append(missing, c)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load vectors: %w", err)
		}
		start := time.Now()
		n.log.Info("embedding chunks without a vector of this embedder", "chunks", len(missing), "embedder", id, "previous", stored)
		if err := n.embedChunks(ctx, missing); err != nil {
			return err
		}
		if err := n.store.PutVectors(missing); err != nil {
			return err
		}
		if err := n.vectors.Index(ctx, missing); err != nil {
			return err
		}
		n.log.Info("chunks embedded", "chunks", len(missing), "took", time.Since(start).Round(time.Millisecond))
	}
	if stored != id {
		return n.store.SetEmbedder(id)
	}
	return nil
}

func (n *Node) embedChunks(ctx context.Context, chunks []retrieval.Chunk) error {
	const batch = 256
	for i := 0; i < len(chunks); i += batch {
		end := min(i+batch, len(chunks))
		texts := make([]string, 0, end-i)
		for _, c := range chunks[i:end] {
			texts = append(texts, embedText(c))
		}
		vs, err := n.embedder.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("embed chunks: %w", err)
		}
		for j := range vs {
			chunks[i+j].Vector = vs[j]
		}
	}
	return nil
}

// embedText is what a chunk's vector stands for: its title, headings and text.
func embedText(c retrieval.Chunk) string {
	return c.Title + "\n" + strings.Join(c.Headings, "\n") + "\n" + c.Text
}

// Close closes the indexes and the store.
func (n *Node) Close() error {
	var errs []error
	n.health.close() // stops a background rebuild of the lexical index
	if n.crawler != nil {
		errs = append(errs, n.crawler.Close()) // running crawls stop and stay resumable
		n.stopSink.Do(func() { close(n.sinkStop) })
		<-n.sinkDone
	}
	if n.lexical != nil {
		errs = append(errs, n.lexical.Close())
	}
	if n.vectors != nil {
		errs = append(errs, n.vectors.Close())
	}
	if n.backend != nil {
		errs = append(errs, n.backend.Close())
	}
	errs = append(errs, n.store.Close())
	return errors.Join(errs...)
}

// IngestResult counts what an ingest batch did.
type IngestResult struct {
	Written   int `json:"written"`
	Unchanged int `json:"unchanged"`
	Chunks    int `json:"chunks"`
	Removed   int `json:"removed,omitempty"` // documents of an earlier version (ReplaceCollection)
}

// Ingest stores and indexes pages under scope as one batch: a reader, and
// the node after a crash, sees all of the batch or none of it. Pages that
// cannot be extracted are reported through bad and left out.
func (n *Node) Ingest(ctx context.Context, scope string, pages []ingest.Page, bad func(ingest.Page, error)) (IngestResult, error) {
	writes, chunks, err := n.prepare(ctx, scope, pages, bad)
	if err != nil {
		return IngestResult{}, err
	}
	n.ingest.Lock()
	defer n.ingest.Unlock()
	return n.commit(ctx, writes, chunks, nil)
}

// ReplaceCollection makes pages the whole content of the national
// collection name: documents of an earlier version that pages lack are
// removed in the same batch as the new ones are written, so a reader (and
// the node after a crash) sees one version or the other, never a mix.
func (n *Node) ReplaceCollection(ctx context.Context, name string, pages []ingest.Page, bad func(ingest.Page, error)) (IngestResult, error) {
	scope := retrieval.NationalScope(name)
	writes, chunks, err := n.prepare(ctx, scope, pages, bad)
	if err != nil {
		return IngestResult{}, err
	}
	keep := make(map[string]bool, len(writes))
	for _, w := range writes {
		keep[w.Doc.Key()] = true
	}
	n.ingest.Lock()
	defer n.ingest.Unlock()
	old, err := n.store.DocKeys(scope)
	if err != nil {
		return IngestResult{}, err
	}
	var remove []string
	for _, k := range old {
		if !keep[k] {
			remove = append(remove, k)
		}
	}
	res, err := n.commit(ctx, writes, chunks, remove)
	res.Removed = len(remove)
	return res, err
}

// prepare extracts, chunks and embeds pages.
func (n *Node) prepare(ctx context.Context, scope string, pages []ingest.Page, bad func(ingest.Page, error)) ([]store.DocWrite, []retrieval.Chunk, error) {
	var writes []store.DocWrite
	var chunks []retrieval.Chunk
	for _, p := range pages {
		w, err := ingest.Prepare(scope, p, n.cfg.Chunk)
		if err != nil {
			if bad != nil {
				bad(p, err)
			}
			continue
		}
		writes = append(writes, w)
	}
	for i := range writes {
		if err := n.embedChunks(ctx, writes[i].Chunks); err != nil {
			return nil, nil, err
		}
		chunks = append(chunks, writes[i].Chunks...)
	}
	return writes, chunks, nil
}

// commit stores a batch and applies it to both indexes; the caller holds
// n.ingest.
func (n *Node) commit(ctx context.Context, writes []store.DocWrite, chunks []retrieval.Chunk, remove []string) (IngestResult, error) {
	res, err := n.store.ReplaceBatch(writes, remove, time.Now().UTC())
	if err != nil {
		return IngestResult{}, err
	}
	out := IngestResult{Written: res.Written, Unchanged: res.Unchanged}
	if res.Change.Seq == 0 {
		return out, n.syncBackend(ctx) // a batch it missed before
	}
	written := map[string]bool{}
	for _, id := range res.Change.Upserts {
		written[id] = true
	}
	var ups []retrieval.Chunk
	for _, c := range chunks {
		if written[c.ID] {
			ups = append(ups, c)
		}
	}
	out.Chunks = len(ups)
	err = func() error {
		n.mu.Lock()
		defer n.mu.Unlock()
		if err := n.lexical.Apply(ctx, ups, res.Change.Deletes, res.Change.Seq); err != nil {
			n.lexicalFailed(ctx, err) // a rebuild would include this batch
			return fmt.Errorf("index batch %d: %w", res.Change.Seq, err)
		}
		if err := n.vectors.Delete(ctx, res.Change.Deletes); err != nil {
			return err
		}
		return n.vectors.Index(ctx, ups)
	}()
	if err != nil {
		return out, err
	}
	// Outside n.mu: searches need not wait for the backend's round trip.
	return out, n.syncBackend(ctx)
}

// Remove deletes documents of scope by id from the store and both indexes,
// as one batch.
func (n *Node) Remove(ctx context.Context, scope string, ids []string) error {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = retrieval.DocKey(scope, id)
	}
	n.ingest.Lock()
	defer n.ingest.Unlock()
	ch, err := n.store.DeleteDocs(keys)
	if err != nil || ch.Seq == 0 {
		return err
	}
	err = func() error {
		n.mu.Lock()
		defer n.mu.Unlock()
		if err := n.lexical.Apply(ctx, nil, ch.Deletes, ch.Seq); err != nil {
			n.lexicalFailed(ctx, err) // a rebuild would leave these out
			return fmt.Errorf("remove from index: %w", err)
		}
		return n.vectors.Delete(ctx, ch.Deletes)
	}()
	if err != nil {
		return err
	}
	return n.syncBackend(ctx)
}

// Store returns the node's store, for tenant and collection management.
func (n *Node) Store() *store.Store { return n.store }

// Scopes returns the scopes a tenant's questions search: its own and every
// national collection on the node. It fails with ErrUnknownTenant.
func (n *Node) Scopes(tenant string) ([]string, error) {
	if _, err := n.tenant(tenant); err != nil {
		return nil, err
	}
	return n.scopesOf(tenant)
}

// scopesOf returns the scopes of a tenant known to exist.
func (n *Node) scopesOf(tenant string) ([]string, error) {
	cols, err := n.store.Collections()
	if err != nil {
		return nil, err
	}
	scopes := []string{retrieval.TenantScope(tenant)}
	for _, c := range cols {
		scopes = append(scopes, retrieval.NationalScope(c.Name))
	}
	return scopes, nil
}

// Search runs a search for a tenant.
func (n *Node) Search(ctx context.Context, tenant, text string, k int, mode hybrid.Mode) ([]hybrid.Result, error) {
	scopes, err := n.Scopes(tenant)
	if err != nil {
		return nil, err
	}
	return n.search(ctx, scopes, text, k, mode)
}

// search runs a search over scopes; scopes[0] is the asker's own.
func (n *Node) search(ctx context.Context, scopes []string, text string, k int, mode hybrid.Mode) ([]hybrid.Result, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.withoutExcluded(ctx, hybrid.Request{Text: text, Scopes: scopes, K: k, Mode: mode, Local: scopes[0]})
}

// tenant returns the tenant with id, or an error wrapping ErrUnknownTenant.
func (n *Node) tenant(id string) (store.Tenant, error) {
	t, err := n.store.Tenant(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, fmt.Errorf("%w: %s", ErrUnknownTenant, id)
	}
	return t, err
}
