package bleve

import (
	"context"
	"fmt"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func TestFocusWeights(t *testing.T) {
	ctx := context.Background()
	x, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	s := retrieval.TenantScope("a")
	// "vader" is in every chunk, "gisteren" in half, the rest in one.
	var cs []retrieval.Chunk
	for i := range 10 {
		text := "vader"
		if i%2 == 0 {
			text += " gisteren"
		}
		cs = append(cs, retrieval.Chunk{ID: fmt.Sprint(i), Scope: s, Title: "x", Text: text})
	}
	cs = append(cs, retrieval.Chunk{ID: "z", Scope: s, Title: "x", Text: "aangifte overlijden uitvaart begrafenis crematie testament notaris erfenis"})
	if err := x.Index(ctx, cs); err != nil {
		t.Fatal(err)
	}
	adv, _ := x.idx.Advanced()
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	weigh := func(q string) map[string]float64 {
		t.Helper()
		w, err := focusWeights(ctx, r, x.analyzer.Analyze([]byte(q)))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := weigh("vader gisteren aangifte"); w != nil {
		t.Errorf("short question weighted: %v", w)
	}
	// Ten distinct terms: the eight rarest keep weight 1; "vader" and
	// "gisteren", the commonest, get longRest.
	w := weigh("vader gisteren aangifte overlijden uitvaart begrafenis crematie testament notaris erfenis")
	if len(w) != 10 {
		t.Fatalf("weights %v, want 10 terms", w)
	}
	common := map[string]bool{}
	for _, tok := range x.analyzer.Analyze([]byte("vader gisteren")) {
		common[string(tok.Term)] = true
	}
	for term, got := range w {
		want := 1.0
		if common[term] {
			want = longRest
		}
		if got != want {
			t.Errorf("weight of %q = %v, want %v", term, got, want)
		}
	}
}
