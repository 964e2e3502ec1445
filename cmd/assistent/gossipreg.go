package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
)

// The registry carries the gossip keyring and the seeds, so that an
// operator rotates the key in one place and nodes find the coordination
// servers without listing them:
//
//   - setting "gossip.keyring": the keys in base64, comma-separated, the
//     one to encrypt with first. Rotation: put "new,old", wait until every
//     member has it, then put "new".
//   - settings "gossip.seed.<server id>": a coordination server's gossip
//     address, written by the server itself at start.
//
// A member's first key comes with its own configuration (key file); the
// registry's keyring is applied on top whenever it changes.
const (
	settingKeyring    = "gossip.keyring"
	settingSeedPrefix = "gossip.seed."
)

// gossipSettings is what the registry says about gossip.
type gossipSettings struct {
	keys  [][]byte // primary first; nil: the registry has no keyring
	seeds []string
}

// readGossipSettings picks the gossip settings out of the registry's
// settings.
func readGossipSettings(objs []registry.Object) (gossipSettings, error) {
	var gs gossipSettings
	for _, o := range objs {
		var s registry.Setting
		if err := o.Decode(&s); err != nil {
			return gs, fmt.Errorf("setting %s: %w", o.Key, err)
		}
		switch {
		case s.Name == settingKeyring:
			for i, part := range strings.Split(s.Value, ",") {
				key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
				if err != nil || len(key) != 32 {
					return gs, fmt.Errorf("setting %s: key %d is not 32 bytes in base64", settingKeyring, i+1)
				}
				gs.keys = append(gs.keys, key)
			}
		case strings.HasPrefix(s.Name, settingSeedPrefix):
			if _, _, err := net.SplitHostPort(s.Value); err == nil {
				gs.seeds = append(gs.seeds, s.Value)
			}
		}
	}
	slices.Sort(gs.seeds)
	return gs, nil
}

// applyRegistry installs the registry's keyring on the member (the first
// key becomes the one it encrypts with, keys no longer listed are removed)
// and adds the registry's seeds to those it joins through.
func (g *gossipMember) applyRegistry(gs gossipSettings, log *slog.Logger) {
	if g == nil {
		return
	}
	if len(gs.keys) > 0 {
		var errs []error
		for _, k := range gs.keys {
			errs = append(errs, g.m.InstallKey(k))
		}
		errs = append(errs, g.m.UseKey(gs.keys[0]))
		for _, k := range g.m.Keys() {
			if !slices.ContainsFunc(gs.keys, func(w []byte) bool { return string(w) == string(k) }) {
				errs = append(errs, g.m.RemoveKey(k))
			}
		}
		if err := errors.Join(errs...); err != nil {
			log.Error("gossip: registry keyring not applied", "err", err)
		} else {
			log.Info("gossip: keyring from the registry applied", "keys", len(gs.keys))
		}
	}
	g.addSeeds(gs.seeds)
}

// addSeeds adds seeds the member did not know yet.
func (g *gossipMember) addSeeds(seeds []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range seeds {
		if !slices.Contains(g.seeds, s) {
			g.seeds = append(g.seeds, s)
		}
	}
}

// seedList returns the seeds to join through now.
func (g *gossipMember) seedList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.seeds)
}

// announceSeed writes the coordination server's gossip address to the
// registry (setting gossip.seed.<id>) through its own API, retrying until
// it is stored or ctx ends.
func announceSeed(ctx context.Context, w *client.Writer, id, addr string, log *slog.Logger) {
	cmd, err := registry.Put(registry.Setting{Name: settingSeedPrefix + id, Value: addr})
	if err != nil {
		log.Error("gossip: announce seed", "err", err)
		return
	}
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		res, err := w.Apply(ctx, cmd)
		if err == nil {
			err = res.Err()
		}
		if err == nil {
			log.Info("gossip: seed address in the registry", "addr", addr)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// followGossipSettings applies the gossip settings of a coordination
// server's own registry to its member until ctx ends.
func followGossipSettings(ctx context.Context, fsm *registry.FSM, g *gossipMember, log *slog.Logger) {
	var last string
	refresh := func() {
		objs, err := fsm.List(registry.KindSetting)
		if err != nil {
			return
		}
		gs, err := readGossipSettings(objs)
		if err != nil {
			log.Error("gossip: registry settings", "err", err)
			return
		}
		if sig := fmt.Sprint(gs); sig != last {
			last = sig
			g.applyRegistry(gs, log)
		}
	}
	followRegistry(ctx, fsm, func(o registry.Object) bool {
		return o.Kind == registry.KindSetting && strings.HasPrefix(o.Key, "gossip.")
	}, refresh)
}
