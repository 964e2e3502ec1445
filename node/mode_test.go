package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/assistent-nl/assistent/gen/assistent/chat/v1"
	"github.com/assistent-nl/assistent/gen/assistent/chat/v1/chatv1connect"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// modeCase is a question and the mode every transport must report for it,
// on the node that modes configures.
type modeCase struct {
	name, question string
	suggest        bool // on a node where every answerable question is a suggestion
	mode           answer.Mode
	refused        bool
}

var modeCases = []modeCase{
	{"answer", "hoe vraag ik een paspoort aan", false, answer.ModeAnswer, false},
	{"suggest", "hoe vraag ik een paspoort aan", true, answer.ModeSuggest, false},
	{"noinfo", "wat is de hoofdstad van Australië", false, answer.ModeNoInfo, true},
	{"refuse", "Ik wil mijn grofvuil dumpen bij het bos", false, answer.ModeRefuse, true},
}

// modeServers serves two real nodes with tenant "proef" and the test pages:
// one with the default modes, one where every answerable question is a
// suggestion (AnswerAt above any confidence).
func modeServers(tb testing.TB) (plain, suggest string) {
	tb.Helper()
	open := func(modes func(*answer.ModeConfig)) string {
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(tb.TempDir(), "data")
		modes(&cfg.Modes)
		n, err := node.Open(context.Background(), cfg, nil)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { n.Close() })
		if err := n.Store().PutTenant(store.Tenant{ID: "proef", Name: "Gemeente Proef", Phone: "14 0999",
			ContactURL: "https://www.proef.example/contact", Hours: "ma-vr 9-17 uur"}); err != nil {
			tb.Fatal(err)
		}
		if _, err := n.Ingest(context.Background(), retrieval.TenantScope("proef"), pages, nil); err != nil {
			tb.Fatal(err)
		}
		srv := httptest.NewServer(n.Handler(nil))
		tb.Cleanup(srv.Close)
		return srv.URL
	}
	return open(func(*answer.ModeConfig) {}), open(func(m *answer.ModeConfig) { m.AnswerAt = 1.01 })
}

func (tt modeCase) url(plain, suggest string) string {
	if tt.suggest {
		return suggest
	}
	return plain
}

// checkSuggestion checks what a reply in mode suggest carries besides its
// mode: the pages and the referral, not refused.
func checkSuggestion(tb testing.TB, text string, titles []string, handoff bool) {
	tb.Helper()
	if len(titles) == 0 || len(titles) > answer.MaxSuggestions || titles[0] != "Paspoort aanvragen" {
		tb.Errorf("suggestion offers pages %q, want 1 to %d starting with the paspoort page", titles, answer.MaxSuggestions)
	}
	if !handoff {
		tb.Error("suggestion has no handoff")
	}
	if !strings.HasPrefix(text, "Ik weet niet zeker") {
		tb.Errorf("suggestion text %q", text)
	}
}

func TestHTTP_AskMode(t *testing.T) {
	plain, suggest := modeServers(t)
	for _, tt := range modeCases {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, tt.url(plain, suggest)+"/api/v1/tenants/proef/ask", "application/json",
				strings.NewReader(`{"question":"`+tt.question+`"}`))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if got := string(raw["mode"]); got != `"`+string(tt.mode)+`"` {
				t.Fatalf("mode %s, want %q: %s", got, tt.mode, body)
			}
			var a answer.Answer
			json.Unmarshal(body, &a)
			if a.Refused != tt.refused {
				t.Errorf("refused %v in mode %s", a.Refused, a.Mode)
			}
			if tt.mode == answer.ModeSuggest {
				var titles []string
				for _, c := range a.Citations {
					titles = append(titles, c.Title)
				}
				checkSuggestion(t, a.Text, titles, a.Handoff != nil)
			}
		})
	}
}

func TestWebSocket_DoneMode(t *testing.T) {
	plain, suggest := modeServers(t)
	for _, tt := range modeCases {
		t.Run(tt.name, func(t *testing.T) {
			url := "ws" + strings.TrimPrefix(tt.url(plain, suggest), "http") + "/api/v1/tenants/proef/chat"
			c := dial(t, url)
			write(t, c, `{"type":"ask","id":"m1","text":"`+tt.question+`"}`)
			var text strings.Builder
			var titles []string
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var m struct {
					Type, Text, Mode string
					Items            []answer.Citation
					Refused          *bool
					Handoff          *answer.Handoff
				}
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatal(err)
				}
				switch m.Type {
				case "delta":
					text.WriteString(m.Text)
					continue
				case "citations":
					for _, c := range m.Items {
						titles = append(titles, c.Title)
					}
					continue
				case "done":
				default:
					t.Fatalf("unexpected message %s", data)
				}
				if m.Mode != string(tt.mode) || m.Refused == nil || *m.Refused != tt.refused {
					t.Fatalf("done %s, want mode %q refused %v", data, tt.mode, tt.refused)
				}
				if tt.mode == answer.ModeSuggest {
					checkSuggestion(t, text.String(), titles, m.Handoff != nil)
				}
				return
			}
		})
	}
}

func TestConnect_Mode(t *testing.T) {
	plain, suggest := modeServers(t)
	want := map[answer.Mode]chatv1.Mode{answer.ModeAnswer: chatv1.Mode_MODE_ANSWER, answer.ModeSuggest: chatv1.Mode_MODE_SUGGEST,
		answer.ModeNoInfo: chatv1.Mode_MODE_NOINFO, answer.ModeRefuse: chatv1.Mode_MODE_REFUSE}
	ctx := context.Background()
	for _, tt := range modeCases {
		t.Run(tt.name, func(t *testing.T) {
			client := chatv1connect.NewChatServiceClient(http.DefaultClient, tt.url(plain, suggest))
			req := &chatv1.AskRequest{Tenant: "proef", Question: tt.question}
			resp, err := client.Ask(ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Msg.Mode != want[tt.mode] || resp.Msg.Refused != tt.refused {
				t.Fatalf("Ask: mode %v refused %v, want %v %v", resp.Msg.Mode, resp.Msg.Refused, want[tt.mode], tt.refused)
			}
			if tt.mode == answer.ModeSuggest {
				var titles []string
				for _, c := range resp.Msg.Citations {
					titles = append(titles, c.Title)
				}
				checkSuggestion(t, resp.Msg.Answer, titles, resp.Msg.Handoff != nil)
			}

			stream, err := client.AskStream(ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatal(err)
			}
			var done *chatv1.Done
			for stream.Receive() {
				if ev, ok := stream.Msg().Event.(*chatv1.AskStreamResponse_Done); ok {
					done = ev.Done
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if done == nil || done.Mode != want[tt.mode] || done.Refused != tt.refused {
				t.Fatalf("AskStream done %v, want mode %v refused %v", done, want[tt.mode], tt.refused)
			}
		})
	}
}

func TestHTTP_OpenAPIMode(t *testing.T) {
	plain, _ := modeServers(t)
	resp, err := http.Get(plain + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string `json:"required"`
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Description string `json:"description"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Components.Schemas["Answer"]
	want := []string{string(answer.ModeAnswer), string(answer.ModeSuggest), string(answer.ModeNoInfo), string(answer.ModeRefuse)}
	if got := a.Properties["mode"].Enum; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Answer.mode enum %q, want %q", got, want)
	}
	if !strings.Contains(" "+strings.Join(a.Required, " ")+" ", " mode ") {
		t.Errorf("Answer.required %q lacks mode", a.Required)
	}
	if d := doc.Paths["/tenants/{tenant}/chat"]["get"].Description; !strings.Contains(d, `"done","id","mode"`) {
		t.Errorf("chat description does not document mode in done: %s", d)
	}
}
