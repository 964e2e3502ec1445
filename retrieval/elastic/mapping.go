package elastic

import "github.com/assistent-nl/assistent/retrieval"

// The document fields of a chunk in the index.
const (
	fieldScope  = "scope"
	fieldDocKey = "doc_key"
	fieldTitle  = "title"
	fieldBody   = "body"
	fieldVector = "vector"
)

// analyzerName is the Dutch analyzer of the title and body fields.
const analyzerName = "nl_municipal"

// templateVersion is recorded in the template's _meta; raise it when the
// mapping or the analysis changes, so an old index is recognised.
const templateVersion = 1

// IndexTemplate returns the composable index template for the index named
// cfg.Index: one shard, a Dutch analyzer chain like the embedded bleve
// index's (see retrieval/DESIGN.md, Analysis), and a dense_vector field of
// cfg.Dim dimensions searched with HNSW under cosine similarity.
//
// The analyzer: standard tokenizer → lowercase → asciifolding (diacritics)
// → dictionary_decompounder with the municipal word parts of
// retrieval.CompoundParts (parts ≥ 4 letters, only the longest at each
// position, added at the compound's position) → Dutch stop words → the
// Snowball Dutch stemmer.
//
// Formats: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/index-templates.html,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/analysis-dict-decomp-tokenfilter.html,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.17/dense-vector.html.
func IndexTemplate(cfg Config) map[string]any {
	return map[string]any{
		"index_patterns": []string{cfg.Index},
		"priority":       200,
		"_meta":          map[string]any{"managed_by": "assistent", "version": templateVersion},
		"template": map[string]any{
			"settings": map[string]any{
				"number_of_shards":   1,
				"number_of_replicas": cfg.Replicas,
				"analysis": map[string]any{
					"filter": map[string]any{
						"nl_compounds": map[string]any{
							"type":               "dictionary_decompounder",
							"word_list":          retrieval.CompoundParts(),
							"min_subword_size":   4,
							"only_longest_match": true,
						},
						"nl_stop": map[string]any{"type": "stop", "stopwords": "_dutch_"},
						"nl_stem": map[string]any{"type": "stemmer", "language": "dutch"},
					},
					"analyzer": map[string]any{
						analyzerName: map[string]any{
							"type":      "custom",
							"tokenizer": "standard",
							"filter":    []string{"lowercase", "asciifolding", "nl_compounds", "nl_stop", "nl_stem"},
						},
					},
				},
			},
			"mappings": map[string]any{
				"dynamic": "strict",
				"properties": map[string]any{
					fieldScope:  map[string]any{"type": "keyword"},
					fieldDocKey: map[string]any{"type": "keyword"},
					fieldTitle:  map[string]any{"type": "text", "analyzer": analyzerName},
					fieldBody:   map[string]any{"type": "text", "analyzer": analyzerName},
					fieldVector: map[string]any{"type": "dense_vector", "dims": cfg.Dim, "index": true, "similarity": "cosine"},
				},
			},
		},
	}
}

// document returns the source document of a chunk. The body holds the
// title and headings too, as the embedded index's body field does, so
// one field walk finds a word wherever it stands. A zero vector is left
// out: cosine similarity cannot take it.
func document(c retrieval.Chunk) map[string]any {
	body := c.Title
	for _, h := range c.Headings {
		body += "\n" + h
	}
	body += "\n" + c.Text
	doc := map[string]any{fieldScope: c.Scope, fieldDocKey: c.DocKey, fieldTitle: c.Title, fieldBody: body}
	for _, x := range c.Vector {
		if x != 0 {
			doc[fieldVector] = c.Vector
			break
		}
	}
	return doc
}
