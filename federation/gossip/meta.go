package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/memberlist"

	"github.com/assistent-nl/assistent/federation/trust"
)

// MetaMaxSize is the most bytes of metadata memberlist gossips for a member.
const MetaMaxSize = memberlist.MetaMaxSize

// ErrMetaTooLarge is returned (wrapped) when a member's encoded metadata
// would exceed MetaMaxSize bytes; the message gives the size.
var ErrMetaTooLarge = errors.New("gossip: metadata too large")

// errBadMeta is wrapped by decode errors.
var errBadMeta = errors.New("gossip: malformed metadata")

const metaFormat = 1

// flagLeaving is the flags bit for meta.Leaving.
const flagLeaving = 1

// roleCode returns the one-byte wire code of r, 0 for an unknown role. The
// codes are fixed forever.
func roleCode(r trust.Role) byte {
	switch r {
	case trust.RoleServer:
		return 1
	case trust.RoleNode:
		return 2
	case trust.RolePublisher:
		return 3
	case trust.RoleOperator:
		return 4
	}
	return 0
}

// roleOf is the inverse of roleCode; it returns "" for an unknown code.
func roleOf(code byte) trust.Role {
	for _, r := range []trust.Role{trust.RoleServer, trust.RoleNode, trust.RolePublisher, trust.RoleOperator} {
		if roleCode(r) == code {
			return r
		}
	}
	return ""
}

// meta is what a member publishes about itself.
type meta struct {
	Org         string
	Role        trust.Role
	APIAddr     string
	Version     string
	Collections []string
	Topics      []string
	// Leaving is set by Leave just before the member announces that it
	// leaves: memberlist does not tell its event delegate whether a member
	// left or failed, so the others tell it by this flag.
	Leaving bool
}

// canonical returns a sorted, deduplicated copy of s.
func canonical(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// encode returns the wire form, or an error wrapping ErrMetaTooLarge.
func (m meta) encode() ([]byte, error) {
	code := roleCode(m.Role)
	if code == 0 {
		return nil, fmt.Errorf("%w: unknown role %q", errBadMeta, m.Role)
	}
	buf := make([]byte, 0, 128)
	var flags byte
	if m.Leaving {
		flags |= flagLeaving
	}
	buf = append(buf, metaFormat, code, flags)
	str := func(s string) { buf = binary.AppendUvarint(buf, uint64(len(s))); buf = append(buf, s...) }
	list := func(l []string) {
		l = canonical(l)
		buf = binary.AppendUvarint(buf, uint64(len(l)))
		for _, s := range l {
			str(s)
		}
	}
	str(m.Org)
	str(m.APIAddr)
	str(m.Version)
	list(m.Collections)
	list(m.Topics)
	for _, l := range [][]string{m.Collections, m.Topics} {
		for _, s := range l {
			if s == "" || !utf8.ValidString(s) {
				return nil, fmt.Errorf("%w: empty or invalid name %q", errBadMeta, s)
			}
		}
	}
	if len(buf) > MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d; publish fewer or shorter collections and topics", ErrMetaTooLarge, len(buf), MetaMaxSize)
	}
	return buf, nil
}

// decodeMeta parses the wire form strictly: unknown formats and roles,
// truncation and trailing bytes are errors wrapping errBadMeta.
func decodeMeta(b []byte) (meta, error) {
	var m meta
	if len(b) < 3 {
		return m, fmt.Errorf("%w: %d bytes", errBadMeta, len(b))
	}
	if b[0] != metaFormat {
		return m, fmt.Errorf("%w: format %d", errBadMeta, b[0])
	}
	if m.Role = roleOf(b[1]); m.Role == "" {
		return m, fmt.Errorf("%w: role code %d", errBadMeta, b[1])
	}
	if b[2]&^flagLeaving != 0 {
		return m, fmt.Errorf("%w: flags %#x", errBadMeta, b[2])
	}
	m.Leaving = b[2]&flagLeaving != 0
	rest := b[3:]
	var err error
	uv := func() uint64 {
		if err != nil {
			return 0
		}
		v, n := binary.Uvarint(rest)
		if n <= 0 || v > uint64(len(rest)-n) {
			err = fmt.Errorf("%w: truncated", errBadMeta)
			return 0
		}
		rest = rest[n:]
		return v
	}
	str := func() string {
		n := uv()
		if err != nil {
			return ""
		}
		s := string(rest[:n])
		rest = rest[n:]
		if !utf8.ValidString(s) {
			err = fmt.Errorf("%w: invalid utf-8", errBadMeta)
		}
		return s
	}
	list := func() []string {
		n := uv() // each entry takes at least one byte, so n <= len(rest)
		var l []string
		for i := uint64(0); i < n && err == nil; i++ {
			l = append(l, str())
		}
		return l
	}
	m.Org = str()
	m.APIAddr = str()
	m.Version = str()
	m.Collections = list()
	m.Topics = list()
	if err != nil {
		return meta{}, err
	}
	if len(rest) != 0 {
		return meta{}, fmt.Errorf("%w: %d trailing bytes", errBadMeta, len(rest))
	}
	return m, nil
}
