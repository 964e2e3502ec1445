package node

import (
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
)

// The own and the peer's passages interleave by rank, the peer's first at
// a tie, each peer passage marked with the peer's name and every score on
// the fused scale.
func TestFusePassages(t *testing.T) {
	own := []answer.Passage{{DocID: "o1", Score: 9}, {DocID: "o2", Score: 5}, {DocID: "o3", Score: 1}}
	peer := []answer.Passage{{DocID: "p1", Score: 0.3}, {DocID: "p2", Score: 0.2}}
	got := fusePassages(own, peer, "Gemeente Beta", 4)
	var ids []string
	for _, p := range got {
		ids = append(ids, p.DocID)
		if (p.DocID[0] == 'p') != (p.From == "Gemeente Beta") {
			t.Errorf("%s marked %q", p.DocID, p.From)
		}
	}
	if want := "p1 o1 p2 o2"; len(ids) != 4 || ids[0]+" "+ids[1]+" "+ids[2]+" "+ids[3] != want {
		t.Errorf("order %v, want %s", ids, want)
	}
	if got[0].Score != 1.0/61 || got[2].Score != 1.0/62 {
		t.Errorf("scores %v %v, want 1/61 and 1/62", got[0].Score, got[2].Score)
	}
	if own[0].From != "" || peer[0].From != "" {
		t.Error("the inputs were changed")
	}
}
