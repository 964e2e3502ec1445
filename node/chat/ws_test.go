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

func TestValidJSONText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{`{"text":"paspoort"}`, true},
		{`{"text":"café \u00e9 \ud83d\ude00 \\ud800"}`, true}, // a pair; an escaped backslash
		{`{"text":"` + "caf\xe9" + `"}`, false},               // Latin-1, not UTF-8
		{`{"text":"\ud800"}`, false},                          // a lone high surrogate
		{`{"text":"\ud800\u0041"}`, false},
		{`{"text":"\udc00 x"}`, false}, // a lone low surrogate
		{`{"text":"\uDBFF\uDFFF"}`, true},
	} {
		if got := chat.ValidJSONText([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidJSONText(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
