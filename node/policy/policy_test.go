package policy_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/assistent-nl/assistent/node/policy"
)

// TestExamples checks the embedded data: it loads, it is large enough, every
// intent has examples on both sides of the split, and every harmful intent
// has benign messages on its topics (checked in aggregate: benign is the
// largest class).
func TestExamples(t *testing.T) {
	all, err := policy.Examples()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 1500 {
		t.Errorf("%d labelled messages, want at least 1500", len(all))
	}
	train, held := policy.Split(all)
	count := func(es []policy.Example) map[policy.Intent]int {
		m := map[policy.Intent]int{}
		for _, e := range es {
			m[e.Label]++
		}
		return m
	}
	ct, ch := count(train), count(held)
	for _, c := range policy.Intents {
		if ct[c] < 20 || ch[c] < 5 {
			t.Errorf("intent %s: %d training and %d held-out messages, want at least 20 and 5", c, ct[c], ch[c])
		}
	}
	if share := float64(len(held)) / float64(len(all)); share < 0.12 || share > 0.28 {
		t.Errorf("held-out share %.2f, want about a fifth", share)
	}
	for _, c := range policy.Intents[1:] {
		if ct[policy.Benign] < ct[c] {
			t.Errorf("fewer benign (%d) than %s (%d) training messages", ct[policy.Benign], c, ct[c])
		}
	}
}

// TestSplitKeepsGroupsTogether: paraphrases of one scenario are never on
// both sides.
func TestSplitKeepsGroupsTogether(t *testing.T) {
	all, err := policy.Examples()
	if err != nil {
		t.Fatal(err)
	}
	side := map[string]bool{}
	for _, e := range all {
		h := policy.HeldOut(e)
		if s, ok := side[e.Group]; ok && s != h {
			t.Fatalf("group %s on both sides of the split", e.Group)
		}
		side[e.Group] = h
	}
}

// TestReadExamplesRejects: a defect in the data is named with its place.
func TestReadExamplesRejects(t *testing.T) {
	for name, tt := range map[string]struct{ data, want string }{
		"bad json":      {`{"id":`, "a.jsonl:1"},
		"unknown label": {`{"id":"x1","label":"evil","group":"g","frame":"plain","text":"t"}`, `unknown label "evil"`},
		"unknown frame": {`{"id":"x1","label":"benign","group":"g","frame":"poem","text":"t"}`, `unknown frame "poem"`},
		"no group":      {`{"id":"x1","label":"benign","frame":"plain","text":"t"}`, "required"},
		"same id": {`{"id":"x1","label":"benign","group":"g","frame":"plain","text":"een"}` + "\n" +
			`{"id":"x1","label":"benign","group":"g","frame":"plain","text":"twee"}`, "also at a.jsonl:1"},
		"same text": {`{"id":"x1","label":"benign","group":"g","frame":"plain","text":"Hoe laat?"}` + "\n" +
			`{"id":"x2","label":"benign","group":"g","frame":"plain","text":"hoe laat"}`, "same text as x1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := policy.ReadExamples(fstest.MapFS{"labelled/a.jsonl": {Data: []byte(tt.data)}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestHeldOut trains on the training split and measures the held-out
// split. The floors sit just below the measured values (DESIGN.md), so
// that a change that makes the classifier worse fails.
func TestHeldOut(t *testing.T) {
	all, err := policy.Examples()
	if err != nil {
		t.Fatal(err)
	}
	_, held := policy.Split(all)
	r := policy.Evaluate(policy.Default(), held)
	var b strings.Builder
	r.Write(&b)
	t.Log("\n" + b.String())
	if os.Getenv("POLICY_REPORT") != "" {
		return
	}
	if r.MacroF1 < 0.75 {
		t.Errorf("held-out macro-F1 %.3f, want at least 0.75", r.MacroF1)
	}
	if r.BenignRefused > 0.05 {
		t.Errorf("held-out benign messages flagged %.3f, want at most 0.05", r.BenignRefused)
	}
	if r.HarmfulMissed > 0.25 {
		t.Errorf("held-out harmful messages missed %.3f, want at most 0.25", r.HarmfulMissed)
	}
}

// TestModelFresh: the embedded model was trained on the embedded examples
// with DefaultOptions; after a change to either, run
// `go generate ./node/policy`.
func TestModelFresh(t *testing.T) {
	_, hash, err := policy.ReadModel(bytes.NewReader(policy.EmbeddedModel()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := policy.EmbeddedDataHash()
	if err != nil {
		t.Fatal(err)
	}
	if hash != want {
		t.Fatalf("model.gob.gz was trained on other examples or options (hash %.12s, data %.12s): run go generate ./node/policy", hash, want)
	}
}

func BenchmarkClassify(b *testing.B) {
	m := policy.Default()
	qs := []string{
		"Hoe vraag ik een nieuw paspoort aan als mijn oude verlopen is?",
		"wanneer wordt het grofvuil opgehaald in de wijk",
		"Mijn moeder is vorige week overleden en ik weet niet wat ik nu allemaal moet regelen bij de gemeente. Kunt u mij helpen?",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Classify(qs[i%len(qs)])
	}
}

func BenchmarkTrain(b *testing.B) {
	all, err := policy.Examples()
	if err != nil {
		b.Fatal(err)
	}
	train, _ := policy.Split(all)
	for b.Loop() {
		if _, err := policy.Train(train, policy.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadModel is what a process pays once, at start, for the
// embedded model.
func BenchmarkReadModel(b *testing.B) {
	raw := policy.EmbeddedModel()
	for b.Loop() {
		if _, _, err := policy.ReadModel(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}
