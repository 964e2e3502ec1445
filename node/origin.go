package node

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// originAllowed reports whether a browser page at origin may make a
// request that stores state (a question, feedback, a chat connection) on a
// node reached as host (the request's Host; "" when unknown) for a tenant
// with sites. It is the one rule for REST, the WebSocket and Connect:
//   - the node's own origin (origin's host and port are host) is allowed;
//   - a site given as a host name ("www.meppel.nl") or host:port allows
//     https on that host and port (443 when none is given); on localhost
//     and loopback addresses http as well, for development;
//   - a site given with a scheme ("https://www.meppel.nl:8443") allows
//     exactly that scheme, host and port.
//
// Anything else, the opaque origin "null" included, is refused.
func originAllowed(origin, host string, sites []string) bool {
	o, ok := parseOrigin(origin)
	if !ok {
		return false
	}
	if host != "" && strings.EqualFold(o.hostPort(), hostWithPort(host, o.scheme)) {
		return true
	}
	for _, s := range sites {
		if siteAllows(s, o) {
			return true
		}
	}
	return false
}

// webOrigin is a normalised origin: lower-case scheme and host, and the
// port always given.
type webOrigin struct{ scheme, host, port string }

func (o webOrigin) hostPort() string { return net.JoinHostPort(o.host, o.port) }

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// hostWithPort is host (a Host header) with the scheme's default port
// added when it has none.
func hostWithPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), defaultPort(scheme))
}

// parseOrigin reads an Origin header: scheme://host[:port], nothing more.
func parseOrigin(s string) (webOrigin, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return webOrigin{}, false
	}
	return fromURL(u)
}

func fromURL(u *url.URL) (webOrigin, bool) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Hostname() == "" {
		return webOrigin{}, false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	return webOrigin{scheme: scheme, host: strings.ToLower(u.Hostname()), port: port}, true
}

// siteAllows reports whether the tenant's site s allows origin o.
func siteAllows(s string, o webOrigin) bool {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return false
		}
		want, ok := fromURL(u)
		return ok && want == o
	}
	u, err := url.Parse("https://" + s)
	if err != nil {
		return false
	}
	want, ok := fromURL(u)
	if !ok || want.host != o.host {
		return false
	}
	port := u.Port()
	switch {
	case o.scheme == "https":
		return port == "" && o.port == "443" || port == o.port
	case isLoopbackHost(o.host):
		return port == "" && o.port == "80" || port == o.port
	}
	return false
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// originOK reports whether r may store state for tenant: it carries no
// Origin header (not from a browser page), or one that originAllowed
// admits. An unknown tenant passes, for the handler to answer 404.
func (n *Node) originOK(r *http.Request, tenant string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	t, err := n.tenant(tenant)
	if err != nil {
		return true
	}
	return originAllowed(origin, r.Host, t.Sites)
}
