package node_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/answer/extractive"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/retrieval/chunk"
)

// TestStitching counts stitching defects in the answers to a question
// set: answers with a sentence that leans on a sentence before it
// (extractive.Leans) without following that sentence as it stands on the
// cited page, and answers that print a raw table row (" | "). It is a
// measurement, not a check: it runs only when ASSISTENT_STITCH_DATA (a data
// directory with the corpora ingested), ASSISTENT_STITCH_TENANT,
// ASSISTENT_STITCH_SET (a queries.jsonl) and ASSISTENT_STITCH_CORPUS (the
// corpus.jsonl files ingested, comma-separated) are set. With -v it prints
// every defect.
func TestStitching(t *testing.T) {
	data, tenant, set, corpus := os.Getenv("ASSISTENT_STITCH_DATA"), os.Getenv("ASSISTENT_STITCH_TENANT"), os.Getenv("ASSISTENT_STITCH_SET"), os.Getenv("ASSISTENT_STITCH_CORPUS")
	if data == "" || tenant == "" || set == "" || corpus == "" {
		t.Skip("set ASSISTENT_STITCH_DATA, _TENANT, _SET and _CORPUS to measure")
	}
	f, err := os.Open(set)
	if err != nil {
		t.Fatal(err)
	}
	queries, err := quality.ReadQueries(f, set)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][]string{} // page id → its sentences, normalised, in reading order
	for _, path := range strings.Split(corpus, ",") {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		err = ingest.ReadJSONL(f, path, func(p ingest.Page) error {
			w, err := ingest.Prepare("x", p, chunk.DefaultOptions())
			if err != nil {
				return nil // a page without text is never cited
			}
			for _, c := range w.Chunks {
				pages[p.ID] = append(pages[p.ID], sentencesOf(c.Text)...)
			}
			return nil
		}, nil)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = data
	n, err := node.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var answered, leaning, rows, defective, words int
	for _, q := range queries {
		a, err := n.Ask(context.Background(), tenant, q.Question)
		if err != nil {
			t.Fatal(err)
		}
		if answer.ModeOf(a) != answer.ModeAnswer || len(a.Citations) == 0 {
			continue
		}
		answered++
		words += len(strings.Fields(citeMarker.ReplaceAllString(a.Text, "")))
		row, lean := strings.Contains(a.Text, " | "), unfounded(a, pages)
		if row {
			rows++
			t.Logf("row: %q\n  %s", q.Question, a.Text)
		}
		if lean != "" {
			leaning++
			t.Logf("leans: %q: %q\n  %s", q.Question, lean, a.Text)
		}
		if row || lean != "" {
			defective++
		}
	}
	if answered == 0 {
		t.Fatal("no question answered")
	}
	pct := func(k int) float64 { return 100 * float64(k) / float64(answered) }
	fmt.Printf("stitching: %d questions, %d answered; defective %d (%.1f%%): leaning opener %d (%.1f%%), raw table row %d (%.1f%%); mean %.0f words\n",
		len(queries), answered, defective, pct(defective), leaning, pct(leaning), rows, pct(rows), float64(words)/float64(answered))
}

var citeMarker = regexp.MustCompile(`\s*\[\d+\]`)

// sentencesOf splits an answer or passage text into sentences, list
// markers and citation markers removed, normalised for comparison.
func sentencesOf(text string) []string {
	var out []string
	for _, line := range strings.Split(citeMarker.ReplaceAllString(text, ""), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		for _, s := range chunk.Sentences(line) {
			if s = strings.TrimRight(strings.TrimSpace(s), ".;:, "); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// unfounded returns the first sentence of a that leans on a sentence before
// it (extractive.Leans) while the sentence before it in a is not its
// predecessor on a cited page; "" when there is none.
func unfounded(a answer.Answer, pages map[string][]string) string {
	// The answerer's own words around the cited text (the lead of an
	// unconfirmed claim, the referral after the last citation) are not
	// taken from pages.
	text := a.Text
	if m := citeMarker.FindAllStringIndex(text, -1); len(m) > 0 {
		text = text[:m[len(m)-1][1]]
	}
	for _, lang := range []string{"nl", "en"} {
		text = strings.TrimPrefix(text, answer.Unconfirmed(lang))
	}
	ss := sentencesOf(text)
	for i, s := range ss {
		if !extractive.Leans(s) {
			continue
		}
		ok := false
		for _, c := range a.Citations {
			ps := pages[c.ID]
			for k := 1; k < len(ps) && i > 0; k++ {
				if ps[k] == s && ps[k-1] == ss[i-1] {
					ok = true
				}
			}
		}
		if !ok {
			return s
		}
	}
	return ""
}
