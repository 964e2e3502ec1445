package main

import (
	"context"
	"log/slog"
	"slices"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
)

// applyRevocations makes rev hold the revocations in objs and closes the
// tracked connections of certificates revoked now.
func applyRevocations(objs []registry.Object, rev *trust.RevocationSet, conns *trust.Conns, log *slog.Logger) {
	set, err := client.Revocations(objs)
	if err != nil {
		// The registry validated every record; keep what we have.
		log.Error("federation: revocations unreadable; keeping the previous set", "err", err)
		return
	}
	rev.ReplaceWith(set)
	if closed := conns.CloseRevoked(rev); closed > 0 {
		log.Warn("federation: closed connections of revoked certificates", "connections", closed)
	}
}

// followRevocations keeps rev equal to the revocations in a coordination
// server's own registry until ctx ends.
func followRevocations(ctx context.Context, fsm *registry.FSM, rev *trust.RevocationSet, conns *trust.Conns, log *slog.Logger) {
	followRegistry(ctx, fsm, func(o registry.Object) bool { return o.Kind == registry.KindRevocation }, func() {
		objs, err := fsm.List(registry.KindRevocation)
		if err != nil {
			log.Error("federation: list revocations", "err", err)
			return
		}
		applyRevocations(objs, rev, conns, log)
	})
}

// followRegistry calls refresh now, and again after every change of a
// coordination server's registry that has an object matching (or is a
// snapshot), until ctx ends.
func followRegistry(ctx context.Context, fsm *registry.FSM, match func(registry.Object) bool, refresh func()) {
	refresh()
	w := fsm.Watch(fsm.Index())
	for {
		b, err := w.Next(ctx)
		if err != nil {
			return
		}
		if b.Snapshot || slices.ContainsFunc(b.Objects, match) {
			refresh()
		}
	}
}
