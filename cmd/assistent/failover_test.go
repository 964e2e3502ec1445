package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
)

// failoverKillsEnv sets how many leaders TestCoordinator_LeaderFailover
// kills in a row (default 3). The benchmark form is 20:
//
//	ASSISTENT_FAILOVER_KILLS=20 go test ./cmd/assistent -run TestCoordinator_LeaderFailover -count=1 -v
const failoverKillsEnv = "ASSISTENT_FAILOVER_KILLS"

// Three coordination servers as separate processes that are told nothing
// about each other's API (no --peer): the leader is killed with SIGKILL,
// again and again, each time after the previous victim has come back and
// caught up. After every kill a write is accepted within 5 s through each
// survivor (the follower forwards to a leader it learnt of from the
// registry) and through a writer that knows all three servers, the dead one
// included. The test logs the time from the kill to the accepted writes;
// with failoverKillsEnv it is the failover benchmark (BENCHMARKS.md).
func TestCoordinator_LeaderFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three coordinator processes and kills leaders; skipped with -short")
	}
	kills := 3
	if v := os.Getenv(failoverKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", failoverKillsEnv, v)
		}
		kills = n
	}
	ca, issue := federationCA(t)
	dir := filepath.Dir(ca)
	ids := []string{"coord-1", "coord-2", "coord-3"}
	apiAddr, raftAddr, certs := map[string]string{}, map[string]string{}, map[string]string{}
	for _, id := range ids {
		apiAddr[id], raftAddr[id], certs[id] = freeAddr(t), freeAddr(t), issue("VNG", "server", id)
	}
	procs := map[string]*coordProcess{}
	start := func(id string) {
		args := []string{"--data", filepath.Join(dir, id, "data"), "--cert", certs[id],
			"--raft-addr", raftAddr[id], "--api-addr", apiAddr[id]}
		if id == ids[0] {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", "https://"+apiAddr[ids[0]])
		}
		procs[id] = startCoordProcess(t, id, args...)
	}
	for _, id := range ids {
		start(id)
	}
	operator := issue("VNG", "operator", "ops-1")
	httpc := operatorClient(t, operator)
	hc, err := registryClient(stringList{"unused"}, operator)
	if err != nil {
		t.Fatal(err)
	}
	writer := func(urls ...string) *client.Writer {
		wc := client.DefaultWriterConfig()
		wc.Servers = urls
		w, err := client.NewWriter(wc, hc)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	put := func(ctx context.Context, w *client.Writer, name string) (uint64, error) {
		cmd, err := registry.Put(registry.Setting{Name: name, Value: "1"})
		if err != nil {
			return 0, err
		}
		res, err := w.Apply(ctx, cmd)
		return res.Index, err
	}
	// health returns the leader and registry index a server reports.
	health := func(id string) (leader string, index uint64) {
		resp, err := httpc.Get("https://" + apiAddr[id] + "/healthz")
		if err != nil {
			return "", 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", 0
		}
		for _, f := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(f, "leader="); ok {
				leader = v
			} else if v, ok := strings.CutPrefix(f, "index="); ok {
				index, _ = strconv.ParseUint(v, 10, 64)
			}
		}
		return leader, index
	}
	var all []string
	for _, id := range ids {
		all = append(all, "https://"+apiAddr[id])
	}
	// Every server takes a write before the first kill.
	var last uint64
	for i, id := range ids {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		idx, err := put(ctx, writer("https://"+apiAddr[id]), fmt.Sprintf("warmup.%d", i))
		cancel()
		if err != nil {
			t.Fatalf("write through %s: %v\n%s", id, err, procs[id].stderr())
		}
		last = max(last, idx)
	}

	var toAny, toEvery []time.Duration
	for k := range kills {
		// All three agree on the leader and hold every acknowledged write,
		// so the cluster has its full quorum before the kill.
		var old string
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			agree := true
			old = ""
			for _, id := range ids {
				l, idx := health(id)
				if l == "" || idx < last || (old != "" && l != old) {
					agree = false
					break
				}
				old = l
			}
			if agree && procs[old] != nil {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("kill %d: the servers do not agree on a leader holding index %d", k+1, last)
			}
		}
		procs[old].kill()
		killed := time.Now()
		// Writers start at once: one over all three servers (a node's or
		// operator's configuration, the dead one included) and one pinned
		// to each survivor.
		type outcome struct {
			via  string
			took time.Duration
			idx  uint64
			err  error
		}
		var (
			mu  sync.Mutex
			out []outcome
			wg  sync.WaitGroup
		)
		try := func(via string, w *client.Writer) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			idx, err := put(ctx, w, fmt.Sprintf("kill%02d.%s", k+1, strings.ReplaceAll(via, ":", "-")))
			mu.Lock()
			out = append(out, outcome{via, time.Since(killed), idx, err})
			mu.Unlock()
		}
		wg.Add(1)
		go try("any", writer(all...))
		for _, id := range ids {
			if id != old {
				wg.Add(1)
				go try(id, writer("https://"+apiAddr[id]))
			}
		}
		wg.Wait()
		var every time.Duration
		var line []string
		for _, o := range out {
			if o.err != nil {
				t.Errorf("kill %d (%s): write through %s: %v", k+1, old, o.via, o.err)
				continue
			}
			if o.took > 5*time.Second {
				t.Errorf("kill %d (%s): write through %s accepted %v after the kill, want within 5 s", k+1, old, o.via, o.took)
			}
			if o.via == "any" {
				toAny = append(toAny, o.took)
			}
			every = max(every, o.took)
			last = max(last, o.idx)
			line = append(line, fmt.Sprintf("%s %v", o.via, o.took.Round(time.Millisecond)))
		}
		toEvery = append(toEvery, every)
		slices.Sort(line)
		t.Logf("kill %d: leader %s killed; writes accepted after: %s", k+1, old, strings.Join(line, ", "))
		if t.Failed() {
			for _, id := range ids {
				if id != old {
					t.Logf("%s:\n%s", id, procs[id].stderr())
				}
			}
			t.FailNow()
		}
		start(old)
	}
	t.Logf("failover over %d kills: writer over all servers %s; every survivor and that writer %s", kills, spread(toAny), spread(toEvery))
}

// spread formats the minimum, median and maximum of ds.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + med) / 2
	}
	return fmt.Sprintf("min %v median %v max %v", r(s[0]), r(med), r(s[len(s)-1]))
}
