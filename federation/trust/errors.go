package trust

import "errors"

// Identity and peer verification errors.
var (
	// ErrInvalidIdentity means a certificate or URI does not carry exactly one
	// well-formed federation identity.
	ErrInvalidIdentity = errors.New("invalid federation identity")
	// ErrRevoked means the peer's certificate serial or node is revoked.
	ErrRevoked = errors.New("certificate revoked")
	// ErrNotAllowed means a valid peer is refused by the connection's policy.
	ErrNotAllowed = errors.New("peer not allowed")
	// ErrNoPeerCertificate means a connection carries no verified peer certificate.
	ErrNoPeerCertificate = errors.New("no verified peer certificate")
)

// Certificate authority and join errors.
var (
	// ErrExists means Save or a key writer would overwrite an existing file.
	ErrExists = errors.New("file already exists")
	// ErrTokenUnknown means a join token is malformed or was never issued (or
	// was pruned long after it expired).
	ErrTokenUnknown = errors.New("unknown join token")
	// ErrTokenUsed means a join token was already redeemed.
	ErrTokenUsed = errors.New("join token already used")
	// ErrTokenExpired means a join token's lifetime has passed.
	ErrTokenExpired = errors.New("join token expired")
	// ErrBadCSR means a certificate signing request cannot be parsed, has a bad
	// signature, an unsupported key or an invalid node id.
	ErrBadCSR = errors.New("bad certificate signing request")
)

// Manifest verification errors. Verify and VerifyContent wrap exactly one of
// these, so callers can tell the refusals apart with errors.Is.
var (
	// ErrMalformedManifest means the manifest or its envelope cannot be decoded,
	// is not canonical, or breaks a structural rule.
	ErrMalformedManifest = errors.New("malformed manifest")
	// ErrUnknownKey means the manifest names a key id that is not trusted.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrBadSignature means the signature does not verify under the named key.
	ErrBadSignature = errors.New("bad manifest signature")
	// ErrManifestExpired means the manifest's Expires time has passed.
	ErrManifestExpired = errors.New("manifest expired")
	// ErrManifestNotYetValid means the manifest's Created time lies in the future
	// by more than ClockSkew.
	ErrManifestNotYetValid = errors.New("manifest not yet valid")
	// ErrRollback means the manifest's version is not newer than the last
	// accepted version of the collection.
	ErrRollback = errors.New("manifest version rollback")
	// ErrUnknownFile means VerifyContent was asked about a file the manifest
	// does not list.
	ErrUnknownFile = errors.New("file not in manifest")
	// ErrContentMismatch means a blob's size or SHA-256 differs from the manifest.
	ErrContentMismatch = errors.New("content does not match manifest")
)
