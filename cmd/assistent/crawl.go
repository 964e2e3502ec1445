package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/store"
)

// sourceFlags are the rules of a website source, shared by "crawl" and
// "source add".
type sourceFlags struct {
	id, tenant, schedule       string
	urls, sitemaps, allowHosts stringList
	allowPrivate               stringList
	include, exclude           stringList
	content, drop, langs       stringList
	rate                       float64
	maxPages, maxDepth         int
	contactURL                 string
	maxRemoveShare             float64
}

func (sf *sourceFlags) register(fs *flag.FlagSet, withSchedule bool) {
	fs.StringVar(&sf.tenant, "tenant", "", "tenant whose website it is, e.g. meppel")
	fs.StringVar(&sf.id, "source", "website", "source id, e.g. website")
	fs.Var(&sf.urls, "url", "start URL (repeatable)")
	fs.Var(&sf.sitemaps, "sitemap", "sitemap or sitemap index URL (repeatable)")
	fs.Var(&sf.allowHosts, "allow-host", "host that may be crawled besides those of the start URLs and sitemaps (repeatable)")
	fs.Var(&sf.allowPrivate, "allow-private", "host that may resolve to a private or loopback address, e.g. an intranet (repeatable)")
	fs.Var(&sf.include, "include", "crawl only URLs matching this regular expression (repeatable)")
	fs.Var(&sf.exclude, "exclude", "skip URLs matching this regular expression (repeatable)")
	fs.Var(&sf.content, "content", "CSS selector of the main content, e.g. main (repeatable; default automatic)")
	fs.Var(&sf.drop, "drop", "CSS selector of parts to drop, e.g. .cookie-banner (repeatable)")
	fs.Var(&sf.langs, "lang", "index only pages in this language, e.g. nl (repeatable; default every language)")
	fs.Float64Var(&sf.rate, "rate", crawl.DefaultRate, "requests per second per host; 0 turns the limit off (robots.txt Crawl-delay still applies)")
	fs.IntVar(&sf.maxPages, "max-pages", crawl.DefaultMaxPages, "stop after this many pages")
	fs.IntVar(&sf.maxDepth, "max-depth", crawl.DefaultMaxDepth, "follow links at most this deep from a start URL")
	fs.StringVar(&sf.contactURL, "contact-url", "", "contact URL in the crawler's User-Agent (default the project's)")
	fs.Float64Var(&sf.maxRemoveShare, "max-remove-share", crawl.DefaultMaxRemoveShare, "largest share of the indexed pages one run may remove; 1 allows a run that really drops many pages")
	if withSchedule {
		fs.StringVar(&sf.schedule, "schedule", "", "when the server crawls it, in cron syntax, e.g. \"0 3 * * *\" (every night at 3:00) or @daily")
	}
}

// source builds the crawl source and checks it.
func (sf *sourceFlags) source(cmd string) (crawl.Source, error) {
	if err := validID(sf.tenant); err != nil {
		return crawl.Source{}, usagef("%s: --tenant: %v", cmd, err)
	}
	if err := validID(sf.id); err != nil {
		return crawl.Source{}, usagef("%s: --source: %v", cmd, err)
	}
	if len(sf.urls) == 0 && len(sf.sitemaps) == 0 {
		return crawl.Source{}, usagef("%s: give at least one --url or --sitemap, e.g. --url https://www.meppel.nl/", cmd)
	}
	if sf.rate < 0 {
		return crawl.Source{}, usagef("%s: --rate must not be negative", cmd)
	}
	if err := node.ValidSchedule(sf.schedule); err != nil {
		return crawl.Source{}, usagef("%s: --schedule: %v", cmd, err)
	}
	src := crawl.Source{
		ID: sf.id, Tenant: sf.tenant, StartURLs: sf.urls, Sitemaps: sf.sitemaps,
		AllowHosts: sf.allowHosts, AllowPrivate: sf.allowPrivate, Include: sf.include, Exclude: sf.exclude,
		MaxPages: sf.maxPages, MaxDepth: sf.maxDepth, Rate: sf.rate, NoRateLimit: sf.rate == 0,
		ContactURL: sf.contactURL, Schedule: sf.schedule, Langs: sf.langs, MaxRemoveShare: sf.maxRemoveShare,
	}
	src.Rules.ContentSelectors = sf.content
	src.Rules.DropSelectors = sf.drop
	if err := src.Validate(); err != nil {
		return crawl.Source{}, usagef("%s: %v", cmd, err)
	}
	return src, nil
}

const crawlSynopsis = "crawl --data DIR --tenant ID --url START [--sitemap URL]... [--rate REQ_PER_S] [--max-pages N] [--allow-host HOST]... [--json]"

// runCrawl crawls one source in the foreground: a progress line on a
// terminal, a JSON summary with --json. A crawl a killed process left
// unfinished continues where it stopped.
func (m *Main) runCrawl(ctx context.Context, args []string) error {
	fs := m.flagSet("crawl", crawlSynopsis)
	data := fs.String("data", "data", "node data directory")
	asJSON := fs.Bool("json", false, "write the job summary as JSON")
	var sf sourceFlags
	sf.register(fs, false)
	n, src, err := m.openSource(ctx, fs, args, data, &sf)
	if err != nil {
		return err
	}
	defer n.Close()
	progress := m.progressLine()
	c := n.Crawler()
	stop := c.OnProgress(progress)
	job, err := c.Run(ctx, src)
	stop()
	if progress != nil {
		fmt.Fprintln(m.Stderr)
	}
	if err != nil && job.ID == "" {
		return fmt.Errorf("crawl %s: %w", src.ID, err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(job); err != nil {
			return err
		}
	} else {
		printJob(m.Stdout, job)
	}
	switch {
	case err != nil:
		return fmt.Errorf("crawl %s stopped (job %s is resumable): %w", src.ID, job.ID, err)
	case job.Status != crawl.StatusDone:
		fmt.Fprintf(m.Stderr, "assistent: crawl: job %s %s: %s\n", job.ID, job.Status, job.Error)
		return errReported
	}
	return nil
}

// openSource parses args into sf, checks the source, and opens the node,
// whose tenant must exist. The caller closes the node.
func (m *Main) openSource(ctx context.Context, fs *flag.FlagSet, args []string, data *string, sf *sourceFlags) (*node.Node, crawl.Source, error) {
	if err := parse(fs, args); err != nil {
		return nil, crawl.Source{}, err
	}
	if fs.NArg() > 0 {
		return nil, crawl.Source{}, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	src, err := sf.source(fs.Name())
	if err != nil {
		return nil, crawl.Source{}, err
	}
	n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
	if err != nil {
		return nil, crawl.Source{}, err
	}
	if err := requireTenant(n, src.Tenant); err != nil {
		n.Close()
		return nil, crawl.Source{}, err
	}
	return n, src, nil
}

// progressLine returns a callback that redraws one status line on stderr,
// or nil when stderr is not a terminal.
func (m *Main) progressLine() func(crawl.Job) {
	f, ok := m.Stderr.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(j crawl.Job) {
		if time.Since(last) < 100*time.Millisecond && j.Status == crawl.StatusRunning {
			return
		}
		last = time.Now()
		c := j.Counters
		failed := 0
		for _, v := range c.Failed {
			failed += v
		}
		fmt.Fprintf(f, "\r\033[Kcrawling: %d fetched, %d new, %d changed, %d unchanged, %d not modified, %d failed",
			c.Fetched, c.New, c.Changed, c.Unchanged+c.SkippedLastmod, c.NotModified, failed)
	}
}

// printJob writes a job summary for people.
func printJob(w io.Writer, j crawl.Job) {
	c := j.Counters
	fmt.Fprintf(w, "job %s (%s/%s): %s in %s\n", j.ID, j.Tenant, j.SourceID, j.Status, j.Ended.Sub(j.Started).Round(time.Millisecond))
	fmt.Fprintf(w, "  fetched %d, new %d, changed %d, unchanged %d, not modified %d, skipped by lastmod %d, removed %d\n",
		c.Fetched, c.New, c.Changed, c.Unchanged, c.NotModified, c.SkippedLastmod, c.Removed)
	for reason, k := range c.Failed {
		fmt.Fprintf(w, "  failed (%s): %d\n", reason, k)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", j.Error)
	}
}

// requireTenant returns a clear error when the tenant does not exist.
func requireTenant(n *node.Node, id string) error {
	if _, err := n.Store().Tenant(id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant %q does not exist; create it with: assistent tenant set --id %s --name \"Gemeente ...\"", id, id)
		}
		return err
	}
	return nil
}

const sourceSynopsis = "source add --data DIR --tenant ID --source ID --url START [--sitemap URL]... [--schedule CRON] [rules]\n       assistent source list --data DIR --tenant ID\n       assistent source remove --data DIR --tenant ID --source ID"

// runSource stores, lists and removes the website sources the server
// crawls on their schedule (and on POST .../sources/{id}/crawl).
func (m *Main) runSource(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("source: want 'source add', 'source list' or 'source remove'")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(m.Stderr, "Usage: assistent "+sourceSynopsis)
		return nil
	case "add":
		fs := m.flagSet("source add", sourceSynopsis)
		data := fs.String("data", "data", "node data directory")
		var sf sourceFlags
		sf.register(fs, true)
		n, src, err := m.openSource(ctx, fs, args[1:], data, &sf)
		if err != nil {
			return err
		}
		defer n.Close()
		if err := n.Crawler().PutSource(src); err != nil {
			return err
		}
		return writeIndented(m.Stdout, src)
	case "list", "remove":
		fs := m.flagSet("source "+args[0], sourceSynopsis)
		data := fs.String("data", "data", "node data directory")
		tenant := fs.String("tenant", "", "tenant id")
		id := fs.String("source", "", "source id (remove)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if err := validID(*tenant); err != nil {
			return usagef("source %s: --tenant: %v", args[0], err)
		}
		n, err := m.openNode(ctx, *data, m.logger(slog.LevelWarn))
		if err != nil {
			return err
		}
		defer n.Close()
		if args[0] == "remove" {
			if err := n.Crawler().DeleteSource(*tenant, *id); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "source %s of %s removed; its pages stay until you remove them\n", *id, *tenant)
			return nil
		}
		srcs, err := n.Crawler().Sources(*tenant)
		if err != nil {
			return err
		}
		return writeIndented(m.Stdout, srcs)
	}
	return usagef("source: unknown subcommand %q", args[0])
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
