package store

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// NormaliseSite checks a site the widget may be embedded on and returns it
// in the form the node compares origins with: a lower-case host
// ("www.meppel.nl", meaning https), host:port, or scheme://host[:port]
// for another scheme or an explicit port ("http://127.0.0.1:8765"). A
// path, query or user part is an error.
func NormaliseSite(s string) (string, error) {
	in := strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a site: give a host (www.meppel.nl), host:port, or scheme://host[:port] (http://127.0.0.1:8765)", s)
	if in == "" || strings.ContainsAny(in, " \t") {
		return "", bad
	}
	raw := in
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", bad
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%q: a site is served over http or https", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad
		}
	}
	host := strings.ToLower(u.Host)
	if !strings.Contains(in, "://") {
		return host, nil
	}
	return u.Scheme + "://" + host, nil
}

// AddSite adds a normalised site to t, once.
func (t *Tenant) AddSite(norm string) {
	if !slices.Contains(t.Sites, norm) {
		t.Sites = append(t.Sites, norm)
	}
}

// RemoveSite removes a site from t, as given or normalised; one the widget
// never ran on is no error.
func (t *Tenant) RemoveSite(s string) {
	norm, err := NormaliseSite(s)
	if err != nil {
		norm = s
	}
	t.Sites = slices.DeleteFunc(t.Sites, func(have string) bool { return have == norm || have == s })
}
