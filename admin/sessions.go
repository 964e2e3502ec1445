package admin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/node/store"
)

// Session is a signed-in browser. The cookie holds a random id; the store
// keys the session by the id's SHA-256, so a copy of the data file does
// not hold usable sessions.
type Session struct {
	UserID   string    `json:"user_id"`
	CSRF     string    `json:"csrf"` // the token every form and unsafe API call must carry
	Via      string    `json:"via"`  // password or oidc
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	IP       string    `json:"ip,omitempty"`
}

// NewSession creates a session for user and returns its id (for the
// cookie) and the session. Each sign-in gets a new id: an id a browser
// held before signing in never becomes a signed-in session.
func (a *Accounts) NewSession(userID, via, ip string) (string, Session, error) {
	id := randomSecret(32)
	now := a.now().UTC()
	s := Session{UserID: userID, CSRF: randomSecret(32), Via: via, Created: now, LastSeen: now, IP: ip}
	err := a.db.Update(func(tx *bolt.Tx) error {
		return store.PutJSON(tx.Bucket(bucketSessions), []byte(sha256Hex(id)), s)
	})
	return id, s, err
}

// Session returns the live session with id, refreshing its last use; a
// session idle longer than idle or older than max is deleted and
// ErrNotFound returned.
func (a *Accounts) Session(id string, idle, max time.Duration) (Session, error) {
	if id == "" || len(id) > 128 {
		return Session{}, ErrNotFound
	}
	key := []byte(sha256Hex(id))
	var s Session
	err := a.db.View(func(tx *bolt.Tx) error { return store.GetJSON(tx.Bucket(bucketSessions), key, &s) })
	if err != nil {
		return Session{}, err
	}
	now := a.now()
	if now.Sub(s.LastSeen) > idle || now.Sub(s.Created) > max {
		a.DeleteSession(id)
		return Session{}, ErrNotFound
	}
	// A write per request is not needed: refresh once a minute.
	if now.Sub(s.LastSeen) > time.Minute {
		s.LastSeen = now.UTC()
		a.db.Update(func(tx *bolt.Tx) error { return store.PutJSON(tx.Bucket(bucketSessions), key, s) })
	}
	return s, nil
}

// DeleteSession ends the session with id.
func (a *Accounts) DeleteSession(id string) error {
	return a.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(sha256Hex(id)))
	})
}

// DeleteSessionsOf ends every session of a user (after a password change,
// a role change or disabling the account).
func (a *Accounts) DeleteSessionsOf(userID string) error {
	return a.db.Update(func(tx *bolt.Tx) error {
		return deleteWhere(tx.Bucket(bucketSessions), func(v []byte) bool {
			var s Session
			return json.Unmarshal(v, &s) == nil && s.UserID == userID
		})
	})
}

// ExpireSessions removes sessions idle longer than idle or older than max.
func (a *Accounts) ExpireSessions(idle, max time.Duration) error {
	now := a.now()
	return a.db.Update(func(tx *bolt.Tx) error {
		return deleteWhere(tx.Bucket(bucketSessions), func(v []byte) bool {
			var s Session
			return json.Unmarshal(v, &s) != nil || now.Sub(s.LastSeen) > idle || now.Sub(s.Created) > max
		})
	})
}

// Scopes an API token can carry.
const (
	// ScopeAdmin lets a token do what its account's role may do.
	ScopeAdmin = "admin"
	// ScopeRead lets a token only read (GET) what its account may read.
	ScopeRead = "read"
)

// ParseScope checks a token scope.
func ParseScope(s string) (string, error) {
	switch s {
	case ScopeAdmin, ScopeRead:
		return s, nil
	}
	return "", invalidf("unknown scope %q: use admin or read", s)
}

// Token is an API token for automation, used as "Authorization: Bearer".
// The secret part is shown once and stored only as its SHA-256.
type Token struct {
	ID      string    `json:"id"`
	UserID  string    `json:"user_id"`
	Name    string    `json:"name,omitempty"`
	Scope   string    `json:"scope"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`
	Used    time.Time `json:"last_used,omitzero"`
}

// TokenInfo is what the API shows of a token: never its hash.
type TokenInfo struct {
	ID      string    `json:"id"`
	UserID  string    `json:"user_id"`
	Email   string    `json:"email,omitempty"`
	Name    string    `json:"name,omitempty"`
	Scope   string    `json:"scope"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`
	Used    time.Time `json:"last_used,omitzero"`
}

// Info returns t without its hash.
func (t Token) Info() TokenInfo {
	return TokenInfo{ID: t.ID, UserID: t.UserID, Name: t.Name, Scope: t.Scope, Created: t.Created, Expires: t.Expires, Revoked: t.Revoked, Used: t.Used}
}

// tokenPrefix starts every API token, so that secret scanners find them.
const tokenPrefix = "asst_"

// MaxTokenTTL is the longest a token may live.
const MaxTokenTTL = 366 * 24 * time.Hour

// NewToken creates a token for account userID and returns the token
// string, to be shown once, and its record.
func (a *Accounts) NewToken(userID, name, scope string, ttl time.Duration) (string, Token, error) {
	if _, err := ParseScope(scope); err != nil {
		return "", Token{}, err
	}
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", Token{}, invalidf("a token lives between 1 second and %d days", int(MaxTokenTTL.Hours()/24))
	}
	if _, err := a.User(userID); err != nil {
		return "", Token{}, fmt.Errorf("token owner: %w", err)
	}
	id, secret := randomID(8), randomSecret(32)
	now := a.now().UTC()
	t := Token{ID: id, UserID: userID, Name: strings.TrimSpace(name), Scope: scope, Hash: sha256Hex(secret), Created: now, Expires: now.Add(ttl)}
	err := a.db.Update(func(tx *bolt.Tx) error { return store.PutJSON(tx.Bucket(bucketTokens), []byte(id), t) })
	return tokenPrefix + id + "_" + secret, t, err
}

// CheckToken returns the token and its account for a bearer string, or
// ErrBadCredentials when it is malformed, unknown, tampered with,
// expired or revoked, or its account is disabled.
func (a *Accounts) CheckToken(bearer string) (Token, User, error) {
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	if !ok {
		return Token{}, User{}, ErrBadCredentials
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || secret == "" {
		return Token{}, User{}, ErrBadCredentials
	}
	var t Token
	var u User
	err := a.db.View(func(tx *bolt.Tx) error {
		if err := store.GetJSON(tx.Bucket(bucketTokens), []byte(id), &t); err != nil {
			return err
		}
		return store.GetJSON(tx.Bucket(bucketUsers), []byte(t.UserID), &u)
	})
	if err != nil {
		return Token{}, User{}, ErrBadCredentials
	}
	now := a.now()
	if subtle.ConstantTimeCompare([]byte(sha256Hex(secret)), []byte(t.Hash)) != 1 ||
		!now.Before(t.Expires) || !t.Revoked.IsZero() || u.Disabled {
		return t, u, ErrBadCredentials
	}
	if now.Sub(t.Used) > time.Minute {
		a.db.Update(func(tx *bolt.Tx) error {
			t.Used = now.UTC()
			return store.PutJSON(tx.Bucket(bucketTokens), []byte(id), t)
		})
	}
	return t, u, nil
}

// Tokens returns every token, newest first.
func (a *Accounts) Tokens() ([]Token, error) {
	var out []Token
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("token %s: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	slices.SortFunc(out, func(x, y Token) int { return y.Created.Compare(x.Created) })
	return out, err
}

// Token returns the token with id.
func (a *Accounts) Token(id string) (Token, error) {
	var t Token
	err := a.db.View(func(tx *bolt.Tx) error { return store.GetJSON(tx.Bucket(bucketTokens), []byte(id), &t) })
	return t, err
}

// RevokeToken revokes the token with id; it stays listed as revoked.
func (a *Accounts) RevokeToken(id string) (Token, error) {
	var t Token
	err := a.db.Update(func(tx *bolt.Tx) error {
		if err := store.GetJSON(tx.Bucket(bucketTokens), []byte(id), &t); err != nil {
			return err
		}
		if t.Revoked.IsZero() {
			t.Revoked = a.now().UTC()
		}
		return store.PutJSON(tx.Bucket(bucketTokens), []byte(id), t)
	})
	return t, err
}
