package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// Backend is a scale-out search backend (retrieval/qdrant,
// retrieval/elastic) that serves the node's searches in place of its
// embedded indexes. The node keeps bbolt as the source of truth and its
// embedded indexes as they are; it sends every batch to the backend too,
// and records in bbolt how far the backend has come, so a batch the
// backend missed (it was down, the node stopped) is sent again.
type Backend interface {
	// Name identifies the collection or index as KIND/NAME, e.g.
	// "elastic/assistent" (KIND and NAME as `assistent reindex --to KIND
	// --name NAME` takes them): the key of its state in the store, which
	// reindex records too.
	Name() string
	// Open connects, creates what is missing for vectors of dim
	// dimensions, and returns the index. The index searches lexically and
	// by vector itself and returns one fused list.
	Open(ctx context.Context, dim int) (retrieval.Index, error)
}

// ErrBackendBehind: the backend lacks batches the change log no longer
// holds, or was filled for another store or embedder; it must be filled
// again with `assistent reindex`.
var ErrBackendBehind = errors.New("the search backend must be filled from this node's store")

// openBackend opens the configured backend and brings it up to date with
// the store. A backend is accepted only when the store records that it
// was filled (by `assistent reindex`, or by this node) with the node's
// embedder, and the change log still holds every batch since; a fresh
// node with no batches at all starts it empty.
func (n *Node) openBackend(ctx context.Context) error {
	b := n.cfg.Backend
	name := b.Name()
	id := embedderID(n.embedder)
	st, ok, err := n.store.BackendState(name)
	if err != nil {
		return err
	}
	seq, err := n.store.Seq()
	if err != nil {
		return err
	}
	fill := "stop the node and run " + reindexHint(name)
	switch {
	case !ok && seq > 0:
		return fmt.Errorf("retrieval.backend %s: %w: it was never filled from it; %s", name, ErrBackendBehind, fill)
	case !ok:
		st = store.BackendState{Embedder: id}
		if err := n.store.SetBackendState(name, st); err != nil {
			return err
		}
	case st.Seq > seq:
		return fmt.Errorf("retrieval.backend %s: %w: it holds batch %d, the store only %d (another copy of the store?); %s", name, ErrBackendBehind, st.Seq, seq, fill)
	case st.Embedder != "" && st.Embedder != id:
		return fmt.Errorf("retrieval.backend %s: %w: its vectors come from %s, the node embeds with %s; %s", name, ErrBackendBehind, st.Embedder, id, fill)
	}
	x, err := b.Open(ctx, n.embedder.Dim())
	if err != nil {
		return fmt.Errorf("retrieval.backend %s: %w", name, err)
	}
	n.backend, n.backendSeq = x, st.Seq
	if err := n.syncBackend(ctx); err != nil {
		return fmt.Errorf("retrieval.backend %s: %w", name, err)
	}
	return nil
}

// reindexHint is the command that fills the backend named name (KIND/NAME).
func reindexHint(name string) string {
	kind, index, _ := strings.Cut(name, "/")
	return fmt.Sprintf("`assistent reindex --to %s --name %s --drop --url URL` with this node's --data", kind, index)
}

// syncBackend sends the backend the batches of the change log after the
// last one it took, in order, and records how far it came. The caller
// holds n.ingest, or has the node to itself (Open).
func (n *Node) syncBackend(ctx context.Context) error {
	if n.backend == nil {
		return nil
	}
	seq, err := n.store.Seq()
	if err != nil || n.backendSeq >= seq {
		return err
	}
	changes, err := n.store.ChangesAfter(n.backendSeq)
	if err != nil {
		return err
	}
	if len(changes) == 0 || changes[0].Seq != n.backendSeq+1 {
		return fmt.Errorf("%w: it has batches up to %d and the change log no longer reaches back to %d; stop the node and run %s",
			ErrBackendBehind, n.backendSeq, n.backendSeq+1, reindexHint(n.cfg.Backend.Name()))
	}
	done := n.backendSeq
	for _, ch := range changes {
		if err = n.applyBackend(ctx, ch); err != nil {
			err = fmt.Errorf("batch %d is stored but not yet in the search backend (it is sent again with the next batch and on start): %w", ch.Seq, err)
			break
		}
		done = ch.Seq
	}
	if done > n.backendSeq {
		n.backendSeq = done
		if serr := n.store.SetBackendState(n.cfg.Backend.Name(), store.BackendState{Seq: done, Embedder: embedderID(n.embedder)}); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// applyBackend sends one change record to the backend: its deletions, and
// its chunks as stored now, with their vectors (a chunk a later batch
// removed is deleted).
func (n *Node) applyBackend(ctx context.Context, ch store.Change) error {
	stored, err := n.store.ChunksWithVectors(ch.Upserts)
	if err != nil {
		return err
	}
	var ups []retrieval.Chunk
	dels := append([]string(nil), ch.Deletes...)
	for _, id := range ch.Upserts {
		if c, ok := stored[id]; ok {
			ups = append(ups, c)
		} else {
			dels = append(dels, id)
		}
	}
	if len(dels) > 0 {
		if err := n.backend.Delete(ctx, dels); err != nil {
			return err
		}
	}
	if len(ups) > 0 {
		return n.backend.Index(ctx, ups)
	}
	return nil
}

// pruneChanges removes the change records up to seq that every recorded
// backend has taken too, so a backend the node does not use now (a CLI
// command without the serve config, a node switched back to embedded for
// a while) can still catch up when it is used again.
func (n *Node) pruneChanges(seq uint64) error {
	states, err := n.store.BackendStates()
	if err != nil {
		return err
	}
	for _, st := range states {
		seq = min(seq, st.Seq)
	}
	return n.store.PruneChanges(seq)
}

// backendSearch is the hybrid searcher's lexical index when a backend
// serves the searches: it embeds the question (with its expansion, as the
// embedded vector search does) and asks the backend, which does the
// lexical and the vector search and fuses them. A question the embedder
// fails on is searched lexically only.
type backendSearch struct {
	x            retrieval.Index
	embedder     retrieval.Embedder
	onEmbedError func(error)
}

func (b backendSearch) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Hit, error) {
	text := q.Text
	if q.Expansion != "" {
		text += " " + q.Expansion
	}
	vs, err := b.embedder.Embed(ctx, []string{text})
	switch {
	case err == nil && len(vs) == 1:
		q.Vector = vs[0]
	case ctx.Err() != nil:
		return nil, fmt.Errorf("embed query: %w", ctx.Err())
	default:
		if err == nil {
			err = fmt.Errorf("embedder returned %d vectors for 1 text", len(vs))
		}
		b.onEmbedError(err)
	}
	return b.x.Search(ctx, q)
}

// The searcher only searches; writes go to the backend itself (syncBackend).
func (b backendSearch) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	return b.x.Index(ctx, chunks)
}
func (b backendSearch) Delete(ctx context.Context, ids []string) error { return b.x.Delete(ctx, ids) }
func (b backendSearch) Count() (int, error)                            { return b.x.Count() }
func (b backendSearch) Close() error                                   { return nil } // the node closes n.backend
