package hybrid_test

import (
	"context"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// A misspelt word reaches the re-ranker respelt: the lexical index finds
// the driving-licence page for "rijbeweis", and the re-ranker must not put
// the page that only shares "verlengen" above it.
func TestSearcher_RespellsForRerank(t *testing.T) {
	chunks := []retrieval.Chunk{
		mk("rijbewijs", "0", "Rijbewijs", "Uw rijbewijs is tien jaar geldig. Daarna vraagt u een nieuw rijbewijs aan bij de gemeente."),
		mk("termijn", "0", "Beslistermijn verlengen", "De gemeente mag de termijn verlengen. Verlengen kan een keer, met zes weken."),
		mk("afval", "0", "Grofvuil", "Wij halen grofvuil op afspraak op."),
		mk("paspoort", "0", "Paspoort", "Een paspoort vraagt u aan bij de balie."),
	}
	s := newSearcher(t, chunks)
	ctx := context.Background()
	scopes := []string{retrieval.TenantScope("t")}
	for _, mode := range []hybrid.Mode{hybrid.ModeRerank} {
		res, err := s.Search(ctx, hybrid.Request{Text: "rijbeweis verlengen", Scopes: scopes, K: 3, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 || res[0].Chunk.DocID != "rijbewijs" {
			var got []string
			for _, r := range res {
				got = append(got, r.Chunk.DocID)
			}
			t.Errorf("%s: got %v, want rijbewijs first", mode, got)
		}
	}
}
