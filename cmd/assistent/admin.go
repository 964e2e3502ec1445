package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/admin"
	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/store"
)

// adminStore is the part of a node's data file the admin commands use:
// accounts and the audit log, opened without the indexes, so these
// commands are quick and work while the node is stopped.
type adminStore struct {
	st       *store.Store
	accounts *admin.Accounts
	audit    *audit.Log
}

func openAdminStore(data string, create bool) (*adminStore, error) {
	path := filepath.Join(data, "assistent.db")
	if _, err := os.Stat(path); err != nil {
		if !create {
			return nil, fmt.Errorf("no node data in %s: give the node's --data directory", data)
		}
		if err := os.MkdirAll(data, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	st, err := store.Open(path, 2*time.Second)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("open %s: %w: stop the node first, or use the admin portal or API while it runs", data, store.ErrLocked)
	}
	if err != nil {
		return nil, err
	}
	acc, err := admin.OpenAccounts(st.Bolt(), nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	log, err := audit.Open(st.Bolt(), nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &adminStore{st: st, accounts: acc, audit: log}, nil
}

func (s *adminStore) Close() error { return s.st.Close() }

const adminUsage = `Usage: assistent admin user add --data DIR --email E --role R [--name N] [--tenant ID]... [--oidc-subject S]
       assistent admin token --data DIR --email E --scope admin|read [--ttl 24h] [--name N]

user add reads the password from the first line of stdin unless --oidc-subject is given.
Roles: beheerder (everything), redacteur (content, review), analist (dashboard), auditor (audit log).
`

func (m *Main) runAdmin(ctx context.Context, args []string) error {
	switch {
	case len(args) >= 2 && args[0] == "user" && args[1] == "add":
		return m.runAdminUserAdd(args[2:])
	case len(args) >= 1 && args[0] == "token":
		return m.runAdminToken(args[1:])
	case len(args) >= 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help"):
		fmt.Fprint(m.Stderr, adminUsage)
		return nil
	}
	fmt.Fprint(m.Stderr, adminUsage)
	return usagef("admin: want 'admin user add' or 'admin token'")
}

func (m *Main) runAdminUserAdd(args []string) error {
	fs := m.flagSet("admin user add", "admin user add --data DIR --email E --role R [--name N] [--tenant ID]... [--oidc-subject S]")
	data := fs.String("data", "data", "node data directory")
	email := fs.String("email", "", "the account's e-mail address (its sign-in name)")
	role := fs.String("role", "", "beheerder, redacteur, analist or auditor")
	name := fs.String("name", "", "the account holder's name")
	subject := fs.String("oidc-subject", "", "sign in with OIDC as this subject instead of a password")
	var tenants stringList
	fs.Var(&tenants, "tenant", "limit the account to this tenant (repeatable; none: all tenants)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("admin user add: unexpected argument %q", fs.Arg(0))
	}
	if _, err := admin.NormalEmail(*email); err != nil {
		return usagef("admin user add: --email: %v", err)
	}
	r, err := admin.ParseRole(*role)
	if err != nil {
		return usagef("admin user add: --role: %v", err)
	}
	for _, t := range tenants {
		if err := validID(t); err != nil {
			return usagef("admin user add: --tenant: %v", err)
		}
	}
	password := ""
	if *subject == "" {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("admin user add: give the password on the first line of stdin (or --oidc-subject)")
		}
		password = strings.TrimRight(line, "\r\n")
		if err := admin.CheckPassword(password); err != nil {
			return usagef("admin user add: password: %v", err)
		}
	}
	s, err := openAdminStore(*data, true)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, t := range tenants {
		if _, err := s.st.Tenant(t); err != nil {
			return fmt.Errorf("admin user add: tenant %s does not exist: create it first (assistent tenant set --id %s)", t, t)
		}
	}
	u, err := s.accounts.AddUser(admin.NewUser{Email: *email, Name: *name, Role: r, Tenants: tenants, Password: password, OIDCSubject: *subject})
	if err != nil {
		return fmt.Errorf("admin user add: %w", err)
	}
	if _, err := s.audit.Append(audit.Entry{Actor: "cli", Via: "cli", Action: "user.create", Outcome: "ok", Target: u.Email, After: audit.Value(u.Public())}); err != nil {
		return err
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(u.Public())
}

func (m *Main) runAdminToken(args []string) error {
	fs := m.flagSet("admin token", "admin token --data DIR --email E --scope admin|read [--ttl 24h] [--name N]")
	data := fs.String("data", "data", "node data directory")
	email := fs.String("email", "", "the account the token acts as")
	scope := fs.String("scope", "admin", "admin (what the account's role may do) or read (GET only)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	name := fs.String("name", "cli", "what the token is for")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("admin token: unexpected argument %q", fs.Arg(0))
	}
	if _, err := admin.ParseScope(*scope); err != nil {
		return usagef("admin token: --scope: %v", err)
	}
	if *ttl <= 0 || *ttl > admin.MaxTokenTTL {
		return usagef("admin token: --ttl: between 1s and %s", admin.MaxTokenTTL)
	}
	s, err := openAdminStore(*data, false)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.accounts.UserByEmail(*email)
	if errors.Is(err, admin.ErrNotFound) {
		return fmt.Errorf("admin token: no account %s: create it with assistent admin user add", *email)
	} else if err != nil {
		return err
	}
	secret, t, err := s.accounts.NewToken(u.ID, *name, *scope, *ttl)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if _, err := s.audit.Append(audit.Entry{Actor: "cli", Via: "cli", Action: "token.create", Outcome: "ok", Target: t.ID, After: audit.Value(t.Info())}); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, secret)
	fmt.Fprintf(m.Stderr, "assistent: token %s for %s (scope %s) expires %s; it is shown only once. Use it as: Authorization: Bearer <token>\n",
		t.ID, u.Email, t.Scope, t.Expires.Local().Format(time.RFC3339))
	return nil
}

const auditUsage = `Usage: assistent audit verify --data DIR
       assistent audit export --data DIR --format jsonl|csv [--actor E] [--action PREFIX] [--tenant ID]

verify exits 0 when the hash chain is intact and 1 naming the first bad entry.
`

func (m *Main) runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(m.Stderr, auditUsage)
		if len(args) == 0 {
			return usagef("audit: want 'audit verify' or 'audit export'")
		}
		return nil
	}
	switch args[0] {
	case "verify":
		fs := m.flagSet("audit verify", "audit verify --data DIR")
		data := fs.String("data", "data", "node data directory")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		s, err := openAdminStore(*data, false)
		if err != nil {
			return err
		}
		defer s.Close()
		n, err := s.audit.Verify()
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "audit log intact: %d entries\n", n)
		return nil
	case "export":
		fs := m.flagSet("audit export", "audit export --data DIR --format jsonl|csv [--actor E] [--action PREFIX] [--tenant ID]")
		data := fs.String("data", "data", "node data directory")
		format := fs.String("format", "jsonl", "jsonl or csv")
		var f audit.Filter
		fs.StringVar(&f.Actor, "actor", "", "only entries of this account")
		fs.StringVar(&f.Action, "action", "", "only actions starting with this (tenant., user., login)")
		fs.StringVar(&f.Tenant, "tenant", "", "only entries about this tenant")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *format != audit.FormatJSONL && *format != audit.FormatCSV {
			return usagef("audit export: --format: want jsonl or csv")
		}
		s, err := openAdminStore(*data, false)
		if err != nil {
			return err
		}
		defer s.Close()
		return s.audit.Export(m.Stdout, *format, f)
	}
	fmt.Fprint(m.Stderr, auditUsage)
	return usagef("audit: unknown command %q", args[0])
}
