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
