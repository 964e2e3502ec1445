package client

import (
	"fmt"
	"math/big"

	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// Revocations builds the revocation set the registry's revocation objects
// describe.
func Revocations(objs []registry.Object) (*trust.RevocationSet, error) {
	set := trust.NewRevocationSet()
	for _, o := range objs {
		var r registry.Revocation
		if err := o.Decode(&r); err != nil {
			return nil, fmt.Errorf("revocation %s: %w", o.Key, err)
		}
		if r.Serial != "" {
			n, ok := new(big.Int).SetString(r.Serial, 16)
			if !ok {
				return nil, fmt.Errorf("revocation %s: serial %q is not hex", o.Key, r.Serial)
			}
			set.RevokeSerial(n)
			continue
		}
		set.RevokeNode(r.Org, r.Node)
	}
	return set, nil
}
