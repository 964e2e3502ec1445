// Package retrievaltest is the conformance suite every retrieval.Index
// backend runs, lexical and vector alike.
//
// The suite builds its own chunks of Dutch municipal text, with Chunk.Vector
// and Query.Vector set by the built-in lexical embedder, so a backend may use
// the text, the vectors or both. It never asserts exact scores, only what
// the retrieval.Index contract promises: replacement by ID, scope filtering,
// limits, best-first order, deletion, counting, concurrency and closing.
package retrievaltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/embed"
)

// Dim is the dimension of the vectors the suite sets.
const Dim = 256

// Scopes used by the suite.
const (
	ScopeA        = "t:a"
	ScopeB        = "t:b"
	ScopeNational = "n:rijksoverheid"
)

// Run runs the suite. open must return a fresh, empty index for each call;
// it should close the index in tb.Cleanup (the suite closes some itself, so
// Close must tolerate a second call).
func Run(t *testing.T, open func(tb testing.TB) retrieval.Index) {
	t.Helper()
	s := &suite{emb: embed.NewLexical(Dim), open: open}
	t.Run("FindsTopic", s.findsTopic)
	t.Run("Scopes", s.scopes)
	t.Run("Limit", s.limit)
	t.Run("Replace", s.replace)
	t.Run("Delete", s.delete)
	t.Run("Count", s.count)
	t.Run("BestFirstUnique", s.bestFirstUnique)
	t.Run("Concurrent", s.concurrent)
	t.Run("Closed", s.closed)
}

type suite struct {
	emb  *embed.Lexical
	open func(tb testing.TB) retrieval.Index
}

// doc is one chunk of test content.
type doc struct {
	id, title, text string
}

// corpus returns a small gemeente website, one chunk per topic.
func corpus() []doc {
	return []doc{
		{"paspoort", "Paspoort aanvragen", "Een paspoort vraagt u aan bij de balie in het stadhuis. Maak eerst een afspraak en neem een goedgekeurde pasfoto mee. Uw nieuwe paspoort haalt u na vijf werkdagen op."},
		{"verhuizing", "Verhuizing doorgeven", "Gaat u verhuizen binnen of naar de gemeente? Geef uw verhuizing uiterlijk vijf dagen na de verhuisdatum door via het online formulier."},
		{"grofvuil", "Grofvuil ophalen", "Grofvuil zoals meubels, matrassen en tapijt halen wij op afspraak bij u op. Zet het grofvuil op de ophaaldag voor 7.30 uur aan de straat."},
		{"parkeren", "Parkeervergunning voor bewoners", "Met een parkeervergunning voor bewoners parkeert u in uw eigen wijk. U vraagt de parkeervergunning online aan met het kenteken van uw auto."},
		{"bijstand", "Bijstandsuitkering", "Heeft u niet genoeg inkomen om van te leven? Dan kunt u bijstand aanvragen bij het sociaal loket. Wij kijken naar uw inkomen en vermogen."},
		{"afval", "Afvalkalender", "Op de afvalkalender ziet u op welke dag de groene, grijze en blauwe container worden geleegd in uw straat."},
		{"hond", "Hondenbelasting", "Heeft u een hond? Dan betaalt u hondenbelasting. Meld uw hond binnen twee weken aan bij de belastingdienst van de gemeente."},
		{"trouwen", "Trouwen en partnerschap", "Wilt u trouwen of een geregistreerd partnerschap aangaan? Reserveer de trouwzaal en kies een trouwambtenaar, minstens drie maanden vooraf."},
	}
}

// topic is a query and the chunk that must come first.
type topic struct{ query, want string }

// topics returns a query for each chunk of corpus.
func topics() []topic {
	return []topic{
		{"paspoort aanvragen", "paspoort"},
		{"verhuizing doorgeven", "verhuizing"},
		{"grofvuil ophalen matrassen", "grofvuil"},
		{"parkeervergunning bewoners", "parkeren"},
		{"bijstand inkomen", "bijstand"},
		{"afvalkalender container", "afval"},
		{"hondenbelasting hond", "hond"},
		{"trouwen trouwzaal", "trouwen"},
	}
}

// chunk returns a chunk of scope with its lexical embedding.
func (s *suite) chunk(tb testing.TB, scope string, d doc) retrieval.Chunk {
	tb.Helper()
	docKey := retrieval.DocKey(scope, d.id)
	return retrieval.Chunk{
		ID: d.id, DocKey: docKey, DocID: d.id, Scope: scope,
		URL: "https://www.example.nl/" + d.id, Title: d.title, Text: d.text,
		Vector: s.vector(tb, d.title+"\n"+d.text),
	}
}

func (s *suite) vector(tb testing.TB, text string) []float32 {
	tb.Helper()
	vs, err := s.emb.Embed(context.Background(), []string{text})
	if err != nil {
		tb.Fatal(err)
	}
	return vs[0]
}

// query returns a query for text with its lexical embedding.
func (s *suite) query(tb testing.TB, text string, k int, scopes ...string) retrieval.Query {
	tb.Helper()
	return retrieval.Query{Text: text, Vector: s.vector(tb, text), Scopes: scopes, K: k}
}

// corpusIn returns the corpus as chunks of scope, with prefix before each id.
func (s *suite) corpusIn(tb testing.TB, scope, prefix string) []retrieval.Chunk {
	tb.Helper()
	chunks := make([]retrieval.Chunk, len(corpus()))
	for i, d := range corpus() {
		d.id = prefix + d.id
		chunks[i] = s.chunk(tb, scope, d)
	}
	return chunks
}

func (s *suite) fill(tb testing.TB, chunks []retrieval.Chunk) retrieval.Index {
	tb.Helper()
	x := s.open(tb)
	if err := x.Index(context.Background(), chunks); err != nil {
		tb.Fatalf("Index: %v", err)
	}
	return x
}

func search(tb testing.TB, x retrieval.Index, q retrieval.Query) []retrieval.Hit {
	tb.Helper()
	hits, err := x.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("Search(%q, %v): %v", q.Text, q.Scopes, err)
	}
	checkHits(tb, q, hits)
	return hits
}

// checkHits checks what every result must satisfy: at most q.Limit() hits,
// scores non-increasing, chunk IDs unique.
func checkHits(tb testing.TB, q retrieval.Query, hits []retrieval.Hit) {
	tb.Helper()
	if len(hits) > q.Limit() {
		tb.Errorf("Search(%q): %d hits, limit %d", q.Text, len(hits), q.Limit())
	}
	seen := map[string]bool{}
	for i, h := range hits {
		if seen[h.ChunkID] {
			tb.Errorf("Search(%q): chunk %s returned twice: %v", q.Text, h.ChunkID, hits)
		}
		seen[h.ChunkID] = true
		if i > 0 && h.Score > hits[i-1].Score {
			tb.Errorf("Search(%q): hit %d scores %v above hit %d (%v): %v", q.Text, i, h.Score, i-1, hits[i-1].Score, hits)
		}
	}
}

func ids(hits []retrieval.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ChunkID
	}
	return out
}

func count(tb testing.TB, x retrieval.Index) int {
	tb.Helper()
	n, err := x.Count()
	if err != nil {
		tb.Fatalf("Count: %v", err)
	}
	return n
}

func (s *suite) findsTopic(t *testing.T) {
	x := s.fill(t, s.corpusIn(t, ScopeA, ""))
	for _, tt := range topics() {
		hits := search(t, x, s.query(t, tt.query, 5, ScopeA))
		if len(hits) == 0 || hits[0].ChunkID != tt.want {
			t.Errorf("Search(%q) = %v, want %s first", tt.query, ids(hits), tt.want)
		}
	}
}

func (s *suite) scopes(t *testing.T) {
	chunks := append(s.corpusIn(t, ScopeA, "a-"), s.corpusIn(t, ScopeB, "b-")...)
	chunks = append(chunks, s.chunk(t, ScopeNational, doc{"n-paspoort", "Paspoort kwijt of gestolen",
		"Is uw paspoort kwijt of gestolen? Doe aangifte en vraag een nieuw paspoort aan."}))
	x := s.fill(t, chunks)
	scopeOf := map[string]string{}
	for _, c := range chunks {
		scopeOf[c.ID] = c.Scope
	}

	tests := []struct {
		name   string
		scopes []string
		want   []string // chunk ids that must be found
	}{
		{"only b", []string{ScopeB}, []string{"b-paspoort"}},
		{"only a", []string{ScopeA}, []string{"a-paspoort"}},
		{"two scopes", []string{ScopeA, ScopeB}, []string{"a-paspoort", "b-paspoort"}},
		{"tenant and national", []string{ScopeB, ScopeNational}, []string{"b-paspoort", "n-paspoort"}},
		{"unknown scope", []string{"t:onbekend"}, nil},
		{"no scopes", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := search(t, x, s.query(t, "paspoort aanvragen", 20, tt.scopes...))
			for _, h := range hits {
				if !slices.Contains(tt.scopes, scopeOf[h.ChunkID]) {
					t.Errorf("hit %s of scope %q, searched %v", h.ChunkID, scopeOf[h.ChunkID], tt.scopes)
				}
			}
			got := ids(hits)
			for _, id := range tt.want {
				if !slices.Contains(got, id) {
					t.Errorf("scopes %v: %s not found in %v", tt.scopes, id, got)
				}
			}
			if len(tt.want) == 0 && len(hits) > 0 {
				t.Errorf("scopes %v: got %v, want nothing", tt.scopes, got)
			}
			if len(tt.want) > 0 && (len(hits) == 0 || !slices.Contains(tt.want, hits[0].ChunkID)) {
				t.Errorf("scopes %v: got %v, want one of %v first", tt.scopes, got, tt.want)
			}
		})
	}
}

// newsChunks returns n chunks that all share the words of the query
// "nieuws gemeente".
func (s *suite) newsChunks(tb testing.TB, n int, scope, prefix string) []retrieval.Chunk {
	tb.Helper()
	streets := []string{"Dorpsstraat", "Kerkweg", "Molenlaan", "Schoolstraat", "Stationsweg", "Beukenlaan"}
	chunks := make([]retrieval.Chunk, n)
	for i := range chunks {
		chunks[i] = s.chunk(tb, scope, doc{
			id:    fmt.Sprintf("%snieuws-%02d", prefix, i),
			title: "Nieuws van de gemeente",
			text:  fmt.Sprintf("Nieuws van de gemeente: werkzaamheden aan de %s, week %d.", streets[i%len(streets)], i+1),
		})
	}
	return chunks
}

func (s *suite) limit(t *testing.T) {
	x := s.fill(t, s.newsChunks(t, 15, ScopeA, ""))
	for _, k := range []int{1, 3, 12} {
		hits := search(t, x, s.query(t, "nieuws gemeente", k, ScopeA))
		if len(hits) != k {
			t.Errorf("K=%d: %d hits: %v", k, len(hits), ids(hits))
		}
	}
	// K <= 0 means the default of 10.
	hits := search(t, x, s.query(t, "nieuws gemeente", 0, ScopeA))
	if len(hits) != 10 {
		t.Errorf("K=0: %d hits, want the default 10", len(hits))
	}
}

func (s *suite) replace(t *testing.T) {
	ctx := context.Background()
	old := doc{"x", "Zwembad", "Een zwembadabonnement voor het sportfondsenbad koopt u aan de kassa."}
	control := doc{"control", "Zwembad tarieven", "Het zwembadabonnement kost per jaar minder dan losse kaartjes in het sportfondsenbad."}
	chunks := append(s.corpusIn(t, ScopeA, ""), s.chunk(t, ScopeA, old), s.chunk(t, ScopeA, control))
	x := s.fill(t, chunks)
	before := count(t, x)
	if hits := search(t, x, s.query(t, "zwembadabonnement kassa", 5, ScopeA)); len(hits) == 0 || hits[0].ChunkID != "x" {
		t.Fatalf("before replacing: %v, want x first", ids(hits))
	}

	replaced := s.chunk(t, ScopeA, doc{"x", "Kapvergunning", "Voor het kappen van een boom in uw tuin heeft u soms een kapvergunning nodig."})
	for range 2 { // replacing twice is no different
		if err := x.Index(ctx, []retrieval.Chunk{replaced}); err != nil {
			t.Fatalf("Index: %v", err)
		}
	}
	if n := count(t, x); n != before {
		t.Errorf("Count after replacing = %d, want %d", n, before)
	}
	hits := search(t, x, s.query(t, "zwembadabonnement kassa", 5, ScopeA))
	if len(hits) == 0 || hits[0].ChunkID != "control" {
		t.Errorf("old text: %v, want control first and x no longer matching", ids(hits))
	}
	hits = search(t, x, s.query(t, "kapvergunning boom kappen", 20, ScopeA))
	if len(hits) == 0 || hits[0].ChunkID != "x" {
		t.Errorf("new text: %v, want x first", ids(hits))
	}

	// The same ID in another scope moves the chunk.
	moved := replaced
	moved.Scope = ScopeB
	if err := x.Index(ctx, []retrieval.Chunk{moved}); err != nil {
		t.Fatalf("Index: %v", err)
	}
	if hits := search(t, x, s.query(t, "kapvergunning boom kappen", 20, ScopeA)); slices.Contains(ids(hits), "x") {
		t.Errorf("moved chunk still found in its old scope: %v", ids(hits))
	}
	if hits := search(t, x, s.query(t, "kapvergunning boom kappen", 20, ScopeB)); len(hits) == 0 || hits[0].ChunkID != "x" {
		t.Errorf("moved chunk not found in its new scope: %v", ids(hits))
	}
	if n := count(t, x); n != before {
		t.Errorf("Count after moving = %d, want %d", n, before)
	}
}

func (s *suite) delete(t *testing.T) {
	ctx := context.Background()
	x := s.fill(t, s.corpusIn(t, ScopeA, ""))
	before := count(t, x)
	if err := x.Delete(ctx, []string{"paspoort", "bestaat-niet"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := count(t, x); n != before-1 {
		t.Errorf("Count after Delete = %d, want %d", n, before-1)
	}
	for _, tt := range topics() {
		hits := search(t, x, s.query(t, tt.query, 20, ScopeA))
		if slices.Contains(ids(hits), "paspoort") {
			t.Errorf("deleted chunk found for %q: %v", tt.query, ids(hits))
		}
		if tt.want != "paspoort" && (len(hits) == 0 || hits[0].ChunkID != tt.want) {
			t.Errorf("after Delete, %q: %v, want %s first", tt.query, ids(hits), tt.want)
		}
	}
	for _, del := range [][]string{{"paspoort"}, {"bestaat-niet"}, nil} {
		if err := x.Delete(ctx, del); err != nil {
			t.Errorf("Delete(%v) again: %v", del, err)
		}
	}
	if n := count(t, x); n != before-1 {
		t.Errorf("Count = %d, want %d", n, before-1)
	}
	// A deleted ID can come back.
	if err := x.Index(ctx, s.corpusIn(t, ScopeA, "")[:1]); err != nil {
		t.Fatalf("Index: %v", err)
	}
	if hits := search(t, x, s.query(t, "paspoort aanvragen", 5, ScopeA)); len(hits) == 0 || hits[0].ChunkID != "paspoort" {
		t.Errorf("re-added chunk: %v, want paspoort first", ids(hits))
	}
}

func (s *suite) count(t *testing.T) {
	ctx := context.Background()
	x := s.open(t)
	if n := count(t, x); n != 0 {
		t.Fatalf("new index has Count %d", n)
	}
	if hits := search(t, x, s.query(t, "paspoort", 10, ScopeA)); len(hits) != 0 {
		t.Fatalf("empty index found %v", ids(hits))
	}
	if err := x.Index(ctx, nil); err != nil {
		t.Fatalf("Index(nil): %v", err)
	}
	a, b := s.corpusIn(t, ScopeA, "a-"), s.corpusIn(t, ScopeB, "b-")
	for i, batch := range [][]retrieval.Chunk{a, b, a[:3]} {
		if err := x.Index(ctx, batch); err != nil {
			t.Fatalf("Index batch %d: %v", i, err)
		}
	}
	if n, want := count(t, x), len(a)+len(b); n != want {
		t.Fatalf("Count = %d, want %d (both scopes, re-indexed chunks once)", n, want)
	}
}

func (s *suite) bestFirstUnique(t *testing.T) {
	chunks := append(s.corpusIn(t, ScopeA, ""), s.newsChunks(t, 12, ScopeA, "")...)
	x := s.fill(t, chunks)
	queries := []string{"gemeente", "nieuws gemeente straat", "aanvragen online", "u uw de het", "paspoort"}
	for _, tt := range topics() {
		queries = append(queries, tt.query)
	}
	for _, q := range queries {
		for _, k := range []int{0, 3, 50} {
			search(t, x, s.query(t, q, k, ScopeA)) // checkHits does the work
		}
	}
}

func (s *suite) concurrent(t *testing.T) {
	ctx := context.Background()
	x := s.fill(t, s.corpusIn(t, ScopeA, ""))
	const writers, readers, rounds = 3, 3, 20
	queries := make([]retrieval.Query, len(topics()))
	for i, tt := range topics() {
		queries[i] = s.query(t, tt.query, 5, ScopeA, ScopeB)
	}
	news := make([][]retrieval.Chunk, writers)
	for w := range news {
		news[w] = s.newsChunks(t, rounds, ScopeB, fmt.Sprintf("w%d-", w))
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Go(func() {
			for i, c := range news[w] {
				if err := x.Index(ctx, []retrieval.Chunk{c}); err != nil {
					errs <- fmt.Errorf("writer %d: Index: %w", w, err)
					return
				}
				if i%2 == 1 { // delete every other chunk again
					if err := x.Delete(ctx, []string{c.ID}); err != nil {
						errs <- fmt.Errorf("writer %d: Delete: %w", w, err)
						return
					}
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range rounds {
				q := queries[(r+i)%len(queries)]
				hits, err := x.Search(ctx, q)
				if err != nil {
					errs <- fmt.Errorf("reader %d: Search: %w", r, err)
					return
				}
				checkHits(t, q, hits)
				if _, err := x.Count(); err != nil {
					errs <- fmt.Errorf("reader %d: Count: %w", r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, want := count(t, x), len(corpus())+writers*rounds/2; n != want {
		t.Errorf("Count after concurrent writes = %d, want %d", n, want)
	}
	for _, tt := range topics() {
		if hits := search(t, x, s.query(t, tt.query, 5, ScopeA)); len(hits) == 0 || hits[0].ChunkID != tt.want {
			t.Errorf("after concurrent writes, %q: %v, want %s first", tt.query, ids(hits), tt.want)
		}
	}
}

func (s *suite) closed(t *testing.T) {
	ctx := context.Background()
	x := s.fill(t, s.corpusIn(t, ScopeA, ""))
	if err := x.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := x.Search(ctx, s.query(t, "paspoort", 5, ScopeA)); !errors.Is(err, retrieval.ErrClosed) {
		t.Errorf("Search after Close: %v, want ErrClosed", err)
	}
	if err := x.Index(ctx, s.corpusIn(t, ScopeA, "")[:1]); err == nil {
		t.Error("Index after Close: no error")
	}
	if err := x.Delete(ctx, []string{"paspoort"}); err == nil {
		t.Error("Delete after Close: no error")
	}
	if _, err := x.Count(); err == nil {
		t.Error("Count after Close: no error")
	}
}
