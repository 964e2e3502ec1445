package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/api/apitest"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
	"github.com/assistent-nl/assistent/gen/assistent/federation/v1/federationv1connect"
	"github.com/assistent-nl/assistent/internal/syncbuf"
)

func rpc(tb testing.TB, c *apitest.Cluster, s *apitest.Server, cert tls.Certificate) federationv1connect.RegistryServiceClient {
	tb.Helper()
	return federationv1connect.NewRegistryServiceClient(c.HTTPClient(tb, cert), s.URL)
}

func anonymous(tb testing.TB, c *apitest.Cluster, s *apitest.Server) federationv1connect.RegistryServiceClient {
	tb.Helper()
	cfg := trust.ClientTLS(tls.Certificate{}, c.CA.Pool(), nil, trust.AllowRoles(trust.RoleServer))
	cfg.Certificates = nil
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return federationv1connect.NewRegistryServiceClient(&http.Client{Transport: tr}, s.URL)
}

func mustPut(tb testing.TB, v registry.Value) registry.Command {
	tb.Helper()
	cmd, err := registry.Put(v)
	if err != nil {
		tb.Fatal(err)
	}
	return cmd
}

func apply(ctx context.Context, c federationv1connect.RegistryServiceClient, cmd registry.Command) (*federationv1.ApplyResponse, error) {
	data, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	resp, err := c.Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{Command: data}))
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

func collection(name, publisher string) registry.Collection {
	return registry.Collection{
		Name: name, Publisher: publisher, Manifest: []byte("m"), Signature: []byte("s"), Version: 1,
		Expires: time.Now().Add(time.Hour).UTC().Truncate(time.Second), ContentSHA256: strings.Repeat("a", 64),
	}
}

func TestApply_ForwardedOnce(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	op := c.Cert(t, "VNG", trust.RoleOperator, "tool")
	followers := []*apitest.Server{}
	leader := c.Leader()
	for _, s := range c.Servers {
		if s != leader {
			followers = append(followers, s)
		}
	}
	ctx := t.Context()
	cmd := mustPut(t, registry.Template{Name: "answer", Lang: "nl", Version: 1, Body: "Antwoord: {{.}}"})
	first, err := apply(ctx, rpc(t, c, followers[0], op), cmd)
	if err != nil {
		t.Fatalf("apply via follower: %v", err)
	}
	if first.Status != "ok" || first.Duplicate || first.Index == 0 {
		t.Fatalf("first apply = %+v", first)
	}
	// The same command again (a client that lost the answer), through the
	// other follower and through the leader: applied once.
	for _, s := range []*apitest.Server{followers[1], leader} {
		again, err := apply(ctx, rpc(t, c, s, op), cmd)
		if err != nil {
			t.Fatalf("retry via %s: %v", s.ID, err)
		}
		if !again.Duplicate || again.Index != first.Index {
			t.Fatalf("retry via %s = %+v, want duplicate of index %d", s.ID, again, first.Index)
		}
	}
	obj, err := leader.Coord.Registry().Get(registry.KindTemplate, "answer/nl")
	if err != nil {
		t.Fatal(err)
	}
	if obj.ModifyIndex != first.Index || obj.CreateIndex != first.Index {
		t.Fatalf("object indexes %d/%d, want %d (one application)", obj.CreateIndex, obj.ModifyIndex, first.Index)
	}
	// A key given only in the request field is used.
	cmd2 := mustPut(t, registry.Setting{Name: "x", Value: "1"})
	key := cmd2.IdempotencyKey
	cmd2.IdempotencyKey = ""
	data, _ := cmd2.Encode()
	for range 2 {
		resp, err := rpc(t, c, followers[0], op).Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{Command: data, IdempotencyKey: key}))
		if err != nil {
			t.Fatal(err)
		}
		first = resp.Msg
	}
	if !first.Duplicate {
		t.Fatalf("second apply with the request's key = %+v, want duplicate", first)
	}
	// Conflicting keys are refused.
	cmd3 := mustPut(t, registry.Setting{Name: "y", Value: "1"})
	data, _ = cmd3.Encode()
	_, err = rpc(t, c, followers[0], op).Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{Command: data, IdempotencyKey: "other"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("mismatching keys: %v, want invalid argument", err)
	}
}

func TestApply_ACL(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	ctx := t.Context()
	op := rpc(t, c, c.Follower(), c.Cert(t, "VNG", trust.RoleOperator, "tool"))
	nvvb := rpc(t, c, c.Follower(), c.Cert(t, "NVVB", trust.RolePublisher, "publish"))
	kadaster := rpc(t, c, c.Leader(), c.Cert(t, "KADASTER", trust.RolePublisher, "publish"))
	node := rpc(t, c, c.Follower(), c.Cert(t, "GM0119", trust.RoleNode, "meppel-1"))
	other := rpc(t, c, c.Leader(), c.Cert(t, "GM0200", trust.RoleNode, "apeldoorn-1"))
	server := rpc(t, c, c.Follower(), c.Cert(t, apitest.Org, trust.RoleServer, "s9"))

	blobCmds, _ := registry.PutBlob([]byte("inhoud"))
	steps := []struct {
		name   string
		client federationv1connect.RegistryServiceClient
		cmd    registry.Command
		allow  bool
	}{
		{"operator writes a template", op, mustPut(t, registry.Template{Name: "a", Lang: "nl", Version: 1, Body: "b"}), true},
		{"operator writes an org", op, mustPut(t, registry.Org{ID: "NVVB", Name: "NVVB", Role: registry.RolePublisher}), true},
		{"operator writes a route", op, mustPut(t, registry.Route{Task: "answer", Providers: []string{"extractive"}}), true},
		{"operator may not publish a collection", op, mustPut(t, collection("burgerzaken", "NVVB")), false},
		{"operator may not write a node", op, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0119", APIAddr: "10.0.0.1:443"}), false},
		{"node may not write a template", node, mustPut(t, registry.Template{Name: "a", Lang: "nl", Version: 2, Body: "evil"}), false},
		{"node registers itself", node, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0119", APIAddr: "10.0.0.1:443"}), true},
		{"node may not register another node", node, mustPut(t, registry.Node{ID: "apeldoorn-1", Org: "GM0200", APIAddr: "10.0.0.2:443"}), false},
		{"node may not register itself in another org", node, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0200", APIAddr: "10.0.0.1:443"}), false},
		{"node may not delete another node", other, registry.Delete(registry.KindNode, "meppel-1"), false},
		{"node with the same id in another org may not take over", rpc(t, c, c.Leader(), c.Cert(t, "GM0200", trust.RoleNode, "meppel-1")),
			mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0200", APIAddr: "10.0.0.9:443"}), false},
		{"node may not write blobs", node, blobCmds[0], false},
		{"publisher publishes its collection", nvvb, mustPut(t, collection("burgerzaken", "NVVB")), true},
		{"publisher writes a blob", nvvb, blobCmds[0], true},
		{"publisher may not publish as another publisher", kadaster, mustPut(t, collection("kadaster", "NVVB")), false},
		{"publisher may not overwrite another's collection", kadaster, mustPut(t, collection("burgerzaken", "KADASTER")), false},
		{"publisher may not delete another's collection", kadaster, registry.Delete(registry.KindCollection, "burgerzaken"), false},
		{"publisher may not write a template", nvvb, mustPut(t, registry.Template{Name: "a", Lang: "nl", Version: 3, Body: "b"}), false},
		{"server may write anything", server, mustPut(t, collection("noodgeval", "NVVB")), true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res, err := apply(ctx, st.client, st.cmd)
			if st.allow {
				if err != nil || res.Status != "ok" {
					t.Fatalf("allowed write: %+v, %v", res, err)
				}
				return
			}
			if connect.CodeOf(err) != connect.CodePermissionDenied {
				t.Fatalf("got %+v, %v; want permission denied", res, err)
			}
			var ce *connect.Error
			if !errors.As(err, &ce) || (!strings.Contains(ce.Message(), " may ") && !strings.Contains(ce.Message(), "belongs to")) {
				t.Errorf("refusal %v does not explain itself", err)
			}
		})
	}
	// State after the refusals: nothing refused was applied.
	reg := c.Leader().Coord.Registry()
	if tpl, _ := reg.Get(registry.KindTemplate, "a/nl"); !bytes.Contains(tpl.Value, []byte(`"version":1`)) {
		t.Errorf("template changed by a refused write: %s", tpl.Value)
	}
	var n registry.Node
	if obj, err := reg.Get(registry.KindNode, "meppel-1"); err != nil || obj.Decode(&n) != nil || n.Org != "GM0119" {
		t.Errorf("node registration = %+v, %v", n, err)
	}
	var col registry.Collection
	if obj, err := reg.Get(registry.KindCollection, "burgerzaken"); err != nil || obj.Decode(&col) != nil || col.Publisher != "NVVB" {
		t.Errorf("collection = %+v, %v", col, err)
	}
	t.Run("on_behalf_of only from servers", func(t *testing.T) {
		data, _ := mustPut(t, registry.Setting{Name: "z", Value: "1"}).Encode()
		_, err := node.Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{
			Command: data, OnBehalfOf: trust.Identity{Org: "VNG", Role: trust.RoleOperator, Node: "tool"}.String(),
		}))
		if connect.CodeOf(err) != connect.CodePermissionDenied {
			t.Fatalf("node forwarding as operator: %v, want permission denied", err)
		}
		// A server forwarding for a node is held to the node's rights.
		_, err = server.Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{
			Command: data, OnBehalfOf: trust.Identity{Org: "GM0119", Role: trust.RoleNode, Node: "meppel-1"}.String(),
		}))
		if connect.CodeOf(err) != connect.CodePermissionDenied {
			t.Fatalf("server forwarding for a node: %v, want permission denied", err)
		}
	})
}

func TestJoin_Anonymous(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	s := c.Servers[0]
	ctx := t.Context()
	anon := anonymous(t, c, s)

	if _, err := anon.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "org", Key: "VNG"})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("anonymous get: %v, want unauthenticated", err)
	}
	if _, err := anon.List(ctx, connect.NewRequest(&federationv1.ListRequest{Kind: "org"})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("anonymous list: %v, want unauthenticated", err)
	}
	st, err := anon.Watch(ctx, connect.NewRequest(&federationv1.WatchRequest{}))
	if err == nil {
		if st.Receive() {
			t.Fatal("anonymous watch received a message")
		}
		err = st.Err()
		st.Close()
	}
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("anonymous watch: %v, want unauthenticated", err)
	}
	data, _ := mustPut(t, registry.Setting{Name: "x", Value: "1"}).Encode()
	if _, err := anon.Apply(ctx, connect.NewRequest(&federationv1.ApplyRequest{Command: data})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("anonymous apply: %v, want unauthenticated", err)
	}

	token, err := c.CA.NewJoinToken(trust.Identity{Org: "GM0119", Role: trust.RoleNode}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := trust.NewCSR(key, "meppel-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Join(ctx, connect.NewRequest(&federationv1.JoinRequest{Token: "bogus", CsrPem: csr})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("join with a bad token: %v, want permission denied", err)
	}
	resp, err := anon.Join(ctx, connect.NewRequest(&federationv1.JoinRequest{Token: token, CsrPem: csr}))
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	if !bytes.Equal(resp.Msg.CaPem, c.CA.CertPEM()) {
		t.Fatal("join returned another CA")
	}
	if _, err := anon.Join(ctx, connect.NewRequest(&federationv1.JoinRequest{Token: token, CsrPem: csr})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("second join with the same token: %v, want permission denied", err)
	}
	leaf, err := trust.ParseCertificatePEM(resp.Msg.CertPem)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	member := rpc(t, c, s, cert)
	// The new certificate can watch and register its own node.
	if _, err := apply(ctx, member, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0119", APIAddr: "10.0.0.1:443"})); err != nil {
		t.Fatalf("joined node registers itself: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, err := member.Watch(wctx, connect.NewRequest(&federationv1.WatchRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	found := false
	for !found && ws.Receive() {
		for _, o := range ws.Msg().Objects {
			found = found || (o.Kind == "node" && o.Key == "meppel-1")
		}
	}
	if !found {
		t.Fatalf("joined node's watch did not show its registration: %v", ws.Err())
	}
}

func TestRevokedCertificate(t *testing.T) {
	var serverLog syncbuf.Buffer
	c := apitest.StartCluster(t, 1, apitest.Options{ServerErrors: &serverLog})
	cert := c.Cert(t, "GM0119", trust.RoleNode, "meppel-1")
	req := connect.NewRequest(&federationv1.ListRequest{Kind: "org"})
	if _, err := rpc(t, c, c.Servers[0], cert).List(t.Context(), req); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	c.Revoked.RevokeSerial(cert.Leaf.SerialNumber)
	_, err := rpc(t, c, c.Servers[0], cert).List(t.Context(), connect.NewRequest(&federationv1.ListRequest{Kind: "org"}))
	if err == nil {
		t.Fatal("revoked certificate was accepted")
	}
	// With TLS 1.3 the client may already be writing its request when the
	// server refuses the handshake, so the client sees a refused or broken
	// connection (unavailable, unknown, or canceled on a broken pipe); never
	// an answer from the API.
	switch code := connect.CodeOf(err); code {
	case connect.CodeUnavailable, connect.CodeUnknown, connect.CodeCanceled:
	default:
		t.Fatalf("revoked certificate: %v (code %v), want a refused connection", err, code)
	}
	// The server names the reason.
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(serverLog.String(), trust.ErrRevoked.Error()) {
		if time.Now().After(deadline) {
			t.Fatalf("server log does not name the revocation: %q", serverLog.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGet_Blocking(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	s := c.Servers[0]
	op := rpc(t, c, s, c.Cert(t, "VNG", trust.RoleOperator, "tool"))
	ctx := t.Context()
	res, err := apply(ctx, op, mustPut(t, registry.Setting{Name: "mode", Value: "a"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := op.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "mode"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.Object == nil || got.Msg.Index < res.Index {
		t.Fatalf("get = %+v", got.Msg)
	}
	missing, err := op.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "absent"}))
	if err != nil || missing.Msg.Object != nil || missing.Msg.Index == 0 {
		t.Fatalf("get of a missing key = %+v, %v; want no object and an index", missing, err)
	}
	// The wait elapses without a change: same index, no error.
	start := time.Now()
	same, err := op.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "mode", MinIndex: got.Msg.Index, WaitMs: 200}))
	if err != nil || same.Msg.Index != got.Msg.Index || time.Since(start) < 190*time.Millisecond {
		t.Fatalf("elapsed wait = %+v, %v after %v", same, err, time.Since(start))
	}
	// A change wakes the blocked read.
	done := make(chan *federationv1.GetResponse, 1)
	go func() {
		r, err := op.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "mode", MinIndex: got.Msg.Index, WaitMs: 10_000}))
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		done <- r.Msg
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := apply(ctx, op, mustPut(t, registry.Setting{Name: "mode", Value: "b"})); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r == nil || !bytes.Contains(r.Object.GetValue(), []byte(`"b"`)) || r.Index <= got.Msg.Index {
			t.Fatalf("woken read = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked read did not wake")
	}
	list, err := op.List(ctx, connect.NewRequest(&federationv1.ListRequest{Kind: "setting", MinIndex: got.Msg.Index}))
	if err != nil || len(list.Msg.Objects) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := op.List(ctx, connect.NewRequest(&federationv1.ListRequest{Kind: "bogus"})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("list of an unknown kind: %v", err)
	}
}

func TestGetBlob(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	pub := rpc(t, c, c.Servers[0], c.Cert(t, "NVVB", trust.RolePublisher, "publish"))
	ctx := t.Context()
	data := bytes.Repeat([]byte("burgerzaken "), 100_000) // 1.2 MB: chunked in the log and on the wire
	cmds, sum := registry.PutBlob(data)
	for _, cmd := range cmds {
		if _, err := apply(ctx, pub, cmd); err != nil {
			t.Fatal(err)
		}
	}
	st, err := pub.GetBlob(ctx, connect.NewRequest(&federationv1.GetBlobRequest{Sha256: sum}))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	parts := 0
	for st.Receive() {
		got = append(got, st.Msg().Data...)
		parts++
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || parts < 2 {
		t.Fatalf("blob: %d bytes in %d parts, want %d bytes in several", len(got), parts, len(data))
	}
	st, err = pub.GetBlob(ctx, connect.NewRequest(&federationv1.GetBlobRequest{Sha256: strings.Repeat("0", 64)}))
	if err == nil {
		for st.Receive() {
		}
		err = st.Err()
	}
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("missing blob: %v, want not found", err)
	}
}

// TestWatch_AheadOfServer checks that a watcher whose index the server has
// never reached (a rebuilt cluster) gets a snapshot.
func TestWatch_AheadOfServer(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{})
	s := c.Servers[0]
	node := rpc(t, c, s, c.Cert(t, "GM0119", trust.RoleNode, "meppel-1"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := apply(ctx, node, mustPut(t, registry.Node{ID: "meppel-1", Org: "GM0119", APIAddr: "10.0.0.1:443"})); err != nil {
		t.Fatal(err)
	}
	idx := s.Coord.Registry().Index()
	for _, tc := range []struct {
		from     uint64
		snapshot bool
	}{{0, true}, {idx, false}, {idx + 1000, true}} {
		st, err := node.Watch(ctx, connect.NewRequest(&federationv1.WatchRequest{FromIndex: tc.from}))
		if err != nil {
			t.Fatal(err)
		}
		var first *federationv1.WatchResponse
		for st.Receive() {
			if m := st.Msg(); !m.Heartbeat {
				first = m
				break
			}
			if !tc.snapshot {
				break // a heartbeat and nothing else: up to date
			}
		}
		st.Close()
		switch {
		case tc.snapshot && (first == nil || !first.Snapshot || first.Index != idx || len(first.Objects) != 1):
			t.Errorf("from %d: first batch %+v, want a snapshot at %d", tc.from, first, idx)
		case !tc.snapshot && first != nil:
			t.Errorf("from %d: got batch %+v, want only a heartbeat", tc.from, first)
		}
	}
}

// With cluster ids the server no longer guesses: a caller from another
// cluster gets a snapshot at once, a caller of this cluster that is ahead
// (this server lags) never does — the stream ends Unavailable after the
// grace, and the caller tries another server.
func TestWatch_ClusterID(t *testing.T) {
	c := apitest.StartCluster(t, 1, apitest.Options{ResyncGrace: 300 * time.Millisecond})
	s := c.Servers[0]
	own := s.Coord.ClusterID()
	if len(own) != 32 {
		t.Fatalf("cluster id %q", own)
	}
	node := rpc(t, c, s, c.Cert(t, "GM0119", trust.RoleNode, "meppel-1"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	idx := s.Coord.Registry().Index()

	st, err := node.Watch(ctx, connect.NewRequest(&federationv1.WatchRequest{FromIndex: idx + 1000, ClusterId: "00000000000000000000000000000000"}))
	if err != nil {
		t.Fatal(err)
	}
	var first *federationv1.WatchResponse
	for st.Receive() {
		if m := st.Msg(); !m.Heartbeat {
			first = m
			break
		}
	}
	st.Close()
	if first == nil || !first.Snapshot || first.ClusterId != own {
		t.Errorf("caller from another cluster: first batch %+v, want a snapshot of cluster %s", first, own)
	}

	st, err = node.Watch(ctx, connect.NewRequest(&federationv1.WatchRequest{FromIndex: idx + 1000, ClusterId: own}))
	if err != nil {
		t.Fatal(err)
	}
	for st.Receive() {
		if m := st.Msg(); !m.Heartbeat {
			t.Fatalf("caller of this cluster ahead of the server got %+v, want heartbeats only", m)
		}
	}
	if connect.CodeOf(st.Err()) != connect.CodeUnavailable {
		t.Errorf("stream ended with %v, want Unavailable", st.Err())
	}
	st.Close()
}

// A consistent read sees every write acknowledged before it, whichever
// server it is sent to: a follower forwards it to the leader, which reads
// after a Raft barrier. A forwarded read is never forwarded again.
func TestGet_Consistent(t *testing.T) {
	c := apitest.StartCluster(t, 3, apitest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ops := c.Cert(t, "VNG", trust.RoleOperator, "ops-1")
	leader, follower := rpc(t, c, c.Leader(), ops), rpc(t, c, c.Follower(), ops)
	for i := range 20 {
		v := fmt.Sprintf("%d", i)
		res, err := apply(ctx, leader, mustPut(t, registry.Setting{Name: "teller", Value: v}))
		if err != nil {
			t.Fatal(err)
		}
		got, err := follower.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "teller", Consistent: true}))
		if err != nil {
			t.Fatal(err)
		}
		if o := got.Msg.GetObject(); o == nil || o.ModifyIndex != res.Index || !strings.Contains(string(o.Value), `"`+v+`"`) {
			t.Fatalf("consistent read after write %d (index %d) got %+v", i, res.Index, o)
		}
		list, err := follower.List(ctx, connect.NewRequest(&federationv1.ListRequest{Kind: "setting", Consistent: true}))
		if err != nil || list.Msg.Index < res.Index {
			t.Fatalf("consistent list after write %d (index %d) at %v: %v", i, res.Index, list.Msg.GetIndex(), err)
		}
	}
	req := connect.NewRequest(&federationv1.GetRequest{Kind: "setting", Key: "teller", Consistent: true})
	req.Header().Set("Assistent-Forwarded-Read", "1")
	if _, err := follower.Get(ctx, req); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("a forwarded read at a follower: %v, want Unavailable", err)
	}
}
