// Package embed turns texts into vectors for the vector index: Lexical, a
// built-in hashing embedder that needs no model, and OpenAI, a client for any
// OpenAI-compatible /v1/embeddings endpoint.
package embed

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/retrieval"
)

var _ retrieval.Embedder = (*Lexical)(nil)

// DefaultLexicalDim is the dimension NewLexical uses when given none.
const DefaultLexicalDim = 256

// Feature weights. A word counts 1; the character n-grams of one word
// together weigh ngramNorm (their l2 norm before collisions), whatever the
// word's length, so long words do not drown short ones.
const (
	wordWeight = 1.0
	ngramNorm  = 0.8
	minGram    = 3
	maxGram    = 5
)

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// wordTag starts a whole-word feature, so the word "abc" and the
	// n-gram " abc " hash apart.
	wordTag = 0x01
)

// Lexical is the built-in embedder. It is NOT semantic: it hashes the words
// of a text and the character 3-, 4- and 5-grams of each word into a
// fixed-size vector, so two texts are close when they share words or word
// pieces. That makes it robust to typos ("parkeervergunnig") and compounds
// ("omgevingsvergunning" shares pieces with "vergunning"), but it knows
// nothing of meaning: "trouwen" and "huwelijk" are unrelated to it.
//
// Text is lower-cased and diacritics are folded (é → e, ĳ → ij) before
// hashing; words are runs of letters and digits; a short list of Dutch stop
// words is skipped. Vectors are l2-normalised; a text without words gives the
// zero vector. Lexical is deterministic and safe for concurrent use.
type Lexical struct {
	dim   int
	name  string
	stops map[string]struct{}
}

// NewLexical returns a Lexical embedder of dimension dim, or of
// DefaultLexicalDim when dim <= 0.
func NewLexical(dim int) *Lexical {
	if dim <= 0 {
		dim = DefaultLexicalDim
	}
	words := strings.Fields(dutchStopWords)
	stops := make(map[string]struct{}, len(words))
	for _, w := range words {
		stops[w] = struct{}{}
	}
	return &Lexical{dim: dim, name: fmt.Sprintf("lexical-v1-%d", dim), stops: stops}
}

// Dim returns the vector dimension.
func (l *Lexical) Dim() int { return l.dim }

// Name returns "lexical-v1-<dim>"; it changes whenever the features change.
func (l *Lexical) Name() string { return l.name }

// Embed returns one l2-normalised vector per text. It fails only when ctx is
// done.
func (l *Lexical) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	slab := make([]float32, len(texts)*l.dim)
	var s scratch
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("lexical embed: %w", err)
			}
		}
		v := slab[i*l.dim : (i+1)*l.dim : (i+1)*l.dim]
		l.embed(&s, v, t)
		out[i] = v
	}
	return out, nil
}

// scratch holds the buffers of one Embed call, reused across its texts.
type scratch struct {
	word []byte // " word " padded, folded
	offs []int  // byte offset of each rune of word, plus len(word)
}

// embed adds the features of text to v (zeroed) and normalises v.
func (l *Lexical) embed(s *scratch, v []float32, text string) {
	s.word = append(s.word[:0], ' ')
	ascii := true
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				s.word = append(s.word, c)
			case 'A' <= c && c <= 'Z':
				s.word = append(s.word, c+'a'-'A')
			default:
				l.flush(s, v, ascii)
				ascii = true
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark (decomposed diacritic) belongs to the letter
			// before it and is dropped with the folding.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if f, ok := foldRune(r); ok {
				s.word = append(s.word, f...)
			} else {
				s.word = utf8.AppendRune(s.word, unicode.ToLower(r))
				ascii = false
			}
		default:
			l.flush(s, v, ascii)
			ascii = true
		}
	}
	l.flush(s, v, ascii)
	normalize(v)
}

// flush hashes the word collected in s.word (after its leading space), if
// any, into v and resets s.word.
func (l *Lexical) flush(s *scratch, v []float32, ascii bool) {
	w := s.word
	if len(w) == 1 {
		return
	}
	defer func() { s.word = s.word[:1] }()
	if _, stop := l.stops[string(w[1:])]; stop {
		return
	}
	h := uint64(fnvOffset)
	h = (h ^ wordTag) * fnvPrime
	for _, c := range w[1:] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	l.add(v, h, wordWeight)

	w = append(w, ' ')
	s.word = w
	if ascii {
		l.grams(v, w, nil)
		return
	}
	s.offs = s.offs[:0]
	for i := range string(w) {
		s.offs = append(s.offs, i)
	}
	s.offs = append(s.offs, len(w))
	l.grams(v, w, s.offs)
}

// grams hashes the character n-grams of the padded word w into v. offs holds
// the byte offset of each rune and len(w), or is nil when w is ASCII.
func (l *Lexical) grams(v []float32, w []byte, offs []int) {
	runes := len(w)
	if offs != nil {
		runes = len(offs) - 1
	}
	count := 0
	for n := minGram; n <= maxGram; n++ {
		if runes >= n {
			count += runes - n + 1
		}
	}
	if count == 0 {
		return
	}
	weight := float32(ngramNorm / math.Sqrt(float64(count)))
	for i := 0; i+minGram <= runes; i++ {
		h := uint64(fnvOffset)
		if offs == nil {
			end := min(i+maxGram, runes)
			for j := i; j < end; j++ {
				h = (h ^ uint64(w[j])) * fnvPrime
				if j-i+1 >= minGram {
					l.add(v, h, weight)
				}
			}
			continue
		}
		for n := 1; n <= maxGram && i+n <= runes; n++ {
			for _, c := range w[offs[i+n-1]:offs[i+n]] {
				h = (h ^ uint64(c)) * fnvPrime
			}
			if n >= minGram {
				l.add(v, h, weight)
			}
		}
	}
}

// add puts weight into the bucket of hash h, with the sign h gives.
func (l *Lexical) add(v []float32, h uint64, weight float32) {
	// FNV's low bits mix poorly on short inputs; finish with a mixer
	// (murmur3's fmix64) before taking bucket and sign.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	b, _ := bits.Mul64(h, uint64(len(v)))
	if h&1 == 0 {
		v[b] += weight
	} else {
		v[b] -= weight
	}
}

// normalize scales v to unit length; the zero vector stays zero.
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}

// dutchStopWords are skipped entirely: as words they match everything, and
// their n-grams (" de", "het ") only add noise.
const dutchStopWords = "de het een en van in op te aan met voor naar bij om over uit tot " +
	"door dat die dit deze er is zijn was wordt worden ben bent heb hebt heeft hebben " +
	"kan kun kunt kunnen moet moeten mag mogen wil wilt ik je jij u uw mijn me mij we " +
	"wij ze zij hij hoe wat waar wanneer welke wie waarom of als dan maar ook nog al " +
	"hier daar zo dus toch even"
