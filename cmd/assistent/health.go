package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// runHealth asks a running node or coordination server whether it is
// healthy. It exists for container images without a shell or curl
// (distroless, scratch): the Dockerfile's HEALTHCHECK and the compose
// files run it. Exit 0 on a 2xx answer, 1 otherwise.
func (m *Main) runHealth(ctx context.Context, args []string) error {
	fs := m.flagSet("health", "health [--url URL] [--timeout 3s] [--insecure]")
	target := fs.String("url", "http://127.0.0.1:8080/healthz", "URL to GET; a 2xx answer is healthy")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	insecure := fs.Bool("insecure", false, "do not verify the server's TLS certificate (only for loopback URLs, e.g. a coordinator's https://127.0.0.1:8301/healthz)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("health: unexpected argument %q", fs.Arg(0))
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("health: --url %q: must be an http(s) URL", *target)
	}
	if *timeout <= 0 {
		return usagef("health: --timeout must be positive")
	}
	tr := &http.Transport{Proxy: nil}
	if *insecure {
		// Skipping verification is only harmless when the answer cannot
		// come from anyone but this machine.
		if !isLoopbackHost(u.Hostname()) {
			return usagef("health: --insecure is only allowed for loopback URLs (127.0.0.1, ::1, localhost)")
		}
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("health: %w (is the server running and listening on %s?)", err, u.Host)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("health: %s answered %s: %q", u, resp.Status, body)
	}
	fmt.Fprintf(m.Stdout, "%s %s\n", u, resp.Status)
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
