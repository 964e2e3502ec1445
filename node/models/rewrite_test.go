package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/models"
)

func TestRewriter_Rewrite(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("**Vraag:** \"Hoe vraag ik een paspoort aan voor mijn kind?\"\nDit is de herschreven vraag."))
	rw := models.NewRewriter(newClient(t, srv, nil), nil, time.Second, "Gemeente Lindewaarde")
	got, err := rw.Rewrite(context.Background(), []string{"Hoe vraag ik een paspoort aan?"}, "en voor mijn kind?")
	if err != nil || got != "Hoe vraag ik een paspoort aan voor mijn kind?" {
		t.Fatalf("Rewrite = %q, %v", got, err)
	}
	req := srv.Requests()[0]
	if !strings.Contains(req.Content("user"), "<vraag>Hoe vraag ik een paspoort aan?</vraag>") ||
		!strings.Contains(req.Content("user"), "<vervolgvraag>en voor mijn kind?</vervolgvraag>") ||
		!strings.Contains(req.Content("system"), "Gemeente Lindewaarde") {
		t.Errorf("prompt:\n%s\n%s", req.Content("system"), req.Content("user"))
	}
}

func TestRewriter_HangTimesOut(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Hang())
	rw := models.NewRewriter(newClient(t, srv, nil), nil, 150*time.Millisecond, "")
	start := time.Now()
	_, err := rw.Rewrite(context.Background(), []string{"Wat kost een paspoort?"}, "en een ID-kaart?")
	if el := time.Since(start); !errors.Is(err, models.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || el > 2*time.Second {
		t.Fatalf("err %v after %s, want ErrTimeout within the rewrite timeout", err, el)
	}
}

func TestRewriter_BadReplies(t *testing.T) {
	for _, reply := range []string{"", "   \n**\n", models.RefusalMarker, strings.Repeat("paspoort ", 30)} {
		srv := llmtest.NewServer(t, llmtest.Reply(reply))
		rw := models.NewRewriter(newClient(t, srv, nil), nil, time.Second, "")
		if q, err := rw.Rewrite(context.Background(), []string{"Wat kost een paspoort?"}, "en voor kinderen?"); !errors.Is(err, models.ErrBadRewrite) {
			t.Errorf("reply %q: %q, %v; want ErrBadRewrite", reply, q, err)
		}
	}
}

func TestSanitizeRewrite(t *testing.T) {
	tests := map[string]string{
		"Hoe vraag ik een paspoort aan voor mijn kind?":                "Hoe vraag ik een paspoort aan voor mijn kind?",
		"  Zoekvraag: `Wat kost een ID-kaart?`  ":                      "Wat kost een ID-kaart?",
		"\n\n# Wat kost parkeren in het centrum?\nUitleg: ...":         "Wat kost parkeren in het centrum?",
		"<vraag>Waar  meld ik\tgrofvuil aan?</vraag>":                  "Waar meld ik grofvuil aan?",
		"“Wanneer wordt het gft opgehaald?”":                           "Wanneer wordt het gft opgehaald?",
		"Question: How do I register a birth?":                         "How do I register a birth?",
		"Wat kost een paspoort voor een kind van 12 jaar in 2026? [1]": "Wat kost een paspoort voor een kind van 12 jaar in 2026? [1]",
	}
	for in, want := range tests {
		if got, err := models.SanitizeRewrite(in); err != nil || got != want {
			t.Errorf("SanitizeRewrite(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	long := strings.Repeat("a", models.MaxRewriteLen-1) + "?"
	if got, err := models.SanitizeRewrite(long); err != nil || got != long {
		t.Errorf("%d characters refused: %v", models.MaxRewriteLen, err)
	}
	for _, bad := range []string{"", "***", long + "x", "Mijn KENMERK-ABCDEF is geheim"} {
		if got, err := models.SanitizeRewrite(bad); !errors.Is(err, models.ErrBadRewrite) {
			t.Errorf("SanitizeRewrite(%q) = %q, %v; want ErrBadRewrite", bad, got, err)
		}
	}
}
