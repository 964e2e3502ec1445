package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Concurrent writers lose nothing and readers see whole writes (run with
// -race).
func TestBuffer_ConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("ab", 800) {
		t.Fatalf("got %d bytes, want 1600 of ab", len(got))
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("not empty after Reset")
	}
}
