package elastic

import "github.com/assistent-nl/assistent/retrieval"

// expansionBoost is the weight of query expansion terms against typed
// terms, as in the embedded lexical index.
const expansionBoost = 0.35

// LexicalQuery returns the body of the BM25 search for q, n hits: the
// typed words on title and body, the expansion on body at a lower weight,
// filtered to q's scopes (a filter does not score). Only the ids come back.
//
// Format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/query-dsl-bool-query.html.
func LexicalQuery(q retrieval.Query, n int) map[string]any {
	should := []any{
		map[string]any{"match": map[string]any{fieldTitle: map[string]any{"query": q.Text}}},
		map[string]any{"match": map[string]any{fieldBody: map[string]any{"query": q.Text}}},
	}
	if q.Expansion != "" {
		should = append(should, map[string]any{"match": map[string]any{fieldBody: map[string]any{"query": q.Expansion, "boost": expansionBoost}}})
	}
	return map[string]any{
		"size":             n,
		"_source":          false,
		"track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{
			"filter":               []any{scopeFilter(q.Scopes)},
			"should":               should,
			"minimum_should_match": 1,
		}},
	}
}

// VectorQuery returns the body of the approximate kNN search for q's
// vector, n hits from numCandidates per shard, filtered to q's scopes
// inside the HNSW search (so the filter cannot empty the result).
//
// Format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/knn-search.html.
func VectorQuery(q retrieval.Query, n, numCandidates int) map[string]any {
	return map[string]any{
		"size":             n,
		"_source":          false,
		"track_total_hits": false,
		"knn": map[string]any{
			"field":          fieldVector,
			"query_vector":   q.Vector,
			"k":              n,
			"num_candidates": max(numCandidates, n),
			"filter":         scopeFilter(q.Scopes),
		},
	}
}

func scopeFilter(scopes []string) map[string]any {
	return map[string]any{"terms": map[string]any{fieldScope: scopes}}
}
