package admin_test

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/store"
)

// The dashboard counts a tenant's questions per day and mode, the share
// answered through other gemeenten, the median latency and the feedback;
// the unanswered questions are the weak ones, grouped by similarity with
// the pages the search found (also as CSV); feedback comes with its
// question and answer. Another tenant's questions and older ones stay out.
func TestDashboardUnansweredFeedback_API(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	kermis := store.Page{ID: "kermis", URL: "https://www.proef.example/kermis", Title: "Kermis"}
	for i, q := range []store.Question{
		{Text: "hoe laat gaat de kermis open", Mode: "noinfo", Found: []store.Page{kermis}},
		{Text: "hoe laat gaat de kermis dicht", Mode: "suggest", Confidence: 0.4, Found: []store.Page{kermis}},
		{Text: "paspoort aanvragen", Mode: "answer", Confidence: 0.9, Fallback: true, Answer: "Volgens Gemeente Beta; een paspoort vraagt u aan."},
		{Text: "waar staat de milieustraat", Mode: "answer", Confidence: 0.3},
		{Text: "ik wil iemand spreken", Mode: "refuse"},
		{Tenant: "ander", Text: "hoe laat gaat de kermis open in ander", Mode: "noinfo"},
		{Text: "hoe laat gaat de kermis open vorig jaar", Mode: "noinfo", Time: now.AddDate(0, 0, -40)},
	} {
		q.ID = fmt.Sprintf("%032x/1", i+1)
		q.Tenant = cmp.Or(q.Tenant, "proef")
		if q.Time.IsZero() {
			q.Time = now.Add(-time.Duration(10-i) * time.Minute)
		}
		q.Latency = time.Duration(10*(i+1)) * time.Millisecond
		if err := e.st.AddQuestion(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []store.Feedback{
		{Tenant: "proef", QuestionID: fmt.Sprintf("%032x/1", 3), Rating: "up", Time: now},
		{Tenant: "proef", QuestionID: fmt.Sprintf("%032x/1", 1), Rating: "down", Comment: "Geen antwoord.", Time: now},
		{Tenant: "ander", Rating: "down", Time: now},
	} {
		if err := e.st.AddFeedback(f); err != nil {
			t.Fatal(err)
		}
	}
	u := e.addUser(t, "analist@proef.nl", admin.RoleAnalist)
	tok := e.token(t, u, admin.ScopeRead, time.Hour)
	get := func(path string, v any) string {
		t.Helper()
		resp, body := e.api(t, "GET", "/api/v1/admin/tenants/proef/"+path, tok, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if v != nil {
			if err := json.Unmarshal([]byte(body), v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return body
	}

	var st admin.Stats
	get("dashboard?days=30", &st)
	today := st.Days[len(st.Days)-1]
	if len(st.Days) != 30 || st.Total != 5 || today.Total+st.Days[len(st.Days)-2].Total != 5 ||
		st.Modes["answer"] != 2 || st.Modes["noinfo"] != 1 || st.Modes["suggest"] != 1 || st.Modes["refuse"] != 1 {
		t.Errorf("counts: %+v", st)
	}
	if st.FallbackShare != 0.2 || st.MedianLatencyMS != 30 || st.FeedbackUp != 1 || st.FeedbackDown != 1 {
		t.Errorf("fallback %v, median %v ms, feedback %d/%d", st.FallbackShare, st.MedianLatencyMS, st.FeedbackUp, st.FeedbackDown)
	}

	var gs []admin.Group
	get("unanswered?days=30", &gs)
	if len(gs) != 2 || gs[0].Count != 2 || gs[0].Example != "hoe laat gaat de kermis dicht" || gs[0].Modes["noinfo"] != 1 ||
		len(gs[0].Pages) != 1 || gs[0].Pages[0].URL != kermis.URL || gs[1].Example != "waar staat de milieustraat" {
		t.Fatalf("groups: %+v", gs)
	}
	rows, err := csv.NewReader(strings.NewReader(get("unanswered?days=30&format=csv", nil))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "aantal" || rows[1][0] != "2" || rows[1][7] != kermis.URL {
		t.Errorf("CSV: %q, %v", rows, err)
	}

	var fb []admin.FeedbackItem
	get("feedback", &fb)
	if len(fb) != 2 || fb[0].Rating != "down" || fb[0].Comment != "Geen antwoord." || fb[0].Question == nil ||
		fb[0].Question.Text != "hoe laat gaat de kermis open" || fb[1].Question == nil || !strings.HasPrefix(fb[1].Question.Answer, "Volgens Gemeente Beta") {
		t.Errorf("feedback: %+v", fb)
	}
}
