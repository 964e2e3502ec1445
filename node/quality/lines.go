package quality

import (
	"bytes"
	"fmt"
	"io"

	"github.com/assistent-nl/assistent/node/ingest"
)

// readSet reads a JSON Lines evaluation set of T: every non-empty line is
// decoded strictly and checked by check; the first bad line is an error
// naming name and the line number.
func readSet[T any](r io.Reader, name string, check func(T) error) ([]T, error) {
	var out []T
	for line, err := range ingest.Lines(r) {
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line.N, err)
		}
		if len(bytes.TrimSpace(line.Data)) == 0 {
			continue
		}
		var v T
		if err := ingest.DecodeStrict(line.Data, &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line.N, err)
		}
		if err := check(v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line.N, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// SplitHalves divides a set by its items' split field: one part per
// distinct value, in order of first appearance, named name or name:split.
// A set without splits is one part named name.
func SplitHalves[T any](items []T, name string, split func(T) string) (names []string, parts [][]T) {
	index := map[string]int{}
	for _, it := range items {
		s := split(it)
		i, ok := index[s]
		if !ok {
			i = len(parts)
			index[s] = i
			n := name
			if s != "" {
				n += ":" + s
			}
			names, parts = append(names, n), append(parts, nil)
		}
		parts[i] = append(parts[i], it)
	}
	return names, parts
}
