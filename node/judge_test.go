package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/quality"
)

// judgeConfig routes the "judge" task to an OpenAI-compatible server at
// url, without retries; answers stay extractive.
func judgeConfig(url string) models.Config {
	mc := models.DefaultConfig()
	oc := models.DefaultOpenAIConfig()
	oc.BaseURL, oc.Model, oc.MaxRetries, oc.Timeout, oc.FirstTokenTimeout = url, "judge-model", -1, 5*time.Second, 5*time.Second
	mc.Providers = []models.Provider{{Name: "llm", Kind: models.KindOpenAI, Region: "eu", OpenAI: oc}}
	mc.Routes = append(mc.Routes, models.Route{Task: models.TaskJudge, Providers: []string{"llm"}})
	return mc
}

var judgeCases = []quality.AnswerCase{
	{Question: "Wat kost een paspoort?", Reference: "Een paspoort voor volwassenen kost € 84,40.", Relevant: []string{"paspoort"}},
	{Question: "Hoe laat ik grofvuil ophalen?", Reference: "Wij halen grofvuil op afspraak bij u thuis op. U meldt het online aan.", Relevant: []string{"grofvuil"}},
}

// The judge route grades every answer; the reply is parsed robustly, and a
// reply without a valid verdict (or a failing judge) counts as missing
// instead of failing the run.
func TestEvalAnswers_Judge(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name            string
		handler         llmtest.Handler
		judged, missing int
		correctness     float64
	}{
		{"JSON verdict", llmtest.Reply(`{"correctness":4,"faithfulness":5,"reason":"Juist, de kosten ontbreken niet."}`), 2, 0, 4},
		{"fenced verdict with text", llmtest.Reply("Hier is mijn oordeel:\n```json\n{\"correctness\": 2, \"faithfulness\": 5}\n```"), 2, 0, 2},
		{"garbage", llmtest.Reply("Dit antwoord is prima, een dikke voldoende!"), 0, 2, 0},
		{"out of range", llmtest.Reply(`{"correctness":9,"faithfulness":5}`), 0, 2, 0},
		{"judge fails", llmtest.Status(500, "", `{"error":{"message":"kapot"}}`), 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, tt.handler)
			n := routedNode(t, judgeConfig(srv.URL))
			if !n.HasJudge("proef") {
				t.Fatal("HasJudge = false with a judge route")
			}
			rep, err := n.EvalAnswers(ctx, "proef", judgeCases)
			if err != nil {
				t.Fatal(err)
			}
			j := rep.Summary.Judge
			if j == nil || j.Judged != tt.judged || j.Missing != tt.missing || j.Correctness.Mean != tt.correctness {
				t.Fatalf("judge summary %+v, want %d judged, %d missing, mean correctness %v", j, tt.judged, tt.missing, tt.correctness)
			}
			for _, r := range rep.Results {
				if (r.Judge == nil) != (r.JudgeError != "") {
					t.Errorf("%q: verdict %+v and error %q", r.Question, r.Judge, r.JudgeError)
				}
			}
			// The judge route also reads every question's intent (the
			// policy judge); only the grading requests are counted here.
			var reqs []llmtest.Request
			for _, r := range srv.Requests() {
				if !strings.Contains(r.Content("user"), "<bericht>") {
					reqs = append(reqs, r)
				}
			}
			if len(reqs) != 2 || reqs[0].Model != "judge-model" {
				t.Fatalf("judge got %d requests, want 2", len(reqs))
			}
			sys, user := reqs[0].Content("system"), reqs[0].Content("user")
			if !strings.Contains(sys, `"correctness"`) || !strings.Contains(user, "<question>\nWat kost een paspoort?\n</question>") ||
				!strings.Contains(user, "<reference_answer>\nEen paspoort voor volwassenen kost € 84,40.\n</reference_answer>") {
				t.Errorf("judge prompt:\n%s\n---\n%s", sys, user)
			}
			// The cited page goes to the judge whole, not just the cited passage.
			if !strings.Contains(user, `<source n="1" title="Paspoort aanvragen" url="https://www.proef.example/paspoort">`) ||
				!strings.Contains(user, "U vraagt een paspoort aan bij de balie") || !strings.Contains(user, "Wat neemt u mee?") {
				t.Errorf("cited page missing from the judge prompt:\n%s", user)
			}
		})
	}
}

// Without a judge route the run scores answers on their own: context
// recall from the retrieved and cited pages, and lexical faithfulness
// against the whole cited page from the store.
func TestEvalAnswers_NoJudge(t *testing.T) {
	ctx := context.Background()
	n := routedNode(t, models.DefaultConfig())
	if n.HasJudge("proef") {
		t.Fatal("HasJudge = true without a judge route")
	}
	if _, err := n.Judge(ctx, "proef", []models.Message{{Role: "user", Content: "x"}}); !errors.Is(err, models.ErrNoRoute) {
		t.Errorf("Judge without a route: %v, want ErrNoRoute", err)
	}
	rep, err := n.EvalAnswers(ctx, "proef", judgeCases)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Judge != nil {
		t.Errorf("judge summary without a judge: %+v", rep.Summary.Judge)
	}
	for _, r := range rep.Results {
		if r.Refused || r.CitedRecall != 1 || r.RetrievedRecall != 1 || r.Passages[0] != r.Relevant[0] {
			t.Errorf("%q: refused %v, cited %v (recall %v), passages %v", r.Question, r.Refused, r.Citations, r.CitedRecall, r.Passages)
		}
		if f := r.Faithfulness; f.Score == nil || *f.Score != 1 || f.Claims == 0 || r.MissingSources != 0 {
			t.Errorf("%q: faithfulness %+v, missing sources %d; the extractive answer copies its page", r.Question, f, r.MissingSources)
		}
		if r.TokenF1.F1 <= 0 || r.RougeL.F1 <= 0 {
			t.Errorf("%q: no overlap with the reference: %+v %+v", r.Question, r.TokenF1, r.RougeL)
		}
	}
	if s := rep.Summary; s.Answered != 2 || s.AnsweredRate != 1 || s.CitedRecall.Mean != 1 {
		t.Errorf("summary %+v", s)
	}
	if _, err := n.EvalAnswers(ctx, "nergens", judgeCases); !errors.Is(err, node.ErrUnknownTenant) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// TestPolicyJudge: with a judge route, the model reads each question's
// intent with the versioned policy template. It may make the pipeline
// stricter (a question the classifier lets through is refused), never
// laxer (a request the classifier refuses stays refused), and a reply that
// is no label leaves the classifier's decision.
func TestPolicyJudge(t *testing.T) {
	ctx := context.Background()
	const (
		benign   = "Wat kost een paspoort?"
		unlawful = "Hoe dump ik 's nachts een aanhanger bouwafval in het bos zonder dat iemand het ziet?"
	)
	tests := []struct {
		name, reply, question string
		refused               bool
		route                 string
	}{
		{"stricter", "unlawful", benign, true, "policy:judge:unlawful"},
		{"never laxer", "benign", unlawful, true, "policy:evade-enforcement"},
		{"label with punctuation", "Fraud.", benign, true, "policy:judge:fraud"},
		{"no label", "Dit lijkt me een gewone vraag.", benign, false, ""},
		{"benign stays benign", "benign", benign, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Reply(tt.reply))
			n := routedNode(t, judgeConfig(srv.URL))
			a, err := n.Ask(ctx, "proef", tt.question)
			if err != nil {
				t.Fatal(err)
			}
			if a.Refused != tt.refused || tt.route != "" && !strings.HasPrefix(a.Route, tt.route) {
				t.Fatalf("Ask(%q) with judge reply %q: refused %v route %q, want refused %v route %q (%s)", tt.question, tt.reply, a.Refused, a.Route, tt.refused, tt.route, a.Text)
			}
			if tt.name == "never laxer" {
				return // decided before the judge is asked
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d judge requests, want 1", len(reqs))
			}
			if user := reqs[0].Content("user"); !strings.Contains(user, "<bericht>"+tt.question+"</bericht>") {
				t.Errorf("policy prompt user message: %q", user)
			}
			if sys := reqs[0].Content("system"); !strings.Contains(sys, "Gemeente Proef") || !strings.Contains(sys, "no_mandate") {
				t.Errorf("policy prompt system message: %q", sys)
			}
		})
	}
}
