package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/assistent-nl/assistent/internal/httpretry"
)

// bulkItem is one action of a bulk request: index source under id, or
// delete id when source is nil.
type bulkItem struct {
	id     string
	source []byte
}

// bulk sends items in batches of at most BatchSize items and about
// BatchBytes, one batch after the other, each holding one of the
// MaxInflight slots while it is on the wire. Items the cluster rejects for
// load (status 429) are sent again after a backoff, up to MaxRetries
// times; any other failed item fails the call.
func (x *Index) bulk(ctx context.Context, items []bulkItem) error {
	for len(items) > 0 {
		n, size := 0, 0
		for n < len(items) && n < x.cfg.BatchSize && (n == 0 || size+len(items[n].source) <= x.cfg.BatchBytes) {
			size += len(items[n].source) + len(items[n].id) + 64
			n++
		}
		if err := x.bulkBatch(ctx, items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

func (x *Index) bulkBatch(ctx context.Context, items []bulkItem) error {
	for attempt := 0; ; attempt++ {
		rejected, err := x.bulkOnce(ctx, items)
		if err != nil {
			return err
		}
		if len(rejected) == 0 {
			return nil
		}
		if attempt >= x.cfg.MaxRetries {
			return fmt.Errorf("elastic: bulk: %d chunks still rejected for load after %d retries (first: %s)", len(rejected), attempt, rejected[0].id)
		}
		x.log.Warn("elastic: bulk: chunks rejected for load; sending them again", "chunks", len(rejected), "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(httpretry.Backoff(x.cfg.RetryBase, attempt)):
		}
		items = rejected
	}
}

// bulkBody returns the NDJSON body of a bulk request for items.
//
// Format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/docs-bulk.html.
func bulkBody(index string, items []bulkItem) []byte {
	var b bytes.Buffer
	for _, it := range items {
		action := "index"
		if it.source == nil {
			action = "delete"
		}
		meta, _ := json.Marshal(map[string]any{action: map[string]string{"_index": index, "_id": it.id}})
		b.Write(meta)
		b.WriteByte('\n')
		if it.source != nil {
			b.Write(it.source)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// bulkOnce sends one bulk request and returns the items rejected with 429.
//
// Response format: https://www.elastic.co/guide/en/elasticsearch/reference/8.17/docs-bulk.html#bulk-api-response-body
// (one entry per action, in order, each with its status and, when it
// failed, an error object).
func (x *Index) bulkOnce(ctx context.Context, items []bulkItem) ([]bulkItem, error) {
	select {
	case x.inflight <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	data, err := x.do(ctx, esapi.BulkRequest{Index: x.cfg.Index, Body: bytes.NewReader(bulkBody(x.cfg.Index, items)), Refresh: x.cfg.Refresh})
	<-x.inflight
	if err != nil {
		return nil, fmt.Errorf("elastic: bulk: %w", err)
	}
	var resp struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string `json:"_id"`
			Status int    `json:"status"`
			Error  *struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("elastic: bulk: %w", err)
	}
	if len(resp.Items) != len(items) {
		return nil, fmt.Errorf("elastic: bulk: %d results for %d actions", len(resp.Items), len(items))
	}
	if !resp.Errors {
		return nil, nil
	}
	var rejected []bulkItem
	for i, r := range resp.Items {
		for action, res := range r {
			switch {
			case res.Status/100 == 2:
			case action == "delete" && res.Status == http.StatusNotFound:
				// Deleting an unknown ID is no error.
			case res.Status == http.StatusTooManyRequests:
				rejected = append(rejected, items[i])
			default:
				reason := ""
				if res.Error != nil {
					reason = res.Error.Type + ": " + res.Error.Reason
				}
				return nil, fmt.Errorf("elastic: bulk: %s %s: status %d: %s", action, items[i].id, res.Status, reason)
			}
		}
	}
	return rejected, nil
}
