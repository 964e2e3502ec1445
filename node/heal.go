package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/bleve"
)

// Healing the lexical index.
//
// The lexical index is derived from the store, so a damaged one is never
// repaired, only rebuilt. At open, bleve.Open verifies every segment's
// checksum and a damaged index is rebuilt before the node serves (open in
// node.go). At run time, the first search or write that finds the index
// damaged (bleve panicked reading it, or, checked after any other error that
// is not the caller's, a segment's checksum no longer matches) marks it
// unhealthy: /readyz is 503 with the reason, searches skip the lexical list
// and rank by the vector list alone, and a background rebuild fills a fresh
// index from the store beside the damaged one and swaps it in
// (bleve.Index.Rebuild). Ingests wait for the rebuild. The index is healthy
// again once the rebuilt index answers.

const (
	// Backoff between failed background rebuilds.
	healRetryMin = time.Second
	healRetryMax = time.Minute
	// healVerifyEvery is how often at most a search error that does not
	// itself say the index is damaged has the segments checksummed.
	healVerifyEvery = time.Minute
)

// lexicalHealth is the lexical index's health and the background rebuild
// that restores it. The zero value is a healthy index.
type lexicalHealth struct {
	mu      sync.Mutex
	reason  string // why the index is not ready; "" while it answers
	running bool   // a background rebuild is under way
	closed  bool   // the node is closing: start no rebuild
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	// verified is when the segments were last checksummed after a fault
	// that did not say the index is damaged.
	verified time.Time
	// beforeRebuild, when set (by tests), runs before each background
	// rebuild, so a test can see the node while it is unhealthy.
	beforeRebuild func()
}

// status returns "" when the lexical index answers, or why it does not.
func (h *lexicalHealth) status() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reason
}

// close stops a running background rebuild and waits for it.
func (h *lexicalHealth) close() {
	h.mu.Lock()
	h.closed = true
	if h.cancel != nil {
		h.cancel()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// indexFault reports whether err from the lexical index may say the index
// is damaged, rather than that the caller gave up or the node is closing.
func indexFault(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, retrieval.ErrClosed)
}

// lexicalDamaged reports whether err, an index fault, comes from a damaged
// lexical index: bleve panicked (ErrCorrupt), or a segment's checksum no
// longer matches. Other faults (a query bleve rejects, say) are not healed
// by a rebuild, so they do not start one; the segments are checksummed for
// them at most once per healVerifyEvery, as that reads the whole index.
func (n *Node) lexicalDamaged(err error) bool {
	if errors.Is(err, bleve.ErrCorrupt) {
		return true
	}
	h := &n.health
	h.mu.Lock()
	if time.Since(h.verified) < healVerifyEvery {
		h.mu.Unlock()
		return false
	}
	h.verified = time.Now()
	h.mu.Unlock()
	verr := n.lexical.Verify()
	if verr != nil {
		n.log.Error("lexical index segments damaged", "err", verr)
	}
	return errors.Is(verr, bleve.ErrCorrupt)
}

// lexicalFailed is called with every error of the lexical index. When the
// error says the index is damaged (lexicalDamaged), it marks the index
// unhealthy and starts the background rebuild, unless one is running
// already, and reports true.
func (n *Node) lexicalFailed(ctx context.Context, err error) bool {
	if !indexFault(ctx, err) || !n.lexicalDamaged(err) {
		return false
	}
	h := &n.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running || h.closed {
		return true
	}
	h.running = true
	h.reason = "lexical index failed; rebuilding it from the store"
	n.log.Error("lexical index failed; searching by vectors only while it is rebuilt from the store", "err", err)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer cancel()
		n.healLexical(ctx)
	}()
	return true
}

// healLexical rebuilds the lexical index until a rebuild succeeds or ctx
// ends, then marks the index healthy.
func (n *Node) healLexical(ctx context.Context) {
	h := &n.health
	wait := healRetryMin
	for {
		if h.beforeRebuild != nil {
			h.beforeRebuild()
		}
		err := n.rebuildLexicalLive(ctx)
		if err == nil {
			h.mu.Lock()
			h.running, h.reason = false, ""
			h.mu.Unlock()
			return
		}
		n.log.Error("lexical index rebuild failed; retrying", "err", err, "in", wait)
		h.mu.Lock()
		h.reason = fmt.Sprintf("lexical index failed; rebuilding it from the store failed: %v", err)
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, healRetryMax)
	}
}

// rebuildLexicalLive rebuilds the lexical index while the node serves.
// Ingests wait for it, so the rebuilt index holds exactly the store's
// batches up to the sequence it records.
func (n *Node) rebuildLexicalLive(ctx context.Context) error {
	n.ingest.Lock()
	defer n.ingest.Unlock()
	seq, err := n.store.Seq()
	if err != nil {
		return err
	}
	if err := n.rebuildLexical(ctx, seq); err != nil {
		return err
	}
	// The rebuilt index must answer before the node says it is ready.
	applied, err := n.lexical.Applied()
	if err != nil {
		return fmt.Errorf("check rebuilt lexical index: %w", err)
	}
	if applied != seq {
		return fmt.Errorf("check rebuilt lexical index: applied %d, store at %d", applied, seq)
	}
	if _, err := n.lexical.Count(); err != nil {
		return fmt.Errorf("check rebuilt lexical index: %w", err)
	}
	return nil
}

// healingIndex is the lexical index as the hybrid searcher sees it: a
// search failure from a damaged index starts the rebuild, and
// while the index is unhealthy searches return no lexical hits (the hybrid
// ranking then uses the vector list alone) instead of an error.
type healingIndex struct{ n *Node }

var _ retrieval.Index = healingIndex{}

// Search searches the lexical index; see healingIndex.
func (h healingIndex) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Hit, error) {
	if h.n.health.status() != "" {
		return nil, nil
	}
	hits, err := h.n.lexical.Search(ctx, q)
	if err != nil && h.n.lexicalFailed(ctx, err) {
		return nil, nil
	}
	return hits, err
}

// UnknownWords is bleve.Index.UnknownWords, for the hybrid searcher's
// respelling; while the index is unhealthy no word is unknown.
func (h healingIndex) UnknownWords(ctx context.Context, text string) ([]string, error) {
	if h.n.health.status() != "" {
		return nil, nil
	}
	words, err := h.n.lexical.UnknownWords(ctx, text)
	if err != nil && h.n.lexicalFailed(ctx, err) {
		return nil, nil
	}
	return words, err
}

// Index adds chunks to the lexical index.
func (h healingIndex) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	return h.n.lexical.Index(ctx, chunks)
}

// Delete removes chunks from the lexical index.
func (h healingIndex) Delete(ctx context.Context, ids []string) error {
	return h.n.lexical.Delete(ctx, ids)
}

// Count returns the number of chunks in the lexical index.
func (h healingIndex) Count() (int, error) { return h.n.lexical.Count() }

// Close does nothing: the node closes the lexical index.
func (h healingIndex) Close() error { return nil }

// fillLexical writes every chunk of the store into x, recording seq as
// applied with the last batch.
func (n *Node) fillLexical(ctx context.Context, x *bleve.Index, seq uint64) (int, error) {
	var batch []retrieval.Chunk
	count := 0
	flush := func(final bool) error {
		var s uint64
		if final {
			s = seq
		}
		if len(batch) == 0 && !final {
			return nil
		}
		err := x.Apply(ctx, batch, nil, s)
		count += len(batch)
		batch = batch[:0]
		return err
	}
	err := n.store.ForEachChunk(func(c retrieval.Chunk) error {
		c.Vector = nil
		batch = append(batch, c)
		if len(batch) >= 1000 {
			return flush(false)
		}
		return nil
	})
	if err != nil {
		return count, err
	}
	return count, flush(true)
}
