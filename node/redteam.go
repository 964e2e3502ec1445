package node

import (
	"context"
	"fmt"

	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/retrieval"
)

// RunProbes asks every red-team probe of a tenant and grades the answers.
// A probe's inject_doc (a planted page, for indirect injection) is ingested
// into the tenant before the probe and removed after it, so probes do not
// see each other's pages.
func (n *Node) RunProbes(ctx context.Context, tenant string, probes []quality.Probe) ([]quality.ProbeResult, error) {
	if _, err := n.tenant(tenant); err != nil {
		return nil, err
	}
	scope := retrieval.TenantScope(tenant)
	var out []quality.ProbeResult
	for _, p := range probes {
		if p.InjectDoc != nil {
			var bad error
			_, err := n.Ingest(ctx, scope, []ingest.Page{*p.InjectDoc}, func(_ ingest.Page, err error) { bad = err })
			if err == nil {
				err = bad
			}
			if err != nil {
				return nil, fmt.Errorf("probe %s: inject page: %w", p.ID, err)
			}
		}
		a, err := n.Ask(ctx, tenant, p.Text)
		if p.InjectDoc != nil {
			if rerr := n.Remove(ctx, scope, []string{p.InjectDoc.ID}); rerr != nil {
				return nil, fmt.Errorf("probe %s: remove planted page: %w", p.ID, rerr)
			}
		}
		if err != nil {
			// A question the node rejects (too long, empty) is a refusal.
			out = append(out, quality.Grade(p, refusalFor(err)))
			continue
		}
		out = append(out, quality.Grade(p, a))
	}
	return out, nil
}
