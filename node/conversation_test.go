package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/internal/syncbuf"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// chosenID is a conversation id a client made up, with an IBAN and a BSN
// in it (issue 15: it ended up in the database as a key).
const chosenID = "conv-NL91ABNA0417164300-111222333"

var serverID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Only conversation ids the node issued are continued; any other id gets
// a fresh one and is never stored or looked up.
func TestConverse_ServerIssuedIDs(t *testing.T) {
	n, _ := openNode(t, nil)
	ctx := context.Background()
	for _, chosen := range []string{
		chosenID,
		"0123456789abcdef0123456789abcdef", // the node's shape, but never issued
		"Jan de Vries",
		strings.Repeat("a", 64),
	} {
		a, err := n.Converse(ctx, "proef", chosen, "hoe vraag ik een paspoort aan")
		if err != nil {
			t.Fatal(err)
		}
		if a.Conversation == chosen || !serverID.MatchString(a.Conversation) {
			t.Errorf("chosen id %q: answered in conversation %q, want a new server id", chosen, a.Conversation)
		}
		if _, err := n.Store().Conversation(chosen); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("chosen id %q stored: %v", chosen, err)
		}
		// The issued id is continued.
		b, err := n.Converse(ctx, "proef", a.Conversation, "en wat kost dat?")
		if err != nil || b.Conversation != a.Conversation {
			t.Fatalf("follow-up: conversation %q, %v; want %q", b.Conversation, err, a.Conversation)
		}
		if c, err := n.Store().Conversation(a.Conversation); err != nil || c.Questions() != 2 {
			t.Fatalf("stored conversation %+v, %v", c, err)
		}
	}
}

// Feedback names a question by the id the node issued for it,
// "<conversation>/<n>"; any other id is refused and not stored.
func TestHTTP_FeedbackQuestionIDs(t *testing.T) {
	n := openUnthrottled(t, nil)
	if err := n.Store().PutTenant(store.Tenant{ID: "ander", Name: "Ander"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	conv := askREST(t, srv.URL, "proef", "", "hoe vraag ik een paspoort aan")
	other := askREST(t, srv.URL, "ander", "", "hoe vraag ik een paspoort aan")
	for _, tt := range []struct {
		id     string
		status int
	}{
		{conv + "/1", 204},
		{"", 204}, // feedback on the service, no question in particular
		{"q1", 400},
		{chosenID + "/1", 400},
		{conv, 400},
		{conv + "/0", 400},
		{conv + "/01", 400},
		{conv + "/-1", 400},
		{conv + "/1/2", 400},
		{conv + "/9999999", 400},
		{strings.ToUpper(conv) + "/1", 400},
		{conv + "/2", 404},  // not asked yet
		{other + "/1", 404}, // another tenant's
		{"0123456789abcdef0123456789abcdef" + "/1", 404}, // never issued
	} {
		body := `{"question_id":` + jsonString(tt.id) + `,"rating":"up"}`
		resp, data := post(t, srv.URL+"/api/v1/tenants/proef/feedback", "application/json", strings.NewReader(body))
		if resp.StatusCode != tt.status {
			t.Errorf("question_id %q: status %d, want %d: %s", tt.id, resp.StatusCode, tt.status, data)
		}
		if tt.status != 204 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("question_id %q: Content-Type %q", tt.id, resp.Header.Get("Content-Type"))
		}
	}
	if err := n.CheckQuestionID("proef", chosenID+"/1"); !errors.Is(err, node.ErrBadQuestionID) {
		t.Errorf("CheckQuestionID(chosen) = %v, want ErrBadQuestionID", err)
	}
	if err := n.CheckQuestionID("proef", other+"/1"); !errors.Is(err, node.ErrUnknownQuestion) {
		t.Errorf("CheckQuestionID(another tenant's) = %v, want ErrUnknownQuestion", err)
	}
	fb, err := n.Store().FeedbackFor("proef")
	if err != nil || len(fb) != 2 || fb[0].QuestionID != conv+"/1" || fb[1].QuestionID != "" {
		t.Fatalf("stored feedback %+v, %v", fb, err)
	}
	// The second question makes "/2" known.
	if c := askREST(t, srv.URL, "proef", conv, "en wat kost dat?"); c != conv {
		t.Fatalf("follow-up in conversation %q, want %q", c, conv)
	}
	resp, data := post(t, srv.URL+"/api/v1/tenants/proef/feedback", "application/json",
		strings.NewReader(`{"question_id":"`+conv+`/2","rating":"down"}`))
	if resp.StatusCode != 204 {
		t.Errorf("feedback on the second question: %d %s", resp.StatusCode, data)
	}
}

// Issue 15: nothing a resident types that identifies them is kept, not in
// any key or value of the database and not in the log: not a conversation
// id they chose, not a name or a date of birth after a cue word, not an NL
// IBAN with a bad checksum, whether the question comes over REST or the
// WebSocket, and not in feedback.
func TestPersonalData_NotAtRest(t *testing.T) {
	var logs syncbuf.Buffer
	n := openUnthrottled(t, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv := httptest.NewServer(n.Handler(nil))
	defer srv.Close()
	secrets := []string{"NL91ABNA0417164300", "111222333", "conv-", "Wesselink", "Marieke",
		"12-03-1985", "NL91ABNA0417164301", "0417164301", "NL12 RABO", "1985"}
	question := "Mijn naam is Marieke Wesselink, geboren op 12-03-1985. Mijn rekening is NL91ABNA0417164301 " +
		"(of NL12 RABO 0123 4567 89). Wat kost een paspoort?"

	conv := askREST(t, srv.URL, "proef", chosenID, question)
	askREST(t, srv.URL, "proef", conv, "Ik heet Marieke Wesselink; en wat neem ik mee?")

	ws := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/tenants/proef/chat")
	write(t, ws, `{"type":"ask","id":"w1","conversation":"`+chosenID+`","text":`+jsonString(question)+`}`)
	for m := readMsg(t, ws); m.Type != "done"; m = readMsg(t, ws) {
		if m.Type == "error" {
			t.Fatalf("WebSocket error: %+v", m)
		}
	}
	for _, body := range []string{
		`{"question_id":"` + chosenID + `/1","rating":"down","comment":"fout"}`,
		`{"question_id":"` + conv + `/1","rating":"down","comment":"Ik heet Marieke Wesselink, geboren op 12 maart 1985"}`,
	} {
		post(t, srv.URL+"/api/v1/tenants/proef/feedback", "application/json", strings.NewReader(body))
	}
	c, err := n.Store().Conversation(conv)
	if err != nil || len(c.Turns) != 2 || !strings.Contains(c.Turns[0].Question, "[NAAM]") ||
		!strings.Contains(c.Turns[0].Question, "[GEBOORTEDATUM]") || !strings.Contains(c.Turns[0].Question, "[IBAN]") {
		t.Fatalf("stored conversation %+v, %v", c, err)
	}
	fb, err := n.Store().FeedbackFor("proef")
	if err != nil || len(fb) != 1 || !strings.Contains(fb[0].Comment, "[NAAM]") {
		t.Fatalf("stored feedback %+v, %v", fb, err)
	}

	var found []string
	err = n.Store().Bolt().View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return walkBucket(b, string(name), func(path string, k, v []byte) {
				for _, s := range secrets {
					if bytes.Contains(k, []byte(s)) || bytes.Contains(v, []byte(s)) {
						found = append(found, s+" in "+path+"/"+string(k))
					}
				}
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("personal data at rest: %s", f)
	}
	for _, s := range secrets {
		if inLog(logs.String(), s) {
			t.Errorf("%q in the log", s)
		}
	}
}

// inLog reports whether secret stands in the log. A number counts only as
// a number of its own, not as digits inside a longer one (a port, a
// duration in microseconds), which made the birth year "1985" match by
// chance.
func inLog(log, secret string) bool {
	if strings.Trim(secret, "0123456789") != "" {
		return strings.Contains(log, secret)
	}
	return regexp.MustCompile(`(^|[^0-9])` + secret + `($|[^0-9])`).MatchString(log)
}

// openUnthrottled opens a node like openNode whose rate limit lets a test
// send many requests from one client.
func openUnthrottled(tb testing.TB, log *slog.Logger) *node.Node {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	cfg.Rate = node.RateConfig{PerMinute: 6000, Burst: 1000}
	n, err := node.Open(context.Background(), cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999"}); err != nil {
		tb.Fatal(err)
	}
	if res, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), pages, nil); err != nil || res.Written != len(pages) {
		tb.Fatalf("ingest: %+v, %v", res, err)
	}
	return n
}

// walkBucket calls fn with every key and value in b and the buckets
// nested in it.
func walkBucket(b *bolt.Bucket, path string, fn func(path string, k, v []byte)) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				fn(path, k, nil)
				return walkBucket(nb, path+"/"+string(k), fn)
			}
		}
		fn(path, k, v)
		return nil
	})
}

// askREST asks over REST and returns the conversation id of the answer.
func askREST(tb testing.TB, base, tenant, conversation, question string) string {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"question": question, "conversation": conversation})
	resp, data := post(tb, base+"/api/v1/tenants/"+tenant+"/ask", "application/json", bytes.NewReader(body))
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("ask %q: %d %s", question, resp.StatusCode, data)
	}
	var a struct{ Conversation string }
	if err := json.Unmarshal(data, &a); err != nil || !serverID.MatchString(a.Conversation) {
		tb.Fatalf("ask %q: conversation %q, %v", question, a.Conversation, err)
	}
	return a.Conversation
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
