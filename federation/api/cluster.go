package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/assistent-nl/assistent/federation/coordinator"
	"github.com/assistent-nl/assistent/federation/trust"
)

// ClusterJoinPath is where a new coordination server asks to be added to
// the Raft cluster as a voter: POST {"id","addr"} as JSON. Only callers
// with a server certificate may; a follower passes the request on to the
// leader, so a new server may ask any server it knows.
const ClusterJoinPath = "/federation/v1/cluster/join"

// clusterJoin is the body of a join request.
type clusterJoin struct {
	ID   string `json:"id"`   // the new server's Raft id
	Addr string `json:"addr"` // its Raft address
}

// NewClusterJoinHandler returns the handler of ClusterJoinPath for srv.
// client (with this server's certificate) and resolve reach the leader.
func NewClusterJoinHandler(srv *coordinator.Server, resolve Resolver, client *http.Client) http.Handler {
	return withIdentity(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		id, ok := trust.IdentityFromContext(r.Context())
		if !ok || id.Role != trust.RoleServer {
			http.Error(w, "only coordination servers may join the cluster", http.StatusForbidden)
			return
		}
		var req clusterJoin
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || req.ID == "" || req.Addr == "" {
			http.Error(w, "want a JSON body {\"id\",\"addr\"}", http.StatusBadRequest)
			return
		}
		err := srv.Join(r.Context(), req.ID, req.Addr)
		var nl *coordinator.NotLeaderError
		if errors.As(err, &nl) && nl.LeaderID != "" && client != nil {
			if url, ok := resolve(nl.LeaderID); ok {
				err = JoinCluster(r.Context(), client, url, req.ID, req.Addr)
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// JoinCluster asks the coordination server at baseURL (its API) to add the
// server id at Raft address addr. client must present a server
// certificate.
func JoinCluster(ctx context.Context, client *http.Client, baseURL, id, addr string) error {
	body, _ := json.Marshal(clusterJoin{ID: id, Addr: addr})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+ClusterJoinPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("join cluster via %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("join cluster via %s: %s: %s", baseURL, resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode == http.StatusServiceUnavailable {
			// No leader yet (a cluster being founded, an election):
			// worth another try.
			return fmt.Errorf("%w: %w", coordinator.ErrNotLeader, err)
		}
		return err
	}
	return nil
}
