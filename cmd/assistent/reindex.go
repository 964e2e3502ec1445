package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

const reindexSynopsis = "reindex --data DIR --to qdrant|elastic --url URL [--name NAME] [--drop] [--api-key-env VAR] [--user U --password-env VAR] [--json]"

// scaleOutIndex is a server-side retrieval.Index that reindex fills.
type scaleOutIndex interface {
	retrieval.Index
	Open(ctx context.Context) error
	Drop(ctx context.Context) error
}

// reindexSummary is what reindex --json prints.
type reindexSummary struct {
	Backend string  `json:"backend"`
	Name    string  `json:"name"`
	Chunks  int     `json:"chunks"`
	Count   int     `json:"count"` // what the backend counts afterwards
	Dim     int     `json:"dim"`
	Seconds float64 `json:"seconds"`
}

// runReindex copies every chunk of a node's bbolt file, with its stored
// vector, into a Qdrant collection or an Elasticsearch index: the
// migration to a scale-out backend, and its rebuild. The node must not be
// running (it holds the file).
func (m *Main) runReindex(ctx context.Context, args []string) error {
	fs := m.flagSet("reindex", reindexSynopsis)
	data := fs.String("data", "data", "node data directory (its assistent.db is read)")
	to := fs.String("to", "", "backend to fill: qdrant or elastic")
	target := fs.String("url", "", "the backend: Qdrant's gRPC port (http://HOST:6334) or an Elasticsearch node (http://HOST:9200)")
	name := fs.String("name", "assistent", "collection (Qdrant) or index (Elasticsearch) name")
	drop := fs.Bool("drop", false, "delete the collection or index first, so chunks no longer in the node go too")
	apiKeyEnv := fs.String("api-key-env", "", "environment variable holding the backend's API key")
	user := fs.String("user", "", "Elasticsearch user (basic authentication)")
	passwordEnv := fs.String("password-env", "", "environment variable holding the Elasticsearch user's password")
	asJSON := fs.Bool("json", false, "print a JSON summary")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("reindex: unexpected argument %q", fs.Arg(0))
	case *to != "qdrant" && *to != "elastic":
		return usagef("reindex: --to must be qdrant or elastic")
	case *target == "":
		return usagef("reindex: --url is required")
	case *to == "qdrant" && (*user != "" || *passwordEnv != ""):
		return usagef("reindex: --user and --password-env are for elastic; Qdrant takes --api-key-env")
	}
	secret := func(env string) (string, error) {
		if env == "" {
			return "", nil
		}
		v := m.getenv(env)
		if v == "" {
			return "", fmt.Errorf("reindex: the environment variable %s is empty: set it to the backend's key", env)
		}
		return v, nil
	}
	apiKey, err := secret(*apiKeyEnv)
	if err != nil {
		return err
	}
	password, err := secret(*passwordEnv)
	if err != nil {
		return err
	}

	path := filepath.Join(*data, "assistent.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("reindex: %s: %w (give the node's --data)", path, err)
	}
	st, err := store.Open(path, time.Second)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("reindex: %s is in use: stop the node first", path)
	}
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer st.Close()
	dim := 0
	err = st.ForEachChunk(func(c retrieval.Chunk) error {
		if len(c.Vector) > 0 {
			dim = len(c.Vector)
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("reindex: %w", err)
	}
	if dim == 0 {
		return fmt.Errorf("reindex: %s holds no chunks with vectors: ingest content first", path)
	}

	seq, err := st.Seq()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	embedder, err := st.Embedder()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	// Searchable once, at the end, not after every batch.
	so := scaleOut{kind: *to, url: *target, name: *name, apiKey: apiKey, user: *user, password: password,
		log: m.logger(slog.LevelWarn), bulk: true}
	x, err := so.index(dim)
	if err != nil {
		return usagef("reindex: %v", err)
	}
	defer x.Close()
	start := time.Now()
	if *drop {
		if err := x.Drop(ctx); err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
	}
	if err := x.Open(ctx); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	const batch = 500
	var buf []retrieval.Chunk
	n := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := x.Index(ctx, buf); err != nil {
			return err
		}
		n += len(buf)
		buf = buf[:0]
		return nil
	}
	err = st.ForEachChunk(func(c retrieval.Chunk) error {
		// ForEachChunk lends the vector's backing array: copy it.
		c.Vector = append([]float32(nil), c.Vector...)
		buf = append(buf, c)
		if len(buf) < batch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("reindex: after %d chunks: %w", n, err)
	}
	if r, ok := x.(interface{ Refresh(context.Context) error }); ok {
		if err := r.Refresh(ctx); err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
	}
	count, err := x.Count()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	// A node with this backend in its config takes it from here: it sends
	// the batches after seq.
	if err := st.SetBackendState(so.Name(), store.BackendState{Seq: seq, Embedder: embedder}); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	sum := reindexSummary{Backend: *to, Name: *name, Chunks: n, Count: count, Dim: dim, Seconds: time.Since(start).Seconds()}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(sum)
	}
	fmt.Fprintf(m.Stdout, "%d chunks (%d dimensions) written to %s %s in %.1fs; it holds %d.\n", n, dim, *to, *name, sum.Seconds, count)
	return nil
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")
