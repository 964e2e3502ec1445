package answer_test

import (
	"testing"

	"github.com/assistent-nl/assistent/node/answer"
)

var referral = answer.Referral{Name: "Gemeente Proef", Phone: "14 0999", ContactURL: "https://www.proef.example/contact", Hours: "ma-vr 9-17 uur"}

func TestNewHandoff(t *testing.T) {
	h := answer.NewHandoff(answer.Referral{}, "nl")
	if h.Message != "Neem contact op met de gemeente." {
		t.Errorf("empty referral: %q", h.Message)
	}
	h = answer.NewHandoff(answer.Referral{Name: "Gemeente X", Phone: "14 0123"}, "en")
	if h.Message != "Please contact Gemeente X: call 14 0123." {
		t.Errorf("english: %q", h.Message)
	}
}
