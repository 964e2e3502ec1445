package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/store"
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// validID checks a tenant or collection id: lower-case letters, digits and
// hyphens, at most 63 characters.
func validID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%q is not a valid id: use lower-case letters, digits and hyphens (at most 63), e.g. \"meppel\"", id)
	}
	return nil
}

type tenantFlags struct {
	id, name, phone, contactURL, hours string
	sites, removeSites                 []string
	set                                map[string]bool // flags given on the command line
}

func (m *Main) runTenant(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "token" {
		return m.runTenantToken(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "set" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(m.Stderr, "Usage: assistent tenant set --data DIR --id ID [--name N] [--phone P] [--contact-url U] [--hours H] [--site SITE]... [--remove-site SITE]...")
			fmt.Fprintln(m.Stderr, "       assistent tenant token --data DIR --id ID")
			return nil
		}
		return usagef("tenant: want 'tenant set --id ID ...' or 'tenant token --id ID'")
	}
	fs := m.flagSet("tenant set", "tenant set --data DIR --id ID [--name N] [--phone P] [--contact-url U] [--hours H] [--site SITE]... [--remove-site SITE]...")
	data := fs.String("data", "data", "node data directory")
	var tf tenantFlags
	fs.StringVar(&tf.id, "id", "", "tenant id, e.g. meppel")
	fs.StringVar(&tf.name, "name", "", "name residents read, e.g. \"Gemeente Meppel\"")
	fs.StringVar(&tf.phone, "phone", "", "phone number for referrals, e.g. \"14 0522\"")
	fs.StringVar(&tf.contactURL, "contact-url", "", "URL of the contact form")
	fs.StringVar(&tf.hours, "hours", "", "opening hours, e.g. \"ma-vr 8.30-17.00 uur\"")
	var sites, removeSites stringList
	fs.Var(&sites, "site", "add a site that embeds the widget (repeatable): a host (www.meppel.nl: https), host:port, or scheme://host[:port] (http://127.0.0.1:8765)")
	fs.Var(&removeSites, "remove-site", "remove a site added before (repeatable)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("tenant set: unexpected argument %q", fs.Arg(0))
	}
	tf.sites, tf.removeSites = sites, removeSites
	tf.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { tf.set[f.Name] = true })
	if err := validID(tf.id); err != nil {
		return usagef("tenant set: --id: %v", err)
	}
	if tf.contactURL != "" {
		u, err := url.Parse(tf.contactURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return usagef("tenant set: --contact-url: %q is not an http(s) URL", tf.contactURL)
		}
	}
	for i, s := range tf.sites {
		norm, err := store.NormaliseSite(s)
		if err != nil {
			return usagef("tenant set: --site: %v", err)
		}
		tf.sites[i] = norm
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	if err := putTenant(n, tf); err != nil {
		return err
	}
	t, _ := n.Store().Tenant(tf.id)
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// runTenantToken creates a new trigger token for the tenant's crawl API
// (POST /api/v1/tenants/{id}/sources/{source}/crawl) and prints it once.
// Any earlier token stops working.
func (m *Main) runTenantToken(ctx context.Context, args []string) error {
	fs := m.flagSet("tenant token", "tenant token --data DIR --id ID")
	data := fs.String("data", "data", "node data directory")
	id := fs.String("id", "", "tenant id")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := validID(*id); err != nil {
		return usagef("tenant token: --id: %v", err)
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	if err := requireTenant(n, *id); err != nil {
		return err
	}
	token, err := n.NewTriggerToken(*id)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, token)
	fmt.Fprintln(m.Stderr, "assistent: keep this token secret; it is shown only once. Use it as: Authorization: Bearer <token>")
	return nil
}

// putTenant creates the tenant or updates the fields given in tf.
func putTenant(n *node.Node, tf tenantFlags) error {
	t, err := n.Store().Tenant(tf.id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t.ID = tf.id
	given := func(name string) bool { return tf.set == nil || tf.set[name] }
	if given("name") && tf.name != "" || t.Name == "" {
		t.Name = tf.name
	}
	if given("phone") {
		t.Phone = tf.phone
	}
	if given("contact-url") {
		t.ContactURL = tf.contactURL
	}
	if given("hours") {
		t.Hours = tf.hours
	}
	// Sites are added and removed one by one: a new site never drops the
	// ones the widget already runs on.
	for _, s := range tf.sites {
		t.AddSite(s)
	}
	for _, s := range tf.removeSites {
		t.RemoveSite(s)
	}
	if t.Name == "" {
		t.Name = tf.id
	}
	t.Updated = time.Now().UTC()
	if err := n.Store().PutTenant(t); err != nil {
		return fmt.Errorf("store tenant %s: %w", tf.id, err)
	}
	return nil
}
