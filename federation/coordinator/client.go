package coordinator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/assistent-nl/assistent/federation/registry"
)

// Applier applies registry commands. *Server implements it; so will the
// Connect client of a remote coordination server.
type Applier interface {
	Apply(ctx context.Context, cmd registry.Command) (registry.Result, error)
}

var _ Applier = (*Server)(nil)

// Servers maps the Raft address of each coordination server (the address
// that leader hints name) to a way of reaching it.
type Servers map[string]Applier

// Retry backoff bounds for Do and joins: the wait before the n-th retry is
// drawn uniformly from [b/2, b] with b = minBackoff·2ⁿ, capped at maxBackoff.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
	// maxHops bounds how many leader hints are followed in a row before
	// backing off, so two servers that name each other cannot ping-pong.
	maxHops = 3
)

// Do applies cmd through the servers until one accepts it or ctx ends. It
// follows leader hints, and while there is no leader (an election, a
// transfer, an unreachable server) it retries with jittered exponential
// backoff. Every attempt carries the same idempotency key (Do assigns one if
// cmd has none), so a command whose outcome was unknown is applied at most
// once; its Result then has Duplicate set. Errors that a retry cannot fix
// (invalid, too large, conflict, not found) return at once.
func Do(ctx context.Context, servers Servers, cmd registry.Command) (registry.Result, error) {
	if len(servers) == 0 {
		return registry.Result{}, errors.New("do: no coordination servers")
	}
	if cmd.IdempotencyKey == "" {
		cmd.IdempotencyKey = registry.NewIdempotencyKey()
	}
	addrs := make([]string, 0, len(servers))
	for a := range servers {
		addrs = append(addrs, a)
	}
	var res registry.Result
	known := func(addr string) bool { _, ok := servers[addr]; return ok }
	err := retryLeader(ctx, addrs, known, func(ctx context.Context, addr string) error {
		var err error
		res, err = servers[addr].Apply(ctx, cmd)
		return err
	})
	return res, err
}

// retryLeader calls call on the servers at addrs until it succeeds or fails
// with an error a retry cannot fix, following *NotLeaderError hints to
// servers that known accepts and backing off with jitter otherwise.
func retryLeader(ctx context.Context, addrs []string, known func(addr string) bool, call func(ctx context.Context, addr string) error) error {
	addrs = slices.Clone(addrs)
	slices.Sort(addrs)
	next := rand.IntN(len(addrs))
	backoff := minBackoff
	hops := 0
	target := ""
	for {
		if target == "" {
			target = addrs[next%len(addrs)]
			next++
		}
		err := call(ctx, target)
		if err == nil || !retryable(err) {
			return err
		}
		var nl *NotLeaderError
		if errors.As(err, &nl) && nl.LeaderAddr != "" && nl.LeaderAddr != target &&
			known(nl.LeaderAddr) && hops < maxHops {
			target = nl.LeaderAddr
			hops++
			continue
		}
		hops, target = 0, ""
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// retryable reports whether another attempt, perhaps on another server, may
// succeed.
func retryable(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUnknownOutcome) ||
		errors.Is(err, ErrClosed) || errors.Is(err, registry.ErrClosed) || errors.As(err, &ne)
}
