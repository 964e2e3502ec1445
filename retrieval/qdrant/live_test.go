package qdrant_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/qdrant"
	"github.com/assistent-nl/assistent/retrieval/retrievaltest"
)

// TestConformance runs the shared suite against a real Qdrant 1.12 when
// ASSISTENT_QDRANT_URL names its gRPC port (deploy/compose.stack.yaml
// starts one on 127.0.0.1:6334):
//
//	ASSISTENT_QDRANT_URL=http://127.0.0.1:6334 go test ./retrieval/qdrant/
//
// Each collection it opens is new (assistent-test-<random>) and deleted
// after.
func TestConformance(t *testing.T) {
	url := os.Getenv("ASSISTENT_QDRANT_URL")
	if url == "" {
		t.Skip("ASSISTENT_QDRANT_URL is not set: no live Qdrant to run the conformance suite against")
	}
	retrievaltest.Run(t, func(tb testing.TB) retrieval.Index {
		b := make([]byte, 6)
		rand.Read(b)
		cfg := qdrant.DefaultConfig("assistent-test-"+hex.EncodeToString(b), retrievaltest.Dim)
		cfg.URL, cfg.APIKey = url, os.Getenv("ASSISTENT_QDRANT_API_KEY")
		x, err := qdrant.New(cfg, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if err := x.Open(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := x.Drop(context.Background()); err != nil {
				tb.Errorf("drop %s: %v", cfg.Collection, err)
			}
			x.Close()
		})
		return x
	})
}
