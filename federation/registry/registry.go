// Package registry is the replicated registry of the federation: the data model
// (organisations, nodes, national collections, prompt templates, model routes,
// providers and settings), the commands that change it, and the Raft FSM that
// applies those commands to a bbolt file of its own.
//
// The coordination servers run the FSM under hashicorp/raft; gemeente nodes never
// do, they read it through Watch. See DESIGN.md in this directory for the data
// flow, the failure modes and the decisions.
package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// Kind names a class of registry objects.
type Kind string

// The kinds of objects the registry holds.
const (
	KindOrg        Kind = "org"
	KindNode       Kind = "node"
	KindCollection Kind = "collection"
	KindTemplate   Kind = "template"
	KindRoute      Kind = "route"
	KindProvider   Kind = "provider"
	KindSetting    Kind = "setting"
	KindRevocation Kind = "revocation"
	KindServer     Kind = "server"
)

// Kinds lists every kind in a fixed order; snapshots list objects in this order.
func Kinds() []Kind {
	return []Kind{KindOrg, KindNode, KindCollection, KindTemplate, KindRoute, KindProvider, KindSetting, KindRevocation, KindServer}
}

// Valid reports whether k is one of the registry's kinds.
func (k Kind) Valid() bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

// Object is one stored registry entry. Value holds the JSON of the kind's type
// (Org, Node, ...). CreateIndex and ModifyIndex are the Raft log indexes that
// created and last changed it. Deleted is only set on change events that
// Watch yields: it marks a tombstone whose ModifyIndex is the deleting index.
type Object struct {
	Kind        Kind            `json:"kind"`
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value,omitempty"`
	CreateIndex uint64          `json:"create_index"`
	ModifyIndex uint64          `json:"modify_index"`
	Deleted     bool            `json:"deleted,omitempty"`
}

// Decode unmarshals the object's value into v, refusing unknown fields.
func (o Object) Decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(o.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %s %q: %w", o.Kind, o.Key, err)
	}
	return nil
}

// Value is implemented by the typed registry values. RegistryKind and Key tell
// where the value is stored; Validate reports why it may not be stored, wrapping
// ErrInvalid. (The method is not called Kind because Provider has a Kind field.)
type Value interface {
	RegistryKind() Kind
	Key() string
	Validate() error
}

// Role is the part an organisation plays in the federation.
type Role string

// The roles of an organisation.
const (
	RoleGemeente  Role = "gemeente"
	RolePublisher Role = "publisher"
	RoleOperator  Role = "operator"
)

// PublicKey is an ed25519 public key of an organisation: ID is the key id that
// signatures name, Key the 32 raw bytes in standard base64.
type PublicKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Org is an organisation: a gemeente (ID is its CBS code such as "GM0119"), a
// publisher such as NVVB, or the operator (VNG).
type Org struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Role       Role        `json:"role"`
	PublicKeys []PublicKey `json:"public_keys,omitempty"`
}

// RegistryKind returns KindOrg.
func (Org) RegistryKind() Kind { return KindOrg }

// Key returns the organisation's ID.
func (o Org) Key() string { return o.ID }

// Validate checks the fields; the error wraps ErrInvalid.
func (o Org) Validate() error {
	if err := checkKey(o.ID); err != nil {
		return fieldErr("org.id", err.Error())
	}
	if strings.TrimSpace(o.Name) == "" {
		return fieldErr("org.name", "required")
	}
	switch o.Role {
	case RoleGemeente, RolePublisher, RoleOperator:
	default:
		return fieldErr("org.role", "must be gemeente, publisher or operator")
	}
	seen := map[string]bool{}
	for i, k := range o.PublicKeys {
		if k.ID == "" || seen[k.ID] {
			return fieldErr(fmt.Sprintf("org.public_keys[%d].id", i), "required and unique")
		}
		seen[k.ID] = true
		raw, err := base64.StdEncoding.DecodeString(k.Key)
		if err != nil || len(raw) != 32 {
			return fieldErr(fmt.Sprintf("org.public_keys[%d].key", i), "must be a base64 ed25519 public key")
		}
	}
	return nil
}

// Node is a gemeente node as the federation knows it.
type Node struct {
	ID          string   `json:"id"`
	Org         string   `json:"org"`
	APIAddr     string   `json:"api_addr"`
	GossipAddr  string   `json:"gossip_addr,omitempty"`
	Collections []string `json:"collections,omitempty"`
	Version     string   `json:"version,omitempty"`
}

// RegistryKind returns KindNode.
func (Node) RegistryKind() Kind { return KindNode }

// Key returns the node's ID.
func (n Node) Key() string { return n.ID }

// Validate checks the fields; the error wraps ErrInvalid.
func (n Node) Validate() error {
	if err := checkKey(n.ID); err != nil {
		return fieldErr("node.id", err.Error())
	}
	if n.Org == "" {
		return fieldErr("node.org", "required")
	}
	if _, _, err := net.SplitHostPort(n.APIAddr); err != nil {
		return fieldErr("node.api_addr", "must be host:port")
	}
	if n.GossipAddr != "" {
		if _, _, err := net.SplitHostPort(n.GossipAddr); err != nil {
			return fieldErr("node.gossip_addr", "must be host:port")
		}
	}
	return nil
}

// Collection is a national knowledge collection. Manifest and Signature are
// opaque here (the trust package verifies them); ContentSHA256 is the hex
// sha256 of the content blob, which is stored with PutBlob.
type Collection struct {
	Name          string    `json:"name"`
	Publisher     string    `json:"publisher"`
	Manifest      []byte    `json:"manifest"`
	Signature     []byte    `json:"signature"`
	Version       uint64    `json:"version"`
	Expires       time.Time `json:"expires"`
	ContentSHA256 string    `json:"content_sha256"`
}

// RegistryKind returns KindCollection.
func (Collection) RegistryKind() Kind { return KindCollection }

// Key returns the collection's name.
func (c Collection) Key() string { return c.Name }

// Validate checks the fields; the error wraps ErrInvalid.
func (c Collection) Validate() error {
	switch {
	case checkKey(c.Name) != nil:
		return fieldErr("collection.name", checkKey(c.Name).Error())
	case c.Publisher == "":
		return fieldErr("collection.publisher", "required")
	case len(c.Manifest) == 0:
		return fieldErr("collection.manifest", "required")
	case len(c.Signature) == 0:
		return fieldErr("collection.signature", "required")
	case c.Version == 0:
		return fieldErr("collection.version", "must be > 0")
	case c.Expires.IsZero():
		return fieldErr("collection.expires", "required")
	case !isSHA256Hex(c.ContentSHA256):
		return fieldErr("collection.content_sha256", "must be 64 lowercase hex digits")
	}
	return nil
}

// Template is a prompt template; one exists per name and language.
type Template struct {
	Name    string `json:"name"`
	Version uint64 `json:"version"`
	Lang    string `json:"lang"`
	Body    string `json:"body"`
}

// RegistryKind returns KindTemplate.
func (Template) RegistryKind() Kind { return KindTemplate }

// Key returns "name/lang".
func (t Template) Key() string { return t.Name + "/" + t.Lang }

// Validate checks the fields; the error wraps ErrInvalid.
func (t Template) Validate() error {
	switch {
	case t.Name == "" || strings.Contains(t.Name, "/"):
		return fieldErr("template.name", "required, without '/'")
	case t.Lang == "" || strings.Contains(t.Lang, "/"):
		return fieldErr("template.lang", "required, without '/'")
	case t.Version == 0:
		return fieldErr("template.version", "must be > 0")
	case strings.TrimSpace(t.Body) == "":
		return fieldErr("template.body", "required")
	}
	return checkKey(t.Key())
}

// Route is a model route: which providers serve a task for a tenant, in
// fallback order. An empty Tenant is the default for all tenants. Timeout is
// in nanoseconds on the wire (time.Duration's JSON form).
type Route struct {
	Task           string        `json:"task"`
	Tenant         string        `json:"tenant,omitempty"`
	Providers      []string      `json:"providers"`
	Timeout        time.Duration `json:"timeout,omitempty"`
	AllowedRegions []string      `json:"allowed_regions,omitempty"`
}

// RegistryKind returns KindRoute.
func (Route) RegistryKind() Kind { return KindRoute }

// Key returns the task, or "task/tenant" for a tenant's own route.
func (r Route) Key() string {
	if r.Tenant == "" {
		return r.Task
	}
	return r.Task + "/" + r.Tenant
}

// Validate checks the fields; the error wraps ErrInvalid.
func (r Route) Validate() error {
	switch {
	case r.Task == "" || strings.Contains(r.Task, "/"):
		return fieldErr("route.task", "required, without '/'")
	case strings.Contains(r.Tenant, "/"):
		return fieldErr("route.tenant", "must not contain '/'")
	case len(r.Providers) == 0:
		return fieldErr("route.providers", "at least one provider")
	case r.Timeout < 0:
		return fieldErr("route.timeout", "must be >= 0")
	}
	for i, p := range r.Providers {
		if p == "" {
			return fieldErr(fmt.Sprintf("route.providers[%d]", i), "required")
		}
	}
	return checkKey(r.Key())
}

// Provider describes a model provider. It never holds secrets: credentials stay
// on the node that uses them, and Validate refuses values that look like keys.
type Provider struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Region  string `json:"region,omitempty"`
	BaseURL string `json:"base_url,omitempty"`
	Model   string `json:"model,omitempty"`
}

// RegistryKind returns KindProvider. The provider's own kind (API flavour such
// as "openai") is the field Kind.
func (Provider) RegistryKind() Kind { return KindProvider }

// Key returns the provider's name.
func (p Provider) Key() string { return p.Name }

// Validate checks the fields and refuses anything that looks like a credential;
// the error wraps ErrInvalid.
func (p Provider) Validate() error {
	if err := checkKey(p.Name); err != nil {
		return fieldErr("provider.name", err.Error())
	}
	if p.Kind == "" {
		return fieldErr("provider.kind", "required")
	}
	for _, f := range []struct{ name, v string }{
		{"provider.name", p.Name}, {"provider.kind", p.Kind}, {"provider.region", p.Region},
		{"provider.base_url", p.BaseURL}, {"provider.model", p.Model},
	} {
		if looksLikeSecret(f.v) {
			return fieldErr(f.name, "looks like a credential; secrets do not belong in the registry")
		}
	}
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fieldErr("provider.base_url", "must be an http(s) URL")
		}
		if u.User != nil {
			return fieldErr("provider.base_url", "must not carry credentials")
		}
		for name := range u.Query() {
			if secretName(name) {
				return fieldErr("provider.base_url", "must not carry credentials")
			}
		}
	}
	return nil
}

// Setting is a key/value setting published by the operator.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RegistryKind returns KindSetting.
func (Setting) RegistryKind() Kind { return KindSetting }

// Key returns the setting's name.
func (s Setting) Key() string { return s.Name }

// Validate checks the name; the error wraps ErrInvalid.
func (s Setting) Validate() error {
	if err := checkKey(s.Name); err != nil {
		return fieldErr("setting.name", err.Error())
	}
	return nil
}

// Revocation withdraws the federation's trust: from one certificate (by
// serial number), or from every certificate of a node, past and future.
// Servers and nodes refuse a revoked certificate at the next handshake and
// close connections that hold one.
type Revocation struct {
	Serial string `json:"serial,omitempty"` // the certificate's serial number, lower-case hex
	Org    string `json:"org,omitempty"`    // with Node: the node's organisation
	Node   string `json:"node,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RegistryKind returns KindRevocation.
func (Revocation) RegistryKind() Kind { return KindRevocation }

// Key returns "serial/HEX" or "node/ORG/NODE".
func (r Revocation) Key() string {
	if r.Serial != "" {
		return "serial/" + r.Serial
	}
	return "node/" + r.Org + "/" + r.Node
}

// Validate checks that the revocation names one certificate or one node;
// the error wraps ErrInvalid.
func (r Revocation) Validate() error {
	switch {
	case r.Serial != "" && (r.Org != "" || r.Node != ""):
		return fieldErr("revocation", "give a serial or an org and node, not both")
	case r.Serial != "":
		if strings.Trim(r.Serial, "0123456789abcdef") != "" || len(r.Serial) > 40 {
			return fieldErr("revocation.serial", "must be the serial number in lower-case hex")
		}
	case r.Org == "" || r.Node == "" || strings.Contains(r.Org, "/") || strings.Contains(r.Node, "/"):
		return fieldErr("revocation", "give a serial, or an org and a node (without '/')")
	}
	return checkKey(r.Key())
}

// validateValue decodes raw as the kind's type, refusing unknown fields, and
// checks that it is valid and stored under its own key.
func validateValue(kind Kind, key string, raw json.RawMessage) error {
	var v Value
	switch kind {
	case KindOrg:
		v = &Org{}
	case KindNode:
		v = &Node{}
	case KindCollection:
		v = &Collection{}
	case KindTemplate:
		v = &Template{}
	case KindRoute:
		v = &Route{}
	case KindProvider:
		v = &Provider{}
	case KindSetting:
		v = &Setting{}
	case KindRevocation:
		v = &Revocation{}
	case KindServer:
		v = &Server{}
	default:
		return fieldErr("kind", fmt.Sprintf("unknown kind %q", kind))
	}
	if err := (Object{Kind: kind, Key: key, Value: raw}).Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if v.Key() != key {
		return fieldErr("key", fmt.Sprintf("%q does not match the value's key %q", key, v.Key()))
	}
	return nil
}

func fieldErr(field, msg string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, msg)
}

// maxKeyLen bounds object keys; keys are names, not content.
const maxKeyLen = 256

func checkKey(key string) error {
	if key == "" {
		return errors.New("required")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("longer than %d bytes", maxKeyLen)
	}
	for _, r := range key {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return errors.New("must not contain spaces or control characters")
		}
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// secretPrefixes are the prefixes of well-known API key formats.
var secretPrefixes = []string{"sk-", "sk_", "pk_live_", "rk_live_", "xoxb-", "xoxp-", "ghp_", "gho_", "github_pat_", "glpat-", "AKIA", "AIza", "hf_", "Bearer ", "Basic "}

// tokenLike matches long unbroken runs of key characters, as API keys are.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9_\-+=]{32,}`)

// looksLikeSecret reports whether s resembles a credential: a known key prefix,
// or a long token that mixes letters and digits.
func looksLikeSecret(s string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	for _, m := range tokenLike.FindAllString(s, -1) {
		var letters, digits int
		for _, c := range m {
			switch {
			case c >= '0' && c <= '9':
				digits++
			case unicode.IsLetter(c):
				letters++
			}
		}
		if letters >= 8 && digits >= 4 {
			return true
		}
	}
	return false
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "password", "auth", "sig"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Server is a coordination server's announcement of its registry API: the
// leader records its own when it takes office, so that every other server
// can forward writes to it without a static list of peers.
type Server struct {
	ID     string `json:"id"`      // the server's Raft ID
	APIURL string `json:"api_url"` // base URL of its Connect API, https://host:port
}

// RegistryKind returns KindServer.
func (Server) RegistryKind() Kind { return KindServer }

// Key returns the server's Raft ID.
func (s Server) Key() string { return s.ID }

// Validate checks the ID and that APIURL is an https URL with a host and
// nothing after it; the error wraps ErrInvalid.
func (s Server) Validate() error {
	if err := checkKey(s.ID); err != nil {
		return fieldErr("server.id", err.Error())
	}
	u, err := url.Parse(s.APIURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fieldErr("server.api_url", "must be https://host:port")
	}
	return nil
}
