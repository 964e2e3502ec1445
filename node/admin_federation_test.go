package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node"
)

// The portal's federation status shows the registry copy, the members
// gossip knows (with their state, round trip and the collections they
// gossip) and the national collections the node holds with the version it
// imported; an analist reads it, nobody else without a token.
func TestAdmin_FederationStatus(t *testing.T) {
	gossiped := members{all: []node.Member{
		{Name: "coord-1", Org: "VNG", Role: "server", Address: "127.0.0.1:7948", State: "suspect", Version: "1.0"},
		{Name: "beta-1", Org: "GM0002", Role: "node", Address: "127.0.0.1:7947", APIAddress: "127.0.0.1:8443",
			State: "alive", RTT: 1500 * time.Microsecond, Version: "1.0", Collections: []string{"burgerzaken"}, Topics: []string{"gemeente"}},
		{Name: "alfa-1", Org: "GM0001", Role: "node", Address: "127.0.0.1:7946", State: "alive", Version: "1.0", Collections: []string{"burgerzaken"}},
	}}
	n, srv := openNodeWith(t, func(c *node.Config) { c.Fallback.Source = gossiped })
	u, err := n.Admin().Accounts().AddUser(admin.NewUser{Email: "analist@proef.nl", Role: admin.RoleAnalist, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := n.Admin().Accounts().NewToken(u.ID, "test", admin.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	type status struct {
		Federated bool    `json:"federated"`
		Index     uint64  `json:"index"`
		Synced    bool    `json:"synced"`
		Server    string  `json:"server"`
		CacheAge  float64 `json:"cache_age_seconds"`
		Members   []struct {
			Name, Org, Role, Address, State, Version string
			APIAddress                               string   `json:"api_address"`
			RTT                                      float64  `json:"rtt_ms"`
			Collections                              []string `json:"collections"`
			Topics                                   []string `json:"topics"`
		} `json:"members"`
		Collections []struct {
			Name    string    `json:"name"`
			Version uint64    `json:"version"`
			Docs    int       `json:"docs"`
			Updated time.Time `json:"updated"`
		} `json:"collections"`
	}
	get := func() (status, string) {
		t.Helper()
		code, body := adminRequest(t, http.MethodGet, srv.URL+"/api/v1/admin/federation", token, "")
		if code != http.StatusOK {
			t.Fatalf("GET federation: %d %s", code, body)
		}
		var st status
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return st, body
	}
	if code, _ := adminRequest(t, http.MethodGet, srv.URL+"/api/v1/admin/federation", "asst_nope_nope", ""); code != http.StatusUnauthorized {
		t.Errorf("with a made-up token: %d, want 401", code)
	}

	// Gossip runs, no registry watched yet, no collection held.
	st, body := get()
	if st.Federated || st.Index != 0 || len(st.Collections) != 0 || !strings.Contains(body, `"collections": []`) {
		t.Errorf("before the registry: %s", body)
	}
	if len(st.Members) != 3 || st.Members[0].Name != "alfa-1" || st.Members[1].Name != "beta-1" || st.Members[2].Name != "coord-1" {
		t.Fatalf("members, by name: %s", body)
	}
	beta := st.Members[1]
	if beta.Org != "GM0002" || beta.Role != "node" || beta.State != "alive" || beta.RTT != 1.5 || beta.APIAddress != "127.0.0.1:8443" ||
		strings.Join(beta.Collections, ",") != "burgerzaken" || strings.Join(beta.Topics, ",") != "gemeente" || beta.Version != "1.0" {
		t.Errorf("beta-1: %+v", beta)
	}
	if c := st.Members[2]; c.State != "suspect" || c.RTT != 0 || c.Collections == nil {
		t.Errorf("coord-1: %+v (collections must be [] not null)", c)
	}

	// The registry is watched and brought a national collection, version 3.
	n.AttachFederation(func() node.FederationStatus {
		return node.FederationStatus{Index: 42, Synced: true, Server: "https://127.0.0.1:9000", CacheAge: 3 * time.Second, LastContact: time.Now()}
	})
	ctx := context.Background()
	v3 := `{"id":"paspoort","url":"https://www.nvvb.example/paspoort","title":"Paspoort","text":"Een paspoort vraagt u aan bij uw gemeente."}` + "\n" +
		`{"id":"idkaart","url":"https://www.nvvb.example/idkaart","title":"ID-kaart","text":"Een identiteitskaart vraagt u aan bij uw gemeente."}` + "\n"
	if _, err := n.ImportCollection(ctx, "burgerzaken", 3, strings.NewReader(v3)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ImportCollection(ctx, "burgerzaken", 2, strings.NewReader(v3)); err == nil {
		t.Fatal("an older version was imported")
	}
	st, body = get()
	if !st.Federated || st.Index != 42 || !st.Synced || st.Server != "https://127.0.0.1:9000" || st.CacheAge != 3 {
		t.Errorf("registry: %s", body)
	}
	if len(st.Collections) != 1 || st.Collections[0].Name != "burgerzaken" || st.Collections[0].Version != 3 || st.Collections[0].Docs != 2 ||
		time.Since(st.Collections[0].Updated) > time.Minute {
		t.Errorf("collections: %s", body)
	}
	if len(st.Members) != 3 {
		t.Errorf("members with the registry: %s", body)
	}
}
