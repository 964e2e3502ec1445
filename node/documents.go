package node

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// excludedDocs maps the key of each document staff left out of answers to
// its number of chunks. It is replaced whole, never changed.
type excludedDocs map[string]int

// loadExcluded reads the exclusions from the store.
func (n *Node) loadExcluded() error {
	ex, err := n.store.Excluded()
	if err != nil {
		return err
	}
	set := excludedDocs{}
	for key := range ex {
		chunks := 0
		if d, err := n.store.Doc(key); err == nil {
			chunks = d.Chunks
		}
		set[key] = chunks
	}
	n.excluded.Store(&set)
	return nil
}

// SetExcluded leaves the document id of scope out of every search and
// answer from now on (excluded), or lets it back in. The document stays
// stored and indexed, and a new crawl of it keeps the exclusion. changed
// is false when it already was so; an unknown document is an error
// wrapping store.ErrNotFound.
func (n *Node) SetExcluded(scope, id string, excluded bool) (changed bool, err error) {
	key := retrieval.DocKey(scope, id)
	d, err := n.store.Doc(key)
	if err != nil {
		return false, err
	}
	n.excludedMu.Lock()
	defer n.excludedMu.Unlock()
	if changed, err = n.store.SetExcluded(key, excluded, time.Now()); err != nil || !changed {
		return changed, err
	}
	set := maps.Clone(*n.excluded.Load())
	if excluded {
		set[key] = d.Chunks
	} else {
		delete(set, key)
	}
	n.excluded.Store(&set)
	return true, nil
}

// Excluded reports whether the document id of scope is left out of
// answers.
func (n *Node) Excluded(scope, id string) bool {
	_, ok := (*n.excluded.Load())[retrieval.DocKey(scope, id)]
	return ok
}

// withoutExcluded runs a search over scopes that leaves out the chunks of
// excluded documents: it asks for as many more results as those documents
// have chunks in scopes, so k results remain when the index has them.
func (n *Node) withoutExcluded(ctx context.Context, req hybrid.Request) ([]hybrid.Result, error) {
	set := *n.excluded.Load()
	extra := 0
	for key, chunks := range set {
		for _, s := range req.Scopes {
			if strings.HasPrefix(key, s+"/") {
				extra += max(chunks, 1)
				break
			}
		}
	}
	if extra == 0 {
		return n.searcher.Search(ctx, req)
	}
	k := req.K
	req.K += extra
	res, err := n.searcher.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	res = slices.DeleteFunc(res, func(r hybrid.Result) bool { _, ok := set[r.Chunk.DocKey]; return ok })
	return res[:min(len(res), k)], nil
}

// docChunks returns the stored chunks of d in order.
func (n *Node) docChunks(d store.Doc) ([]retrieval.Chunk, error) {
	key := d.Key()
	ids := make([]string, d.Chunks)
	for i := range ids {
		ids[i] = store.ChunkID(key, i)
	}
	got, err := n.store.Chunks(ids)
	if err != nil {
		return nil, err
	}
	out := make([]retrieval.Chunk, 0, len(got))
	for _, id := range ids {
		if c, ok := got[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// Reindex embeds the stored chunks of the document id of scope again with
// the node's embedder and writes them to both indexes, repairing a
// document the indexes lost or hold wrongly. It does not fetch the page
// again: a crawl of its source does that. It returns the number of chunks.
func (n *Node) Reindex(ctx context.Context, scope, id string) (int, error) {
	n.ingest.Lock() // no batch changes the document meanwhile
	defer n.ingest.Unlock()
	d, err := n.store.Doc(retrieval.DocKey(scope, id))
	if err != nil {
		return 0, err
	}
	chunks, err := n.docChunks(d)
	if err != nil {
		return 0, err
	}
	if err := n.embedChunks(ctx, chunks); err != nil {
		return 0, err
	}
	if err := n.store.PutVectors(chunks); err != nil {
		return 0, err
	}
	ids := make([]string, len(chunks))
	for i, c := range chunks {
		ids[i] = c.ID
	}
	err = func() error {
		n.mu.Lock()
		defer n.mu.Unlock()
		if err := n.lexical.Apply(ctx, chunks, nil, 0); err != nil {
			n.lexicalFailed(ctx, err)
			return fmt.Errorf("reindex %s: %w", d.Key(), err)
		}
		if err := n.vectors.Delete(ctx, ids); err != nil {
			return err
		}
		return n.vectors.Index(ctx, chunks)
	}()
	if err != nil {
		return 0, err
	}
	if n.backend != nil {
		if err := n.backend.Index(ctx, chunks); err != nil {
			return 0, fmt.Errorf("reindex %s in the search backend: %w", d.Key(), err)
		}
	}
	return len(chunks), nil
}

// adminContent shows the portal a tenant's documents.
type adminContent struct{ n *Node }

var _ admin.Content = adminContent{}

func (c adminContent) doc(d store.Doc) admin.Document {
	out := admin.Document{ID: d.ID, URL: d.URL, Title: d.Title, Chunks: d.Chunks, Ingested: d.Ingested,
		Excluded: c.n.Excluded(d.Scope, d.ID)}
	if d.Meta != nil {
		out.Source, out.Fetched = d.Meta.Source, d.Meta.Fetched
	}
	return out
}

func (c adminContent) Documents(tenant, query string, offset, limit int) ([]admin.Document, int, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	var out []admin.Document
	total := 0
	err := c.n.store.DocsIn(retrieval.TenantScope(tenant), func(d store.Doc) error {
		if q != "" && !strings.Contains(strings.ToLower(d.ID), q) && !strings.Contains(strings.ToLower(d.Title), q) &&
			!strings.Contains(strings.ToLower(d.URL), q) {
			return nil
		}
		if total >= offset && len(out) < limit {
			out = append(out, c.doc(d))
		}
		total++
		return nil
	})
	return out, total, err
}

func (c adminContent) Document(tenant, id string) (admin.Document, []admin.Chunk, error) {
	d, err := c.n.store.Doc(retrieval.DocKey(retrieval.TenantScope(tenant), id))
	if err != nil {
		return admin.Document{}, nil, err
	}
	chunks, err := c.n.docChunks(d)
	if err != nil {
		return admin.Document{}, nil, err
	}
	out := make([]admin.Chunk, len(chunks))
	for i, ch := range chunks {
		out[i] = admin.Chunk{Ord: ch.Ord, Headings: ch.Headings, Text: ch.Text}
	}
	return c.doc(d), out, nil
}

func (c adminContent) SetExcluded(_ context.Context, tenant, id string, excluded bool) (bool, error) {
	return c.n.SetExcluded(retrieval.TenantScope(tenant), id, excluded)
}

func (c adminContent) Reindex(ctx context.Context, tenant, id string) (int, error) {
	return c.n.Reindex(ctx, retrieval.TenantScope(tenant), id)
}
