package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	// Below Linux's ephemeral range (32768-60999): a server killed and
	// started again on its address must find it free, and in the ephemeral
	// range an outgoing connection (a peer dialling the dead server,
	// which on loopback can even connect to itself) may hold it meanwhile.
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

// coordProcess is a coordination server running as a child process.
type coordProcess struct {
	id, url string
	cmd     *exec.Cmd
	done    chan struct{}
	mu      sync.Mutex
	log     strings.Builder
}

// startCoordProcess starts `assistent coordinator` with args as a child
// process and waits until it prints its API URL.
func startCoordProcess(t *testing.T, id string, args ...string) *coordProcess {
	t.Helper()
	p := &coordProcess{id: id, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"coordinator", "--id", id}, args...)...)
	p.cmd.Env = append(os.Environ(), "ASSISTENT_CHILD=1")
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b, _ := io.ReadAll(stderr)
		p.mu.Lock()
		p.log.Write(b)
		p.mu.Unlock()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), ", API on "); ok {
				urls <- u
			}
		}
	}()
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	select {
	case p.url = <-urls:
		return p
	case <-p.done:
		t.Fatalf("%s ended at start:\n%s", id, p.stderr())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start:\n%s", id, p.stderr())
	}
	return p
}

func (p *coordProcess) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill ends the process with SIGKILL: no leadership transfer, no clean
// shutdown.
func (p *coordProcess) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Three coordination servers as separate processes: the leader is killed
// with SIGKILL, the other two elect a new one and accept writes within
// 5 s, and nothing acknowledged before is lost. Then the whole cluster goes
// down: a gemeente node keeps answering from its copy, and catches up when
// the servers are back.
func TestCoordinator_SeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three coordinator processes; skipped with -short")
	}
	ca, issue := federationCA(t)
	dir := filepath.Dir(ca)
	ids := []string{"coord-1", "coord-2", "coord-3"}
	api, raftAddr := map[string]string{}, map[string]string{}
	var peerFlags []string
	for _, id := range ids {
		api[id], raftAddr[id] = freeAddr(t), freeAddr(t)
		peerFlags = append(peerFlags, "--peer", id+"=https://"+api[id])
	}
	certs := map[string]string{}
	for _, id := range ids {
		certs[id] = issue("VNG", "server", id)
	}
	procs := map[string]*coordProcess{}
	start := func(i int) {
		id := ids[i]
		args := []string{"--data", filepath.Join(dir, id, "data"), "--cert", certs[id],
			"--raft-addr", raftAddr[id], "--api-addr", api[id]}
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", "https://"+api[ids[0]])
		}
		procs[id] = startCoordProcess(t, id, append(args, peerFlags...)...)
	}
	for i := range ids {
		start(i)
	}
	operator := issue("VNG", "operator", "ops-1")
	httpc := operatorClient(t, operator)
	put := func(server string, n int) error {
		res := run(t, "", "federation", "put", "--server", server, "--cert", operator, "--kind", "setting",
			"--key", fmt.Sprintf("s%03d", n), "--value", fmt.Sprintf(`{"name":"s%03d","value":"%d"}`, n, n))
		if res.code != 0 {
			return fmt.Errorf("%s", res.stderr)
		}
		return nil
	}
	leader := func(server string) string {
		resp, err := httpc.Get(server + "/healthz")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		_, rest, ok := strings.Cut(string(b), "leader=")
		if !ok {
			return ""
		}
		return strings.Fields(rest)[0]
	}
	// Ten writes through the followers and the leader alike.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 10; {
		if err := put(procs[ids[i%3]].url, i); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("write %d: %v", i, err)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		i++
	}
	old := leader(procs[ids[1]].url)
	if procs[old] == nil {
		t.Fatalf("no leader known: %q", old)
	}
	procs[old].kill()
	killed := time.Now()
	var rest []*coordProcess
	for _, id := range ids {
		if id != old {
			rest = append(rest, procs[id])
		}
	}
	// The first write accepted after the kill, through either survivor.
	var took time.Duration
	for i := 10; took == 0; {
		if put(rest[i%2].url, 10) == nil {
			took = time.Since(killed)
			break
		}
		i++
		if time.Since(killed) > 20*time.Second {
			t.Fatalf("no write accepted 20 s after the leader was killed:\n%s\n%s", rest[0].stderr(), rest[1].stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("leader %s killed; a write was accepted again after %v (new leader %s)", old, took.Round(time.Millisecond), leader(rest[0].url))
	if took > 5*time.Second {
		t.Errorf("writes resumed %v after the leader was killed, want within 5 s", took)
	}
	// Every acknowledged write reaches both survivors (a follower may
	// trail the leader for a moment).
	for _, p := range rest {
		var missing []string
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			res := run(t, "", "federation", "get", "--server", p.url, "--cert", operator, "--kind", "setting", "--consistent")
			missing = missing[:0]
			for i := 0; i <= 10; i++ {
				if !strings.Contains(res.stdout, fmt.Sprintf(`"s%03d"`, i)) {
					missing = append(missing, fmt.Sprintf("s%03d", i))
				}
			}
			if len(missing) == 0 || time.Now().After(end) {
				break
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks acknowledged writes %v", p.id, missing)
		}
	}

	// A gemeente node watches the two that are left.
	gemeente := issue("GM0119", "node", "meppel-1")
	cfgPath := filepath.Join(dir, "node.json")
	var servers []string
	for _, id := range ids {
		servers = append(servers, "https://"+api[id])
	}
	cfgJSON, _ := json.Marshal(map[string]any{"federation": map[string]any{"servers": servers, "cert": gemeente}})
	if err := os.WriteFile(cfgPath, cfgJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	nodeData := filepath.Join(dir, "node-data")
	if res := run(t, "", "tenant", "set", "--data", nodeData, "--id", "meppel", "--name", "Gemeente Meppel"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	if res := run(t, "", "ingest", "--data", nodeData, "--tenant", "meppel", "--jsonl", writeFile(t, "p.jsonl", pagesJSONL)); res.code != 0 {
		t.Fatal(res.stderr)
	}
	base, _, nodeLog := startMain(t, "serve", "--config", cfgPath, "--data", nodeData, "--addr", "127.0.0.1:0")
	index := func() float64 {
		resp, err := http.Get(base + "readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Federation struct {
				Index float64 `json:"index"`
			} `json:"federation"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Federation.Index
	}
	waitIndex := func(what string, ok func(float64) bool) float64 {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if i := index(); ok(i) {
				return i
			}
			if time.Now().After(end) {
				t.Fatalf("%s: index %v\n%s", what, index(), nodeLog())
			}
		}
	}
	synced := waitIndex("the node did not sync", func(i float64) bool { return i > 0 })

	// The whole cluster goes down; the node answers from its own pages.
	for _, p := range procs {
		p.kill()
	}
	resp, err := http.Post(base+"api/v1/tenants/meppel/ask", "application/json", strings.NewReader(`{"question":"hoe vraag ik een paspoort aan"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "proef.example/paspoort") {
		t.Errorf("with the cluster down: %d %s", resp.StatusCode, body)
	}
	// Back up, from their own data, and a new write reaches the node.
	for i := range ids {
		start(i)
	}
	for end := time.Now().Add(30 * time.Second); put(procs[ids[0]].url, 11) != nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no write after the restart:\n%s", procs[ids[0]].stderr())
		}
	}
	waitIndex("the node did not resync after the restart", func(i float64) bool { return i > synced })
}

// operatorClient is an HTTPS client that presents the certificate in dir.
func operatorClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13}}}
}
