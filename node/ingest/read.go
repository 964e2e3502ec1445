// Package ingest brings content into a node: it reads pages from JSON Lines
// files and directories, and turns them into documents and chunks ready to
// store and index.
package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/assistent-nl/assistent/node/store"
)

// Page is one source page before extraction. Exactly one of HTML, Text and
// Markdown is set.
type Page struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Title    string `json:"title"`
	HTML     string `json:"html,omitempty"`
	Text     string `json:"text,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	Updated  string `json:"updated,omitempty"`
	Lang     string `json:"lang,omitempty"`
	// Meta is set by the crawler (never read from JSON Lines) and stored
	// with the document.
	Meta *store.DocMeta `json:"-"`
}

// MaxLineBytes bounds one JSON Lines record.
const MaxLineBytes = 8 << 20

// LineError is a record that could not be read. Reading goes on after it.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrInvalidPage marks a record that parses but lacks what a page needs.
var ErrInvalidPage = errors.New("invalid page")

// Validate checks that p has an id, exactly one kind of content, and a
// URL that is empty or an absolute http(s) URL.
func (p Page) Validate() error {
	if strings.TrimSpace(p.ID) == "" {
		return fmt.Errorf("%w: missing \"id\"", ErrInvalidPage)
	}
	if err := CheckURL(p.URL); err != nil {
		return fmt.Errorf("%w: %s: \"url\" %v", ErrInvalidPage, p.ID, err)
	}
	n := 0
	for _, s := range []string{p.HTML, p.Text, p.Markdown} {
		if s != "" {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: %s has no \"html\" or \"text\"", ErrInvalidPage, p.ID)
	}
	if n > 1 {
		return fmt.Errorf("%w: %s has more than one of \"html\", \"text\", \"markdown\"", ErrInvalidPage, p.ID)
	}
	return nil
}

// CheckURL returns nil when raw is "" (a page cited without a link) or an
// absolute http or https URL with a host, written as a URL is sent: no
// white space, quotes or angle brackets. Anything else (javascript:, data:,
// a relative path) would reach residents as a link in a citation, so it is
// refused, and the error says what is accepted.
func CheckURL(raw string) error {
	if raw == "" {
		return nil
	}
	if i := strings.IndexFunc(raw, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>\"'`", r)
	}); i >= 0 {
		return fmt.Errorf("%q holds %q: only http and https URLs are accepted, with such characters percent-encoded", raw, raw[i:i+1])
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: only http and https URLs are accepted", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: only http and https URLs are accepted", raw)
	case u.Host == "":
		return fmt.Errorf("%q has no host: only absolute http and https URLs are accepted", raw)
	}
	return nil
}

// Line is one line of a JSON Lines input, without its line break.
type Line struct {
	N    int    // 1-based line number
	Data []byte // valid until the next iteration
}

// Lines iterates over the lines of r. A line longer than MaxLineBytes is
// yielded with an error and no data, and iteration goes on; a read error is yielded last.
func Lines(r io.Reader) iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		br := bufio.NewReaderSize(r, 1<<16)
		for n := 1; ; n++ {
			data, err := readLine(br)
			if err == io.EOF && len(data) == 0 {
				return
			}
			var tl *lineTooLong
			switch {
			case errors.As(err, &tl):
				if !yield(Line{N: n}, err) {
					return
				}
				continue
			case err != nil && err != io.EOF:
				yield(Line{N: n}, err)
				return
			}
			if !yield(Line{N: n, Data: data}, nil) || err == io.EOF {
				return
			}
		}
	}
}

// ReadJSONL reads pages from r, one JSON object a line (the corpus.jsonl
// format: id, url, title, html or text, updated, lang; other fields are
// ignored). Valid pages go to emit in order; each bad line is reported to
// bad as a *LineError naming name and the line, and reading goes on. It
// returns an error only when r fails or emit returns one.
func ReadJSONL(r io.Reader, name string, emit func(Page) error, bad func(*LineError)) error {
	for line, err := range Lines(r) {
		var tl *lineTooLong
		switch {
		case errors.As(err, &tl):
			bad(&LineError{File: name, Line: line.N, Err: err})
			continue
		case err != nil:
			return fmt.Errorf("read %s: %w", name, err)
		}
		p, perr := parseLine(line.Data)
		switch {
		case perr != nil:
			bad(&LineError{File: name, Line: line.N, Err: perr})
		case p != nil:
			if eerr := emit(*p); eerr != nil {
				return eerr
			}
		}
	}
	return nil
}

// DecodeStrict decodes one JSON value from data into v and fails when
// anything but white space follows it.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: more than one value on the line")
	}
	return nil
}

// parseLine returns the page on a line, or nil for a blank line.
func parseLine(data []byte) (*Page, error) {
	s := strings.TrimSpace(string(data))
	if s == "" {
		return nil, nil
	}
	var p Page
	if err := DecodeStrict([]byte(s), &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

type lineTooLong struct{ limit int }

func (e *lineTooLong) Error() string { return fmt.Sprintf("line longer than %d bytes", e.limit) }

// readLine returns the next line without its newline, and io.EOF with the
// last line when the input ends. A line longer than MaxLineBytes is
// consumed whole and reported as *lineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineBytes {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			return nil, &lineTooLong{MaxLineBytes}
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

// ReadDir reads every .html, .htm, .md and .txt file below dir as a page,
// in path order. The page id is the path relative to dir with forward
// slashes; the title is taken from the content later when empty. Other
// files are ignored. Pages get no URL; see ReadDirAt.
func ReadDir(dir string, emit func(Page) error) error { return ReadDirAt(dir, "", emit) }

// ReadDirAt is ReadDir with the pages' URLs, so that citations link: a
// file may open with front matter between two "---" lines, whose "url:"
// and "title:" lines set the page's URL and title; otherwise, when base is
// not empty, the URL is base joined with the file's relative path (the
// path escaped, ".md" and ".txt" kept as they are). A front matter URL or
// base that is not an absolute http(s) URL is an error naming the file.
func ReadDirAt(dir, base string, emit func(Page) error) error {
	if base != "" {
		if err := CheckURL(base); err != nil || !strings.Contains(base, "://") {
			return fmt.Errorf("base URL %q: must be an absolute http(s) URL", base)
		}
	}
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".html", ".htm", ".md", ".txt":
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	sort.Strings(paths)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		p := Page{ID: filepath.ToSlash(rel)}
		body, meta := frontMatter(string(data))
		p.URL, p.Title = meta["url"], meta["title"]
		if p.URL == "" && base != "" {
			p.URL = strings.TrimSuffix(base, "/") + "/" + (&url.URL{Path: p.ID}).EscapedPath()
		}
		if err := CheckURL(p.URL); err != nil {
			return fmt.Errorf("%s: front matter url: %w", path, err)
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".html", ".htm":
			p.HTML = body
		case ".md":
			p.Markdown = body
		default:
			p.Text = body
		}
		if strings.TrimSpace(body) == "" {
			continue
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

// frontMatter splits a file that opens with a "---" line into its body
// and the "key: value" lines up to the next "---" line (keys lower-cased,
// values trimmed and unquoted). A file without front matter is all body.
func frontMatter(s string) (string, map[string]string) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(s, "\ufeff"), "---\n")
	if !ok {
		rest, ok = strings.CutPrefix(strings.TrimPrefix(s, "\ufeff"), "---\r\n")
	}
	if !ok {
		return s, nil
	}
	meta := map[string]string{}
	for {
		line, after, found := strings.Cut(rest, "\n")
		line = strings.TrimRight(line, "\r")
		if line == "---" {
			return after, meta
		}
		if !found {
			return s, nil // no closing line: not front matter
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			meta[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
		rest = after
	}
}
