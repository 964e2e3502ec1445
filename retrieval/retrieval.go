// Package retrieval finds the passages that answer a resident's question.
//
// It knows documents, chunks and indexes, and nothing of nodes, tenants'
// profiles or the federation. A scope names the owner of a chunk: a tenant
// ("t:holtewaard") or a national collection ("n:rijksoverheid"); every query
// names the scopes it may search.
package retrieval

import (
	"context"
	"errors"
	"strings"
)

// Document is one source page as it enters retrieval: cleaned text with its
// headings, plus the metadata a citation needs.
type Document struct {
	ID      string // stable id within its scope, e.g. the page id of the source
	Scope   string // owner, see TenantScope and NationalScope
	URL     string
	Title   string
	Updated string // date as the source gave it, may be empty
	Lang    string // BCP 47, "nl" when empty
}

// Key is the document's unique key on a node: scope and id.
func (d Document) Key() string { return DocKey(d.Scope, d.ID) }

// DocKey joins a scope and a document id into the node-wide document key.
func DocKey(scope, id string) string { return scope + "/" + id }

// Chunk is a passage of a document: the unit that is indexed and retrieved.
type Chunk struct {
	ID       string    // DocKey + "#" + ordinal
	DocKey   string    // key of the document it belongs to
	DocID    string    // id of that document within its scope
	Scope    string    // owner of the document
	URL      string    // source page
	Title    string    // document title
	Headings []string  // heading path above the passage, outermost first
	Text     string    // passage text, lines as package chunk writes them, without the headings
	Ord      int       // position in the document, from 0
	Vector   []float32 // embedding; set by the caller for vector indexes
	// Anchor is the fragment of URL that links to the innermost heading
	// ("kosten" for URL#kosten); empty when the page has none.
	Anchor string
}

// Section returns the innermost heading of the chunk, or "".
func (c Chunk) Section() string {
	if len(c.Headings) == 0 {
		return ""
	}
	return c.Headings[len(c.Headings)-1]
}

// Query is a search request against an Index.
type Query struct {
	Text string // the question as typed
	// Expansion holds extra terms from query expansion (synonyms); lexical
	// indexes weigh them below Text, vector indexes ignore them.
	Expansion string
	Vector    []float32 // query embedding, used by vector indexes
	Scopes    []string  // scopes that may match; empty matches nothing
	K         int       // number of hits wanted; <= 0 means 10
	// Local is the asker's own scope (one of Scopes). An index may return
	// up to LocalK best hits of that scope after the K best overall, so
	// the gemeente's own pages reach fusion even when many national pages
	// score higher. Indexes that do not support it ignore it.
	Local  string
	LocalK int
}

// Limit returns K or its default.
func (q Query) Limit() int {
	if q.K <= 0 {
		return 10
	}
	return q.K
}

// Hit is a chunk found by a search, best first. Score is only comparable
// between hits of one search.
type Hit struct {
	ChunkID string
	Score   float64
}

// Index is a searchable store of chunks. Implementations are safe for
// concurrent use. Index replaces chunks with the same ID; Delete ignores
// unknown IDs; Search returns at most q.Limit() hits, best first, only from
// q.Scopes.
type Index interface {
	Index(ctx context.Context, chunks []Chunk) error
	Delete(ctx context.Context, chunkIDs []string) error
	Search(ctx context.Context, q Query) ([]Hit, error)
	Count() (int, error)
	Close() error
}

// Embedder turns texts into vectors of a fixed dimension.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Dim() int
	// Name identifies the model, so an index built with another embedder is
	// recognised and rebuilt.
	Name() string
}

// ErrClosed is returned by an Index used after Close.
var ErrClosed = errors.New("retrieval: index closed")

// TenantScope is the scope of a tenant's own documents.
func TenantScope(tenant string) string { return "t:" + tenant }

// NationalScope is the scope of a national collection.
func NationalScope(name string) string { return "n:" + name }

// IsNational reports whether scope names a national collection.
func IsNational(scope string) bool { return strings.HasPrefix(scope, "n:") }
