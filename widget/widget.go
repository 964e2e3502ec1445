// Package widget serves the residents' chat widget. /widget.js is the
// whole widget (script with its stylesheet inside), cached briefly so that
// an upgrade of the node reaches every page soon; /widget/app.<hash>.js is
// the same bundle under a content-hashed name, cached for a year, for pages
// that pin a version (with subresource integrity); /widget/style.<hash>.css
// is the stylesheet alone, for browsers without constructable stylesheets.
// The sources in src/ are plain JavaScript and CSS, embedded in the
// binary; the bundle is put together once, when the handler is made.
package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The embedded sources are never written; they live at package level only
// because go:embed requires it.
//
//go:embed src/app.js src/app.css
var sources embed.FS

// Cache lifetimes of the assets.
const (
	// EntryMaxAge is how long browsers and proxies keep /widget.js, the
	// one URL without a content hash: an upgrade of the node reaches every
	// page within this time (sooner where the ETag says it changed).
	EntryMaxAge = 5 * time.Minute
	// immutable is the Cache-Control of content-hashed URLs.
	immutable = "public, max-age=31536000, immutable"
)

// Markers in app.js that the handler replaces when it builds the bundle.
const (
	cssMarker    = `"/*CSS*/"`
	cssURLMarker = `"/*CSS_URL*/"`
)

// asset is one file, ready to send plain or gzipped.
type asset struct {
	body, gz    []byte
	contentType string
	etag        string
}

func newAsset(body []byte, contentType string) asset {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	return asset{body: body, gz: buf.Bytes(), contentType: contentType, etag: contentHash(body)}
}

// contentHash is the hash in an asset's file name and ETag.
func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// handler serves the bundle and the stylesheet.
type handler struct {
	jsHash, cssHash string // content hashes in the file names
	js, css         asset
}

// Handler returns the handler for GET /widget.js and GET /widget/{file}.
// Mount it at both paths, unchanged (no StripPrefix). /widget.js is cached
// for EntryMaxAge, content-hashed names for a year (immutable); a bundle
// name with another hash gets the current bundle with the short cache, so
// a page that pins an old version keeps working unless it also pins its
// integrity. The ETag of /widget.js is the bundle's hash: a page pins the
// current version as /widget/app.<ETag>.js. Every asset is public: CORS allows any origin to GET it.
// Other paths under /widget/ are 404, other methods 405.
func Handler() http.Handler {
	h, err := build()
	if err != nil {
		// The sources are embedded constants: this cannot fail at run time
		// unless the package itself is broken, which its tests catch.
		panic(fmt.Sprintf("widget: %v", err))
	}
	return h
}

func build() (*handler, error) {
	rawJS, err := sources.ReadFile("src/app.js")
	if err != nil {
		return nil, fmt.Errorf("read app.js: %w", err)
	}
	rawCSS, err := sources.ReadFile("src/app.css")
	if err != nil {
		return nil, fmt.Errorf("read app.css: %w", err)
	}
	css := minifyCSS(string(rawCSS))
	h := &handler{cssHash: contentHash([]byte(css))}
	js := string(rawJS)
	for marker, value := range map[string]string{
		cssMarker:    css,
		cssURLMarker: "widget/style." + h.cssHash + ".css",
	} {
		if strings.Count(js, marker) != 1 {
			return nil, fmt.Errorf("app.js must hold the marker %s exactly once", marker)
		}
		quoted, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("quote %s: %w", marker, err)
		}
		js = strings.Replace(js, marker, string(quoted), 1)
	}
	h.jsHash = contentHash([]byte(js))
	h.js = newAsset([]byte(js), "text/javascript; charset=utf-8")
	h.css = newAsset([]byte(css), "text/css; charset=utf-8")
	return h, nil
}

var hashedName = regexp.MustCompile(`^/widget/(app|style)\.([0-9a-f]{1,64})\.(js|css)$`)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	short := fmt.Sprintf("public, max-age=%d", int(EntryMaxAge.Seconds()))
	if r.URL.Path == "/widget.js" {
		h.serve(w, r, h.js, short)
		return
	}
	m := hashedName.FindStringSubmatch(r.URL.Path)
	switch {
	case m != nil && m[1] == "app" && m[3] == "js":
		h.serve(w, r, h.js, cacheFor(m[2] == h.jsHash, short))
	case m != nil && m[1] == "style" && m[3] == "css":
		h.serve(w, r, h.css, cacheFor(m[2] == h.cssHash, short))
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

func cacheFor(current bool, short string) string {
	if current {
		return immutable
	}
	return short
}

// serve writes an asset, gzipped when the client accepts it.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, a asset, cache string) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", cache)
	hdr.Add("Vary", "Accept-Encoding")
	body, etag := a.body, `"`+a.etag+`"`
	if acceptsGzip(r) {
		body, etag = a.gz, `"`+a.etag+`-gz"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request accepts gzip (q=0 excluded).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}

// minifyCSS removes comments and needless white space from a stylesheet.
// It keeps the space before a colon (a descendant selector such as
// ".head :focus-visible" needs it) and knows nothing of strings, so the
// sheet must not hold quoted "/*" or significant runs of spaces.
func minifyCSS(css string) string {
	var b strings.Builder
	for {
		i := strings.Index(css, "/*")
		if i < 0 {
			b.WriteString(css)
			break
		}
		b.WriteString(css[:i])
		j := strings.Index(css[i+2:], "*/")
		if j < 0 {
			break
		}
		css = css[i+2+j+2:]
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	for _, tok := range []string{"{", "}", ";", ","} {
		out = strings.ReplaceAll(out, " "+tok, tok)
		out = strings.ReplaceAll(out, tok+" ", tok)
	}
	out = strings.ReplaceAll(out, ": ", ":")
	return strings.ReplaceAll(out, ";}", "}")
}
