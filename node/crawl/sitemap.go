package crawl

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// sitemapEntry is one <url> of a urlset or one <sitemap> of an index.
type sitemapEntry struct {
	loc     string
	lastmod time.Time
}

// parseSitemap reads a urlset or a sitemapindex, gzipped or not, and
// returns the page entries or the nested sitemap entries. Decompressed
// data beyond limit bytes is an error.
func parseSitemap(body []byte, limit int64) (pages, sitemaps []sitemapEntry, err error) {
	var r io.Reader = bytes.NewReader(body)
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gunzip sitemap: %w", err)
		}
		defer zr.Close()
		r = &capReader{r: zr, left: limit}
	}
	dec := xml.NewDecoder(r)
	dec.Strict = false
	var root string
	var cur *sitemapEntry
	var field string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("parse sitemap: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			switch {
			case root == "":
				if name != "urlset" && name != "sitemapindex" {
					return nil, nil, fmt.Errorf("parse sitemap: root element <%s>, want <urlset> or <sitemapindex>", name)
				}
				root = name
			case cur == nil && (name == "url" && root == "urlset" || name == "sitemap" && root == "sitemapindex"):
				cur = &sitemapEntry{}
			case cur != nil && (name == "loc" || name == "lastmod"):
				field = name
				text.Reset()
			}
		case xml.CharData:
			if field != "" {
				text.Write(t)
			}
		case xml.EndElement:
			name := t.Name.Local
			switch {
			case cur != nil && name == field:
				v := strings.TrimSpace(text.String())
				if field == "loc" {
					cur.loc = v
				} else {
					cur.lastmod = parseW3CDate(v)
				}
				field = ""
			case cur != nil && (name == "url" || name == "sitemap"):
				if cur.loc != "" {
					if root == "urlset" {
						pages = append(pages, *cur)
					} else {
						sitemaps = append(sitemaps, *cur)
					}
				}
				cur = nil
			}
		}
	}
	if root == "" {
		return nil, nil, errors.New("parse sitemap: no <urlset> or <sitemapindex>")
	}
	return pages, sitemaps, nil
}

// parseW3CDate parses the W3C datetime forms sitemaps use; zero when it
// cannot.
func parseW3CDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// capReader fails once more than left bytes were read: a gzip bomb guard.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("decompressed sitemap too large")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
