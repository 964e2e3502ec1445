package node

import (
	"context"
	"fmt"
	"sort"

	"github.com/assistent-nl/assistent/retrieval"
)

// CheckReport compares the derived indexes with the store.
type CheckReport struct {
	Documents     int      `json:"documents"`
	StoreChunks   int      `json:"store_chunks"`
	LexicalChunks int      `json:"lexical_chunks"`
	VectorChunks  int      `json:"vector_chunks"`
	MissingInLex  []string `json:"missing_in_lexical,omitempty"`
	ExtraInLex    []string `json:"extra_in_lexical,omitempty"`
	PartialDocs   []string `json:"partial_documents,omitempty"`
}

// OK reports whether the indexes hold exactly what the store holds.
func (r CheckReport) OK() bool {
	return len(r.MissingInLex) == 0 && len(r.ExtraInLex) == 0 && len(r.PartialDocs) == 0 &&
		r.StoreChunks == r.LexicalChunks && r.StoreChunks == r.VectorChunks
}

// Check verifies that every stored document has all its chunks, and that
// the lexical and vector indexes hold exactly the stored chunks.
func (n *Node) Check(ctx context.Context) (CheckReport, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var rep CheckReport
	stored := map[string]bool{}
	perDoc := map[string]int{}
	err := n.store.ForEachChunk(func(c retrieval.Chunk) error {
		stored[c.ID] = true
		perDoc[c.DocKey]++
		return nil
	})
	if err != nil {
		return rep, err
	}
	rep.StoreChunks = len(stored)
	err = n.store.ForEachDoc(func(key string, chunks int) error {
		rep.Documents++
		if perDoc[key] != chunks {
			rep.PartialDocs = append(rep.PartialDocs, fmt.Sprintf("%s (%d of %d chunks)", key, perDoc[key], chunks))
		}
		delete(perDoc, key)
		return nil
	})
	if err != nil {
		return rep, err
	}
	for key := range perDoc {
		rep.PartialDocs = append(rep.PartialDocs, key+" (chunks without document)")
	}
	ids, err := n.lexical.IDs(ctx)
	if err != nil {
		return rep, err
	}
	rep.LexicalChunks = len(ids)
	inLex := map[string]bool{}
	for _, id := range ids {
		inLex[id] = true
		if !stored[id] {
			rep.ExtraInLex = append(rep.ExtraInLex, id)
		}
	}
	for id := range stored {
		if !inLex[id] {
			rep.MissingInLex = append(rep.MissingInLex, id)
		}
	}
	sort.Strings(rep.MissingInLex)
	sort.Strings(rep.PartialDocs)
	if rep.VectorChunks, err = n.vectors.Count(); err != nil {
		return rep, err
	}
	return rep, nil
}
