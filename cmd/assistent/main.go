// Command assistent runs and manages a gemeente node of the Digitale
// Assistent: serve, ingest, search, ask, eval and tenant.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(m.Stderr, err))
}

// Main is the program, runnable in tests with its own streams.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Ready, when set, is called by serve with the URL it listens on.
	Ready func(url string)
	// Getenv reads the environment (API keys); nil means os.Getenv.
	Getenv func(string) string
}

func (m *Main) getenv(key string) string {
	if m.Getenv != nil {
		return m.Getenv(key)
	}
	return os.Getenv(key)
}

// UsageError is a command line that cannot be run as given (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// errReported is returned when the command already told the user what went
// wrong and only the exit code remains.
var errReported = errors.New("reported")

const usage = `Usage: assistent <command> [flags]

Commands:
  serve    run a node (HTTP API, demo page)
  ingest   add content to a node's data directory
  search   search a tenant's content, one query a line on stdin
  ask      answer one question
  eval     measure retrieval, refusal calibration and answer quality on an evaluation set
  tenant   manage tenants (tenant set, tenant token)
  crawl    crawl a tenant's website once, in the foreground
  source   manage the websites the server crawls on a schedule (source add|list|remove)
  federation  the federation's trust: CA, join tokens, certificates, signing keys
  coordinator run a coordination server of the federation (Raft + registry API)
  redteam  run red-team probes against a tenant and grade the answers
  admin    staff accounts and API tokens of the admin portal (admin user add, admin token)
  audit    check and export the admin audit log (audit verify, audit export)
  reindex  copy a node's chunks into Qdrant or Elasticsearch (scale-out backends)
  health   ask a running node or coordination server whether it is healthy (container health checks)

Run 'assistent <command> --help' for the flags of a command.
`

// Run runs the command in args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return m.runServe(ctx, rest)
	case "ingest":
		return m.runIngest(ctx, rest)
	case "search":
		return m.runSearch(ctx, rest)
	case "ask":
		return m.runAsk(ctx, rest)
	case "eval":
		return m.runEval(ctx, rest)
	case "tenant":
		return m.runTenant(ctx, rest)
	case "crawl":
		return m.runCrawl(ctx, rest)
	case "source":
		return m.runSource(ctx, rest)
	case "federation":
		return m.runFederation(ctx, rest)
	case "coordinator":
		return m.runCoordinator(ctx, rest)
	case "redteam":
		return m.runRedteam(ctx, rest)
	case "admin":
		return m.runAdmin(ctx, rest)
	case "audit":
		return m.runAudit(ctx, rest)
	case "health":
		return m.runHealth(ctx, rest)
	case "reindex":
		return m.runReindex(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return usagef("unknown command %q", cmd)
}

// flagSet returns a flag set that reports errors as UsageError and prints
// its help to stderr.
func (m *Main) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: assistent %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; --help is not an error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

func (m *Main) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

func exitCode(stderr io.Writer, err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "assistent: %s (see 'assistent --help')\n", oneLine(err.Error()))
		return 2
	case errors.Is(err, errReported):
		return 1
	default:
		fmt.Fprintf(stderr, "assistent: %s\n", oneLine(err.Error()))
		return 1
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// version is the software version nodes report to the federation.
const version = "0.1.0-dev"
