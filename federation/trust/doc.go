// Package trust is the federation's root of trust: the federation certificate
// authority, node identities, one-time join tokens, revocation, mutual TLS
// configurations and signed manifests for national collections.
//
// # Identities
//
// Every member of the federation holds a certificate issued by the federation CA
// with exactly one URI SAN of the form
//
//	spiffe://assistent.nl/org/<ORG>/role/<ROLE>/node/<NODE>
//
// ORG is an organisation code (GM0119, VNG, NVVB: an uppercase letter followed by
// 1-31 uppercase letters or digits), ROLE is one of server, node, publisher and
// operator, and NODE is a DNS-label-like id (lowercase letters, digits and '-',
// 1-63 characters, starting and ending with a letter or digit). Authorisation is
// decided on this identity, never on host names: peers are found through gossip
// by address, so ClientTLS verifies the chain and the identity instead of the
// server name, as SPIFFE implementations do.
//
// # Join tokens
//
// A join token is 32 random bytes, base64url without padding. Only the SHA-256
// of the token is stored (TokenStore), together with the organisation and role
// it grants. Redeeming checks the CSR first and only then consumes the token, so
// a malformed request does not burn it; consumption is a single atomic step of
// the store, so a token yields at most one certificate under concurrent calls.
//
// # Signed manifests
//
// A national collection is published as a Manifest signed with ed25519. The
// signed bytes are the domain separator "assistent-manifest-v1\n" followed by
// the canonical encoding of the manifest: compact JSON, object keys in
// ascending byte order (collection, created, expires, files, publisher,
// version; name, sha256, size within a file), times in UTC as RFC 3339 with
// whole seconds, SHA-256 as 64 lowercase hex digits, files sorted by name, no
// HTML escaping and no insignificant white space. Verify accepts only payloads
// that are byte-for-byte canonical, so one manifest has exactly one signed form.
package trust
