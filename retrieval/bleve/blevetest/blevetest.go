// Package blevetest damages on-disk bleve indexes for tests of how they
// are found out and rebuilt.
package blevetest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Damage is how many bytes CorruptSegments overwrites at each place.
const Damage = 4096

// footer is kept intact: zap reads it when it opens a segment, and a
// damaged body is the harder case to find.
const footer = 64

// CorruptSegments overwrites Damage bytes at each fraction (0 to 1) of
// every zap segment file of the index at dir that is at least 4×Damage
// long, leaving each file's footer intact. It works on an open index too:
// scorch reads segments through mmap, so the reads see the damage. It
// fails tb when no segment file is long enough and returns how many it
// damaged.
func CorruptSegments(tb testing.TB, dir string, fracs ...float64) int {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil {
		tb.Fatal(err)
	}
	junk := bytes.Repeat([]byte("kapot!"), Damage/6+1)[:Damage]
	damaged := 0
	for _, f := range files {
		fh, err := os.OpenFile(f, os.O_RDWR, 0)
		if err != nil {
			tb.Fatal(err)
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			tb.Fatal(err)
		}
		if st.Size() < 4*Damage {
			fh.Close()
			continue
		}
		for _, frac := range fracs {
			off := min(int64(frac*float64(st.Size())), st.Size()-Damage-footer)
			if _, err := fh.WriteAt(junk, off); err != nil {
				fh.Close()
				tb.Fatal(err)
			}
		}
		if err := fh.Close(); err != nil {
			tb.Fatal(err)
		}
		damaged++
	}
	if damaged == 0 {
		tb.Fatalf("no segment file of %d in %s is long enough to damage", len(files), dir)
	}
	return damaged
}
