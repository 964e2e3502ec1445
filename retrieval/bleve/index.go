// Package bleve is the embedded lexical index: BM25 over Dutch-analysed
// chunk text, stored on disk with bleve's scorch engine.
//
// The index is derived data. The node's bbolt store is the source of truth;
// Apply records the store sequence it has applied in the same bleve batch as
// the chunks, so after a crash the node replays what is missing (Applied),
// and a corrupt index is removed and rebuilt.
package bleve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	blevesearch "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/token/compound"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/assistent-nl/assistent/retrieval"
)

// AnalyzerName is the name of the Dutch municipal analyzer in the mapping:
// diacritics folding, Unicode words, lower case, compound splitting with the
// municipal word list, Dutch stop words, Dutch Snowball stemming.
const AnalyzerName = "nl_municipal"

// Field boosts: a match in the title says more than one in the text.
const (
	boostTitle     = 1.0
	boostBody      = 1.0
	boostExpansion = 0.35
	boostTypo      = 0.7 // a fuzzy match is a guess

	// minFuzzyLen is the shortest unknown word searched with typos allowed;
	// shorter ones match too many unrelated words.
	minFuzzyLen = 6
)

var appliedKey = []byte("assistent.applied_seq")

var _ retrieval.Index = (*Index)(nil)

// Index is a bleve index of chunks. It is safe for concurrent use.
type Index struct {
	mu       sync.RWMutex
	idx      blevesearch.Index // nil after Close
	analyzer analysis.Analyzer // the mapping's AnalyzerName, for queries
	dir      string            // "" in memory
}

// Open opens the index at dir, creating it when absent. Before opening, it
// verifies the checksum of every segment file, because scorch reads
// segments through mmap and a damaged one fails (or panics) only when a
// search reaches the damage. It returns an error wrapping ErrCorrupt when an
// index exists but a segment is damaged or the index cannot be opened; the
// caller may then Remove and rebuild it. A rebuild that was left unfinished
// (see Rebuild) is removed.
func Open(dir string) (*Index, error) {
	if err := Remove(rebuildDir(dir)); err != nil {
		return nil, err
	}
	idx, err := openVerified(dir)
	switch {
	case err == nil:
	case errors.Is(err, blevesearch.ErrorIndexPathDoesNotExist):
		m, merr := NewMapping()
		if merr != nil {
			return nil, merr
		}
		idx, err = blevesearch.New(dir, m)
		if err != nil {
			return nil, fmt.Errorf("create bleve index %s: %w", dir, err)
		}
	case errors.Is(err, ErrCorrupt):
		return nil, fmt.Errorf("open bleve index %s: %w", dir, err)
	default:
		return nil, fmt.Errorf("open bleve index %s: %w: %w", dir, ErrCorrupt, err)
	}
	x, err := newIndex(idx)
	if err != nil {
		return nil, err
	}
	x.dir = dir
	return x, nil
}

// openVerified verifies the segments in dir and opens the index. A panic
// in bleve while it loads a segment is returned as ErrCorrupt.
func openVerified(dir string) (idx blevesearch.Index, err error) {
	if err := VerifySegments(dir); err != nil {
		return nil, err
	}
	defer func() {
		if v := recover(); v != nil {
			idx, err = nil, fmt.Errorf("%w: panic while loading: %v", ErrCorrupt, v)
		}
	}()
	return blevesearch.Open(dir)
}

// crcSize is the size of the CRC-32 (IEEE, big endian) at the end of every
// zap segment file; it covers all bytes before it.
const crcSize = 4

// VerifySegments checks the CRC-32 of every zap segment file of the index
// at dir, reading each file whole. It returns an error wrapping ErrCorrupt
// naming the first damaged segment, and nil when dir holds no segments
// (also when dir does not exist).
func VerifySegments(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil {
		return fmt.Errorf("list segments of %s: %w", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // merged away since the listing, while the index is open
		}
		if err != nil {
			return fmt.Errorf("read segment %s: %w", f, err)
		}
		if len(b) < crcSize {
			return fmt.Errorf("segment %s: %w: %d bytes", f, ErrCorrupt, len(b))
		}
		body, sum := b[:len(b)-crcSize], binary.BigEndian.Uint32(b[len(b)-crcSize:])
		if got := crc32.ChecksumIEEE(body); got != sum {
			return fmt.Errorf("segment %s: %w: checksum %08x, footer says %08x", f, ErrCorrupt, got, sum)
		}
	}
	return nil
}

// Verify checks the segments of the open index as VerifySegments does; an
// index in memory has none. It returns an error wrapping ErrCorrupt when a
// segment is damaged.
func (x *Index) Verify() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return retrieval.ErrClosed
	}
	if x.dir == "" {
		return nil
	}
	return VerifySegments(x.dir)
}

func newIndex(idx blevesearch.Index) (*Index, error) {
	// The search reads scorch's posting lists and its numeric internal
	// document numbers directly (see score.go).
	if adv, err := idx.Advanced(); err != nil || !isScorch(adv) {
		idx.Close()
		return nil, fmt.Errorf("bleve index: not a scorch index")
	}
	a := idx.Mapping().AnalyzerNamed(AnalyzerName)
	if a == nil {
		idx.Close()
		return nil, fmt.Errorf("bleve index: mapping has no analyzer %s", AnalyzerName)
	}
	return &Index{idx: idx, analyzer: a}, nil
}

// OpenMemory opens an index that lives only in memory, for tests and tools.
func OpenMemory() (*Index, error) {
	m, err := NewMapping()
	if err != nil {
		return nil, err
	}
	// scorch without a path keeps its segments in memory only.
	idx, err := blevesearch.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create in-memory bleve index: %w", err)
	}
	return newIndex(idx)
}

func isScorch(i index.Index) bool {
	_, ok := i.(*scorch.Scorch)
	return ok
}

// ErrCorrupt marks an on-disk index that exists but cannot be opened, or
// that is found damaged while it is read (bleve panicked).
var ErrCorrupt = errors.New("bleve index corrupt")

// recoverCorrupt turns a panic in bleve, which a damaged segment causes
// when a read reaches the damage, into an error wrapping ErrCorrupt in
// *err. It is deferred by every method that reads the index.
func recoverCorrupt(what string, err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%s: %w: panic: %v", what, ErrCorrupt, v)
	}
}

func rebuildDir(dir string) string { return dir + ".rebuild" }

// Rebuild replaces the contents of an on-disk index while it stays usable:
// fill writes every chunk into a fresh index in a sibling directory
// (dir.rebuild), which then takes the place of dir. Until the swap, the
// index serves what it served before (a damaged index keeps failing); the
// swap itself holds the index briefly for writing. On error the index is
// left as it was, unless the fresh index could not be opened in place,
// in which case calls return errors until a later Rebuild succeeds.
func (x *Index) Rebuild(ctx context.Context, fill func(*Index) error) error {
	if x.dir == "" {
		return errors.New("rebuild bleve index: index is in memory")
	}
	tmp := rebuildDir(x.dir)
	if err := Remove(tmp); err != nil {
		return err
	}
	fresh, err := Open(tmp)
	if err != nil {
		return err
	}
	if err := fill(fresh); err != nil {
		fresh.Close()
		Remove(tmp)
		return fmt.Errorf("rebuild bleve index %s: %w", x.dir, err)
	}
	if err := fresh.Close(); err != nil {
		Remove(tmp)
		return err
	}
	if err := ctx.Err(); err != nil {
		Remove(tmp)
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		Remove(tmp)
		return retrieval.ErrClosed
	}
	// The old index may be damaged; its Close error says nothing about the
	// new one.
	_ = x.idx.Close()
	x.idx = nil
	if err := Remove(x.dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, x.dir); err != nil {
		return fmt.Errorf("rebuild bleve index: %w", err)
	}
	idx, err := openVerified(x.dir)
	if err != nil {
		return fmt.Errorf("rebuild bleve index: reopen %s: %w", x.dir, err)
	}
	x.idx = idx
	return nil
}

// Remove deletes the index directory at dir.
func Remove(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove bleve index %s: %w", dir, err)
	}
	return nil
}

// NewMapping returns the index mapping: BM25 scoring, the chunk's title and
// body (title, headings and text) analysed with AnalyzerName, scope as a
// keyword.
func NewMapping() (*mapping.IndexMappingImpl, error) {
	im := blevesearch.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	var parts []interface{}
	for _, p := range retrieval.CompoundParts() {
		parts = append(parts, p)
	}
	if err := im.AddCustomTokenMap("nl_municipal_parts", map[string]interface{}{
		"type":   tokenmap.Name,
		"tokens": parts,
	}); err != nil {
		return nil, fmt.Errorf("token map: %w", err)
	}
	if err := im.AddCustomTokenFilter("nl_municipal_compound", map[string]interface{}{
		"type":               compound.Name,
		"dict_token_map":     "nl_municipal_parts",
		"min_word_size":      7.0,
		"min_subword_size":   4.0,
		"max_subword_size":   16.0,
		"only_longest_match": true,
	}); err != nil {
		return nil, fmt.Errorf("compound filter: %w", err)
	}
	if err := im.AddCustomAnalyzer(AnalyzerName, map[string]interface{}{
		"type":         custom.Name,
		"char_filters": []interface{}{asciifolding.Name},
		"tokenizer":    unicode.Name,
		"token_filters": []interface{}{
			lowercase.Name,
			"nl_municipal_compound",
			nl.StopName,
			nl.SnowballStemmerName,
			VerbTName,
		},
	}); err != nil {
		return nil, fmt.Errorf("analyzer: %w", err)
	}

	text := func() *mapping.FieldMapping {
		f := blevesearch.NewTextFieldMapping()
		f.Analyzer = AnalyzerName
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	scope := blevesearch.NewKeywordFieldMapping()
	scope.Analyzer = keyword.Name
	scope.Store = false
	scope.IncludeInAll = false
	scope.DocValues = false

	doc := blevesearch.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", text())
	doc.AddFieldMappingsAt("body", text())
	doc.AddFieldMappingsAt("scope", scope)
	im.DefaultMapping = doc
	im.DefaultAnalyzer = AnalyzerName
	return im, nil
}

// Index adds or replaces chunks.
func (x *Index) Index(ctx context.Context, chunks []retrieval.Chunk) error {
	return x.Apply(ctx, chunks, nil, 0)
}

// Delete removes chunks by id; unknown ids are ignored.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	return x.Apply(ctx, nil, ids, 0)
}

// Apply deletes and then indexes chunks in one bleve batch, which readers
// see entirely or not at all. When seq > 0 it is recorded in the same batch
// as the applied store sequence (see Applied). An error wrapping ErrCorrupt
// says the index is damaged (bleve panicked reading the segments the
// batch replaces chunks in).
func (x *Index) Apply(ctx context.Context, upserts []retrieval.Chunk, deletes []string, seq uint64) (err error) {
	defer recoverCorrupt("apply bleve batch", &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return retrieval.ErrClosed
	}
	b := x.idx.NewBatch()
	for _, id := range deletes {
		b.Delete(id)
	}
	for _, c := range upserts {
		if err := b.Index(c.ID, fields(c)); err != nil {
			return fmt.Errorf("index chunk %s: %w", c.ID, err)
		}
	}
	if seq > 0 {
		b.SetInternal(appliedKey, binary.BigEndian.AppendUint64(nil, seq))
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("apply bleve batch: %w", err)
	}
	return nil
}

func fields(c retrieval.Chunk) map[string]interface{} {
	return map[string]interface{}{
		"title": c.Title,
		"body":  c.Title + " \n " + strings.Join(c.Headings, " \n ") + " \n " + c.Text,
		"scope": c.Scope,
	}
}

// Applied returns the store sequence recorded by the last Apply with a
// sequence, or 0.
func (x *Index) Applied() (_ uint64, err error) {
	defer recoverCorrupt("read applied sequence", &err)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, retrieval.ErrClosed
	}
	v, err := x.idx.GetInternal(appliedKey)
	if err != nil {
		return 0, fmt.Errorf("read applied sequence: %w", err)
	}
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// Search returns the best chunks for q by BM25 over title, headings and
// text, within q.Scopes. An error wrapping ErrCorrupt says the index is
// damaged (bleve panicked reading it); other errors may mean that too.
func (x *Index) Search(ctx context.Context, q retrieval.Query) (_ []retrieval.Hit, err error) {
	defer recoverCorrupt("bleve search", &err)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, retrieval.ErrClosed
	}
	if len(q.Scopes) == 0 || strings.TrimSpace(q.Text+q.Expansion) == "" {
		return nil, nil
	}
	// One field holds title, headings and text, so a query term costs one
	// posting-list walk; the typed words also score on the title, where a
	// match says most. Expansions score on the body only, weighted down.
	// The terms go into one flat disjunction, each term once per field
	// (the compound filter repeats a word that is itself a part).
	//
	// A typed word the index does not know at all is most likely a typo
	// ("identitijdskaart"): it is searched as the index terms near it,
	// weighted by how likely each is the word meant (typo.go).
	adv, err := x.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("bleve search: %w", err)
	}
	reader, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("bleve search: %w", err)
	}
	defer reader.Close()
	var clauses []clause
	seen := map[string]bool{}
	add := func(toks analysis.TokenStream, field string, boost float64, typos bool, weights map[string]float64) error {
		for _, tok := range toks {
			word := string(tok.Term)
			if seen[field+"\x00"+word] {
				continue
			}
			seen[field+"\x00"+word] = true
			boost := boost
			if w, ok := weights[word]; ok {
				boost *= w
			}
			if typos && utf8.RuneCountInString(word) >= minFuzzyLen {
				df, err := docFreq(ctx, reader, word, field)
				if err != nil {
					return err
				}
				if df == 0 {
					c, err := typoClause(ctx, reader, word, field, boost*boostTypo)
					if err != nil {
						return err
					}
					if len(c) > 0 {
						clauses = append(clauses, c)
					}
					continue
				}
			}
			clauses = append(clauses, clause{{text: word, field: field, boost: boost}})
		}
		return nil
	}
	typed := x.analyzer.Analyze([]byte(q.Text))
	weights, err := focusWeights(ctx, reader, typed)
	if err != nil {
		return nil, err
	}
	if err := add(typed, "title", boostTitle, false, weights); err != nil {
		return nil, err
	}
	if err := add(typed, "body", boostBody, true, weights); err != nil {
		return nil, err
	}
	if err := add(x.analyzer.Analyze([]byte(q.Expansion)), "body", boostExpansion, false, nil); err != nil {
		return nil, err
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	all, err := x.coversAllScopes(q.Scopes)
	if err != nil {
		return nil, err
	}
	scopes := q.Scopes
	if all {
		scopes = nil // every chunk in the index may match
	}
	local := ""
	if q.LocalK > 0 && q.Local != "" && len(q.Scopes) > 1 && slices.Contains(q.Scopes, q.Local) {
		local = q.Local
	}
	top, err := scoreClauses(ctx, reader, clauses, scopes, q.Limit(), local, q.LocalK)
	if err != nil {
		return nil, fmt.Errorf("bleve search: %w", err)
	}
	hits := make([]retrieval.Hit, 0, len(top))
	for _, s := range top {
		hits = append(hits, retrieval.Hit{ChunkID: s.id, Score: s.score})
	}
	return hits, nil
}

// coversAllScopes reports whether scopes include every scope that has
// chunks in the index.
func (x *Index) coversAllScopes(scopes []string) (bool, error) {
	d, err := x.idx.FieldDict("scope")
	if err != nil {
		return false, fmt.Errorf("read scopes: %w", err)
	}
	defer d.Close()
	for {
		e, err := d.Next()
		if err != nil {
			return false, fmt.Errorf("read scopes: %w", err)
		}
		if e == nil {
			return true, nil
		}
		if !slices.Contains(scopes, e.Term) {
			return false, nil
		}
	}
}

// Count returns the number of chunks in the index.
func (x *Index) Count() (_ int, err error) {
	defer recoverCorrupt("count bleve documents", &err)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, retrieval.ErrClosed
	}
	n, err := x.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count bleve documents: %w", err)
	}
	return int(n), nil
}

// Close closes the index; later calls return retrieval.ErrClosed.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	err := x.idx.Close()
	x.idx = nil
	if err != nil {
		return fmt.Errorf("close bleve index: %w", err)
	}
	return nil
}

// IDs returns the ids of all chunks in the index, in order, for
// consistency checks against the store.
func (x *Index) IDs(ctx context.Context) (_ []string, err error) {
	defer recoverCorrupt("list bleve ids", &err)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, retrieval.ErrClosed
	}
	const page = 5000
	var ids []string
	var after []string
	for {
		req := blevesearch.NewSearchRequestOptions(query.NewMatchAllQuery(), page, 0, false)
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SetSearchAfter(after)
		}
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list bleve ids: %w", err)
		}
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		if len(res.Hits) < page {
			return ids, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}
