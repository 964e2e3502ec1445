package retrieval

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// FreeDictPath is where Debian's package dict-freedict-eng-nld installs the
// FreeDict English-Dutch dictionary, without the ".index" and ".dict.dz"
// extensions. FreeDict is GPL-2.0-or-later: the project ships nothing
// derived from it and reads it at run time when it is installed.
const FreeDictPath = "/usr/share/dictd/freedict-eng-nld"

// FreeDictReversePath is where Debian's dict-freedict-nld-eng installs the
// FreeDict Dutch-English dictionary (GPL-2.0-or-later, read at run time
// like FreeDictPath); turned around it gives the English words the
// English-Dutch one lacks.
const FreeDictReversePath = "/usr/share/dictd/freedict-nld-eng"

// Glossary maps English words to Dutch translations, read from a
// dictionary in the dictd format.
type Glossary struct {
	m map[string][]string // folded English headword → folded Dutch words
}

// maxSenses and perSense bound what one English word adds: the first
// translations of its first senses, which FreeDict lists most common first.
const (
	maxSenses = 2
	perSense  = 1
)

// LoadFreeDict reads the dictd dictionary base+".index" with base+".dict.dz"
// (or an uncompressed base+".dict"). It returns an error wrapping
// os.ErrNotExist when the dictionary is not installed.
func LoadFreeDict(base string) (*Glossary, error) {
	idx, body, err := readDictFiles(base)
	if err != nil {
		return nil, err
	}
	return parseDictd(idx, body)
}

// readDictFiles reads a dictd dictionary's index and its (dictzipped or
// plain) body.
func readDictFiles(base string) (index, body []byte, err error) {
	if index, err = os.ReadFile(base + ".index"); err != nil {
		return nil, nil, fmt.Errorf("freedict index: %w", err)
	}
	if body, err = readDict(base); err != nil {
		return nil, nil, err
	}
	return index, body, nil
}

func readDict(base string) ([]byte, error) {
	f, err := os.Open(base + ".dict.dz")
	if errors.Is(err, os.ErrNotExist) {
		b, err := os.ReadFile(base + ".dict")
		if err != nil {
			return nil, fmt.Errorf("freedict dict: %w", err)
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("freedict dict: %w", err)
	}
	defer f.Close()
	// dictzip is gzip with an index of chunks in the header; a plain gzip
	// reader reads it whole.
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("freedict dict %s.dict.dz: %w", base, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("freedict dict %s.dict.dz: %w", base, err)
	}
	return b, nil
}

// parseDictd reads a forward dictionary (English headwords, Dutch
// translations): each headword maps to the first perSense single-word
// translations of its first maxSenses senses.
func parseDictd(index, dict []byte) (*Glossary, error) {
	g := &Glossary{m: map[string][]string{}}
	err := readDictd(index, dict, func(head string, senses [][]string) {
		var out []string
		for _, sense := range senses[:min(len(senses), maxSenses)] {
			out = append(out, sense[:min(len(sense), perSense)]...)
		}
		if len(out) > 0 {
			g.m[head] = append(g.m[head], out...)
		}
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// LoadFreeDictReverse reads a Dutch-English dictd dictionary (FreeDict
// nld-eng) and turns it around: each English word maps to the Dutch
// headwords that translate it, those where it comes first in the first
// sense first, at most reverseMax. Errors as LoadFreeDict.
func LoadFreeDictReverse(base string) (*Glossary, error) {
	idx, body, err := readDictFiles(base)
	if err != nil {
		return nil, err
	}
	type cand struct {
		sense, pos int
		dutch      string
	}
	cands := map[string][]cand{}
	err = readDictd(idx, body, func(head string, senses [][]string) {
		if strings.Contains(head, " ") {
			return
		}
		for si, sense := range senses {
			for pi, en := range sense {
				cands[en] = append(cands[en], cand{si, pi, head})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	g := &Glossary{m: make(map[string][]string, len(cands))}
	for en, cs := range cands {
		sort.Slice(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			if a.sense != b.sense {
				return a.sense < b.sense
			}
			if a.pos != b.pos {
				return a.pos < b.pos
			}
			if len(a.dutch) != len(b.dutch) {
				return len(a.dutch) < len(b.dutch)
			}
			return a.dutch < b.dutch
		})
		for _, c := range cs[:min(len(cs), reverseMax)] {
			g.m[en] = append(g.m[en], c.dutch)
		}
	}
	return g, nil
}

// reverseMax bounds the Dutch words one English word adds through a
// reversed dictionary.
const reverseMax = 1

// AddMissing adds the headwords of other that g does not have.
func (g *Glossary) AddMissing(other *Glossary) {
	for w, t := range other.m {
		if _, ok := g.m[w]; !ok {
			g.m[w] = t
		}
	}
}

// readDictd reads index lines "headword<TAB>offset<TAB>length" (base64
// numbers) and calls fn with each entry the index points to: its folded
// headword and its senses, one a line after the headword line ("1. a, b"),
// each as its single-word translations, folded. Phrases are left out:
// they describe more than they name a word a page would use.
func readDictd(index, dict []byte, fn func(head string, senses [][]string)) error {
	for n, line := range strings.Split(string(index), "\n") {
		if line == "" || strings.HasPrefix(line, "00database") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return fmt.Errorf("freedict index line %d: want 3 fields", n+1)
		}
		head := normaliseTerms(f[0])
		if head == "" {
			continue
		}
		off, err1 := b64(f[1])
		size, err2 := b64(f[2])
		if err := errors.Join(err1, err2); err != nil || off+size > len(dict) {
			return fmt.Errorf("freedict index line %d: bad offset or length", n+1)
		}
		_, body, _ := strings.Cut(string(dict[off:off+size]), "\n")
		var senses [][]string
		for _, sense := range strings.Split(body, "\n") {
			sense = strings.TrimSpace(sense)
			if i := strings.Index(sense, ". "); i > 0 && i < 4 {
				sense = sense[i+2:]
			}
			var words []string
			for _, t := range strings.Split(sense, ",") {
				if t = normaliseTerms(t); t != "" && !strings.Contains(t, " ") {
					words = append(words, t)
				}
			}
			if len(words) > 0 {
				senses = append(senses, words)
			}
		}
		if len(senses) > 0 {
			fn(head, senses)
		}
	}
	return nil
}

// b64 decodes dictd's base64 numbers.
func b64(s string) (int, error) {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	n := 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(digits, s[i])
		if d < 0 {
			return 0, fmt.Errorf("bad base64 digit %q", s[i])
		}
		n = n*64 + d
	}
	return n, nil
}

// Len returns the number of English headwords g holds.
func (g *Glossary) Len() int {
	if g == nil {
		return 0
	}
	return len(g.m)
}

// Translate returns the Dutch translations of the folded English word w,
// trying its singular or stem when w itself is not a headword ("tyres" →
// "tyre", "voting" → "vote").
func (g *Glossary) Translate(w string) []string {
	if g == nil {
		return nil
	}
	for _, c := range englishBases(w) {
		if t, ok := g.m[c]; ok {
			return t
		}
	}
	return nil
}

// englishBases returns w and the words it may be an inflection of.
func englishBases(w string) []string {
	out := []string{w}
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		out = append(out, w[:n-3]+"y")
	case n > 4 && strings.HasSuffix(w, "es"):
		out = append(out, w[:n-2], w[:n-1])
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		out = append(out, w[:n-1])
	case n > 5 && strings.HasSuffix(w, "ing"):
		out = append(out, w[:n-3], w[:n-3]+"e")
	case n > 4 && strings.HasSuffix(w, "ed"):
		out = append(out, w[:n-2], w[:n-1])
	}
	return out
}

// LooksEnglish reports whether the normalised words read as English: at
// least two English function words, and more of them than Dutch ones.
func LooksEnglish(words []string) bool {
	en, nl := 0, 0
	for _, w := range words {
		if englishFunctionWords[w] {
			en++
		}
		if dutchFunctionWords[w] {
			nl++
		}
	}
	return en >= 2 && en > nl
}

// englishStopWords are the English words Expand does not translate: the
// Snowball English stop word list (snowball.tartarus.org, BSD), plus "us",
// the modal verbs it lacks (can, will, ...), "now", "just", "get", and the
// pieces normalising leaves of a contraction ("i'm" → "i", "m").
var englishStopWords = wordSet(`
i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which
who whom this that these those am is are was were be been being have has had having do
does did doing would should could ought cannot a an the and but if or because as until
while of at by for with about against between into through during before after above
below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same
so than too very us can will may must shall might now just get m s t re ve d ll
`)

// englishFunctionWords are the English stop words that tell an English
// question from a Dutch one: those Dutch does not spell alike (is, in,
// was, me, we, as, of, over, had, die, ...).
var englishFunctionWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range englishStopWords {
		if !sharedFunctionWords[w] && len(w) > 1 {
			m[w] = true
		}
	}
	return m
}()

var sharedFunctionWords = wordSet(`is in was me we as of over had en re ll ve`)

// dutchFunctionWords are the Dutch words that tell a Dutch question from an
// English one; words both languages spell alike (in, is, of, we) are left out.
var dutchFunctionWords = wordSet(`
de het een en ik mijn je jij u uw wij ze zij hij wat hoe waar wanneer welke wie
waarom kan kun kunt moet mag mogen van voor met naar niet ook dat die dit deze er
bij aan op om te tot uit zijn heb heeft wordt worden zal nog al
`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
