package elastic_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/elastic"
	"github.com/assistent-nl/assistent/retrieval/retrievaltest"
)

// TestConformance runs the shared suite against a real Elasticsearch 8
// when ASSISTENT_ELASTIC_URL names one (deploy/compose.stack.yaml starts
// one on 127.0.0.1:9200):
//
//	ASSISTENT_ELASTIC_URL=http://127.0.0.1:9200 go test ./retrieval/elastic/
//
// Each index it opens is new (assistent-test-<random>) and deleted after.
func TestConformance(t *testing.T) {
	url := os.Getenv("ASSISTENT_ELASTIC_URL")
	if url == "" {
		t.Skip("ASSISTENT_ELASTIC_URL is not set: no live Elasticsearch to run the conformance suite against")
	}
	retrievaltest.Run(t, func(tb testing.TB) retrieval.Index {
		b := make([]byte, 6)
		rand.Read(b)
		cfg := elastic.DefaultConfig("assistent-test-"+hex.EncodeToString(b), retrievaltest.Dim)
		cfg.URLs = []string{url}
		cfg.Username, cfg.Password = os.Getenv("ASSISTENT_ELASTIC_USER"), os.Getenv("ASSISTENT_ELASTIC_PASSWORD")
		x, err := elastic.New(cfg, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if err := x.Open(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			x.Close()
			if err := x.Drop(context.Background()); err != nil {
				tb.Errorf("drop %s: %v", cfg.Index, err)
			}
		})
		return x
	})
}
