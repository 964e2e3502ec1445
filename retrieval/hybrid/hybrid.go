// Package hybrid combines a lexical and a vector index into one ranked list:
// query expansion, both searches, reciprocal rank fusion, hydration of the
// chunks, and a cheap local re-ranking.
package hybrid

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/assistent-nl/assistent/retrieval"
)

// Mode selects the stages of a search.
type Mode string

// The modes. ModeRerank is the full pipeline and the default.
const (
	ModeBM25   Mode = "bm25"
	ModeVector Mode = "vector"
	ModeHybrid Mode = "hybrid"
	ModeRerank Mode = "rerank"
)

// ParseMode returns the mode named s; "" is ModeRerank.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeRerank:
		return ModeRerank, nil
	case ModeBM25, ModeVector, ModeHybrid:
		return m, nil
	}
	return "", fmt.Errorf("unknown search mode %q (want bm25, vector, hybrid or rerank)", s)
}

// ChunkSource returns stored chunks by id; unknown ids are left out.
type ChunkSource interface {
	Chunks(ids []string) (map[string]retrieval.Chunk, error)
}

// Config tunes the searcher.
type Config struct {
	Candidates int // hits taken from each index before fusion
	// LocalCandidates are extra lexical hits from the asker's own scope
	// (Request.Local) beyond Candidates, kept for the re-ranker.
	LocalCandidates int
	RRFK            float64 // reciprocal rank fusion constant
	// VectorWeight scales the vector list's share in the fusion (the
	// lexical list's is 1): the built-in embedder is weaker than BM25.
	VectorWeight float64
	Rerank       RerankConfig
}

// DefaultConfig returns the tuned defaults: 40 candidates, k = 60, the
// vector list at a quarter of the lexical list's weight. The quarter is
// for the built-in embedder (embed.Lexical), which matches word pieces,
// not meaning: on the dev tune split it helps misspelt questions a little
// and pulls long and indirect ones to pages that merely share words
// (rerank nDCG@10 0.753 at weight 1, 0.781 at 0.5, 0.788 at 0.25, 0.791
// at 0; long questions 0.68 → 0.75). A semantic embedding model deserves
// a weight near 1.
func DefaultConfig() Config {
	return Config{Candidates: 40, LocalCandidates: 5, RRFK: 60, VectorWeight: 0.25, Rerank: DefaultRerankConfig()}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Candidates < 1:
		return errors.New("search.candidates: must be at least 1")
	case c.RRFK <= 0:
		return errors.New("search.rrf_k: must be positive")
	case c.VectorWeight < 0:
		return errors.New("search.vector_weight: must not be negative")
	}
	return c.Rerank.Validate()
}

// Searcher runs hybrid searches. Vector and Embedder may be nil, in which
// case vector and hybrid modes fall back to the lexical index alone.
type Searcher struct {
	cfg      Config
	lexical  retrieval.Index
	vector   retrieval.Index
	embedder retrieval.Embedder
	chunks   ChunkSource
	expander *retrieval.Expander
	terms    func(string) []string
	// onEmbedError hears of questions the embedder failed on.
	onEmbedError func(error)
}

// Deps are the parts a Searcher uses. Terms analyses text into index terms
// (the lexical index's analyzer) for re-ranking.
type Deps struct {
	Lexical  retrieval.Index
	Vector   retrieval.Index
	Embedder retrieval.Embedder
	Chunks   ChunkSource
	Expander *retrieval.Expander
	Terms    func(string) []string
	// OnEmbedError, when set, hears of every question the embedder failed
	// on; the search then goes on with the lexical list alone (in the
	// hybrid modes), so a model server that is down costs recall, not the
	// answer.
	OnEmbedError func(error)
}

// New returns a Searcher. It fails when cfg is invalid or a required part
// (Lexical, Chunks, Terms) is missing.
func New(cfg Config, d Deps) (*Searcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Lexical == nil || d.Chunks == nil || d.Terms == nil {
		return nil, errors.New("hybrid: Lexical, Chunks and Terms are required")
	}
	return &Searcher{cfg: cfg, lexical: d.Lexical, vector: d.Vector, embedder: d.Embedder,
		chunks: d.Chunks, expander: d.Expander, terms: d.Terms, onEmbedError: d.OnEmbedError}, nil
}

// Request is one search.
type Request struct {
	Text   string
	Scopes []string
	K      int // results wanted, default 10
	Mode   Mode
	// Local is the scope of the asker's own content (the tenant); the
	// re-ranker prefers it over national and other collections.
	Local string
}

// Result is a retrieved chunk with its final score (comparable only within
// one search) and where it came from.
type Result struct {
	Chunk       retrieval.Chunk
	Score       float64
	LexicalRank int // 1-based rank in the lexical list, 0 when absent
	VectorRank  int // 1-based rank in the vector list, 0 when absent
	// Features are the re-ranker's measures of the chunk (ModeRerank
	// only); Score is RerankConfig.Score of them.
	Features RerankFeatures
}

// Search runs req and returns at most req.K chunks, best first.
func (s *Searcher) Search(ctx context.Context, req Request) ([]Result, error) {
	k := req.K
	if k <= 0 {
		k = 10
	}
	mode := req.Mode
	if mode == "" {
		mode = ModeRerank
	}
	useVector := s.vector != nil && s.embedder != nil && mode != ModeBM25
	useLexical := mode != ModeVector || !useVector
	n := s.cfg.Candidates
	if n < k {
		n = k
	}
	text := req.Text
	if sv := retrieval.SeparableVerbs(text); len(sv) > 0 {
		// "Hoe vraag ik een paspoort aan?" is searched as "… aanvragen"
		// too: the pages write the verb whole.
		text += " " + strings.Join(sv, " ")
	}
	q := retrieval.Query{Text: text, Scopes: req.Scopes, K: n, Local: req.Local, LocalK: s.cfg.LocalCandidates}
	if s.expander != nil {
		q.Expansion = s.expander.Expand(text)
	}

	var lex, vec []retrieval.Hit
	var err error
	if useLexical {
		if lex, err = s.lexical.Search(ctx, q); err != nil {
			return nil, fmt.Errorf("lexical search: %w", err)
		}
	}
	// The stages after the lexical search match words as typed: they get
	// the question with its misspelt words respelt (spell.go).
	rtext, rexp := text, q.Expansion
	if sp, ok := s.lexical.(speller); ok && len(lex) > 0 && (useVector || mode == ModeRerank) {
		fixed, changed, err := s.respell(ctx, sp, text, lex)
		if err != nil {
			return nil, err
		}
		if changed {
			rtext = fixed
			if s.expander != nil {
				rexp = s.expander.Expand(fixed)
			}
		}
	}
	if useVector {
		vtext := rtext
		if rexp != "" {
			vtext += " " + rexp
		}
		vs, err := s.embedder.Embed(ctx, []string{vtext})
		switch {
		case err == nil && len(vs) == 1:
			q.Vector = vs[0]
			if vec, err = s.vector.Search(ctx, q); err != nil {
				return nil, fmt.Errorf("vector search: %w", err)
			}
		case !useLexical || ctx.Err() != nil:
			return nil, fmt.Errorf("embed query: %w", err)
		default:
			if err == nil {
				err = fmt.Errorf("embedder returned %d vectors for 1 text", len(vs))
			}
			if s.onEmbedError != nil {
				s.onEmbedError(err)
			}
		}
	}

	fused := fuse(s.cfg.RRFK, s.cfg.VectorWeight, lex, vec, mode)
	if mode != ModeRerank && len(fused) > k {
		fused = fused[:k]
	}
	pool := s.cfg.Rerank.Pool
	if mode == ModeRerank && len(fused) > pool {
		// The asker's own chunks that only the local pass found stay in
		// the pool: the re-ranker, with its local bonus, decides.
		keep := fused[:pool:pool]
		for _, f := range fused[pool:] {
			if f.lexRank > n && len(keep) < pool+s.cfg.LocalCandidates {
				keep = append(keep, f)
			}
		}
		fused = keep
	}
	ids := make([]string, len(fused))
	for i, f := range fused {
		ids[i] = f.ChunkID
	}
	stored, err := s.chunks.Chunks(ids)
	if err != nil {
		return nil, fmt.Errorf("load chunks: %w", err)
	}
	results := make([]Result, 0, len(fused))
	for _, f := range fused {
		c, ok := stored[f.ChunkID]
		if !ok {
			continue // removed since the index saw it
		}
		results = append(results, Result{Chunk: c, Score: f.score, LexicalRank: f.lexRank, VectorRank: f.vecRank})
	}
	if mode == ModeRerank {
		results = rerank(s.cfg.Rerank, s.terms, rtext, rexp, req.Local, results, k)
	}
	if len(results) > k {
		results = results[:k]
	}
	return results, nil
}

type fusedHit struct {
	ChunkID          string
	score            float64
	lexRank, vecRank int
}

// fuse merges the ranked lists by reciprocal rank fusion: the score of a
// chunk is the sum over lists of weight/(k + rank). With one list in play the
// order of that list is kept.
func fuse(k, vecWeight float64, lex, vec []retrieval.Hit, mode Mode) []fusedHit {
	byID := map[string]*fusedHit{}
	var order []*fusedHit
	add := func(hits []retrieval.Hit, lexical bool, weight float64) {
		for i, h := range hits {
			f := byID[h.ChunkID]
			if f == nil {
				f = &fusedHit{ChunkID: h.ChunkID}
				byID[h.ChunkID] = f
				order = append(order, f)
			}
			f.score += weight / (k + float64(i+1))
			if lexical {
				f.lexRank = i + 1
			} else {
				f.vecRank = i + 1
			}
		}
	}
	add(lex, true, 1)
	if mode != ModeBM25 {
		add(vec, false, vecWeight)
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].score != order[j].score {
			return order[i].score > order[j].score
		}
		return order[i].ChunkID < order[j].ChunkID
	})
	out := make([]fusedHit, len(order))
	for i, f := range order {
		out[i] = *f
	}
	return out
}

// GroupByDoc keeps the best result of each document, in order.
func GroupByDoc(results []Result) []Result {
	seen := map[string]bool{}
	out := results[:0:0]
	for _, r := range results {
		if seen[r.Chunk.DocKey] {
			continue
		}
		seen[r.Chunk.DocKey] = true
		out = append(out, r)
	}
	return out
}

// Fuse merges a lexical and a vector list of one search by reciprocal
// rank fusion, as the Searcher does: a chunk scores the sum over the lists
// of weight/(k + rank), the lexical list at weight 1 and the vector list at
// vectorWeight; ties go by chunk ID. Backends that search both lists
// themselves (retrieval/elastic, retrieval/qdrant) fuse with it, so every
// backend ranks alike. The scores of the result are the fused scores.
func Fuse(k, vectorWeight float64, lexical, vector []retrieval.Hit) []retrieval.Hit {
	fused := fuse(k, vectorWeight, lexical, vector, ModeHybrid)
	out := make([]retrieval.Hit, len(fused))
	for i, f := range fused {
		out[i] = retrieval.Hit{ChunkID: f.ChunkID, Score: f.score}
	}
	return out
}
