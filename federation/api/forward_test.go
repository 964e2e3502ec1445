package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// Servers that know each other only from the registry (no static map of
// API addresses): the leader announces its API when it takes office, a
// follower forwards writes to it, and after the leader is killed both
// survivors accept a write within 5 s, the follower by forwarding to a
// leader it has never been told about.
func TestForward_AnnouncedLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("three-server cluster; skipped with -short")
	}
	c := apitest.StartCluster(t, 3, apitest.Options{Announced: true})
	op := c.Cert(t, "VNG", trust.RoleOperator, "tool")
	leader := c.Leader()
	waitAnnounced := func(s *apitest.Server, id, url string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if u, ok := s.Coord.APIURL(id); ok && u == url {
				return
			}
			if time.Now().After(end) {
				u, _ := s.Coord.APIURL(id)
				t.Fatalf("%s: server %s announced %q, want %q", s.ID, id, u, url)
			}
		}
	}
	for _, s := range c.Servers {
		waitAnnounced(s, leader.ID, leader.URL)
	}
	if _, err := apply(t.Context(), rpc(t, c, c.Follower(), op), mustPut(t, registry.Setting{Name: "before", Value: "1"})); err != nil {
		t.Fatalf("write through a follower: %v", err)
	}
	// Only servers announce servers.
	_, err := apply(t.Context(), rpc(t, c, c.Follower(), op), mustPut(t, registry.Server{ID: leader.ID, APIURL: "https://127.0.0.1:1"}))
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("operator announcing a server: %v, want permission denied", err)
	}

	for i, s := range c.Servers {
		if s == leader {
			c.Kill(i)
		}
	}
	killed := time.Now()
	var wg sync.WaitGroup
	for _, s := range c.Servers {
		if !s.Alive() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			cl := rpc(t, c, s, op)
			cmd := mustPut(t, registry.Setting{Name: "after." + s.ID, Value: "1"})
			for {
				_, err := apply(ctx, cl, cmd)
				if err == nil {
					t.Logf("write through %s accepted %v after the kill", s.ID, time.Since(killed).Round(time.Millisecond))
					return
				}
				if ctx.Err() != nil {
					t.Errorf("write through %s not accepted within 5 s of the kill: %v", s.ID, err)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	next := c.Leader()
	for _, s := range c.Servers {
		if s.Alive() {
			waitAnnounced(s, next.ID, next.URL)
		}
	}
}
