package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/assistent-nl/assistent/node/answer"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/assistent-nl/assistent/node"
	"github.com/assistent-nl/assistent/node/demo"
)

func (m *Main) runServe(ctx context.Context, args []string) error {
	flags := m.flagSet("serve", "serve [--config FILE] [--data DIR] [--addr HOST:PORT] [--demo]")
	config := flags.String("config", "", "JSON config file (keys below; deploy/config.example.json shows each)")
	usage := flags.Usage
	flags.Usage = func() {
		usage()
		fmt.Fprint(m.Stderr, serveConfigHelp)
	}
	data := flags.String("data", "data", "node data directory")
	addr := flags.String("addr", "127.0.0.1:8080", "address to listen on")
	withDemo := flags.Bool("demo", false, "load the demo gemeente on first start and serve the demo page at /")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usagef("serve: unexpected argument %q", flags.Arg(0))
	}
	cfg := fileConfig{Data: *data, Addr: *addr, Demo: *withDemo}
	if *config != "" {
		if err := loadConfig(*config, &cfg); err != nil {
			return err
		}
		set := map[string]bool{}
		flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["data"] {
			cfg.Data = *data
		}
		if set["addr"] {
			cfg.Addr = *addr
		}
		if set["demo"] {
			cfg.Demo = *withDemo
		}
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return usagef("serve: --addr %q: must be host:port, e.g. 127.0.0.1:8080", cfg.Addr)
	}

	proxies, err := node.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}

	log := slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	mc, err := cfg.models(m.getenv)
	if err != nil {
		return err
	}
	if err := cfg.loadFederationMember(); err != nil {
		return err
	}
	adminCfg, err := cfg.adminConfig(m.getenv)
	if err != nil {
		return err
	}
	backend, err := cfg.backend(m.getenv, log)
	if err != nil {
		return err
	}
	fallback, err := cfg.fallback()
	if err != nil {
		return err
	}
	fed, err := startNodeFederation(cfg.Federation, cfg.member, cfg.dir, log)
	if err != nil {
		return err
	}
	defer fed.Close()
	n, err := m.openNodeWith(ctx, cfg.Data, mc, log, func(c *node.Config) {
		c.TrustedProxies = proxies
		c.Policy = answer.PolicyDecider(cfg.Policy)
		c.Admin = adminCfg
		c.Backend = backend
		if fallback != nil {
			c.Fallback.Peers, c.Fallback.Client = fallback.Peers, fallback.Client
		}
		fed.apply(c)
		if cfg.Federation != nil && len(cfg.Federation.FallbackTenants) > 0 {
			c.Fallback.TenantModes = map[string]node.FallbackMode{}
			for t, mode := range cfg.Federation.FallbackTenants {
				c.Fallback.TenantModes[t] = node.FallbackMode(mode)
			}
		}
	})
	if err != nil {
		return err
	}
	defer n.Close()
	if err := cfg.servePeers(ctx, n, log); err != nil {
		return err
	}
	fed.join(ctx)
	var static fs.FS
	if cfg.Demo {
		loaded, err := n.LoadDemo(ctx)
		if err != nil {
			return fmt.Errorf("load demo content: %w", err)
		}
		if loaded {
			fmt.Fprintln(m.Stdout, "Demo content loaded: gemeente Lindewaarde (fictional) and the Rijksoverheid FAQ (CC0).")
		}
		static = demo.Static()
	}
	if err := cfg.putSources(n); err != nil {
		return err
	}
	cfg.onGossip = fed.applyGossip
	cfg.onCollections = fed.publishCollections
	fw, err := cfg.watchFederation(ctx, n, m.getenv, log)
	if err != nil {
		return err
	}
	if fw != nil {
		defer fw.Close()
	}
	go n.RunJanitor(ctx, time.Hour)
	go n.RunScheduler(ctx, time.Minute)
	return node.Serve(ctx, cfg.Addr, n.Handler(static), 10*time.Second, log, func(a net.Addr) {
		url := "http://" + a.String() + "/"
		if cfg.Demo {
			fmt.Fprintf(m.Stdout, "Assistent is running: open %s and ask a question (Ctrl+C stops).\n", url)
		} else {
			fmt.Fprintf(m.Stdout, "Assistent is running on %s (Ctrl+C stops).\n", url)
		}
		if m.Ready != nil {
			m.Ready(url)
		}
	})
}

// serveConfigHelp lists every key of the --config file (fileConfig); a
// test keeps it complete.
const serveConfigHelp = `
Config file keys (JSON, all optional; flags given on the command line win):
  data             node data directory, as --data
  addr             address to listen on, as --addr
  demo             load the demo gemeente, as --demo
  providers        model providers: name, kind (openai, tei, cohere, jina), region, base_url,
                   model, api_key_env (the environment variable holding the key), timeout,
                   max_retries, embed_dim
  routes           which providers serve a task (answer, rewrite, judge, rerank, embed) for a
                   tenant ("" = every tenant), in order, with a timeout
  breaker          circuit breaker of every provider: failures, cooldown
  templates        prompt templates: tenant, name, version, lang, file (next to the config)
  sources          websites to crawl on a schedule (see 'assistent source add --help')
  federation       servers, cert, peers, peer_addr, peer_advertise, tenant, provider_keys,
                   fallback (off, national-only, peers, nearest), fallback_tenants, gossip
  trusted_proxies  IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client
                   (default none: the header is ignored, from loopback too)
  policy           what decides a question's intent: both (default: rules, then the policy
                   classifier), rules or classifier
  admin            the admin portal: insecure_cookies (plain http beyond localhost only),
                   session_idle, session_max, oidc (issuer, client_id, client_secret_env,
                   redirect_url, role_claim, roles: claim value → role)
  retrieval        the search backend: backend (embedded (default), qdrant or elastic), url
                   (Qdrant's gRPC port, http://HOST:6334, or an Elasticsearch node,
                   http://HOST:9200), name (collection or index, default assistent),
                   api_key_env, user and password_env (Elasticsearch; the environment
                   variables holding the secrets). Fill it first: 'assistent reindex --help'
`
