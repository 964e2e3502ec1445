package policy

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Example is one labelled resident message of the training data
// (labelled/README.md).
type Example struct {
	ID    string `json:"id"`
	Label Intent `json:"label"`
	Group string `json:"group"`
	Frame string `json:"frame"`
	Text  string `json:"text"`
}

//go:embed labelled/*.jsonl
var dataFS embed.FS

// Frames are the ways a message may be put (labelled/README.md).
var Frames = []string{"plain", "informal", "typo", "long", "story", "hypothetical", "friend", "authority", "past", "english", "emotional"}

// Examples returns the project's labelled messages, in file and line order.
// The data is embedded and checked by the package's tests; an error means
// a defect in it.
func Examples() ([]Example, error) { return ReadExamples(dataFS) }

// ReadExamples reads every labelled/*.jsonl file of fsys and checks it: known
// labels and frames, unique ids, no empty text or group, no text twice.
func ReadExamples(fsys fs.FS) ([]Example, error) {
	names, err := fs.Glob(fsys, "labelled/*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	known := map[Intent]bool{}
	for _, c := range Intents {
		known[c] = true
	}
	frames := map[string]bool{}
	for _, f := range Frames {
		frames[f] = true
	}
	ids, texts := map[string]string{}, map[string]string{}
	var out []Example
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			at := fmt.Sprintf("%s:%d", path.Base(name), n)
			var e Example
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			switch {
			case e.ID == "" || e.Group == "" || strings.TrimSpace(e.Text) == "":
				return nil, fmt.Errorf("%s: id, group and text are required", at)
			case !known[e.Label]:
				return nil, fmt.Errorf("%s: unknown label %q", at, e.Label)
			case !frames[e.Frame]:
				return nil, fmt.Errorf("%s: unknown frame %q", at, e.Frame)
			case ids[e.ID] != "":
				return nil, fmt.Errorf("%s: id %s also at %s", at, e.ID, ids[e.ID])
			}
			key := strings.Join(words(e.Text), " ")
			if texts[key] != "" {
				return nil, fmt.Errorf("%s: same text as %s", at, texts[key])
			}
			ids[e.ID], texts[key] = at, e.ID
			out = append(out, e)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// HeldOut reports whether an example's group belongs to the held-out
// split: one in five groups, by a hash of the group's name, so that the
// split does not depend on the order of the files and paraphrases of one
// scenario stay on one side.
func HeldOut(e Example) bool {
	h := fnv.New32a()
	h.Write([]byte(e.Group))
	return h.Sum32()%5 == 0
}

// Split returns the training and the held-out examples.
func Split(all []Example) (train, heldout []Example) {
	for _, e := range all {
		if HeldOut(e) {
			heldout = append(heldout, e)
		} else {
			train = append(train, e)
		}
	}
	return train, heldout
}

// Fold returns the cross-validation fold (of k) of an example's group, for
// tuning on the training split.
func Fold(e Example, k int) int {
	h := fnv.New32a()
	h.Write([]byte("fold:" + e.Group))
	return int(h.Sum32() % uint32(k))
}
