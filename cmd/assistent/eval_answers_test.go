package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/llmtest"
)

const answersJSONL = `{"question":"Wat kost een paspoort?","reference_answer":"Een paspoort kost € 84,40.","relevant":["paspoort"],"url":"https://www.proef.example/paspoort"}
{"question":"Hoe laat ik grofvuil ophalen?","reference_answer":"Wij halen grofvuil op afspraak bij u op.","relevant":["grofvuil"],"url":"https://www.proef.example/grofvuil"}
`

// TestCLI_EvalAnswers runs 'eval answers' on a tiny set, without and with
// a judge route, and checks the report and the errors on bad input.
func TestCLI_EvalAnswers(t *testing.T) {
	data := proefData(t)
	set := writeFile(t, "answers.jsonl", answersJSONL)

	type report struct {
		Judge   bool
		Summary struct {
			Questions, Answered, Refused int
			CitedRecall                  struct{ Mean float64 } `json:"cited_recall"`
			Faithfulness                 struct{ Mean float64 }
			TokenF1                      struct{ N int } `json:"token_f1"`
			Judge                        *struct{ Judged, Missing int }
		}
		Results []struct {
			Question, Answer string
			Citations        []string
			Faithfulness     struct{ Claims, Supported int }
			TokenF1          struct{ F1 float64 } `json:"token_f1"`
			RougeL           struct{ F1 float64 } `json:"rouge_l"`
			Judge            *struct{ Correctness, Faithfulness int }
			JudgeError       string `json:"judge_error"`
		}
	}
	decode := func(res result) report {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("eval answers: exit %d\n%s", res.code, res.stderr)
		}
		var rep report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("report %q: %v", res.stdout, err)
		}
		return rep
	}

	rep := decode(run(t, "", "eval", "answers", "--data", data, "--tenant", "proef", "--set", set, "--json"))
	s := rep.Summary
	if rep.Judge || s.Judge != nil || s.Questions != 2 || s.Answered != 2 || s.CitedRecall.Mean != 1 || s.Faithfulness.Mean != 1 || s.TokenF1.N != 2 {
		t.Fatalf("report without judge: %+v", rep)
	}
	r := rep.Results[0]
	if !strings.Contains(r.Answer, "84,40") || r.Citations[0] != "paspoort" || r.Faithfulness.Claims == 0 || r.TokenF1.F1 <= 0 || r.RougeL.F1 <= 0 || r.Judge != nil {
		t.Errorf("first record: %+v", r)
	}

	// A judge that grades the paspoort answer and talks nonsense about the other.
	srv := llmtest.NewServer(t, func(w http.ResponseWriter, r *http.Request, n int, req llmtest.Request) {
		if strings.Contains(req.Content("user"), "Wat kost een paspoort?") {
			llmtest.WriteCompletion(w, req.Model, "```json\n{\"correctness\":5,\"faithfulness\":4,\"reason\":\"klopt\"}\n```")
			return
		}
		llmtest.WriteCompletion(w, req.Model, "Prima antwoord!")
	})
	config := writeFile(t, "config.json", fmt.Sprintf(`{
  "providers": [{"name": "llm", "kind": "openai", "region": "eu", "base_url": %q, "model": "judge-model", "timeout": "5s", "max_retries": 0}],
  "routes": [{"task": "judge", "providers": ["llm"]}]
}`, srv.URL))
	args := []string{"eval", "answers", "--data", data, "--tenant", "proef", "--set", set, "--config", config}
	rep = decode(run(t, "", append(args, "--json")...))
	if !rep.Judge || rep.Summary.Judge == nil || rep.Summary.Judge.Judged != 1 || rep.Summary.Judge.Missing != 1 {
		t.Fatalf("report with judge: %+v", rep.Summary)
	}
	if v := rep.Results[0].Judge; v == nil || v.Correctness != 5 || v.Faithfulness != 4 || !strings.Contains(rep.Results[1].JudgeError, "not a valid verdict") {
		t.Errorf("verdicts: %+v, %q", v, rep.Results[1].JudgeError)
	}
	// The judge route also reads each question's intent (the policy
	// judge, whose prompt holds a <bericht> block); two requests grade.
	grading := 0
	for _, r := range srv.Requests() {
		if !strings.Contains(r.Content("user"), "<bericht>") {
			grading++
		}
	}
	if grading != 2 {
		t.Errorf("judge asked to grade %d times, want 2", grading)
	}

	res := run(t, "", args...)
	for _, want := range []string{"2 questions, tenant proef", "answered 2 of 2", "token F1", "ROUGE-L F1", "faithfulness (lexical)",
		"judge correctness (1-5)", "judge: 1 judged, 1 missing", "5/4", "miss"} {
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("table lacks %q (exit %d):\n%s%s", want, res.code, res.stdout, res.stderr)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no set", []string{"--tenant", "proef"}, 2, "--set is required"},
		{"no tenant", []string{"--set", set}, 2, "needs a file and a tenant (--tenant or FILE@TENANT)"},
		{"missing file", []string{"--tenant", "proef", "--set", filepath.Join(t.TempDir(), "weg.jsonl")}, 1, "no such file"},
		{"bad line", []string{"--tenant", "proef", "--set", writeFile(t, "bad.jsonl", answersJSONL+"{\"question\":\n")}, 1, "bad.jsonl:3: invalid JSON"},
		{"unknown tenant", []string{"--tenant", "nergens", "--set", set}, 1, "unknown tenant: nergens (create it with 'assistent tenant set"},
		{"bad config", []string{"--tenant", "proef", "--set", set, "--config", writeFile(t, "c.json", `{"routes":[{"task":"judge","providers":["weg"]}]}`)}, 1, "unknown provider"},
		{"help", []string{"--help"}, 0, "Usage: assistent eval answers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", append([]string{"eval", "answers", "--data", data}, tt.args...)...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", res.code, tt.code, tt.want, res.stderr)
			}
		})
	}
}

// TestCLI_EvalAnswersSets prints several sets side by side, one of them a
// query set without references that holds a question no page answers.
func TestCLI_EvalAnswersSets(t *testing.T) {
	data := proefData(t)
	ans := writeFile(t, "answers.jsonl", answersJSONL)
	qs := writeFile(t, "queries.jsonl", `{"question":"wat kost een paspoort","relevant":["paspoort"],"style":"keyword"}
{"question":"wanneer is het zwembad open","relevant":[],"style":"informal"}
`)
	res := run(t, "", "eval", "answers", "--data", data, "--set", ans+"@proef,"+qs+"@proef")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"answers", "queries", "right page in first 3 citations", "2/0", "1/1", "stitching defects"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, res.stdout)
		}
	}
	res = run(t, "", "eval", "answers", "--data", data, "--set", ans+"@proef,"+qs+"@proef", "--json")
	var reps []struct {
		Set     string
		Summary struct {
			Modes struct {
				Answerable, Unanswerable int
			}
		}
		Results []struct{ Mode string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &reps); err != nil || len(reps) != 2 {
		t.Fatalf("json %q: %v", res.stdout, err)
	}
	if m := reps[1].Summary.Modes; m.Answerable != 1 || m.Unanswerable != 1 {
		t.Errorf("query set modes %+v", m)
	}
	for _, r := range reps[0].Results {
		if r.Mode == "" {
			t.Errorf("result without mode: %+v", reps[0].Results)
		}
	}
}

// proefData returns a data directory with tenant proef and the test pages.
func proefData(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if res := run(t, "", "tenant", "set", "--data", data, "--id", "proef", "--name", "Gemeente Proef"); res.code != 0 {
		t.Fatalf("tenant set: %s", res.stderr)
	}
	if res := run(t, "", "ingest", "--data", data, "--tenant", "proef", "--jsonl", writeFile(t, "p.jsonl", pagesJSONL)); res.code != 0 {
		t.Fatalf("ingest: %s", res.stderr)
	}
	return data
}
