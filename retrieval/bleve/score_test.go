package bleve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	blevesearch "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/assistent-nl/assistent/retrieval"
)

// TestScoreClauses_MatchesBleve checks the term-at-a-time scorer against
// bleve's own BM25 disjunction on an index with several segments and
// deleted chunks: the same chunks, in the same order, with the same scores.
func TestScoreClauses_MatchesBleve(t *testing.T) {
	ctx := context.Background()
	x, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	words := strings.Fields("paspoort identiteitskaart verhuizing afval grofvuil container parkeren vergunning " +
		"bijstand uitkering trouwen geboorte aangifte belasting hond kapvergunning boom subsidie woning huur " +
		"rijbewijs verlopen kind ouder adres gemeente balie afspraak kosten")
	rng := rand.New(rand.NewPCG(1, 2))
	scope := retrieval.TenantScope("a")
	for batch := range 6 { // one segment per batch
		var cs []retrieval.Chunk
		for i := range 60 {
			var b strings.Builder
			for range 5 + rng.IntN(60) {
				b.WriteString(words[rng.IntN(len(words))] + " ")
			}
			cs = append(cs, retrieval.Chunk{
				ID: fmt.Sprintf("c%d-%d", batch, i), Scope: scope,
				Title: words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))],
				Text:  b.String(),
			})
		}
		if err := x.Index(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Delete(ctx, []string{"c0-1", "c2-5", "c5-59"}); err != nil {
		t.Fatal(err)
	}

	for _, qs := range [][]term{
		{{text: "paspor", field: "body", boost: 1}},
		{{text: "paspor", field: "title", boost: 1}, {text: "paspor", field: "body", boost: 1}, {text: "kost", field: "body", boost: 0.35}},
		{{text: "hond", field: "body", boost: 1}, {text: "belasting", field: "body", boost: 1}, {text: "boom", field: "title", boost: 1}, {text: "gemeen", field: "body", boost: 0.35}},
		{{text: "verhuiz", field: "body", boost: 1}, {text: "adres", field: "body", boost: 0.35}, {text: "bestaatniet", field: "body", boost: 1}},
	} {
		var clauses []clause
		var should []query.Query
		for _, tm := range qs {
			clauses = append(clauses, clause{tm})
			q := query.NewTermQuery(tm.text)
			q.SetField(tm.field)
			q.SetBoost(tm.boost)
			should = append(should, q)
		}
		req := blevesearch.NewSearchRequestOptions(query.NewDisjunctionQuery(should), 15, 0, false)
		want, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		adv, _ := x.idx.Advanced()
		r, err := adv.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := scoreClauses(ctx, r, clauses, nil, 15, "", 0)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want.Hits) || len(got) == 0 {
			t.Fatalf("%v: %d hits, bleve %d", qs, len(got), len(want.Hits))
		}
		for i, h := range want.Hits {
			if math.Abs(got[i].score-h.Score) > 1e-9*h.Score {
				t.Errorf("%v: hit %d scores %v, bleve %v", qs, i, got[i].score, h.Score)
			}
			if got[i].id != h.ID && got[i].score != h.Score {
				t.Errorf("%v: hit %d is %s, bleve %s", qs, i, got[i].id, h.ID)
			}
		}
	}
}
