package api

import (
	"errors"
	"fmt"

	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// errDenied is wrapped by every authorisation refusal.
var errDenied = errors.New("permission denied")

func deny(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errDenied, fmt.Sprintf(format, args...))
}

// operatorKinds are the kinds the operator publishes.
var operatorKinds = map[registry.Kind]bool{
	registry.KindOrg: true, registry.KindTemplate: true, registry.KindRoute: true,
	registry.KindProvider: true, registry.KindSetting: true, registry.KindRevocation: true,
}

// authorize decides from the actor's role and the command alone whether the
// actor may send it. Ownership of existing objects is checkOwner's job, on
// the leader.
func authorize(actor trust.Identity, cmd registry.Command) error {
	blob := isBlob(cmd)
	switch actor.Role {
	case trust.RoleServer:
		return nil
	case trust.RoleOperator:
		if !blob && operatorKinds[cmd.Kind] {
			return nil
		}
		return deny("%s: role operator may write orgs, templates, routes, providers, settings and revocations, not %s", actor, what(cmd))
	case trust.RolePublisher:
		if blob {
			return nil
		}
		if cmd.Kind != registry.KindCollection {
			return deny("%s: role publisher may write only its own collections and blobs, not %s", actor, what(cmd))
		}
		if cmd.Op == registry.OpPut {
			var c registry.Collection
			if err := (registry.Object{Kind: cmd.Kind, Key: cmd.Key, Value: cmd.Value}).Decode(&c); err != nil {
				return fmt.Errorf("%w: %w", registry.ErrInvalid, err)
			}
			if c.Publisher != actor.Org {
				return deny("%s: a publisher may publish collections only as itself (publisher %q is not %q)", actor, c.Publisher, actor.Org)
			}
		}
		return nil
	case trust.RoleNode:
		if blob || cmd.Kind != registry.KindNode || cmd.Key != actor.Node {
			return deny("%s: role node may write only its own node registration %q, not %s", actor, actor.Node, what(cmd))
		}
		if cmd.Op == registry.OpPut {
			var n registry.Node
			if err := (registry.Object{Kind: cmd.Kind, Key: cmd.Key, Value: cmd.Value}).Decode(&n); err != nil {
				return fmt.Errorf("%w: %w", registry.ErrInvalid, err)
			}
			if n.Org != actor.Org {
				return deny("%s: a node may register only in its own org (org %q is not %q)", actor, n.Org, actor.Org)
			}
		}
		return nil
	}
	return deny("%s: role %q may not write", actor, actor.Role)
}

func what(cmd registry.Command) string {
	switch cmd.Op {
	case registry.OpPutBlob, registry.OpPutBlobManifest:
		return "blobs"
	}
	return fmt.Sprintf("%s %s %q", cmd.Op, cmd.Kind, cmd.Key)
}

// checkOwner refuses a publisher's or node's write to a collection or node
// registration that belongs to another org, reading the owner from this
// server's state (the leader's, when called there). When the object does not
// exist yet and the caller set no condition, the command is made conditional
// on its absence, so that a concurrent creation by another org cannot be
// overwritten.
func (h *handler) checkOwner(actor trust.Identity, cmd registry.Command) (registry.Command, error) {
	var owner func(registry.Object) (string, error)
	switch {
	case actor.Role == trust.RolePublisher && cmd.Kind == registry.KindCollection && !isBlob(cmd):
		owner = func(o registry.Object) (string, error) {
			var c registry.Collection
			err := o.Decode(&c)
			return c.Publisher, err
		}
	case actor.Role == trust.RoleNode && cmd.Kind == registry.KindNode:
		owner = func(o registry.Object) (string, error) {
			var n registry.Node
			err := o.Decode(&n)
			return n.Org, err
		}
	default:
		return cmd, nil
	}
	cur, err := h.fsm.Get(cmd.Kind, cmd.Key)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		if cmd.Op == registry.OpPut && !cmd.CAS {
			cmd = cmd.IfIndex(0)
		}
		return cmd, nil
	case err != nil:
		return cmd, err
	}
	org, err := owner(cur)
	if err != nil {
		return cmd, fmt.Errorf("read owner of %s %q: %w", cmd.Kind, cmd.Key, err)
	}
	if org != actor.Org {
		return cmd, deny("%s: %s %q belongs to %s", actor, cmd.Kind, cmd.Key, org)
	}
	return cmd, nil
}

func isBlob(cmd registry.Command) bool {
	return cmd.Op == registry.OpPutBlob || cmd.Op == registry.OpPutBlobManifest
}
