package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/store"
)

// Content is what the portal uses of the node's documents. Errors for an
// unknown document wrap store.ErrNotFound.
type Content interface {
	// Documents returns the tenant's documents whose id, title or URL
	// holds query (any case; "" matches all), ordered by id, from offset,
	// at most limit, and how many match in all.
	Documents(tenant, query string, offset, limit int) ([]Document, int, error)
	// Document returns one of the tenant's documents and its chunks.
	Document(tenant, id string) (Document, []Chunk, error)
	// SetExcluded leaves the document out of answers and searches (true)
	// or lets it back in (false), at once; changed is false when it
	// already was so.
	SetExcluded(ctx context.Context, tenant, id string, excluded bool) (changed bool, err error)
	// Reindex embeds the document's stored chunks again and writes them
	// to both indexes; it returns the number of chunks.
	Reindex(ctx context.Context, tenant, id string) (int, error)
}

// Document is a tenant's document as the portal shows it.
type Document struct {
	ID       string    `json:"id"`
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	Chunks   int       `json:"chunks"`
	Source   string    `json:"source,omitempty"` // the crawl source, if crawled
	Fetched  time.Time `json:"fetched,omitzero"`
	Ingested time.Time `json:"ingested"`
	Excluded bool      `json:"excluded"`
}

// Chunk is one passage of a document as it is indexed.
type Chunk struct {
	Ord      int      `json:"ord"`
	Headings []string `json:"headings,omitempty"`
	Text     string   `json:"text"`
}

// docsPerPage is how many documents a page of the list shows.
const docsPerPage = 50

// errNoContent: the node gave the portal no documents.
var errNoContent = errors.New("no documents on this node")

func (a *Admin) content() (Content, error) {
	if a.deps.Content == nil {
		return nil, errNoContent
	}
	return a.deps.Content, nil
}

// setExcluded excludes or includes a document and audits a change.
func (a *Admin) setExcluded(r *http.Request, p *principal, tenant, id string, excluded bool) error {
	c, err := a.content()
	if err != nil {
		return err
	}
	changed, err := c.SetExcluded(r.Context(), tenant, id, excluded)
	if err != nil || !changed {
		return err
	}
	action := "document.include"
	if excluded {
		action = "document.exclude"
	}
	a.record(r, p, audit.Entry{Action: action, Tenant: tenant, Target: id,
		Before: audit.Value(map[string]bool{"excluded": !excluded}), After: audit.Value(map[string]bool{"excluded": excluded})})
	return nil
}

// reindex re-indexes a document and audits it.
func (a *Admin) reindex(r *http.Request, p *principal, tenant, id string) (int, error) {
	c, err := a.content()
	if err != nil {
		return 0, err
	}
	n, err := c.Reindex(r.Context(), tenant, id)
	if err != nil {
		return 0, err
	}
	a.record(r, p, audit.Entry{Action: "document.reindex", Tenant: tenant, Target: id, Detail: strconv.Itoa(n) + " chunks"})
	return n, nil
}

func notFoundDoc(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errors.Join(err, ErrNotFound)
	}
	return err
}

type documentsData struct {
	Query      string
	Docs       []Document
	Total      int
	From, To   int
	Prev, Next int // offsets of the neighbouring pages, -1: none
}

type documentData struct {
	Doc    Document
	Chunks []Chunk
}

func (a *Admin) documentsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	c, err := a.content()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	q := r.URL.Query().Get("q")
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(offset, 0)
	docs, total, err := c.Documents(r.PathValue("tenant"), q, offset, docsPerPage)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := documentsData{Query: q, Docs: docs, Total: total, From: offset + 1, To: offset + len(docs), Prev: -1, Next: -1}
	if offset > 0 {
		d.Prev = max(offset-docsPerPage, 0)
	}
	if offset+len(docs) < total {
		d.Next = offset + len(docs)
	}
	v := a.newView(w, r, p, "documents.title", "documents")
	v.Data = d
	a.render(w, r, http.StatusOK, "documents", v)
}

func (a *Admin) documentPage(w http.ResponseWriter, r *http.Request, p *principal) {
	c, err := a.content()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	doc, chunks, err := c.Document(r.PathValue("tenant"), r.PathValue("doc"))
	if err != nil {
		a.failContent(w, r, notFoundDoc(err))
		return
	}
	v := a.newView(w, r, p, "document.title", "documents")
	v.Data = documentData{Doc: doc, Chunks: chunks}
	a.render(w, r, http.StatusOK, "document", v)
}

// documentForm handles the buttons of a document's page: exclude,
// include, reindex.
func (a *Admin) documentForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("doc")
	var err error
	ok := ""
	switch r.PostFormValue("action") {
	case "exclude":
		err, ok = a.setExcluded(r, p, tenant, id, true), "excluded"
	case "include":
		err, ok = a.setExcluded(r, p, tenant, id, false), "included"
	case "reindex":
		_, err = a.reindex(r, p, tenant, id)
		ok = "reindexed"
	default:
		a.notFound(w, r)
		return
	}
	if err != nil {
		a.failContent(w, r, notFoundDoc(err))
		return
	}
	redirect(w, r, "/admin/t/"+tenant+"/documents/"+id, ok)
}

// Admin API.

// DocumentList is a page of the documents list.
type DocumentList struct {
	Total     int        `json:"total"`
	Offset    int        `json:"offset"`
	Documents []Document `json:"documents"`
}

func (a *Admin) apiDocuments(w http.ResponseWriter, r *http.Request, p *principal) {
	c, err := a.content()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = docsPerPage
	}
	offset, limit = max(offset, 0), min(limit, 1000)
	docs, total, err := c.Documents(r.PathValue("tenant"), q.Get("q"), offset, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if docs == nil {
		docs = []Document{}
	}
	writeJSON(w, http.StatusOK, DocumentList{Total: total, Offset: offset, Documents: docs})
}

func (a *Admin) apiDocument(w http.ResponseWriter, r *http.Request, p *principal) {
	c, err := a.content()
	if err != nil {
		a.failContent(w, r, err)
		return
	}
	doc, chunks, err := c.Document(r.PathValue("tenant"), r.PathValue("doc"))
	if err != nil {
		a.failContent(w, r, notFoundDoc(err))
		return
	}
	if chunks == nil {
		chunks = []Chunk{}
	}
	writeJSON(w, http.StatusOK, struct {
		Document
		ChunkList []Chunk `json:"chunk_list"`
	}{doc, chunks})
}

// apiPatchDocument excludes or includes a document: {"excluded": bool}.
func (a *Admin) apiPatchDocument(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		Excluded *bool `json:"excluded"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.Excluded == nil {
		invalid(w, r, "excluded", "documents.invalid.excluded")
		return
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("doc")
	if err := a.setExcluded(r, p, tenant, id, *body.Excluded); err != nil {
		a.failContent(w, r, notFoundDoc(err))
		return
	}
	doc, _, err := a.deps.Content.Document(tenant, id)
	if err != nil {
		a.failContent(w, r, notFoundDoc(err))
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// apiReindex re-indexes documents: {"ids": [...]}, at most 100.
func (a *Admin) apiReindex(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.IDs) == 0 || len(body.IDs) > 100 {
		invalid(w, r, "ids", "documents.invalid.ids")
		return
	}
	tenant := r.PathValue("tenant")
	out := map[string]int{}
	for _, id := range body.IDs {
		n, err := a.reindex(r, p, tenant, id)
		if err != nil {
			a.failContent(w, r, notFoundDoc(err))
			return
		}
		out[id] = n
	}
	writeJSON(w, http.StatusOK, map[string]any{"chunks": out})
}
