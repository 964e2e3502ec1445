package retrieval_test

import (
	"testing"

	"github.com/assistent-nl/assistent/retrieval"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"rijbewijs", "rijbewijs", 0},
		{"rijbewjs", "rijbewijs", 1},    // deletion
		{"stembureua", "stembureau", 1}, // adjacent swap
		{"rijbeweis", "rijbewijs", 2},   // two substitutions
		{"paspoord", "paspoort", 1},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau
		{"één", "een", 2},
	}
	for _, tt := range tests {
		if got := retrieval.EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := retrieval.EditDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}
