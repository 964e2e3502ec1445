package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/trust"
	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/internal/syncbuf"
)

// startMain runs the program in-process with args until stop is called
// (or the test ends) and returns the URL it reports as ready and a reader
// of what it wrote to stderr.
func startMain(t *testing.T, args ...string) (url string, stop func(), stderr func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	var out, errb syncbuf.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ready: func(u string) { urls <- u }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, args) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not stop", args[0])
			}
		})
	}
	t.Cleanup(stop)
	select {
	case u := <-urls:
		return u, stop, errb.String
	case err := <-done:
		t.Fatalf("%s ended: %v\n%s", args[0], err, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start:\n%s", args[0], errb.String())
	}
	return "", stop, errb.String
}

// A three-server federation set up only with the command line: a CA,
// server certificates, a bootstrap server and two that join it over
// mutual TLS; an operator writes through a follower and reads from the
// other.
func TestCoordinator_ClusterFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster; skipped with -short")
	}
	ca, issue := federationCA(t)
	dir := filepath.Dir(ca)
	var stops []func()
	var logs []func() string
	server := func(id string, extra ...string) string {
		url, stop, log := startMain(t, append([]string{"coordinator", "--data", filepath.Join(dir, id, "data"), "--id", id, "--cert", issue("VNG", "server", id),
			"--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"}, extra...)...)
		stops, logs = append(stops, stop), append(logs, log)
		return url
	}
	stderrOfAll := func() string {
		var b strings.Builder
		for _, l := range logs {
			b.WriteString(l())
		}
		return b.String()
	}
	first := server("coord-1", "--bootstrap", "--ca", ca)
	second := server("coord-2", "--join", first, "--peer", "coord-1="+first)
	third := server("coord-3", "--join", second, "--peer", "coord-1="+first)
	operator := issue("VNG", "operator", "ops-1")

	res := run(t, "", "federation", "put", "--server", second, "--cert", operator, "--kind", "setting", "--key", "greeting",
		"--value", `{"name":"greeting","value":"goedemorgen"}`)
	if res.code != 0 {
		t.Fatalf("put through a follower: %s", res.stderr)
	}
	var got []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res = run(t, "", "federation", "get", "--server", third, "--cert", operator, "--kind", "setting", "--key", "greeting")
		if res.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get from the third server: %s", res.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got) != 1 || !strings.Contains(string(got[0].Value), "goedemorgen") {
		t.Fatalf("get: %v %s", err, res.stdout)
	}
	// A new member joins with a one-time token, pinning the CA by the
	// fingerprint the operator gave with it; the token works once.
	res = run(t, "", "federation", "token", "--dir", ca, "--org", "GM0193", "--role", "node", "--node", "zwolle-1")
	token := strings.TrimSpace(res.stdout)
	_, pin, _ := strings.Cut(res.stderr, "--ca-sha256 ")
	pin, _, _ = strings.Cut(pin, " ")
	if res.code != 0 || token == "" || len(pin) != 64 {
		t.Fatalf("token: %d %q %q", res.code, res.stdout, res.stderr)
	}
	zwolle := filepath.Join(dir, "zwolle-1")
	wrong := strings.Repeat("0", 64)
	if res := run(t, "", "federation", "join", "--server", first, "--token", token, "--ca-sha256", wrong, "--node", "zwolle-1", "--out", zwolle); res.code == 0 || !strings.Contains(res.stderr, "not joining") {
		t.Errorf("join with the wrong CA fingerprint: exit %d %s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(zwolle, "node.key")); err == nil {
		t.Error("a refused join wrote a key")
	}
	// That attempt spent the token (the server could not know the pin was
	// wrong): the operator makes a new one.
	res = run(t, "", "federation", "token", "--dir", ca, "--org", "GM0193", "--role", "node", "--node", "zwolle-1")
	token = strings.TrimSpace(res.stdout)
	if res := run(t, "", "federation", "join", "--server", first, "--token", token, "--ca-sha256", pin, "--node", "zwolle-1", "--out", zwolle); res.code != 0 || !strings.Contains(res.stdout, "joined as spiffe://") {
		t.Fatalf("join: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	if res := run(t, "", "federation", "join", "--server", first, "--token", token, "--ca-sha256", pin, "--node", "zwolle-1", "--out", filepath.Join(dir, "again")); res.code == 0 || !strings.Contains(res.stderr, "token refused") {
		t.Errorf("a used token: exit %d %s", res.code, res.stderr)
	}
	if res := run(t, "", "federation", "get", "--server", second, "--cert", zwolle, "--kind", "setting", "--key", "greeting"); res.code != 0 {
		t.Errorf("the joined member cannot read: %s", res.stderr)
	}
	// It renews its certificate with the one it has: a new key, the same
	// identity.
	before, _ := os.ReadFile(filepath.Join(zwolle, "node.crt"))
	if res := run(t, "", "federation", "renew", "--server", first, "--cert", zwolle); res.code != 0 || !strings.Contains(res.stdout, "renewed spiffe://") {
		t.Fatalf("renew: exit %d %s %s", res.code, res.stdout, res.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(zwolle, "node.crt"))
	old, _ := os.ReadFile(filepath.Join(zwolle, "node.crt.old"))
	if string(after) == string(before) || string(old) != string(before) {
		t.Error("renew did not replace the certificate (keeping the old one as node.crt.old)")
	}
	if res := run(t, "", "federation", "get", "--server", third, "--cert", zwolle, "--kind", "setting", "--key", "greeting"); res.code != 0 {
		t.Errorf("the renewed member cannot read: %s", res.stderr)
	}

	// A serving node renews its certificate by itself when a third of its
	// lifetime is left, and writes it next to the old one.
	kampen := filepath.Join(dir, "kampen-1")
	if res := run(t, "", "federation", "issue", "--dir", ca, "--org", "GM0166", "--role", "node", "--node", "kampen-1", "--ttl", "20s", "--out", kampen); res.code != 0 {
		t.Fatal(res.stderr)
	}
	kampenCfg := filepath.Join(dir, "kampen.json")
	kj, _ := json.Marshal(map[string]any{"federation": map[string]any{"servers": []string{first, second, third}, "cert": kampen}})
	if err := os.WriteFile(kampenCfg, kj, 0o600); err != nil {
		t.Fatal(err)
	}
	kampenData := filepath.Join(dir, "kampen-data")
	if res := run(t, "", "tenant", "set", "--data", kampenData, "--id", "kampen", "--name", "Gemeente Kampen"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	_, stopKampen, kampenLog := startMain(t, "serve", "--config", kampenCfg, "--data", kampenData, "--addr", "127.0.0.1:0")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(kampenLog(), "certificate renewed"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not renew its 20 s certificate:\n%s", kampenLog())
		}
	}
	renewed, err := os.ReadFile(filepath.Join(kampen, "node.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := trust.ParseCertificatePEM(renewed); err != nil || time.Until(c.NotAfter) < 24*time.Hour {
		t.Errorf("the renewed certificate on disk: %v, %v", c, err)
	}
	stopKampen()

	// A gemeente node may not change settings.
	gemeente := issue("GM0119", "node", "meppel-1")
	res = run(t, "", "federation", "put", "--server", first, "--cert", gemeente, "--kind", "setting", "--key", "greeting",
		"--value", `{"name":"greeting","value":"gehackt"}`)
	if res.code == 0 || !strings.Contains(strings.ToLower(res.stderr), "permission") {
		t.Errorf("a node changed a setting: exit %d %s", res.code, res.stderr)
	}

	// A gemeente node watches the registry, and keeps serving from its
	// copy when every coordination server is gone (fail static).
	// Its own prompt template for Meppel stands over the federation's.
	cfgPath := filepath.Join(dir, "node.json")
	cfgJSON, _ := json.Marshal(map[string]any{"federation": map[string]any{"servers": []string{first, second, third}, "cert": gemeente,
		"peer_addr": "127.0.0.1:0", "tenant": "meppel"},
		"templates": []map[string]string{{"tenant": "meppel", "name": "answer", "version": "meppel-1", "file": "meppel.tmpl"}}})
	if err := os.WriteFile(cfgPath, cfgJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meppel.tmpl"), []byte(templateBody("MEPPELSJABLOON")), 0o600); err != nil {
		t.Fatal(err)
	}
	nodeData := filepath.Join(dir, "node-data")
	for _, id := range []string{"meppel", "staphorst"} {
		if res := run(t, "", "tenant", "set", "--data", nodeData, "--id", id, "--name", "Gemeente "+id); res.code != 0 {
			t.Fatal(res.stderr)
		}
	}
	base, _, nodeLog := startMain(t, "serve", "--config", cfgPath, "--data", nodeData, "--addr", "127.0.0.1:0")
	ready := func() map[string]any {
		t.Helper()
		resp, err := http.Get(base + "readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Federation map[string]any `json:"federation"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil || r.Federation == nil {
			t.Fatalf("readyz: %d", resp.StatusCode)
		}
		return r.Federation
	}
	deadline = time.Now().Add(20 * time.Second)
	for fed := ready(); fed["index"] == float64(0) || fed["synced"] != true; fed = ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not sync the registry: %v", fed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The node registered its search service.
	deadline = time.Now().Add(10 * time.Second)
	for {
		res = run(t, "", "federation", "nodes", "--server", third, "--cert", operator)
		if res.code == 0 && strings.Contains(res.stdout, `"id": "meppel-1"`) && strings.Contains(res.stdout, `"org": "GM0119"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not register: %s %s\n%s", res.stdout, res.stderr, nodeLog())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// NVVB publishes a signed national collection; the node verifies it
	// and answers from it. A record whose signature does not match is
	// refused and the node keeps what it has.
	publisher := publishNational(t, dir, first, operator, second, issue, "burgerzaken",
		`{"id":"reisdocument","url":"https://www.nvvb.example/reisdocument","title":"Reisdocument aanvragen","text":"Een reisdocument vraagt u aan in uw eigen gemeente. Neem een pasfoto mee van minder dan zes maanden oud. Het kwartiermakersbesluit regelt de levertijd."}`+"\n")
	type askResult struct{ url, route string }
	askAs := func(tenant, q string) askResult {
		t.Helper()
		resp, err := http.Post(base+"api/v1/tenants/"+tenant+"/ask", "application/json", strings.NewReader(`{"question":"`+q+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct {
			Answer    string
			Route     string
			Citations []struct{ URL string }
		}
		json.NewDecoder(resp.Body).Decode(&a)
		if len(a.Citations) == 0 {
			return askResult{route: a.Route}
		}
		return askResult{url: a.Citations[0].URL, route: a.Route}
	}
	ask := func(q string) string {
		t.Helper()
		return askAs("meppel", q).url
	}
	deadline = time.Now().Add(20 * time.Second)
	for ask("wat regelt het kwartiermakersbesluit bij een reisdocument") != "https://www.nvvb.example/reisdocument" {
		if time.Now().After(deadline) {
			t.Fatal("the node did not import the published collection")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The forged record reuses the real, signed manifest and content but
	// claims a newer version than the manifest signs.
	res = run(t, "", "federation", "get", "--server", first, "--cert", publisher, "--kind", "collection", "--key", "burgerzaken")
	var recs []struct {
		Value map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("get the collection: %v %s %s", err, res.stdout, res.stderr)
	}
	recs[0].Value["version"] = 2
	forged, _ := json.Marshal(recs[0].Value)
	if res := run(t, "", "federation", "put", "--server", first, "--cert", publisher, "--kind", "collection", "--key", "burgerzaken", "--value", string(forged)); res.code != 0 {
		t.Fatalf("put the forged record: %s", res.stderr)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(nodeLog(), "collection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not refuse the forged version:\n%s", nodeLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(nodeLog(), "national collection imported") {
		t.Error("no import logged")
	}
	if got := ask("wat regelt het kwartiermakersbesluit bij een reisdocument"); got != "https://www.nvvb.example/reisdocument" {
		t.Errorf("after a forged version the node answers from %q", got)
	}

	// The operator distributes a model provider (no secrets), an answer
	// route and a prompt template; the node applies them, under its own
	// template for Meppel.
	llm := llmtest.NewServer(t, llmtest.Reply("Het kwartiermakersbesluit regelt de levertijd van een reisdocument [1]."))
	for _, put := range []struct{ kind, key, value string }{
		{"provider", "fed-llm", fmt.Sprintf(`{"name":"fed-llm","kind":"openai","region":"nl","base_url":%q,"model":"fed-model"}`, llm.URL)},
		{"template", "answer/nl", fmt.Sprintf(`{"name":"answer","version":3,"lang":"nl","body":%q}`, templateBody("FEDERATIESJABLOON"))},
		{"route", "answer", `{"task":"answer","providers":["fed-llm"],"timeout":5000000000}`},
	} {
		if res := run(t, "", "federation", "put", "--server", third, "--cert", operator, "--kind", put.kind, "--key", put.key, "--value", put.value); res.code != 0 {
			t.Fatalf("put %s: %s", put.kind, res.stderr)
		}
	}
	const q = "wat regelt het kwartiermakersbesluit bij een reisdocument"
	deadline = time.Now().Add(20 * time.Second)
	for askAs("staphorst", q).route != "openai:fed-model" {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not apply the federation's route:\n%s", nodeLog())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := askAs("meppel", q); got.route != "openai:fed-model" {
		t.Errorf("meppel answered through %q", got.route)
	}
	var fedPrompt, ownPrompt bool
	for _, r := range llm.Requests() {
		fedPrompt = fedPrompt || strings.Contains(r.Content("system"), "FEDERATIESJABLOON")
		ownPrompt = ownPrompt || strings.Contains(r.Content("system"), "MEPPELSJABLOON")
	}
	if !fedPrompt || !ownPrompt {
		t.Errorf("prompts: the federation's template used %v, Meppel's own %v; want both", fedPrompt, ownPrompt)
	}
	// A route naming a provider nobody described is refused; the node
	// keeps answering through what it has.
	if res := run(t, "", "federation", "put", "--server", third, "--cert", operator, "--kind", "route", "--key", "rewrite",
		"--value", `{"task":"rewrite","providers":["onbekend"]}`); res.code != 0 {
		t.Fatal(res.stderr)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(nodeLog(), "model routes and templates refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not refuse the broken route:\n%s", nodeLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := askAs("staphorst", q); got.route != "openai:fed-model" {
		t.Errorf("after a broken route the node answers through %q", got.route)
	}

	// The operator revokes the gemeente node: its certificate no longer
	// opens a connection, and the stream it held is closed.
	if res := run(t, "", "federation", "revoke", "--server", second, "--cert", operator, "--org", "GM0119", "--node", "meppel-1", "--reason", "laptop gestolen"); res.code != 0 {
		t.Fatalf("revoke: %s", res.stderr)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		res := run(t, "", "federation", "get", "--server", first, "--cert", gemeente, "--kind", "setting")
		if res.code != 0 && strings.Contains(res.stderr, "bad certificate") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revoked node still reads the registry: exit %d %s", res.code, res.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(15 * time.Second)
	for fed := ready(); fed["last_error"] == nil || fed["last_error"] == ""; fed = ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the revoked node's watch stream stayed open: %v", fed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stderrOfAll(), "closed connections of revoked certificates") {
		t.Error("no coordinator logged closing the revoked node's connection")
	}

	for _, stop := range stops {
		stop()
	}
	time.Sleep(1500 * time.Millisecond)
	fed := ready()
	if age, ok := fed["cache_age_seconds"].(float64); !ok || age < 1 || fed["index"] == float64(0) {
		t.Errorf("with the coordination servers gone: %v, want the cached index and a growing age", fed)
	}
}

// templateBody is an answer template whose system message carries mark.
func templateBody(mark string) string {
	return `{{define "system"}}` + mark + ` voor {{.Gemeente}}. Weet je het niet, zeg {{.RefusalMarker}}.{{end}}
{{define "user"}}{{.Passages}}
{{.Question}}{{end}}`
}

// A coordination server renews its own certificate when a third of its
// lifetime is left (here through itself: it holds the CA), and keeps
// serving with the new one.
func TestCoordinator_RenewsItsCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator; skipped with -short")
	}
	ca, _ := federationCA(t)
	dir := filepath.Dir(ca)
	certDir := filepath.Join(dir, "coord-1")
	if res := run(t, "", "federation", "issue", "--dir", ca, "--org", "VNG", "--role", "server", "--node", "coord-1",
		"--host", "127.0.0.1", "--ttl", "20s", "--out", certDir); res.code != 0 {
		t.Fatal(res.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(certDir, "node.crt"))
	url, _, logs := startMain(t, "coordinator", "--data", filepath.Join(dir, "data"), "--id", "coord-1", "--cert", certDir,
		"--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--bootstrap", "--ca", ca)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs(), "certificate renewed"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the coordinator did not renew its 20 s certificate:\n%s", logs())
		}
	}
	after, _ := os.ReadFile(filepath.Join(certDir, "node.crt"))
	c, err := trust.ParseCertificatePEM(after)
	if err != nil || string(after) == string(before) || time.Until(c.NotAfter) < 24*time.Hour {
		t.Fatalf("renewed certificate on disk: %v, %v", c, err)
	}
	// The API presents the new certificate.
	ops := filepath.Join(dir, "ops-1")
	if res := run(t, "", "federation", "issue", "--dir", ca, "--org", "VNG", "--role", "operator", "--node", "ops-1", "--out", ops); res.code != 0 {
		t.Fatal(res.stderr)
	}
	hc := operatorClient(t, ops)
	resp, err := hc.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0]; !got.Equal(c) {
		t.Errorf("the API presents serial %x, want the renewed %x", got.SerialNumber, c.SerialNumber)
	}
}

// A server that gives --raft-advertise is known to the others by that name,
// not by the address its listener is bound to, and replication reaches it
// there (a pod or container that restarts with a new IP keeps its name).
func TestCoordinator_RaftAdvertise(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster; skipped with -short")
	}
	ca, issue := federationCA(t)
	dir := filepath.Dir(ca)
	first, _, log1 := startMain(t, "coordinator", "--data", filepath.Join(dir, "coord-1", "data"), "--id", "coord-1",
		"--cert", issue("VNG", "server", "coord-1"), "--raft-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--bootstrap")
	cert2 := filepath.Join(dir, "coord-2")
	if res := run(t, "", "federation", "issue", "--dir", ca, "--org", "VNG", "--role", "server", "--node", "coord-2",
		"--host", "127.0.0.1", "--host", "localhost", "--out", cert2); res.code != 0 {
		t.Fatal(res.stderr)
	}
	port := freePort(t)
	second, _, _ := startMain(t, "coordinator", "--data", filepath.Join(dir, "coord-2", "data"), "--id", "coord-2",
		"--cert", cert2, "--raft-addr", "127.0.0.1:"+port, "--raft-advertise", "localhost:"+port,
		"--api-addr", "127.0.0.1:0", "--join", first)
	operator := issue("VNG", "operator", "ops-1")
	if res := run(t, "", "federation", "put", "--server", first, "--cert", operator, "--kind", "setting", "--key", "greeting",
		"--value", `{"name":"greeting","value":"goedemiddag"}`); res.code != 0 {
		t.Fatalf("put: %s", res.stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := run(t, "", "federation", "get", "--server", second, "--cert", operator, "--kind", "setting", "--key", "greeting")
		if res.code == 0 && strings.Contains(res.stdout, "goedemiddag") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the write did not reach the server at localhost:%s: %s %s", port, res.stdout, res.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(log1(), "localhost:"+port) {
		t.Errorf("the leader never named coord-2 by its advertised address localhost:%s:\n%s", port, log1())
	}
	if res := run(t, "", "coordinator", "--id", "x", "--cert", cert2, "--bootstrap", "--raft-advertise", "coord-2"); res.code != 2 {
		t.Errorf("--raft-advertise without a port: exit %d, want 2", res.code)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
