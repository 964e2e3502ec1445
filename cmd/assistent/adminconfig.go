package main

import (
	"fmt"
	"time"

	"github.com/assistent-nl/assistent/admin"
)

// adminConfig is the "admin" key of the serve config file: the
// beheerportaal's cookies, sessions and OIDC sign-in.
type adminConfig struct {
	InsecureCookies bool   `json:"insecure_cookies"`
	SessionIdle     string `json:"session_idle"`
	SessionMax      string `json:"session_max"`
	OIDC            *struct {
		Issuer          string            `json:"issuer"`
		ClientID        string            `json:"client_id"`
		ClientSecretEnv string            `json:"client_secret_env"` // the environment variable holding the secret
		RedirectURL     string            `json:"redirect_url"`
		RoleClaim       string            `json:"role_claim"`
		Roles           map[string]string `json:"roles"` // claim value → beheerder, redacteur, analist or auditor
	} `json:"oidc"`
}

// adminConfig returns the portal's configuration from the file, the
// defaults where it says nothing.
func (fc *fileConfig) adminConfig(getenv func(string) string) (admin.Config, error) {
	cfg := admin.DefaultConfig()
	ac := fc.Admin
	if ac == nil {
		return cfg, nil
	}
	cfg.InsecureCookies = ac.InsecureCookies
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"session_idle", ac.SessionIdle, &cfg.SessionIdle}, {"session_max", ac.SessionMax, &cfg.SessionMax}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return cfg, fmt.Errorf("config: admin.%s: %q is not a duration (30m, 12h)", d.name, d.s)
		}
		*d.dst = v
	}
	if o := ac.OIDC; o != nil {
		oc := &admin.OIDCConfig{Issuer: o.Issuer, ClientID: o.ClientID, RedirectURL: o.RedirectURL, RoleClaim: o.RoleClaim, Roles: map[string]admin.Role{}}
		if o.ClientSecretEnv != "" {
			oc.ClientSecret = getenv(o.ClientSecretEnv)
			if oc.ClientSecret == "" {
				return cfg, fmt.Errorf("config: admin.oidc.client_secret_env: %s is not set", o.ClientSecretEnv)
			}
		}
		for v, r := range o.Roles {
			role, err := admin.ParseRole(r)
			if err != nil {
				return cfg, fmt.Errorf("config: admin.oidc.roles[%s]: %v", v, err)
			}
			oc.Roles[v] = role
		}
		cfg.OIDC = oc
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}
