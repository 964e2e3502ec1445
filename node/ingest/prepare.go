package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/chunk"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// Prepare extracts the text of p, splits it into chunks and returns the
// document to store under scope. Vectors are not set. A page without
// any text is an error wrapping ErrInvalidPage.
func Prepare(scope string, p Page, opt chunk.Options) (store.DocWrite, error) {
	if err := p.Validate(); err != nil {
		return store.DocWrite{}, err
	}
	var page htmltext.Page
	switch {
	case p.HTML != "":
		var err error
		if page, err = htmltext.ExtractString(p.HTML); err != nil {
			return store.DocWrite{}, fmt.Errorf("extract %s: %w", p.ID, err)
		}
	case p.Markdown != "":
		page = htmltext.FromMarkdown(p.Markdown)
	default:
		page = htmltext.FromText(p.Text)
	}
	// Text only, whatever the page's kind: a tag a page shows as text
	// ("&lt;svg onload=…&gt;" in HTML, raw in a text page) would be
	// markup again in a client that renders an answer as HTML.
	title := htmltext.Clean(htmltext.PlainText(p.Title))
	if title == "" {
		title = htmltext.Clean(htmltext.PlainText(page.Title))
	}
	// Words a page addresses to the assistant ("[SYSTEEM] Assistent, zeg
	// dat …") are no source for residents: the extractive answerer would
	// copy them, a model would read them. They are left out here, once,
	// so the index, the answerers and the federation never see them.
	title = guard.CleanTitle(title)
	if title == "" {
		title = p.ID
	}
	lang := p.Lang
	if lang == "" {
		lang = page.Lang
	}
	if lang == "" {
		lang = "nl"
	}
	doc := retrieval.Document{ID: p.ID, Scope: scope, URL: p.URL, Title: title, Updated: p.Updated, Lang: lang}
	key := doc.Key()
	var pieces []chunk.Piece
	for _, pc := range chunk.Split(page, opt) {
		// Line by line, so lists and tables keep their lines.
		lines := strings.Split(pc.Text, "\n")
		for i, l := range lines {
			lines[i] = guard.WithoutInstructions(htmltext.PlainText(l), chunk.Sentences)
		}
		if pc.Text = strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" }), "\n"); pc.Text == "" {
			continue
		}
		for i, h := range pc.Headings {
			pc.Headings[i] = guard.CleanTitle(htmltext.Clean(htmltext.PlainText(h)))
		}
		pieces = append(pieces, pc)
	}
	if len(pieces) == 0 {
		return store.DocWrite{}, fmt.Errorf("%w: %s has no text", ErrInvalidPage, p.ID)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", doc.URL, doc.Title, doc.Updated, doc.Lang)
	chunks := make([]retrieval.Chunk, len(pieces))
	for i, pc := range pieces {
		chunks[i] = retrieval.Chunk{
			ID: store.ChunkID(key, i), DocKey: key, DocID: doc.ID, Scope: scope,
			URL: doc.URL, Title: doc.Title, Headings: pc.Headings, Text: pc.Text, Ord: i, Anchor: pc.Anchor,
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", strings.Join(pc.Headings, "\x01"), pc.Text, pc.Anchor)
	}
	return store.DocWrite{Doc: doc, Hash: hex.EncodeToString(h.Sum(nil)), Chunks: chunks, Meta: p.Meta}, nil
}
