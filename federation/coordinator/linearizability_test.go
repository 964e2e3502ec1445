package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/registry"
)

// The operations of the linearizability workload, on settings of a few keys.
// A read is a consistent read, as the API's Get with consistent=true does
// it: the leader passes a Raft barrier, then reads its own registry; it
// answers with the key's ModifyIndex (0: absent).
const (
	opGet = "get"
	opPut = "put"
	opCAS = "cas"
	opDel = "del"
)

// Outcomes of an operation.
const (
	outOK       = "ok"
	outConflict = "conflict"
	outNotFound = "not_found"
	outUnknown  = "unknown" // timed out or failed: may or may not have been applied
)

// linInput is an operation's input. A put or cas writes value (unique in a
// run); a cas expects the key's ModifyIndex to be expect.
type linInput struct {
	op     string
	key    string
	value  string
	expect uint64
}

// linOutput is an operation's outcome: index is the ModifyIndex read, the
// one written, or the current one that made a cas fail.
type linOutput struct {
	status string
	index  uint64
}

// registerModel is a register per key whose state is the key's ModifyIndex
// (0: absent). A put or cas whose outcome is unknown sets the index at which
// the log applied its value (applied), or a value of its own if it was never
// applied; porcupine may then order it anywhere after its call.
func registerModel(applied func(value string) int64) porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range history {
				k := op.Input.(linInput).key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			var out [][]porcupine.Operation
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return int64(0) },
		Step: func(state, input, output any) (bool, any) {
			st, in, out := state.(int64), input.(linInput), output.(linOutput)
			got := int64(out.index)
			switch in.op {
			case opGet:
				return out.status == outOK && got == st, st
			case opPut:
				if out.status == outUnknown {
					return true, applied(in.value)
				}
				return out.status == outOK, got
			case opCAS:
				match := st == int64(in.expect)
				switch out.status {
				case outUnknown:
					if match {
						return true, applied(in.value)
					}
					return true, st
				case outOK:
					return match, got
				case outConflict:
					return !match && got == st, st
				}
			case opDel:
				switch out.status {
				case outUnknown:
					return true, int64(0)
				case outOK:
					return st != 0, int64(0)
				case outNotFound:
					return st == 0, st
				}
			}
			return false, st
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			switch in.op {
			case opGet:
				return fmt.Sprintf("get(%s) -> %d", in.key, out.index)
			case opPut:
				return fmt.Sprintf("put(%s, %s) -> %s %d", in.key, in.value, out.status, out.index)
			case opCAS:
				return fmt.Sprintf("cas(%s, %d, %s) -> %s %d", in.key, in.expect, in.value, out.status, out.index)
			}
			return fmt.Sprintf("del(%s) -> %s", in.key, out.status)
		},
		DescribeState: func(state any) string { return "modify index " + strconv.FormatInt(state.(int64), 10) },
	}
}

// linRun is one randomized run: its seed, length, and what it recorded.
type linRun struct {
	seed     uint64
	duration time.Duration

	mu      sync.Mutex
	ops     []porcupine.Operation
	clients atomic.Int64 // porcupine client ids handed out
	faults  []string
}

func (r *linRun) record(op porcupine.Operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// TestLinearizability runs concurrent clients doing gets, puts,
// check-and-sets and deletes on three keys against a 3-server cluster while
// a nemesis crashes and restarts the leader and isolates servers through the
// fault injector, then checks the history with porcupine against a register
// per key. Operations whose outcome is unknown count as possibly applied.
// Seeds are printed; FEDERATION_LIN_SEED=N replays run N's workload and
// fault schedule (thread timing still differs).
func TestLinearizability(t *testing.T) {
	runs, duration := 10, 10*time.Second
	if testing.Short() {
		runs, duration = 1, 3*time.Second
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FEDERATION_LIN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FEDERATION_LIN_SEED: %v", err)
		}
		seed, runs = v, 1
	}
	var total, totalUnknown int
	for i := range runs {
		r := &linRun{seed: seed + uint64(i), duration: duration}
		t.Run(fmt.Sprintf("seed=%d", r.seed), func(t *testing.T) {
			n, unknown := runLinearizability(t, r)
			total += n
			totalUnknown += unknown
		})
	}
	t.Logf("%d runs of %v, %d operations checked (%d with unknown outcome)", runs, duration, total, totalUnknown)
}

// runLinearizability performs run r and checks it; it returns how many
// operations were checked and how many of them had an unknown outcome.
func runLinearizability(t *testing.T, r *linRun) (checked, unknown int) {
	t.Logf("seed %d (replay with FEDERATION_LIN_SEED=%d)", r.seed, r.seed)
	fc := startFaultCluster(t, 3)
	keys := []string{"lin-a", "lin-b", "lin-c"}
	ctx, cancel := context.WithTimeout(context.Background(), r.duration)
	defer cancel()
	start := time.Now()
	now := func() int64 { return time.Since(start).Nanoseconds() }

	var wg sync.WaitGroup
	var writes sync.Map // value -> linOutput of an acknowledged put or cas
	for c := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.seed, uint64(c)+1))
			client := int(r.clients.Add(1) - 1)
			seen := map[string]uint64{} // last ModifyIndex this client saw per key
			for seq := 0; ctx.Err() == nil; seq++ {
				in := linInput{key: keys[rng.IntN(len(keys))]}
				var cmd registry.Command
				var err error
				switch p := rng.IntN(100); {
				case p < 40:
					in.op = opGet
				case p < 70:
					in.op, in.value = opPut, fmt.Sprintf("c%d-%d", c, seq)
					cmd, err = registry.Put(setting(in.key, in.value))
				case p < 90:
					in.op, in.value, in.expect = opCAS, fmt.Sprintf("c%d-%d", c, seq), seen[in.key]
					cmd, err = registry.Put(setting(in.key, in.value))
					cmd = cmd.IfIndex(in.expect)
				default:
					in.op = opDel
					cmd = registry.Delete(registry.KindSetting, in.key)
				}
				if err != nil {
					t.Error(err)
					return
				}
				call := now()
				octx, ocancel := context.WithTimeout(context.Background(), 3*time.Second)
				var res registry.Result
				if in.op == opGet {
					res.ModifyIndex, err = fc.consistentRead(octx, registry.KindSetting, in.key)
				} else {
					res, err = coordinator.Do(octx, fc.appliers(), cmd)
				}
				ocancel()
				ret := now()
				out := linOutput{status: outUnknown, index: res.ModifyIndex}
				switch {
				case err == nil:
					out.status = outOK
				case errors.Is(err, registry.ErrConflict):
					out.status = outConflict
				case errors.Is(err, registry.ErrNotFound):
					out.status = outNotFound
				}
				if out.status == outUnknown {
					if in.op == opGet {
						continue // a read that did not answer changed nothing
					}
					// The operation may take effect at any later time; the
					// client is done, and a new one takes its place.
					r.record(porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: math.MaxInt64})
					client = int(r.clients.Add(1) - 1)
					continue
				}
				r.record(porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
				if out.status == outOK && (in.op == opPut || in.op == opCAS) {
					writes.Store(in.value, out)
				}
				switch {
				case in.op == opDel:
					seen[in.key] = 0
				case out.status == outOK || out.status == outConflict:
					seen[in.key] = out.index
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		nemesis(ctx, fc, r)
	}()
	wg.Wait()
	if t.Failed() {
		return 0, 0
	}

	// The complete change history tells where each written value landed.
	history := fc.converge()
	values := settingValues(t, history)
	for v, idx := range values {
		if len(idx) > 1 {
			t.Errorf("value %s applied %d times, at %v", v, len(idx), idx)
		}
	}
	writes.Range(func(v, o any) bool {
		if idx := values[v.(string)]; len(idx) != 1 || idx[0] != o.(linOutput).index {
			t.Errorf("acknowledged write %s at %d is in the history at %v", v, o.(linOutput).index, idx)
		}
		return true
	})
	never := map[string]int64{}
	applied := func(value string) int64 {
		if idx := values[value]; len(idx) > 0 {
			return int64(idx[0])
		}
		if _, ok := never[value]; !ok {
			never[value] = -int64(len(never) + 1)
		}
		return never[value]
	}
	// Fill never before the check: the model must be a pure function.
	for _, op := range r.ops {
		if in := op.Input.(linInput); in.value != "" {
			applied(in.value)
		}
		if op.Return == math.MaxInt64 {
			unknown++
		}
	}
	model := registerModel(applied)
	res, info := porcupine.CheckOperationsVerbose(model, r.ops, 2*time.Minute)
	t.Logf("%d operations (%d with unknown outcome), faults: %v", len(r.ops), unknown, r.faults)
	if res != porcupine.Ok {
		dir, err := os.MkdirTemp("", "porcupine-")
		if err == nil {
			path := filepath.Join(dir, fmt.Sprintf("seed-%d.html", r.seed))
			if err := porcupine.VisualizePath(model, info, path); err == nil {
				t.Logf("visualization: %s", path)
			}
		}
		t.Fatalf("history of seed %d is %s, not linearizable", r.seed, res)
	}
	return len(r.ops), unknown
}

// nemesis injects faults until ctx ends: it crashes the leader and restarts
// it, isolates the leader, or isolates a random server, each for a while,
// then leaves the cluster whole.
func nemesis(ctx context.Context, fc *faultCluster, r *linRun) {
	rng := rand.New(rand.NewPCG(r.seed, 0))
	pause := func(lo, hi int) {
		t := time.NewTimer(time.Duration(lo+rng.IntN(hi-lo)) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	for ctx.Err() == nil {
		pause(200, 600)
		if ctx.Err() != nil {
			return
		}
		action := rng.IntN(3)
		target := rng.IntN(len(fc.addrs))
		if action < 2 {
			if target = fc.leaderIndex(3 * time.Second); target < 0 {
				continue
			}
		}
		id := fc.cfgs[target].ID
		start := time.Now()
		switch action {
		case 0:
			fc.crash(target)
			pause(300, 1000)
			fc.restart(target)
			r.faults = append(r.faults, fmt.Sprintf("crash leader %s %v", id, time.Since(start).Round(time.Millisecond)))
		default:
			fc.net.isolate(id)
			pause(400, 1200)
			fc.net.heal()
			what := "isolate"
			if action == 1 {
				what = "isolate leader"
			}
			r.faults = append(r.faults, fmt.Sprintf("%s %s %v", what, id, time.Since(start).Round(time.Millisecond)))
		}
	}
}

// TestRegisterModel checks the model on small histories, so that a model
// that accepts everything cannot pass for a linearizable cluster.
func TestRegisterModel(t *testing.T) {
	applied := func(value string) int64 {
		if value == "v1" {
			return 5
		}
		return -1 // never applied
	}
	op := func(client int, in linInput, out linOutput, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
	}
	get := func(index uint64) (linInput, linOutput) {
		return linInput{op: opGet, key: "a"}, linOutput{status: outOK, index: index}
	}
	g0in, g0 := get(0)
	g5in, g5 := get(5)
	putV1 := linInput{op: opPut, key: "a", value: "v1"}
	unknown := linOutput{status: outUnknown}
	tests := []struct {
		name    string
		history []porcupine.Operation
		ok      bool
	}{
		{"stale read after an acknowledged put", []porcupine.Operation{
			op(0, putV1, linOutput{status: outOK, index: 5}, 0, 10),
			op(1, g0in, g0, 20, 30),
		}, false},
		{"unknown put seen later", []porcupine.Operation{
			op(0, putV1, unknown, 0, math.MaxInt64),
			op(1, g0in, g0, 20, 30),
			op(1, g5in, g5, 40, 50),
		}, true},
		{"unknown put seen, then unseen", []porcupine.Operation{
			op(0, putV1, unknown, 0, math.MaxInt64),
			op(1, g5in, g5, 20, 30),
			op(1, g0in, g0, 40, 50),
		}, false},
		{"unknown put never applied", []porcupine.Operation{
			op(0, linInput{op: opPut, key: "a", value: "v9"}, unknown, 0, math.MaxInt64),
			op(1, g0in, g0, 20, 30),
		}, true},
		{"two check-and-sets from the same index both succeed", []porcupine.Operation{
			op(0, linInput{op: opCAS, key: "a", value: "v1", expect: 0}, linOutput{status: outOK, index: 5}, 0, 10),
			op(1, linInput{op: opCAS, key: "a", value: "v2", expect: 0}, linOutput{status: outOK, index: 7}, 20, 30),
		}, false},
		{"check-and-set conflict names the current index", []porcupine.Operation{
			op(0, linInput{op: opCAS, key: "a", value: "v1", expect: 0}, linOutput{status: outOK, index: 5}, 0, 10),
			op(1, linInput{op: opCAS, key: "a", value: "v2", expect: 0}, linOutput{status: outConflict, index: 5}, 20, 30),
			op(1, linInput{op: opDel, key: "a"}, linOutput{status: outOK}, 40, 50),
			op(0, linInput{op: opDel, key: "a"}, linOutput{status: outNotFound}, 60, 70),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(registerModel(applied), tt.history); got != tt.ok {
				t.Fatalf("CheckOperations = %v, want %v", got, tt.ok)
			}
		})
	}
}

// consistentRead reads kind/key linearizably from whichever server leads:
// a Raft barrier, then its own registry. It returns the object's
// ModifyIndex, 0 when it does not exist, and tries the servers until one
// leads or ctx ends.
func (fc *faultCluster) consistentRead(ctx context.Context, kind registry.Kind, key string) (uint64, error) {
	for {
		for i := range fc.addrs {
			srv := fc.server(i)
			if srv == nil || srv.Barrier(ctx) != nil {
				continue
			}
			obj, err := srv.Registry().Get(kind, key)
			switch {
			case errors.Is(err, registry.ErrNotFound):
				return 0, nil
			case err != nil:
				continue // closed meanwhile
			}
			return obj.ModifyIndex, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
