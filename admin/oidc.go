package admin

import (
	"errors"
	"net/http"
)

// OIDCConfig configures sign-in with an OpenID provider (Entra ID,
// Keycloak).
type OIDCConfig struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"-"` // from the environment, never the file
	RedirectURL  string `json:"redirect_url"`
}

// Validate reports the first invalid field.
func (c OIDCConfig) Validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("admin.oidc.issuer: must not be empty")
	case c.ClientID == "":
		return errors.New("admin.oidc.client_id: must not be empty")
	case c.RedirectURL == "":
		return errors.New("admin.oidc.redirect_url: must not be empty")
	}
	return nil
}

type oidcClient struct{ cfg OIDCConfig }

func newOIDCClient(cfg OIDCConfig) *oidcClient { return &oidcClient{cfg: cfg} }

func (a *Admin) oidcLogin(w http.ResponseWriter, r *http.Request, _ *principal) {
	a.notFound(w, r)
}

func (a *Admin) oidcCallback(w http.ResponseWriter, r *http.Request, _ *principal) {
	a.notFound(w, r)
}
