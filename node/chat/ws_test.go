package chat_test

import (
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/chat"
)

func TestDeltas(t *testing.T) {
	text := "Een paspoort vraagt u aan bij de balie van het gemeentehuis [1]."
	parts := chat.Deltas(text)
	if strings.Join(parts, "") != text {
		t.Fatalf("deltas join to %q", strings.Join(parts, ""))
	}
	if len(parts) != 3 {
		t.Fatalf("11 words in %d deltas, want 3 of at most 4 words", len(parts))
	}
	if len(chat.Deltas("")) != 1 {
		t.Fatal("an empty answer still sends one (empty) delta")
	}
}
