package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/registry"
	"github.com/assistent-nl/assistent/federation/trust"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
	"github.com/assistent-nl/assistent/gen/assistent/federation/v1/federationv1connect"
	"github.com/assistent-nl/assistent/node/ingest"
)

const federationSynopsis = `federation init --dir DIR --name NAME
       assistent federation put --server URL --cert DIR --kind KIND --key KEY --value JSON
       assistent federation get --server URL --cert DIR --kind KIND [--key KEY] [--consistent]
       assistent federation nodes --server URL --cert DIR
       assistent federation revoke --server URL --cert DIR (--org ORG --node ID | --serial HEX) [--reason TEXT]
       assistent federation publish --server URL --cert DIR --key FILE --org ORG --collection NAME --jsonl FILE [--version N] [--valid 720h]
       assistent federation token --dir DIR --org ORG --role ROLE [--node ID] [--ttl 24h]
       assistent federation join --server URL --token TOKEN --ca-sha256 HEX --node ID [--host H]... --out DIR
       assistent federation renew --server URL --cert DIR [--host H]...
       assistent federation issue --dir DIR --org ORG --role ROLE --node ID [--host H]... --out DIR
       assistent federation keygen --out FILE`

// runFederation manages the federation's trust: the CA (init), one-time
// join tokens for new members (token), certificates issued directly, e.g.
// for the first coordination servers (issue), and publisher signing keys
// (keygen). The CA directory holds the CA key: keep it offline.
func (m *Main) runFederation(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("federation: want init, token, issue or keygen (see 'assistent federation --help')")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(m.Stderr, "Usage: assistent "+federationSynopsis)
		return nil
	case "init":
		return m.federationInit(args[1:])
	case "token":
		return m.federationToken(args[1:])
	case "issue":
		return m.federationIssue(args[1:])
	case "keygen":
		return m.federationKeygen(args[1:])
	case "put", "delete":
		return m.federationPut(ctx, args[0], args[1:])
	case "get":
		return m.federationGet(ctx, args[1:])
	case "nodes":
		// The gemeente nodes that registered themselves.
		return m.federationGet(ctx, append([]string{"--kind", "node"}, args[1:]...))
	case "publish":
		return m.federationPublish(ctx, args[1:])
	case "revoke":
		return m.federationRevoke(ctx, args[1:])
	case "join":
		return m.federationJoin(ctx, args[1:])
	case "renew":
		return m.federationRenew(ctx, args[1:])
	}
	return usagef("federation: unknown subcommand %q", args[0])
}

// tokenFile is where the CA directory keeps the hashes of join tokens.
const tokenFile = "tokens.json"

func (m *Main) federationInit(args []string) error {
	fs := m.flagSet("federation init", "federation init --dir DIR --name NAME")
	dir := fs.String("dir", "", "directory for the new federation CA (must not hold one)")
	name := fs.String("name", "Assistent federatie", "name of the CA")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("federation init: --dir is required")
	}
	ca, err := trust.NewCA(*name, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("federation init: %w", err)
	}
	if err := ca.Save(*dir); err != nil {
		if errors.Is(err, trust.ErrExists) {
			return fmt.Errorf("federation init: %s already holds a CA; a second one would split the federation", *dir)
		}
		return fmt.Errorf("federation init: %w", err)
	}
	fmt.Fprintf(m.Stdout, "federation CA created in %s (%s, %s)\n", *dir, trust.CACertFile, trust.CAKeyFile)
	fmt.Fprintln(m.Stderr, "assistent: keep the CA key offline; give members join tokens ('assistent federation token')")
	return nil
}

// loadCA opens the CA in dir with its file of join tokens.
func loadCA(dir string) (*trust.CA, error) {
	if dir == "" {
		return nil, usagef("--dir (the federation CA directory) is required")
	}
	ca, err := trust.LoadCA(dir)
	if err != nil {
		return nil, fmt.Errorf("open federation CA: %w", err)
	}
	st, err := trust.OpenFileTokenStore(filepath.Join(dir, tokenFile))
	if err != nil {
		return nil, fmt.Errorf("open join tokens: %w", err)
	}
	ca.Tokens = st
	return ca, nil
}

// identityFlags parse an identity: organisation, role and node id.
func identity(org, role, node string) (trust.Identity, error) {
	id := trust.Identity{Org: org, Role: trust.Role(role), Node: node}
	if !id.Role.Valid() {
		return id, usagef("--role: %q is not one of server, node, publisher, operator", role)
	}
	if !trust.ValidOrg(org) {
		return id, usagef("--org: %q is not an organisation code such as GM0119 or VNG", org)
	}
	if node != "" && !trust.ValidNodeID(node) {
		return id, usagef("--node: %q is not a node id (lower-case letters, digits and '-')", node)
	}
	return id, nil
}

func (m *Main) federationToken(args []string) error {
	fs := m.flagSet("federation token", "federation token --dir DIR --org ORG --role ROLE [--node ID] [--ttl 24h]")
	dir := fs.String("dir", "", "federation CA directory")
	org := fs.String("org", "", "organisation code, e.g. GM0119 (Meppel)")
	role := fs.String("role", "node", "server, node, publisher or operator")
	node := fs.String("node", "", "node id the token is for (default: the one in the member's request)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token can be used")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := identity(*org, *role, *node)
	if err != nil {
		return err
	}
	if *ttl <= 0 || *ttl > 30*24*time.Hour {
		return usagef("federation token: --ttl must be between 1s and 720h")
	}
	ca, err := loadCA(*dir)
	if err != nil {
		return err
	}
	token, err := ca.NewJoinToken(id, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, token)
	fmt.Fprintf(m.Stderr, "assistent: one-time token for %s/%s, valid %s; it is shown only once\n", id.Org, id.Role, *ttl)
	fmt.Fprintf(m.Stderr, "assistent: the member joins with: assistent federation join --server URL --token TOKEN --ca-sha256 %s --node ID --out DIR\n", trust.Fingerprint(ca.Certificate()))
	return nil
}

func (m *Main) federationIssue(args []string) error {
	fs := m.flagSet("federation issue", "federation issue --dir DIR --org ORG --role ROLE --node ID [--host H]... --out DIR")
	dir := fs.String("dir", "", "federation CA directory")
	org := fs.String("org", "", "organisation code, e.g. VNG")
	role := fs.String("role", "server", "server, node, publisher or operator")
	node := fs.String("node", "", "node id, e.g. coord-1")
	out := fs.String("out", "", "directory for node.crt, node.key and ca.crt")
	ttl := fs.Duration("ttl", trust.DefaultLeafTTL, "certificate lifetime")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP address the certificate is valid for (repeatable; servers)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *node == "" || *out == "" {
		return usagef("federation issue: --node and --out are required")
	}
	id, err := identity(*org, *role, *node)
	if err != nil {
		return err
	}
	ca, err := loadCA(*dir)
	if err != nil {
		return err
	}
	pair, err := ca.IssueKeyPair(id, *ttl, hosts...)
	if err != nil {
		return err
	}
	if err := writeKeyPair(*out, pair.Leaf, pair.PrivateKey, ca.CertPEM()); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "issued %s to %s (valid until %s)\n", id, *out, pair.Leaf.NotAfter.Format(time.DateOnly))
	return nil
}

// writeKeyPair writes node.crt, node.key (0600) and ca.crt into dir,
// refusing to overwrite a key.
func writeKeyPair(dir string, cert *x509.Certificate, key any, caPEM []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return errors.New("issued key is not a signer")
	}
	keyPEM, err := trust.MarshalPrivateKeyPEM(signer)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"node.key", keyPEM, 0o600},
		{"node.crt", trust.CertificatePEM(cert), 0o644},
		{"ca.crt", caPEM, 0o644},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		w, err := os.OpenFile(path, flags, f.mode)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists; remove it first or choose another --out", path)
			}
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (m *Main) federationKeygen(args []string) error {
	fs := m.flagSet("federation keygen", "federation keygen --out FILE")
	out := fs.String("out", "", "file for the publisher's ed25519 signing key (PKCS#8 PEM, 0600)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("federation keygen: --out is required")
	}
	pub, priv, err := trust.GenerateSigningKey()
	if err != nil {
		return err
	}
	if err := trust.SaveSigningKey(*out, priv); err != nil {
		return err
	}
	pubPEM, err := trust.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "key id %s\n%s", trust.KeyID(pub), strings.TrimSpace(string(pubPEM))+"\n")
	entry, _ := json.Marshal(registry.PublicKey{ID: trust.KeyID(pub), Key: base64.StdEncoding.EncodeToString(pub)})
	fmt.Fprintf(m.Stdout, "registry entry for the organisation's public_keys: %s\n", entry)
	fmt.Fprintln(m.Stderr, "assistent: register the public key and key id with your organisation in the registry")
	return nil
}

// registryFlags are the flags of commands that talk to the registry.
func registryFlags(fs *flag.FlagSet) (servers *stringList, cert *string) {
	servers = &stringList{}
	fs.Var(servers, "server", "API URL of a coordination server, e.g. https://coord-1:8301 (repeatable)")
	cert = fs.String("cert", "", "directory with node.crt, node.key and ca.crt of an operator, publisher or node")
	return servers, cert
}

// registryClient returns an HTTP client with the member's certificate.
func registryClient(servers stringList, certDir string) (*http.Client, error) {
	if len(servers) == 0 || certDir == "" {
		return nil, usagef("--server and --cert are required")
	}
	cert, pool, err := loadMember(certDir)
	if err != nil {
		return nil, err
	}
	return client.NewHTTPClient(client.ClientTLS(cert, pool, nil)), nil
}

// registryWriter returns a function that applies a command through any
// of servers, retrying with the same idempotency key, and turns a refused
// command (conflict, invalid) into an error.
func registryWriter(servers stringList, certDir string) (func(context.Context, registry.Command) (registry.Result, error), error) {
	hc, err := registryClient(servers, certDir)
	if err != nil {
		return nil, err
	}
	wc := client.DefaultWriterConfig()
	wc.Servers = servers
	w, err := client.NewWriter(wc, hc)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, cmd registry.Command) (registry.Result, error) {
		res, err := w.Apply(ctx, cmd)
		if err == nil {
			err = res.Err()
		}
		return res, err
	}, nil
}

// federationPut writes (or deletes) one registry object; the write is
// retried on another server, with the same idempotency key, until it is
// applied once.
func (m *Main) federationPut(ctx context.Context, op string, args []string) error {
	fs := m.flagSet("federation "+op, "federation "+op+" --server URL --cert DIR --kind KIND --key KEY [--value JSON]")
	servers, certDir := registryFlags(fs)
	kind := fs.String("kind", "", "org, node, collection, template, route, provider, setting or revocation")
	key := fs.String("key", "", "the object's key")
	value := fs.String("value", "", "the object as JSON (put)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !registry.Kind(*kind).Valid() || *key == "" {
		return usagef("federation %s: --kind (org, node, collection, template, route, provider, setting, revocation) and --key are required", op)
	}
	cmd := registry.Delete(registry.Kind(*kind), *key)
	if op == "put" {
		if !json.Valid([]byte(*value)) {
			return usagef("federation put: --value must be JSON, e.g. '{\"name\":\"x\",\"value\":\"y\"}'")
		}
		cmd = registry.PutRaw(registry.Kind(*kind), *key, json.RawMessage(*value))
	}
	if err := cmd.Validate(); err != nil {
		return usagef("federation %s: %v", op, err)
	}
	return m.applyCommand(ctx, "federation "+op, *servers, *certDir, cmd)
}

// applyCommand writes cmd through the servers with the certificate in
// certDir, within a minute, and prints the result.
func (m *Main) applyCommand(ctx context.Context, what string, servers stringList, certDir string, cmd registry.Command) error {
	apply, err := registryWriter(servers, certDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := apply(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return writeIndented(m.Stdout, res)
}

// federationRevoke withdraws trust from a node (every certificate it has
// or will get) or from one certificate, through the registry: servers and
// nodes refuse it at the next handshake and close its connections.
func (m *Main) federationRevoke(ctx context.Context, args []string) error {
	fs := m.flagSet("federation revoke", "federation revoke --server URL --cert DIR (--org ORG --node ID | --serial HEX) [--reason TEXT]")
	servers, certDir := registryFlags(fs)
	org := fs.String("org", "", "organisation of the node to revoke, e.g. GM0119")
	nodeID := fs.String("node", "", "node id to revoke (every certificate of it)")
	serial := fs.String("serial", "", "serial number of one certificate, in hex (openssl x509 -serial)")
	reason := fs.String("reason", "", "why, for the record")
	if err := parse(fs, args); err != nil {
		return err
	}
	r := registry.Revocation{Serial: strings.ToLower(strings.TrimPrefix(strings.TrimSpace(*serial), "0x")), Org: *org, Node: *nodeID, Reason: *reason}
	// openssl prints serials in upper case, possibly with leading zeros.
	if r.Serial != "" {
		r.Serial = strings.TrimLeft(r.Serial, "0")
	}
	if (r.Serial == "") == (r.Org == "" && r.Node == "") {
		return usagef("federation revoke: give --org and --node, or --serial")
	}
	cmd, err := registry.Put(r)
	if err != nil {
		return usagef("federation revoke: %v", err)
	}
	return m.applyCommand(ctx, "federation revoke", *servers, *certDir, cmd)
}

// federationGet reads one object, or all of a kind, from a server.
func (m *Main) federationGet(ctx context.Context, args []string) error {
	fs := m.flagSet("federation get", "federation get --server URL --cert DIR --kind KIND [--key KEY] [--consistent]")
	servers, certDir := registryFlags(fs)
	kind := fs.String("kind", "", "org, node, collection, template, route, provider, setting or revocation")
	key := fs.String("key", "", "the object's key; empty lists the kind")
	consistent := fs.Bool("consistent", false, "read through the leader after a Raft barrier: sees every write acknowledged before")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !registry.Kind(*kind).Valid() {
		return usagef("federation get: --kind must be one of org, node, collection, template, route, provider, setting, revocation")
	}
	hc, err := registryClient(*servers, *certDir)
	if err != nil {
		return err
	}
	c := federationv1connect.NewRegistryServiceClient(hc, (*servers)[0])
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var objs []*federationv1.Object
	if *key != "" {
		resp, err := c.Get(ctx, connect.NewRequest(&federationv1.GetRequest{Kind: *kind, Key: *key, Consistent: *consistent}))
		if err != nil {
			return fmt.Errorf("federation get: %w", err)
		}
		if resp.Msg.GetObject() == nil {
			return fmt.Errorf("federation get: %s %q does not exist", *kind, *key)
		}
		objs = append(objs, resp.Msg.GetObject())
	} else {
		resp, err := c.List(ctx, connect.NewRequest(&federationv1.ListRequest{Kind: *kind, Consistent: *consistent}))
		if err != nil {
			return fmt.Errorf("federation get: %w", err)
		}
		objs = resp.Msg.GetObjects()
	}
	type out struct {
		Kind        string          `json:"kind"`
		Key         string          `json:"key"`
		Value       json.RawMessage `json:"value"`
		ModifyIndex uint64          `json:"modify_index"`
	}
	list := make([]out, 0, len(objs))
	for _, o := range objs {
		list = append(list, out{o.GetKind(), o.GetKey(), json.RawMessage(o.GetValue()), o.GetModifyIndex()})
	}
	return writeIndented(m.Stdout, list)
}

// federationPublish publishes a national collection: the JSON Lines file
// goes into the registry as a content-addressed blob, and the collection
// record carries a manifest signed with the publisher's key, which every
// node verifies before it indexes the content.
func (m *Main) federationPublish(ctx context.Context, args []string) error {
	fs := m.flagSet("federation publish", "federation publish --server URL --cert DIR --key FILE --org ORG --collection NAME --jsonl FILE [--version N] [--valid 720h]")
	servers, certDir := registryFlags(fs)
	keyFile := fs.String("key", "", "the publisher's ed25519 signing key (from 'federation keygen')")
	org := fs.String("org", "", "the publishing organisation, e.g. NVVB")
	name := fs.String("collection", "", "collection name, e.g. burgerzaken")
	jsonl := fs.String("jsonl", "", "the pages, one JSON object a line (the ingest --jsonl format)")
	version := fs.Uint64("version", uint64(time.Now().Unix()), "version; must grow with every publication (default: now in Unix seconds)")
	valid := fs.Duration("valid", 30*24*time.Hour, "how long nodes may use this version")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *org == "" || *name == "" || *jsonl == "" {
		return usagef("federation publish: --key, --org, --collection and --jsonl are required")
	}
	if err := validID(*name); err != nil {
		return usagef("federation publish: --collection: %v", err)
	}
	priv, err := trust.LoadSigningKey(*keyFile)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*jsonl)
	if err != nil {
		return err
	}
	// Check the file before it goes out: every node would refuse it.
	var pages, bad int
	err = ingest.ReadJSONL(bytes.NewReader(data), *jsonl, func(ingest.Page) error { pages++; return nil },
		func(e *ingest.LineError) {
			bad++
			fmt.Fprintf(m.Stderr, "assistent: %v\n", e)
		})
	if err != nil {
		return err
	}
	if bad > 0 || pages == 0 {
		return fmt.Errorf("federation publish: %s has %d bad lines and %d pages; nothing published", *jsonl, bad, pages)
	}
	apply, err := registryWriter(*servers, *certDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmds, sum := registry.PutBlob(data)
	for _, cmd := range cmds {
		if _, err := apply(ctx, cmd); err != nil {
			return fmt.Errorf("federation publish: upload: %w", err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	man := trust.Manifest{Collection: *name, Publisher: *org, Version: *version, Created: now, Expires: now.Add(*valid),
		Files: []trust.File{{Name: *name + ".jsonl", SHA256: sum, Size: int64(len(data))}}}
	signed, err := trust.Sign(man, priv, trust.KeyID(priv.Public().(ed25519.PublicKey)))
	if err != nil {
		return err
	}
	cmd, err := registry.Put(registry.Collection{Name: *name, Publisher: *org, Manifest: signed.Payload, Signature: signed.Signature,
		Version: *version, Expires: man.Expires, ContentSHA256: sum})
	if err != nil {
		return usagef("federation publish: %v", err)
	}
	res, err := apply(ctx, cmd)
	if err != nil {
		return fmt.Errorf("federation publish: %w", err)
	}
	fmt.Fprintf(m.Stdout, "published %s v%d: %d pages, %d bytes, sha256 %s (registry index %d)\n", *name, *version, pages, len(data), sum, res.Index)
	return nil
}
