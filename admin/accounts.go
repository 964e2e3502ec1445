package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"

	"github.com/assistent-nl/assistent/node/store"
)

// Role is what an account may do. Roles are fixed; see the permissions in
// roles.go.
type Role string

// The four roles of the portal.
const (
	// RoleBeheerder may do everything.
	RoleBeheerder Role = "beheerder"
	// RoleRedacteur manages content and sources and reviews answers.
	RoleRedacteur Role = "redacteur"
	// RoleAnalist reads the dashboard, questions and feedback.
	RoleAnalist Role = "analist"
	// RoleAuditor reads the audit log.
	RoleAuditor Role = "auditor"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleBeheerder, RoleRedacteur, RoleAnalist, RoleAuditor}

// ParseRole returns the role named s, or an error naming the roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: use beheerder, redacteur, analist or auditor", s)
}

// User is a staff account. Its password is kept as an argon2id hash.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	Tenants      []string  `json:"tenants,omitempty"` // the tenants it may manage; empty: all
	PasswordHash string    `json:"password_hash,omitempty"`
	TOTPSecret   string    `json:"totp_secret,omitempty"` // base32; set once confirmed
	TOTPStep     int64     `json:"totp_step,omitempty"`   // the last time step used, against replay
	OIDCSubject  string    `json:"oidc_subject,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	LastLogin    time.Time `json:"last_login,omitzero"`
}

// MayManage reports whether u may act on tenant.
func (u User) MayManage(tenant string) bool {
	return len(u.Tenants) == 0 || slices.Contains(u.Tenants, tenant)
}

// Public is u without secrets, for the API and the audit log.
func (u User) Public() UserInfo {
	return UserInfo{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Tenants: u.Tenants,
		TOTP: u.TOTPSecret != "", OIDC: u.OIDCSubject != "", Password: u.PasswordHash != "",
		Disabled: u.Disabled, Created: u.Created, LastLogin: u.LastLogin}
}

// UserInfo is what the API shows of an account.
type UserInfo struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name,omitempty"`
	Role      Role      `json:"role"`
	Tenants   []string  `json:"tenants"`
	Password  bool      `json:"password"`
	TOTP      bool      `json:"totp"`
	OIDC      bool      `json:"oidc"`
	Disabled  bool      `json:"disabled"`
	Created   time.Time `json:"created"`
	LastLogin time.Time `json:"last_login,omitzero"`
}

// Errors of the account store.
var (
	// ErrNotFound: no such account, session or token (the store's own
	// sentinel, so one check serves both).
	ErrNotFound = store.ErrNotFound
	// ErrExists: an account with this e-mail or OIDC subject exists.
	ErrExists = errors.New("already exists")
	// ErrBadCredentials: wrong e-mail, password, code or token.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrInvalid: a field does not hold a valid value; the message says which.
	ErrInvalid = errors.New("invalid")
)

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

var (
	bucketUsers    = []byte("admin_users")
	bucketEmails   = []byte("admin_user_emails")   // lower-case e-mail → id
	bucketSubjects = []byte("admin_user_subjects") // OIDC subject → id
	bucketSessions = []byte("admin_sessions")      // sha256(session id) → Session
	bucketTokens   = []byte("admin_tokens")        // token id → Token
	bucketReviews  = []byte("admin_reviews")       // tenant → question id → Review
)

// Accounts keeps users, sessions and API tokens in the node's bbolt file.
// It works on a stopped node too (the CLI). Safe for concurrent use.
type Accounts struct {
	db   *bolt.DB
	now  func() time.Time
	hash PasswordParams
}

// PasswordParams are the argon2id parameters for new password hashes.
type PasswordParams struct {
	Time, Memory uint32 // iterations, KiB
	Threads      uint8
}

// DefaultPasswordParams are OWASP's argon2id minimum: 19 MiB, 2 passes.
var DefaultPasswordParams = PasswordParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// OpenAccounts returns the account store in db, creating its buckets.
func OpenAccounts(db *bolt.DB, now func() time.Time) (*Accounts, error) {
	if now == nil {
		now = time.Now
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketUsers, bucketEmails, bucketSubjects, bucketSessions, bucketTokens, bucketReviews} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open accounts: %w", err)
	}
	return &Accounts{db: db, now: now, hash: DefaultPasswordParams}, nil
}

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 12

// NewUser describes an account to create.
type NewUser struct {
	Email       string
	Name        string
	Role        Role
	Tenants     []string
	Password    string // empty: OIDC only (OIDCSubject) or set later
	OIDCSubject string
}

// NormalEmail checks an e-mail address and returns it in lower case.
func NormalEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return "", invalidf("%q is not an e-mail address", s)
	}
	return strings.ToLower(a.Address), nil
}

// CheckPassword reports why p is not acceptable as a password.
func CheckPassword(p string) error {
	if len([]rune(p)) < MinPassword {
		return invalidf("a password has at least %d characters", MinPassword)
	}
	if len(p) > 1024 {
		return invalidf("a password has at most 1024 bytes")
	}
	return nil
}

// AddUser creates an account. It fails with ErrExists when the e-mail or
// OIDC subject is taken and with ErrInvalid for a bad field.
func (a *Accounts) AddUser(nu NewUser) (User, error) {
	email, err := NormalEmail(nu.Email)
	if err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(nu.Role)); err != nil {
		return User{}, invalidf("%v", err)
	}
	if nu.Password == "" && nu.OIDCSubject == "" {
		return User{}, invalidf("an account needs a password or an OIDC subject")
	}
	now := a.now().UTC()
	u := User{ID: randomID(12), Email: email, Name: strings.TrimSpace(nu.Name), Role: nu.Role, Tenants: nu.Tenants,
		OIDCSubject: strings.TrimSpace(nu.OIDCSubject), Created: now, Updated: now}
	if nu.Password != "" {
		if err := CheckPassword(nu.Password); err != nil {
			return User{}, err
		}
		u.PasswordHash = a.hash.Hash(nu.Password)
	}
	err = a.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEmails).Get([]byte(email)) != nil {
			return fmt.Errorf("account %s: %w", email, ErrExists)
		}
		if u.OIDCSubject != "" && tx.Bucket(bucketSubjects).Get([]byte(u.OIDCSubject)) != nil {
			return fmt.Errorf("OIDC subject %s: %w", u.OIDCSubject, ErrExists)
		}
		return putUser(tx, u, "", "")
	})
	return u, err
}

// putUser stores u and its indexes; oldEmail and oldSubject are removed
// from the indexes when they changed.
func putUser(tx *bolt.Tx, u User, oldEmail, oldSubject string) error {
	if oldEmail != "" && oldEmail != u.Email {
		if err := tx.Bucket(bucketEmails).Delete([]byte(oldEmail)); err != nil {
			return err
		}
	}
	if oldSubject != "" && oldSubject != u.OIDCSubject {
		if err := tx.Bucket(bucketSubjects).Delete([]byte(oldSubject)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketEmails).Put([]byte(u.Email), []byte(u.ID)); err != nil {
		return err
	}
	if u.OIDCSubject != "" {
		if err := tx.Bucket(bucketSubjects).Put([]byte(u.OIDCSubject), []byte(u.ID)); err != nil {
			return err
		}
	}
	return store.PutJSON(tx.Bucket(bucketUsers), []byte(u.ID), u)
}

// User returns the account with id.
func (a *Accounts) User(id string) (User, error) {
	var u User
	err := a.db.View(func(tx *bolt.Tx) error { return store.GetJSON(tx.Bucket(bucketUsers), []byte(id), &u) })
	return u, err
}

// UserByEmail returns the account with e-mail address email.
func (a *Accounts) UserByEmail(email string) (User, error) {
	return a.userBy(bucketEmails, strings.ToLower(strings.TrimSpace(email)))
}

// UserBySubject returns the account linked to an OIDC subject.
func (a *Accounts) UserBySubject(sub string) (User, error) {
	return a.userBy(bucketSubjects, sub)
}

func (a *Accounts) userBy(index []byte, key string) (User, error) {
	var u User
	err := a.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(index).Get([]byte(key))
		if id == nil {
			return ErrNotFound
		}
		return store.GetJSON(tx.Bucket(bucketUsers), id, &u)
	})
	return u, err
}

// Users returns every account, ordered by e-mail.
func (a *Accounts) Users() ([]User, error) {
	var out []User
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("user %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	slices.SortFunc(out, func(x, y User) int { return strings.Compare(x.Email, y.Email) })
	return out, err
}

// CountUsers returns the number of accounts.
func (a *Accounts) CountUsers() (int, error) {
	n := 0
	err := a.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketUsers).Stats().KeyN; return nil })
	return n, err
}

// UpdateUser applies fn to the stored account id and stores the result,
// keeping the e-mail and subject indexes true. It returns the account
// before and after.
func (a *Accounts) UpdateUser(id string, fn func(*User) error) (before, after User, err error) {
	err = a.db.Update(func(tx *bolt.Tx) error {
		if err := store.GetJSON(tx.Bucket(bucketUsers), []byte(id), &before); err != nil {
			return err
		}
		after = before
		after.Tenants = slices.Clone(before.Tenants)
		if err := fn(&after); err != nil {
			return err
		}
		if after.Email != before.Email {
			if other := tx.Bucket(bucketEmails).Get([]byte(after.Email)); other != nil && string(other) != id {
				return fmt.Errorf("account %s: %w", after.Email, ErrExists)
			}
		}
		if after.OIDCSubject != "" && after.OIDCSubject != before.OIDCSubject {
			if other := tx.Bucket(bucketSubjects).Get([]byte(after.OIDCSubject)); other != nil && string(other) != id {
				return fmt.Errorf("OIDC subject: %w", ErrExists)
			}
		}
		after.ID = id
		after.Updated = a.now().UTC()
		return putUser(tx, after, before.Email, before.OIDCSubject)
	})
	return before, after, err
}

// SetPassword replaces the password of account id.
func (a *Accounts) SetPassword(id, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	h := a.hash.Hash(password)
	_, _, err := a.UpdateUser(id, func(u *User) error { u.PasswordHash = h; return nil })
	return err
}

// DeleteUser removes account id with its sessions and tokens.
func (a *Accounts) DeleteUser(id string) (User, error) {
	var u User
	err := a.db.Update(func(tx *bolt.Tx) error {
		if err := store.GetJSON(tx.Bucket(bucketUsers), []byte(id), &u); err != nil {
			return err
		}
		tx.Bucket(bucketEmails).Delete([]byte(u.Email))
		if u.OIDCSubject != "" {
			tx.Bucket(bucketSubjects).Delete([]byte(u.OIDCSubject))
		}
		for _, name := range [][]byte{bucketSessions, bucketTokens} {
			if err := deleteWhere(tx.Bucket(name), func(v []byte) bool {
				var owner struct {
					UserID string `json:"user_id"`
				}
				return json.Unmarshal(v, &owner) == nil && owner.UserID == id
			}); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketUsers).Delete([]byte(id))
	})
	return u, err
}

func deleteWhere(b *bolt.Bucket, match func(v []byte) bool) error {
	var keys [][]byte
	b.ForEach(func(k, v []byte) error {
		if match(v) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// dummyHash is checked against when an account does not exist, so that
// the time taken does not tell which e-mail addresses have accounts.
var dummyHash = DefaultPasswordParams.Hash("geen-account-hier")

// Authenticate checks an e-mail address, password and, for an account
// with TOTP, the code; it returns the account or ErrBadCredentials
// (also for a disabled account or one without a password).
func (a *Accounts) Authenticate(email, password, code string) (User, error) {
	u, err := a.UserByEmail(email)
	if err != nil {
		verifyPassword(dummyHash, password)
		if errors.Is(err, ErrNotFound) {
			return User{}, ErrBadCredentials
		}
		return User{}, err
	}
	if u.PasswordHash == "" || !verifyPassword(u.PasswordHash, password) || u.Disabled {
		return u, ErrBadCredentials
	}
	if u.TOTPSecret != "" {
		if err := a.useTOTP(u.ID, code); err != nil {
			return u, err
		}
	}
	return u, nil
}

// Hash returns the PHC string of password under p.
func (p PasswordParams) Hash(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// verifyPassword reports whether password matches the PHC string phc.
func verifyPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || p.Memory > 1<<20 || p.Time > 16 || p.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// totpOpts are the TOTP parameters every authenticator app supports.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey generates a TOTP secret for the account email; it is stored
// only when ConfirmTOTP sees a code made with it.
func NewTOTPKey(issuer, email string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: email, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// totpStep returns the time step (of one period before, now or one
// after) whose code is code, or false.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / 30, true
		}
	}
	return 0, false
}

// useTOTP checks code for account id and records its time step, so the
// same code cannot be used twice.
func (a *Accounts) useTOTP(id, code string) error {
	_, _, err := a.UpdateUser(id, func(u *User) error {
		step, ok := totpStep(u.TOTPSecret, code, a.now())
		if !ok || step <= u.TOTPStep {
			return ErrBadCredentials
		}
		u.TOTPStep = step
		return nil
	})
	return err
}

// ConfirmTOTP turns on TOTP for account id with secret once code is a
// valid code for it.
func (a *Accounts) ConfirmTOTP(id, secret, code string) error {
	step, ok := totpStep(secret, code, a.now())
	if !ok {
		return ErrBadCredentials
	}
	_, _, err := a.UpdateUser(id, func(u *User) error { u.TOTPSecret, u.TOTPStep = secret, step; return nil })
	return err
}

// DisableTOTP turns TOTP off for account id.
func (a *Accounts) DisableTOTP(id string) error {
	_, _, err := a.UpdateUser(id, func(u *User) error { u.TOTPSecret, u.TOTPStep = "", 0; return nil })
	return err
}

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomSecret returns n random bytes in unpadded URL-safe base64.
func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
