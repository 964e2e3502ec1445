package admin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// The federation page shows, to an analist, the registry copy, the members
// gossip knows (state in words, round trip, collections they gossip) and
// the national collections on the node with their versions, in Dutch and
// in English; a node outside a federation says so and still lists what it
// holds.
func TestFederationPage(t *testing.T) {
	federated := false
	e := newEnvWith(t, func(d *admin.Deps) {
		d.Federation = func() (admin.FederationStatus, bool) {
			st := admin.FederationStatus{CacheAge: -1, Members: []admin.FederationMember{
				{Name: "zeta-1", Org: "GM0009", Role: "node", Address: "127.0.0.1:7949", State: "dead"},
				{Name: "beta-1", Org: "GM0002", Role: "node", Address: "127.0.0.1:7947", APIAddress: "127.0.0.1:8443", State: "alive",
					RTT: 2500 * time.Microsecond, Version: "1.0", Collections: []string{"burgerzaken", "belastingen"}},
			}}
			if federated {
				st.Index, st.Synced, st.Server, st.CacheAge = 42, true, "https://127.0.0.1:9000", 3*time.Second
			}
			return st, federated
		}
	})
	doc := retrieval.Document{ID: "paspoort", Scope: "n:burgerzaken", URL: "https://www.nvvb.example/paspoort", Title: "Paspoort"}
	if _, err := e.st.WriteBatch([]store.DocWrite{{Doc: doc, Hash: "h1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetCollectionVersion("burgerzaken", 7); err != nil {
		t.Fatal(err)
	}
	e.addUser(t, "analist@proef.nl", admin.RoleAnalist)
	b := e.browser(t)
	b.login("analist@proef.nl")

	resp, body := b.get("/admin/federation")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"geen deel van een federatie", "beta-1", "GM0002", "bereikbaar", "onbereikbaar", "2.5 ms",
		"burgerzaken, belastingen", "<code>127.0.0.1:8443</code>", ">7</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("outside a federation, the page lacks %q", want)
		}
	}
	if strings.Index(body, "beta-1") > strings.Index(body, "zeta-1") {
		t.Error("members are not ordered by name")
	}
	federated = true
	_, body = b.get("/admin/federation?lang=en")
	for _, want := range []string{"Registry index", "<dd>42</dd>", "https://127.0.0.1:9000", "<dd>3s</dd>", "alive", "dead", "Members", "National collections on this installation"} {
		if !strings.Contains(body, want) {
			t.Errorf("federated, in English, the page lacks %q", want)
		}
	}
	if strings.Contains(body, "not part of a federation") {
		t.Error("a federated node says it is not part of a federation")
	}
}
