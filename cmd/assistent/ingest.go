package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/retrieval"
)

// ingestBatch is the number of pages stored and indexed as one atomic batch.
const ingestBatch = 128

func (m *Main) openNode(ctx context.Context, data string, log *slog.Logger) (*node.Node, error) {
	return m.openNodeWith(ctx, data, models.DefaultConfig(), log)
}

// openNodeWith opens a node with the given model routes; tune, when not
// nil, adjusts the rest of its configuration.
func (m *Main) openNodeWith(ctx context.Context, data string, mc models.Config, log *slog.Logger, tune ...func(*node.Config)) (*node.Node, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir = data
	cfg.Models = mc
	for _, f := range tune {
		f(&cfg)
	}
	n, err := node.Open(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", data, err)
	}
	return n, nil
}

type ingestSummary struct {
	Scope     string `json:"scope"`
	Pages     int    `json:"pages"`
	Written   int    `json:"written"`
	Unchanged int    `json:"unchanged"`
	Chunks    int    `json:"chunks"`
	Bad       int    `json:"bad"`
}

func (m *Main) runIngest(ctx context.Context, args []string) error {
	fs := m.flagSet("ingest", "ingest --data DIR (--tenant ID | --national NAME) (--jsonl FILE[.gz] | --dir DIR [--base-url URL] | --url URL | --sitemap URL) [--json]")
	data := fs.String("data", "data", "node data directory")
	tenant := fs.String("tenant", "", "tenant that owns the content")
	national := fs.String("national", "", "national collection that holds the content (searched by every tenant)")
	jsonl := fs.String("jsonl", "", "JSON Lines file of pages (gzipped or not): id, url, title, html or text, updated, lang")
	dir := fs.String("dir", "", "directory of .html, .md and .txt files (front matter \"url:\" and \"title:\" lines between two \"---\" lines are read)")
	baseURL := fs.String("base-url", "", "with --dir: the site the files are published at; a page's URL is this joined with its path, unless its front matter names one")
	url := fs.String("url", "", "start URL of a website to crawl once (see 'assistent crawl' for its rules)")
	sitemap := fs.String("sitemap", "", "sitemap of a website to crawl once")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("ingest: unexpected argument %q", fs.Arg(0))
	}
	var scope string
	switch {
	case *tenant != "" && *national != "":
		return usagef("ingest: give --tenant or --national, not both")
	case *tenant != "":
		if err := validID(*tenant); err != nil {
			return usagef("ingest: --tenant: %v", err)
		}
		scope = retrieval.TenantScope(*tenant)
	case *national != "":
		if err := validID(*national); err != nil {
			return usagef("ingest: --national: %v", err)
		}
		scope = retrieval.NationalScope(*national)
	default:
		return usagef("ingest: --tenant ID or --national NAME is required")
	}
	sources := 0
	for _, s := range []string{*jsonl, *dir, *url, *sitemap} {
		if s != "" {
			sources++
		}
	}
	if *baseURL != "" && *dir == "" {
		return usagef("ingest: --base-url goes with --dir")
	}
	if sources != 1 && !(sources == 2 && *url != "" && *sitemap != "") {
		return usagef("ingest: give exactly one of --jsonl, --dir, or a website as --url and/or --sitemap")
	}
	if *url != "" || *sitemap != "" {
		// A website is crawled politely, as 'assistent crawl' does with its
		// default rules.
		if *national != "" {
			return usagef("ingest: --url and --sitemap crawl a tenant's website; national collections come as --jsonl (or from the federation)")
		}
		args := []string{"--data", *data, "--tenant", *tenant}
		if *url != "" {
			args = append(args, "--url", *url)
		}
		if *sitemap != "" {
			args = append(args, "--sitemap", *sitemap)
		}
		if *asJSON {
			args = append(args, "--json")
		}
		return m.runCrawl(ctx, args)
	}

	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return err
	}
	defer n.Close()
	if *tenant != "" {
		if _, err := n.Store().Tenant(*tenant); err != nil {
			// Content may arrive before the profile; create a bare tenant so
			// it is searchable, and say how to complete it.
			if err := putTenant(n, tenantFlags{id: *tenant}); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "created tenant %q; set its name and contact details with 'assistent tenant set --id %s'\n", *tenant, *tenant)
		}
	}

	sum := ingestSummary{Scope: scope}
	var batch []ingest.Page
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := n.Ingest(ctx, scope, batch, func(p ingest.Page, err error) {
			sum.Bad++
			fmt.Fprintf(m.Stderr, "skip page %s: %v\n", p.ID, err)
		})
		if err != nil {
			return err
		}
		sum.Written += res.Written
		sum.Unchanged += res.Unchanged
		sum.Chunks += res.Chunks
		batch = batch[:0]
		return nil
	}
	emit := func(p ingest.Page) error {
		sum.Pages++
		batch = append(batch, p)
		if len(batch) >= ingestBatch {
			return flush()
		}
		return ctx.Err()
	}
	switch {
	case *jsonl != "":
		f, err := os.Open(*jsonl)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer f.Close()
		r, err := maybeGzip(f)
		if err != nil {
			return fmt.Errorf("ingest: %s: %w", *jsonl, err)
		}
		err = ingest.ReadJSONL(r, *jsonl, emit, func(e *ingest.LineError) {
			sum.Bad++
			fmt.Fprintf(m.Stderr, "%v\n", e)
		})
		if err != nil {
			return err
		}
	case *dir != "":
		noURL := 0
		err := ingest.ReadDirAt(*dir, *baseURL, func(p ingest.Page) error {
			if p.URL == "" {
				noURL++
			}
			return emit(p)
		})
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if noURL > 0 {
			fmt.Fprintf(m.Stderr, "assistent: %d pages have no URL, so their citations do not link; give --base-url, or a \"url:\" line in each file's front matter\n", noURL)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if *asJSON {
		json.NewEncoder(m.Stdout).Encode(sum)
	} else {
		fmt.Fprintf(m.Stdout, "ingested %d pages into %s: %d new or changed, %d unchanged, %d chunks indexed\n",
			sum.Pages, scope, sum.Written, sum.Unchanged, sum.Chunks)
	}
	if sum.Bad > 0 {
		fmt.Fprintf(m.Stderr, "assistent: %d records could not be ingested (see the lines above); the others were stored\n", sum.Bad)
		return errReported
	}
	return nil
}

// maybeGzip returns r decompressed when it starts with the gzip magic
// bytes (a .jsonl.gz such as the demo bundle's), else r as it is.
func maybeGzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil // short or plain input: the JSON reader says what is wrong
	}
	return gzip.NewReader(br)
}
