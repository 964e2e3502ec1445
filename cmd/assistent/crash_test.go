package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
)

// writeCorpus writes n synthetic municipal pages as JSON Lines and returns
// the path. Every page has a unique marker word so the test can search for
// it.
func writeCorpus(tb testing.TB, n int, prefix string) string {
	tb.Helper()
	topics := []string{"paspoort", "verhuizing", "grofvuil", "parkeervergunning", "bijstand", "omgevingsvergunning", "kwijtschelding", "milieustraat"}
	sentences := []string{
		"U maakt eerst een afspraak bij de balie in het gemeentehuis.",
		"Neem uw geldige identiteitsbewijs en een recente pasfoto mee.",
		"De kosten betaalt u met uw pinpas bij de aanvraag.",
		"Binnen vijf werkdagen ontvangt u bericht van de gemeente.",
		"Woont u in een andere gemeente? Dan regelt u dit bij die gemeente.",
		"Heeft u vragen? Bel dan het algemene nummer van de gemeente.",
	}
	path := filepath.Join(tb.TempDir(), "corpus.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(1, 2))
	enc := json.NewEncoder(f)
	for i := range n {
		topic := topics[i%len(topics)]
		var b strings.Builder
		fmt.Fprintf(&b, "<p>Over %s: dit is pagina merkwoord%sp%05d.</p>", topic, prefix, i)
		for s := range 3 {
			fmt.Fprintf(&b, "<h2>Onderdeel %d</h2>", s+1)
			for range 4 {
				fmt.Fprintf(&b, "<p>%s Dit geldt voor %s.</p>", sentences[r.IntN(len(sentences))], topic)
			}
		}
		page := map[string]string{"id": fmt.Sprintf("%sp%05d", prefix, i), "url": fmt.Sprintf("https://www.voorbeeld.example/%s/%d", topic, i),
			"title": fmt.Sprintf("%s aanvragen %d", topic, i), "html": b.String()}
		if err := enc.Encode(page); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}

// TestIngest_KillNine kills a real ingesting child process at random
// moments, restarts, and checks that every document is either fully
// searchable or absent, with no manual repair.
func TestIngest_KillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	data := filepath.Join(t.TempDir(), "data")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	killed := 0
	var corpus string
	for round := 0; round < 4; round++ {
		// Each round brings new pages, so each kill lands in real writes.
		corpus = writeCorpus(t, 2500, fmt.Sprintf("r%d", round))
		cmd := exec.Command(os.Args[0], "ingest", "--data", data, "--national", "bulk", "--jsonl", corpus, "--json")
		cmd.Env = append(os.Environ(), "ASSISTENT_CHILD=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill somewhere between opening and the end of the ingest.
		delay := time.Duration(150+r.IntN(900)) * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: ingest ended before the kill: %v\n%s", round, err, stderr.String())
			}
			t.Logf("round %d: ingest finished before the kill at %v", round, delay)
		case <-time.After(delay):
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-done
			killed++
			t.Logf("round %d: killed after %v", round, delay)
		}
		checkConsistent(t, data)
	}
	if killed == 0 {
		t.Fatal("no round was killed mid-ingest; the corpus is too small for this machine")
	}
	// A final full run completes and leaves everything searchable.
	res := run(t, "", "ingest", "--data", data, "--national", "bulk", "--jsonl", corpus, "--json")
	if res.code != 0 {
		t.Fatalf("final ingest: exit %d: %s", res.code, res.stderr)
	}
	rep := checkConsistent(t, data)
	if rep.Documents < 2500 {
		t.Fatalf("after the final ingest: %d documents, want at least the 2500 of the last round", rep.Documents)
	}
}

// checkConsistent opens the data directory as a restarted node would and
// fails unless the indexes hold exactly the stored documents, whole, and a
// stored document is found by its marker word.
func checkConsistent(tb testing.TB, data string) node.CheckReport {
	tb.Helper()
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = data
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		tb.Fatalf("restart: %v", err)
	}
	defer n.Close()
	rep, err := n.Check(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if !rep.OK() {
		tb.Fatalf("inconsistent after restart: %+v", rep)
	}
	if rep.Documents > 0 {
		if err := n.Store().PutTenant(storeTenant("check")); err != nil {
			tb.Fatal(err)
		}
		// The last document stored must be searchable by its own marker.
		id := lastDocID(tb, n)
		hits, err := n.Search(ctx, "check", "merkwoord"+id, 3, "bm25")
		if err != nil {
			tb.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Chunk.DocID != id {
			tb.Fatalf("document %s is stored but not found by its marker: %v", id, hits)
		}
	}
	return rep
}

func storeTenant(id string) store.Tenant { return store.Tenant{ID: id, Name: id} }

func lastDocID(tb testing.TB, n *node.Node) string {
	tb.Helper()
	var last string
	err := n.Store().ForEachDoc(func(key string, _ int) error {
		last = key
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return last[strings.LastIndexByte(last, '/')+1:]
}
