package httpretry_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/httpretry"
)

func TestBackoff(t *testing.T) {
	base := 100 * time.Millisecond
	for attempt := range 5 {
		exp := base << attempt
		for range 50 {
			d := httpretry.Backoff(base, attempt)
			if d < exp/2 || d > exp {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, exp/2, exp)
			}
		}
	}
	if d := httpretry.Backoff(base, 40); d > httpretry.MaxDelay || d < httpretry.MaxDelay/2 {
		t.Fatalf("large attempt: %v, want capped near %v", d, httpretry.MaxDelay)
	}
}

func TestRetryAfter(t *testing.T) {
	future := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
	tests := map[string]func(time.Duration) bool{
		"":       func(d time.Duration) bool { return d == -1 },
		"3":      func(d time.Duration) bool { return d == 3*time.Second },
		" 0 ":    func(d time.Duration) bool { return d == 0 },
		"-1":     func(d time.Duration) bool { return d == -1 },
		"9999":   func(d time.Duration) bool { return d == httpretry.MaxDelay },
		"morgen": func(d time.Duration) bool { return d == -1 },
		future:   func(d time.Duration) bool { return d > 8*time.Second && d <= 10*time.Second },
	}
	for in, ok := range tests {
		if d := httpretry.RetryAfter(in); !ok(d) {
			t.Errorf("RetryAfter(%q) = %v", in, d)
		}
	}
}
