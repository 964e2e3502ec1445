package audit_test

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/admin/audit"
)

func openLog(t *testing.T) (*audit.Log, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l, err := audit.Open(db, func() time.Time { clock = clock.Add(time.Minute); return clock })
	if err != nil {
		t.Fatal(err)
	}
	return l, db
}

// fill appends n entries.
func fill(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		_, err := l.Append(audit.Entry{Actor: "beheer@gemeente.nl", Action: "tenant.update", Tenant: "proef",
			Before: audit.Value(map[string]string{"phone": "14 0" + string(rune('0'+i))}),
			After:  audit.Value(map[string]string{"phone": "14 1" + string(rune('0'+i))})})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func key(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestLog_Verify(t *testing.T) {
	edit := func(db *bolt.DB) {
		db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("admin_audit"))
			v := bytes.Replace(b.Get(key(3)), []byte("14 12"), []byte("14 99"), 1)
			return b.Put(key(3), v)
		})
	}
	tests := []struct {
		name    string
		tamper  func(db *bolt.DB)
		wantSeq uint64
	}{
		{"intact", func(*bolt.DB) {}, 0},
		{"edited", edit, 3},
		{"deleted", func(db *bolt.DB) {
			db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("admin_audit")).Delete(key(2)) })
		}, 2},
		{"reordered", func(db *bolt.DB) {
			db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("admin_audit"))
				v2, v3 := bytes.Clone(b.Get(key(2))), bytes.Clone(b.Get(key(3)))
				b.Put(key(2), v3)
				return b.Put(key(3), v2)
			})
		}, 2},
		{"reordered with sequences rewritten", func(db *bolt.DB) {
			db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("admin_audit"))
				var e2, e3 map[string]any
				json.Unmarshal(b.Get(key(2)), &e2)
				json.Unmarshal(b.Get(key(3)), &e3)
				e2["seq"], e3["seq"] = 3, 2
				v2, _ := json.Marshal(e2)
				v3, _ := json.Marshal(e3)
				b.Put(key(2), v3)
				return b.Put(key(3), v2)
			})
		}, 2},
		{"tail cut off", func(db *bolt.DB) {
			db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("admin_audit")).Delete(key(5)) })
		}, 5},
		{"rehashed after an edit", func(db *bolt.DB) {
			// Recomputing the edited entry's own hash still breaks the next link.
			db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("admin_audit"))
				var e audit.Entry
				json.Unmarshal(b.Get(key(3)), &e)
				e.Actor = "iemand-anders@gemeente.nl"
				v, _ := json.Marshal(e)
				return b.Put(key(3), v)
			})
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, db := openLog(t)
			fill(t, l, 5)
			tc.tamper(db)
			n, err := l.Verify()
			if tc.wantSeq == 0 {
				if err != nil || n != 5 {
					t.Fatalf("Verify = %d, %v; want 5 intact", n, err)
				}
				return
			}
			var ce *audit.ChainError
			if !errors.As(err, &ce) || !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("Verify = %d, %v; want a ChainError", n, err)
			}
			if ce.Seq != tc.wantSeq {
				t.Errorf("first bad entry %d (%s), want %d", ce.Seq, ce.Reason, tc.wantSeq)
			}
		})
	}
}

func TestLog_ListAndExport(t *testing.T) {
	l, _ := openLog(t)
	fill(t, l, 3)
	if _, err := l.Append(audit.Entry{Actor: "=cmd|' /C calc'!A0", Action: "login", Outcome: "failed"}); err != nil {
		t.Fatal(err)
	}
	got, err := l.List(audit.Filter{Action: "tenant.", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 2 {
		t.Fatalf("List newest 2 tenant changes: %+v", got)
	}
	got, _ = l.List(audit.Filter{Before: 3})
	if len(got) != 2 || got[0].Seq != 2 {
		t.Fatalf("List before 3: %+v", got)
	}

	var jl bytes.Buffer
	if err := l.Export(&jl, audit.FormatJSONL, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(jl.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], `"seq":1`) {
		t.Fatalf("jsonl export: %q", lines)
	}
	var cv bytes.Buffer
	if err := l.Export(&cv, audit.FormatCSV, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cv).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "seq" || rows[4][2] != "'=cmd|' /C calc'!A0" {
		t.Fatalf("csv export: %q", rows)
	}
	if err := l.Export(&cv, "xml", audit.Filter{}); err == nil {
		t.Error("unknown format accepted")
	}
}
