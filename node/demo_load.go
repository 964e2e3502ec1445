package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/assistent-nl/assistent/node/demo"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
)

// LoadDemo creates the demo tenant (the fictional gemeente Lindewaarde) with
// its pages and the bundled national Rijksoverheid collection, unless the
// tenant already exists. It is safe to run again after an interruption:
// the tenant is stored last, and unchanged pages are skipped.
func (n *Node) LoadDemo(ctx context.Context) (loaded bool, err error) {
	p := demo.Tenant()
	if _, err := n.store.Tenant(p.ID); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	start := time.Now()
	nat, err := demo.NationalPages()
	if err != nil {
		return false, fmt.Errorf("demo national collection: %w", err)
	}
	defer nat.Close()
	if err := n.ingestStream(ctx, retrieval.NationalScope(demo.NationalName()), nat, "rijksoverheid.jsonl"); err != nil {
		return false, err
	}
	if err := n.ingestStream(ctx, retrieval.TenantScope(p.ID), demo.TenantPages(), "lindewaarde.jsonl"); err != nil {
		return false, err
	}
	t := store.Tenant{ID: p.ID, Name: p.Name, Phone: p.Phone, ContactURL: p.ContactURL, Hours: p.Hours, Sites: p.Sites, Updated: time.Now().UTC()}
	if err := n.store.PutTenant(t); err != nil {
		return false, err
	}
	n.log.Info("demo content loaded", "tenant", p.ID, "took", time.Since(start).Round(time.Millisecond))
	return true, nil
}

// ingestStream ingests a bundled JSON Lines stream in batches; bundled data
// must be valid, so a bad line is an error.
func (n *Node) ingestStream(ctx context.Context, scope string, r io.Reader, name string) error {
	var batch []ingest.Page
	var badErr error
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := n.Ingest(ctx, scope, batch, func(p ingest.Page, err error) {
			badErr = errors.Join(badErr, fmt.Errorf("%s: page %s: %w", name, p.ID, err))
		})
		batch = batch[:0]
		return err
	}
	err := ingest.ReadJSONL(r, name, func(p ingest.Page) error {
		batch = append(batch, p)
		if len(batch) >= 128 {
			return flush()
		}
		return nil
	}, func(e *ingest.LineError) { badErr = errors.Join(badErr, e) })
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return badErr
}
