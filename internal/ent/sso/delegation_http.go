package sso

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// delegationStart sends the browser to the external provider, bound to it
// by a short-lived cookie carrying the state.
func (h *Handler) delegationStart(w http.ResponseWriter, r *http.Request) error {
	authURL, state, err := h.svc.StartDelegatedLogin(r.Context(), safeReturn(r.URL.Query().Get("retour")))
	if err != nil {
		return h.refuseDelegated(w, r, err)
	}
	http.SetCookie(w, &http.Cookie{Name: delegationCookie, Value: state, Path: DelegationStartPath, MaxAge: int(delegationTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure})
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// delegationCallback is where the provider sends the browser back: the
// login completes, a Socle session starts as with a password.
func (h *Handler) delegationCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: delegationCookie, Value: "", Path: DelegationStartPath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure})
	if e := q.Get("error"); e != "" {
		// The person cancelled, or the provider refused: no detail from
		// the provider is shown (it is not written for them).
		h.svc.log.Info("external provider returned an error", "error", e)
		return h.render.Render(w, r, http.StatusUnauthorized, "sso/error", "Connexion impossible", errorPage{Delegated: true,
			Message: "La connexion avec " + h.svc.DelegationLabel() + " n'a pas abouti (annulée ou refusée). Vous pouvez réessayer ou vous connecter avec votre mot de passe."})
	}
	c, err := r.Cookie(delegationCookie)
	state := q.Get("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		return h.refuseDelegated(w, r, errDelegationState)
	}
	uid, ret, err := h.svc.FinishDelegatedLogin(r.Context(), state, q.Get("code"))
	if err != nil {
		return h.refuseDelegated(w, r, err)
	}
	secret, _, expires, err := h.svc.auth.StartSession(r.Context(), uid)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: secret, Path: "/", Expires: expires, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure})
	http.Redirect(w, r, ret, http.StatusSeeOther)
	return nil
}

// refuseDelegated shows why a delegated login failed, with the way back to
// the login page.
func (h *Handler) refuseDelegated(w http.ResponseWriter, r *http.Request, err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	return h.render.Render(w, r, p.Status, "sso/error", "Connexion impossible", errorPage{Message: p.Message, Delegated: true})
}

// safeReturn keeps the post-login redirect on this site, as the portal's
// login form does.
func safeReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	if u, err := url.Parse(s); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return s
}

type linksPage struct {
	Label   string
	Links   []IdentityLink
	Flash   string
	Error   string
	Email   string
	Subject string
}

// linksPath is the administrators' page of linked identities.
const linksPath = "/sso/identites"

func (h *Handler) linksPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderLinks(w, r, http.StatusOK, linksPage{Flash: r.URL.Query().Get("ok")})
}

func (h *Handler) renderLinks(w http.ResponseWriter, r *http.Request, status int, v linksPage) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if v.Links, err = h.svc.RecentLinks(r.Context(), p, 100); err != nil {
		return err
	}
	v.Label = h.svc.DelegationLabel()
	return h.render.Render(w, r, status, "sso/links", "Identités "+v.Label+" reliées", v)
}

func (h *Handler) linkIdentity(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	email, subject := strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("identifiant"))
	if err := h.svc.LinkByEmail(r.Context(), p, email, subject); err != nil {
		pr, ok := problem.As(err)
		if !ok || pr.Status >= 500 || pr.Status == http.StatusForbidden || pr.Status == http.StatusUnauthorized || pr.Status == http.StatusNotFound {
			return err
		}
		return h.renderLinks(w, r, pr.Status, linksPage{Error: pr.Message, Email: email, Subject: subject})
	}
	http.Redirect(w, r, linksPath+"?ok="+url.QueryEscape("Identité reliée au compte "+email+"."), http.StatusSeeOther)
	return nil
}
