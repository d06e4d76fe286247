package sso

import (
	"net/http"
	"net/url"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the CAS and OpenID Connect endpoints and the admin API.
type Handler struct {
	svc    *Service
	render *web.Renderer
	// secure marks the cookie cleared at logout Secure, as the portal's.
	secure bool
}

// NewHandler builds the handler.
func NewHandler(svc *Service, r *web.Renderer) *Handler {
	return &Handler{svc: svc, render: r, secure: strings.HasPrefix(svc.opts.Issuer, "https://")}
}

// Routes mounts the routes.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /cas/login", h.casLogin)
	r.Handle("GET /cas/serviceValidate", h.casValidate(2))
	r.Handle("GET /cas/p3/serviceValidate", h.casValidate(3))
	r.Handle("GET /cas/logout", h.casLogout)
	r.Handle("GET /.well-known/openid-configuration", h.discovery)
	r.Handle("GET /oidc/authorize", h.authorize)
	r.Handle("POST /oidc/token", h.token)
	r.Handle("GET /oidc/jwks", h.jwks)
	r.Handle("GET /oidc/userinfo", h.userinfo)
	r.Handle("GET "+DelegationStartPath, h.delegationStart)
	r.Handle("GET "+DelegationCallbackPath, h.delegationCallback)
	r.Handle("GET "+linksPath, h.linksPage)
	r.Handle("POST "+linksPath, h.linkIdentity)
	h.apiRoutes(r)
}

// ExemptPaths are the paths a relying party calls from its server, with
// its own credentials (HTTP Basic client authentication, an OIDC access
// token) and no browser session: the session and CSRF middleware must let
// them through untouched, and these handlers authenticate the caller.
func ExemptPaths() []string { return []string{"/oidc/token", "/oidc/userinfo"} }

// freshParam carries the fresh-login marker through /connexion.
const freshParam = "socle_fresh"

func isTrue(v string) bool { return v == "true" || v == "1" || v == "yes" }

type errorPage struct {
	Message string
	Service string
	// Delegated: the failure is a login through the external provider.
	Delegated bool
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	return h.render.Render(w, r, p.Status, "sso/error", "Connexion unique impossible", errorPage{Message: p.Message})
}

// casLogin is the CAS credential requestor (CAS protocol 3.0 §2.1): with a
// Socle session, a ticket for the service; without one, the Socle login
// page, which comes back here.
func (h *Handler) casLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	service := q.Get("service")
	renew := isTrue(q.Get("renew"))
	gateway := isTrue(q.Get("gateway")) && !renew // renew wins, as the protocol recommends
	p := web.PrincipalFrom(ctx)
	if service == "" {
		if p.IsAnonymous() {
			http.Redirect(w, r, "/connexion", http.StatusFound)
			return nil
		}
		http.Redirect(w, r, "/", http.StatusFound)
		return nil
	}
	if _, err := h.svc.CASServiceFor(ctx, service); err != nil {
		return h.refuse(w, r, err)
	}
	fresh := false
	if m := q.Get(freshParam); m != "" {
		fresh = h.svc.FreshLogin(ctx, m, p)
	}
	if !p.IsAnonymous() && (!renew || fresh) {
		ticket, err := h.svc.IssueTicket(ctx, p, service, fresh)
		if err != nil {
			return h.refuse(w, r, err)
		}
		http.Redirect(w, r, withParam(service, "ticket", ticket), http.StatusFound)
		return nil
	}
	if gateway {
		// Not logged in and the service asked not to be shown a login
		// page: back to it without a ticket.
		http.Redirect(w, r, service, http.StatusFound)
		return nil
	}
	return h.toLogin(w, r, !p.IsAnonymous())
}

// toLogin sends the browser to /connexion, to come back to the same URL
// with a fresh-login marker. A forced re-authentication (renew,
// prompt=login) first ends the current session: the login page does not
// show itself to someone logged in.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, endSession bool) error {
	ctx := r.Context()
	if endSession {
		if err := h.endSession(w, r); err != nil {
			return err
		}
	}
	marker, err := h.svc.FreshLoginMarker(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	q.Set(freshParam, marker)
	back := r.URL.Path + "?" + q.Encode()
	http.Redirect(w, r, "/connexion?retour="+url.QueryEscape(back), http.StatusFound)
	return nil
}

func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(web.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	if err := h.svc.EndSession(r.Context(), c.Value); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure})
	return nil
}

// withParam adds one query parameter to a URL given by a service, keeping
// the rest of it as it was written (a CAS client compares it verbatim).
func withParam(raw, name, value string) string {
	frag := ""
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw, frag = raw[:i], raw[i:]
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + name + "=" + url.QueryEscape(value) + frag
}

func (h *Handler) casValidate(version int) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		v, err := h.svc.ValidateTicket(r.Context(), q.Get("ticket"), q.Get("service"), isTrue(q.Get("renew")))
		if err != nil {
			h.svc.log.Info("cas validation refused", "err", err)
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, werr := w.Write(casXML(v, err, version))
		return werr
	}
}

// casLogout ends the Socle session, then goes back to the service when it
// is registered (so that logout cannot be used as an open redirect).
func (h *Handler) casLogout(w http.ResponseWriter, r *http.Request) error {
	if err := h.endSession(w, r); err != nil {
		return err
	}
	q := r.URL.Query()
	service := q.Get("service")
	if service == "" {
		service = q.Get("url") // CAS 2.0 clients
	}
	if service != "" {
		if _, err := h.svc.CASServiceFor(r.Context(), service); err == nil {
			http.Redirect(w, r, service, http.StatusFound)
			return nil
		}
	}
	return h.render.Render(w, r, http.StatusOK, "sso/logout", "Vous êtes déconnecté", nil)
}
