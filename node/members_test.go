package node_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node"
)

// members is a PeerSource that lists members too, over fixed lists: the
// gossip adapter in cmd/assistent is tested against real gossip.
type members struct {
	nearestList
	all []node.Member
}

func (m members) Members() []node.Member { return m.all }

// The federation status is for the tenant's operator only: without the
// tenant's token, with another token or for an unknown tenant it is 401;
// with it, it lists the members, the policy and the recent fallbacks, and
// never the question asked.
func TestFederationStatusHandler(t *testing.T) {
	ca := newCA(t)
	beta := startPeer(t, ca, "GM0002", "Gemeente Beta", dogPages, nil)
	src := members{nearestList: nearestList{beta.Peer}, all: []node.Member{
		{Name: "alfa-1", Org: "GM0001", Role: "node", Address: "127.0.0.1:7946", State: "alive", Version: "1.0"},
		{Name: "beta-1", Org: "GM0002", Role: "node", Address: "127.0.0.1:7947", APIAddress: strings.TrimPrefix(beta.URL, "https://"),
			State: "alive", RTT: 1500 * time.Microsecond, Version: "1.0"},
		{Name: "coord-1", Org: "VNG", Role: "server", Address: "127.0.0.1:7948", State: "suspect", Version: "1.0"},
	}}
	alfa := asker(t, ca, func(c *node.FallbackConfig) {
		c.Mode = node.FallbackNearest
		c.Source = src
	})
	question := "Mijn hond Bello woont op Dorpsstraat 1. " + dogQuestion
	if _, err := alfa.AskPeers(context.Background(), "alfa", question); err != nil {
		t.Fatal(err)
	}
	token, err := alfa.NewTriggerToken("alfa")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tenants/{tenant}/federation", alfa.FederationStatusHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(tenant, auth string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/tenants/"+tenant+"/federation", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for _, c := range []struct{ name, tenant, auth string }{
		{"no token", "alfa", ""},
		{"wrong token", "alfa", "Bearer ast_wrong"},
		{"token not as bearer", "alfa", token},
		{"unknown tenant", "nergens", "Bearer " + token},
	} {
		if code, body := get(c.tenant, c.auth); code != http.StatusUnauthorized || strings.Contains(string(body), "GM0002") {
			t.Errorf("%s: %d %s, want 401 and nothing else", c.name, code, body)
		}
	}

	code, body := get("alfa", "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("with the token: %d %s", code, body)
	}
	var rep struct {
		Policy struct {
			Mode       string  `json:"mode"`
			AsksPeers  bool    `json:"asks_peers"`
			Nearest    int     `json:"nearest"`
			DeadlineMS float64 `json:"deadline_ms"`
		} `json:"policy"`
		Members []struct {
			Name, Org, State, Version, Address string
			RTT                                float64 `json:"rtt_ms"`
		} `json:"members"`
		Recent []struct {
			Time       time.Time `json:"time"`
			AnsweredBy string    `json:"answered_by"`
			Peers      []struct {
				Org, Outcome string
				Duration     float64 `json:"duration_ms"`
			} `json:"peers"`
		} `json:"recent_fallbacks"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if rep.Policy.Mode != "nearest" || !rep.Policy.AsksPeers || rep.Policy.Nearest != 3 || rep.Policy.DeadlineMS != 800 {
		t.Errorf("policy %+v", rep.Policy)
	}
	if len(rep.Members) != 3 || rep.Members[1].Name != "beta-1" || rep.Members[1].RTT != 1.5 || rep.Members[2].State != "suspect" ||
		rep.Members[0].Address != "127.0.0.1:7946" || rep.Members[0].Version != "1.0" {
		t.Errorf("members %+v", rep.Members)
	}
	if len(rep.Recent) != 1 || rep.Recent[0].AnsweredBy != "GM0002" || len(rep.Recent[0].Peers) != 1 ||
		rep.Recent[0].Peers[0].Outcome != "answered" || rep.Recent[0].Peers[0].Duration <= 0 || time.Since(rep.Recent[0].Time) > time.Minute {
		t.Errorf("recent fallbacks %+v", rep.Recent)
	}
	for _, word := range []string{"Bello", "Dorpsstraat", "hondenbelasting"} {
		if strings.Contains(string(body), word) {
			t.Errorf("the status shows the question (%q): %s", word, body)
		}
	}
}

// The log keeps the last 50 fallbacks, newest first.
func TestFederationReport_KeepsLast50(t *testing.T) {
	ca := newCA(t)
	down := peerServer(t, ca, "GM0006", "down-1", http.NotFoundHandler())
	down.Close()
	alfa := asker(t, ca, func(c *node.FallbackConfig) {
		c.Peers = []node.Peer{{Org: "GM0006", Name: "Gemeente Weg", URL: down.URL}}
		c.Failures = 1000
	})
	var last time.Time
	for range 53 {
		last = time.Now()
		if _, err := alfa.AskPeers(context.Background(), "alfa", dogQuestion); err == nil {
			t.Fatal("a peer that is down answered")
		}
	}
	rec := alfa.FederationReport().Recent
	if len(rec) != 50 {
		t.Fatalf("%d records, want 50", len(rec))
	}
	if rec[0].Time.Before(last.Add(-time.Millisecond)) || !rec[0].Time.After(rec[49].Time) {
		t.Errorf("not newest first: %v ... %v", rec[0].Time, rec[49].Time)
	}
}
