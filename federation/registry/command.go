package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is returned (wrapped) for commands and values that may not be stored.
var ErrInvalid = errors.New("invalid registry command")

// ErrTooLarge is returned (wrapped) for commands whose encoding exceeds
// MaxCommandSize; they never reach the Raft log.
var ErrTooLarge = errors.New("registry command too large")

// ErrConflict is returned (wrapped) when a check-and-set command finds a
// different ModifyIndex than it expected.
var ErrConflict = errors.New("registry check-and-set conflict")

// ErrNotFound is returned (wrapped) when an object or blob does not exist.
var ErrNotFound = errors.New("registry object not found")

// MaxCommandSize is the largest encoded command the registry accepts (1 MiB).
const MaxCommandSize = 1 << 20

// ChunkSize is the size of the chunks PutBlob splits large blobs into; a chunk
// command stays well under MaxCommandSize.
const ChunkSize = 512 << 10

// maxIdempotencyKey bounds idempotency keys.
const maxIdempotencyKey = 128

// envelopeVersion is the first byte of every encoded command.
const envelopeVersion byte = 1

// Op is what a command does.
type Op string

// The operations of the registry.
const (
	// OpPut creates or replaces an object.
	OpPut Op = "put"
	// OpDelete removes an object.
	OpDelete Op = "delete"
	// OpPutBlob stores one content-addressed blob of at most ChunkSize bytes.
	OpPutBlob Op = "put_blob"
	// OpPutBlobManifest stores a large blob as the list of its chunks, which
	// must have been stored before.
	OpPutBlobManifest Op = "put_blob_manifest"
	// OpInitCluster gives the registry its cluster id (SHA256 holds it), once:
	// a later one changes nothing. A new cluster gets a new id, so a
	// watcher can tell a rebuilt cluster from a server that lags.
	OpInitCluster Op = "init_cluster"
)

// InitCluster returns the command that gives a new registry the cluster id
// id (32 lower-case hex digits, see NewClusterID).
func InitCluster(id string) Command {
	return Command{Op: OpInitCluster, IdempotencyKey: NewIdempotencyKey(), SHA256: id}
}

// NewClusterID returns a fresh random cluster id.
func NewClusterID() string { return NewIdempotencyKey() }

// Command is one change to the registry. Every command carries an idempotency
// key: applying a command whose key was applied recently returns the original
// Result and changes nothing, so a caller may retry a command whose outcome it
// does not know. Construct commands with Put, Delete and PutBlob.
type Command struct {
	Op             Op              `json:"op"`
	IdempotencyKey string          `json:"idempotency_key"`
	Kind           Kind            `json:"kind,omitempty"`
	Key            string          `json:"key,omitempty"`
	Value          json.RawMessage `json:"value,omitempty"`
	// CAS makes a put or delete conditional: it applies only if the object's
	// current ModifyIndex equals CASIndex (0: the object must not exist).
	CAS      bool   `json:"cas,omitempty"`
	CASIndex uint64 `json:"cas_index,omitempty"`
	// SHA256 is the hex sha256 of a blob (OpPutBlob) or of the whole content a
	// manifest describes (OpPutBlobManifest).
	SHA256 string   `json:"sha256,omitempty"`
	Chunks []string `json:"chunks,omitempty"`
	Size   int64    `json:"size,omitempty"`
	// Blob is the content of OpPutBlob; it travels after the JSON header, not
	// inside it.
	Blob []byte `json:"-"`
}

// NewIdempotencyKey returns a fresh random idempotency key.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails.
	return hex.EncodeToString(b[:])
}

// Put returns a command that stores v under its kind and key, with a new
// idempotency key. It fails with ErrInvalid if v does not validate.
func Put(v Value) (Command, error) {
	if err := v.Validate(); err != nil {
		return Command{}, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return Command{}, fmt.Errorf("%w: encode %s: %w", ErrInvalid, v.RegistryKind(), err)
	}
	return PutRaw(v.RegistryKind(), v.Key(), raw), nil
}

// PutRaw returns a command that stores the JSON value raw under kind and key,
// with a new idempotency key. The value is checked by Validate, not here.
func PutRaw(kind Kind, key string, raw json.RawMessage) Command {
	return Command{Op: OpPut, IdempotencyKey: NewIdempotencyKey(), Kind: kind, Key: key, Value: raw}
}

// Delete returns a command that removes the object kind/key, with a new
// idempotency key.
func Delete(kind Kind, key string) Command {
	return Command{Op: OpDelete, IdempotencyKey: NewIdempotencyKey(), Kind: kind, Key: key}
}

// IfIndex returns c made conditional: it applies only if the object's
// ModifyIndex is index, or if the object is absent when index is 0.
func (c Command) IfIndex(index uint64) Command {
	c.CAS = true
	c.CASIndex = index
	return c
}

// PutBlob returns the commands that store data as a content-addressed blob,
// and the blob's hex sha256. Data of at most ChunkSize bytes is one command;
// larger data is one command per chunk followed by a manifest command, to be
// applied in order. Blob(sha) then returns the whole content.
func PutBlob(data []byte) ([]Command, string) {
	sum := SHA256Hex(data)
	if len(data) <= ChunkSize {
		return []Command{blobCommand(sum, data)}, sum
	}
	var cmds []Command
	var chunks []string
	for off := 0; off < len(data); off += ChunkSize {
		part := data[off:min(off+ChunkSize, len(data))]
		h := SHA256Hex(part)
		chunks = append(chunks, h)
		cmds = append(cmds, blobCommand(h, part))
	}
	cmds = append(cmds, Command{
		Op: OpPutBlobManifest, IdempotencyKey: NewIdempotencyKey(),
		SHA256: sum, Chunks: chunks, Size: int64(len(data)),
	})
	return cmds, sum
}

func blobCommand(sum string, data []byte) Command {
	return Command{Op: OpPutBlob, IdempotencyKey: NewIdempotencyKey(), SHA256: sum, Blob: data}
}

// SHA256Hex returns the lowercase hex sha256 of data, the address of a blob.
func SHA256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Validate reports why c may not be applied, wrapping ErrInvalid. Coordination
// servers validate before a command enters the log; the FSM itself applies
// whatever the log holds, so that a change of validation rules between
// versions can never make replicas diverge.
func (c Command) Validate() error {
	if c.IdempotencyKey == "" || len(c.IdempotencyKey) > maxIdempotencyKey {
		return fieldErr("idempotency_key", fmt.Sprintf("required, at most %d bytes", maxIdempotencyKey))
	}
	switch c.Op {
	case OpPut:
		if !c.Kind.Valid() {
			return fieldErr("kind", fmt.Sprintf("unknown kind %q", c.Kind))
		}
		return validateValue(c.Kind, c.Key, c.Value)
	case OpDelete:
		if !c.Kind.Valid() {
			return fieldErr("kind", fmt.Sprintf("unknown kind %q", c.Kind))
		}
		return checkKeyField(c.Key)
	case OpPutBlob:
		if SHA256Hex(c.Blob) != c.SHA256 {
			return fieldErr("sha256", "does not match the blob")
		}
		if len(c.Blob) > ChunkSize {
			return fieldErr("blob", fmt.Sprintf("larger than %d bytes; use PutBlob, which splits it", ChunkSize))
		}
		return nil
	case OpInitCluster:
		if len(c.SHA256) != 32 || strings.Trim(c.SHA256, "0123456789abcdef") != "" {
			return fieldErr("cluster_id", "must be 32 lower-case hex digits")
		}
		return nil
	case OpPutBlobManifest:
		if !isSHA256Hex(c.SHA256) || len(c.Chunks) == 0 || c.Size <= 0 {
			return fieldErr("manifest", "needs sha256, chunks and size")
		}
		for _, ch := range c.Chunks {
			if !isSHA256Hex(ch) {
				return fieldErr("manifest.chunks", "must be hex sha256 values")
			}
		}
		return nil
	}
	return fieldErr("op", fmt.Sprintf("unknown op %q", c.Op))
}

func checkKeyField(key string) error {
	if err := checkKey(key); err != nil {
		return fieldErr("key", err.Error())
	}
	return nil
}

// Encode returns the command's log entry: a version byte, the uvarint length
// of a JSON header, the header, then the raw blob bytes. It fails with
// ErrTooLarge above MaxCommandSize.
func (c Command) Encode() ([]byte, error) {
	hdr, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	size := 1 + binary.MaxVarintLen64 + len(hdr) + len(c.Blob)
	if size > MaxCommandSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, MaxCommandSize)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, envelopeVersion)
	buf = binary.AppendUvarint(buf, uint64(len(hdr)))
	buf = append(buf, hdr...)
	buf = append(buf, c.Blob...)
	return buf, nil
}

// DecodeCommand parses a log entry written by Encode.
func DecodeCommand(data []byte) (Command, error) {
	if len(data) == 0 || data[0] != envelopeVersion {
		return Command{}, fmt.Errorf("%w: unknown envelope version", ErrInvalid)
	}
	n, w := binary.Uvarint(data[1:])
	if w <= 0 || n > uint64(len(data)-1-w) {
		return Command{}, fmt.Errorf("%w: bad header length", ErrInvalid)
	}
	hdr := data[1+w : 1+w+int(n)]
	var c Command
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("%w: decode header: %w", ErrInvalid, err)
	}
	if rest := data[1+w+int(n):]; len(rest) > 0 {
		c.Blob = bytes.Clone(rest)
	}
	return c, nil
}

// Status is the outcome of an applied command.
type Status string

// The outcomes of a command.
const (
	StatusOK       Status = "ok"
	StatusConflict Status = "conflict"
	StatusNotFound Status = "not_found"
	StatusInvalid  Status = "invalid"
)

// Result is what applying a command produced. It is stored with the
// idempotency key, so a retry of the same command returns the same Result
// (with Duplicate set).
type Result struct {
	// Index is the log index at which the command was applied.
	Index uint64 `json:"index"`
	// Status is the outcome; Err turns it into an error.
	Status Status `json:"status"`
	// ModifyIndex is the object's ModifyIndex after a put, or its current
	// ModifyIndex when a check-and-set failed (0: absent).
	ModifyIndex uint64 `json:"modify_index,omitempty"`
	// Detail explains a non-ok status.
	Detail string `json:"detail,omitempty"`
	// Duplicate is set when the result comes from the idempotency window
	// instead of a fresh application.
	Duplicate bool `json:"-"`
}

// Err returns nil for StatusOK and otherwise an error wrapping ErrConflict,
// ErrNotFound or ErrInvalid.
func (r Result) Err() error {
	switch r.Status {
	case StatusOK:
		return nil
	case StatusConflict:
		return fmt.Errorf("%w: current modify index %d (log index %d)", ErrConflict, r.ModifyIndex, r.Index)
	case StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, r.Detail)
	default:
		return fmt.Errorf("%w: %s", ErrInvalid, r.Detail)
	}
}
