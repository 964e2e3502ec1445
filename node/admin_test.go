package node_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
)

func adminRequest(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func askHandoff(t *testing.T, base string) string {
	t.Helper()
	resp, body := post(t, base+"/api/v1/tenants/proef/ask", "application/json", strings.NewReader(`{"question":"Ik wil een medewerker spreken."}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask: %d %s", resp.StatusCode, body)
	}
	var a struct {
		Handoff *struct {
			Phone string `json:"phone"`
		} `json:"handoff"`
	}
	json.Unmarshal(body, &a)
	if a.Handoff == nil {
		t.Fatalf("no handoff in %s", body)
	}
	return a.Handoff.Phone
}

// The referral phone changed through the admin API is in the very next
// answer: no restart.
func TestAdmin_SettingsLive(t *testing.T) {
	n, srv := openNodeWith(t, func(*node.Config) {})
	u, err := n.Admin().Accounts().AddUser(admin.NewUser{Email: "beheer@proef.nl", Role: admin.RoleBeheerder, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := n.Admin().Accounts().NewToken(u.ID, "test", admin.ScopeAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := askHandoff(t, srv.URL); got != "14 0999" {
		t.Fatalf("phone before: %q", got)
	}
	status, body := adminRequest(t, http.MethodPatch, srv.URL+"/api/v1/admin/tenants/proef/settings", token, `{"phone":"14 0123","hours":"ma-vr 8-12 uur"}`)
	if status != http.StatusOK {
		t.Fatalf("PATCH settings: %d %s", status, body)
	}
	if got := askHandoff(t, srv.URL); got != "14 0123" {
		t.Fatalf("phone after the change: %q, want 14 0123", got)
	}
	status, body = adminRequest(t, http.MethodPost, srv.URL+"/api/v1/admin/tenants/proef/sites", token, `{"site":"www.nieuw.example"}`)
	if status != http.StatusCreated || !strings.Contains(body, "www.nieuw.example") || !strings.Contains(body, "www.proef.example") {
		t.Fatalf("add site: %d %s", status, body)
	}
	// The widget's calls from the new site are accepted at once.
	if got := askWith(t, srv.URL+"/api/v1/tenants/proef/ask", "Origin", "https://www.nieuw.example"); got != http.StatusOK {
		t.Errorf("ask from the added site: %d", got)
	}
	status, _ = adminRequest(t, http.MethodDelete, srv.URL+"/api/v1/admin/tenants/proef/sites/www.nieuw.example", token, "")
	if status != http.StatusOK {
		t.Fatalf("remove site: %d", status)
	}
	if got := askWith(t, srv.URL+"/api/v1/tenants/proef/ask", "Origin", "https://www.nieuw.example"); got != http.StatusForbidden {
		t.Errorf("ask from the removed site: %d", got)
	}
	es, _ := n.Admin().Audit().List(auditAll)
	if len(es) != 3 || es[2].Action != "tenant.update" || !strings.Contains(string(es[2].Before), "14 0999") || !strings.Contains(string(es[2].After), "14 0123") {
		t.Errorf("audit entries: %+v", es)
	}
}

// Questions residents ask are logged scrubbed, with their mode and
// latency, and joined to their feedback; they expire with the tenant's
// retention.
func TestAdmin_QuestionLog(t *testing.T) {
	n, srv := openNodeWith(t, func(*node.Config) {})
	resp, body := post(t, srv.URL+"/api/v1/tenants/proef/ask", "application/json", strings.NewReader(`{"question":"Mijn BSN is 111222333, hoe vraag ik een paspoort aan?"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask: %d %s", resp.StatusCode, body)
	}
	var a struct{ Conversation, Mode string }
	json.Unmarshal(body, &a)
	q, err := n.Store().Question("proef", a.Conversation+"/1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(q.Text, "111222333") || !strings.Contains(q.Text, "paspoort") {
		t.Errorf("logged question %q: want it scrubbed", q.Text)
	}
	if q.Mode != a.Mode || q.Latency <= 0 || q.Answer == "" || len(q.Found) == 0 {
		t.Errorf("logged question %+v", q)
	}
	// The second question of the conversation is number 2.
	resp, _ = post(t, srv.URL+"/api/v1/tenants/proef/ask", "application/json", strings.NewReader(`{"question":"wat kost het?","conversation":"`+a.Conversation+`"}`))
	resp.Body.Close()
	if _, err := n.Store().Question("proef", a.Conversation+"/2"); err != nil {
		t.Errorf("second question: %v", err)
	}
	// Retention: a tenant with one day keeps nothing older.
	tn, _ := n.Store().Tenant("proef")
	tn.RetentionDays = 1
	n.Store().PutTenant(tn)
	if _, err := n.ExpireConversations(time.Now().Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	count := 0
	n.Store().Questions("proef", time.Time{}, func(store.Question) bool { count++; return true })
	if count != 0 {
		t.Errorf("%d questions left after their retention", count)
	}
	if _, err := n.Store().Conversation(a.Conversation); err == nil {
		t.Error("conversation kept beyond the tenant's retention")
	}
}

var auditAll = audit.Filter{}
