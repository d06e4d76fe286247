package sso

import (
	"net/http"

	"socle/internal/platform/web"
)

const maxJSONBody = 64 << 10

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("POST /api/v1/sso/cas-services", h.apiCreateCASService)
	r.Handle("POST /api/v1/sso/oidc-clients", h.apiCreateOIDCClient)
}

func (h *Handler) apiCreateCASService(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewCASService
	if err := web.DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		return err
	}
	c, err := h.svc.RegisterCASService(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, c)
}

// createdClient is a registered client with its secret, shown once.
type createdClient struct {
	OIDCClient
	ClientSecret string `json:"client_secret,omitempty"`
}

func (h *Handler) apiCreateOIDCClient(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewOIDCClient
	if err := web.DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		return err
	}
	c, secret, err := h.svc.RegisterOIDCClient(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.JSON(w, http.StatusCreated, createdClient{OIDCClient: c, ClientSecret: secret})
}
