// Package demo bundles the content of the demo node: the fictional gemeente
// Lindewaarde (its profile and pages), the Rijksoverheid FAQ as a national
// collection (CC0 1.0), and the assets of the plain demo page. Everything is
// embedded in the binary, so `assistent serve --demo` needs no files or
// network. NOTICE.md names the sources and licences.
package demo

import (
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// The embedded files are never written; they live at package level only
// because go:embed requires it.
var (
	//go:embed lindewaarde.jsonl
	tenantJSONL string

	//go:embed rijksoverheid.jsonl.gz
	nationalGzip string

	//go:embed static
	staticFiles embed.FS
)

// Profile describes the demo tenant: who it is and how residents reach a
// human there. It is a plain value; the node converts it to its own tenant
// type.
type Profile struct {
	// ID is the tenant id used in API paths (/api/v1/tenants/{ID}/ask).
	ID string
	// Name is the name residents see.
	Name string
	// Phone is the general phone number, as residents write it.
	Phone string
	// ContactURL is the address of the contact form.
	ContactURL string
	// Hours are the opening hours of phone and desk, in Dutch.
	Hours string
	// Sites are the host names of the tenant's own website.
	Sites []string
}

// Tenant returns the profile of the fictional gemeente Lindewaarde. Each
// call returns a fresh value, so callers may change it.
func Tenant() Profile {
	return Profile{
		ID:         "lindewaarde",
		Name:       "Gemeente Lindewaarde",
		Phone:      "14 0999",
		ContactURL: "https://www.lindewaarde.example/contact/formulier",
		Hours:      "ma-vr 8.30-17.00 uur, do tot 20.00 uur",
		Sites:      []string{"www.lindewaarde.example"},
	}
}

// TenantPages returns Lindewaarde's pages in JSON Lines, one page a line:
// {"id","url","title","html","updated","lang"}, the format that
// ingest.ReadJSONL reads. Each call returns a new reader from the start.
func TenantPages() io.Reader {
	return strings.NewReader(tenantJSONL)
}

// NationalName returns the name of the bundled national collection.
func NationalName() string {
	return "rijksoverheid"
}

// NationalPages returns the Rijksoverheid FAQ pages in JSON Lines,
// decompressed, with every field as published ({"id","url","title","html",
// "updated","subjects","source","license"}). The caller closes the reader;
// a read error means the embedded bundle is corrupt. It fails only when the
// bundle has no valid gzip header.
func NationalPages() (io.ReadCloser, error) {
	zr, err := gzip.NewReader(strings.NewReader(nationalGzip))
	if err != nil {
		return nil, fmt.Errorf("open national demo bundle %s: %w", NationalName(), err)
	}
	return zr, nil
}

// Static returns the assets of the demo page (index.html, demo.js,
// demo.css) at the root of the file system, ready for http.FileServerFS.
// The page works under a Content-Security-Policy of script-src 'self' and
// style-src 'self': it has no inline script, style or event handlers.
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is a
		// constant valid one.
		panic(fmt.Sprintf("demo: static assets: %v", err))
	}
	return sub
}
