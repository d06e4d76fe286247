package sso

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"socle/internal/platform/web"
)

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return web.JSON(w, http.StatusOK, h.svc.Discovery())
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) error {
	set, err := h.svc.JWKS(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return web.JSON(w, http.StatusOK, set)
}

// authorize is the authorization endpoint (authorization code flow).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	req := AuthorizeRequest{ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), ResponseType: q.Get("response_type"),
		Scope: q.Get("scope"), State: q.Get("state"), Nonce: q.Get("nonce"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method")}
	c, err := h.svc.AuthorizeClient(ctx, req.ClientID, req.RedirectURI)
	if err != nil {
		return h.refuse(w, r, err)
	}
	back := func(params url.Values) error {
		params.Set("iss", h.svc.Issuer()) // RFC 9207: mix-up defence
		if req.State != "" {
			params.Set("state", req.State)
		}
		target := req.RedirectURI
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		http.Redirect(w, r, target+sep+params.Encode(), http.StatusFound)
		return nil
	}
	scope, oerr := h.svc.CheckAuthorize(c, req)
	if oerr != nil {
		return back(url.Values{"error": {oerr.Code}, "error_description": {oerr.Description}})
	}
	p := web.PrincipalFrom(ctx)
	prompt := strings.Fields(q.Get("prompt"))
	fresh := false
	if m := q.Get(freshParam); m != "" {
		fresh = h.svc.FreshLogin(ctx, m, p)
	}
	reauth := false
	if !p.IsAnonymous() && !fresh {
		if slices.Contains(prompt, "login") {
			reauth = true
		}
		if ma := q.Get("max_age"); ma != "" {
			if n, err := strconv.Atoi(ma); err == nil && n >= 0 && h.svc.now().Sub(authTime(p, h.svc.now())).Seconds() > float64(n) {
				reauth = true
			}
		}
	}
	if p.IsAnonymous() || reauth {
		if slices.Contains(prompt, "none") {
			return back(url.Values{"error": {"login_required"}})
		}
		return h.toLogin(w, r, reauth)
	}
	code, err := h.svc.IssueCode(ctx, p, c, req, scope)
	if err != nil {
		return err
	}
	return back(url.Values{"code": {code}})
}

func oauthJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	return web.JSON(w, status, v)
}

// token is the token endpoint. It is called by the relying party's
// server, authenticated by its client secret (HTTP Basic or form) or, for
// public clients, by PKCE alone; it needs the CSRF exemption (ExemptPaths).
func (h *Handler) token(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return oauthJSON(w, http.StatusBadRequest, oauthErr(http.StatusBadRequest, "invalid_request", "unreadable form body"))
	}
	f := r.PostForm
	req := TokenRequest{GrantType: f.Get("grant_type"), Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"),
		CodeVerifier: f.Get("code_verifier"), ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret")}
	basic := false
	if id, secret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic.
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || (req.ClientID != "" && req.ClientID != uid) || req.ClientSecret != "" {
			return oauthJSON(w, http.StatusBadRequest, oauthErr(http.StatusBadRequest, "invalid_request", "conflicting client credentials"))
		}
		req.ClientID, req.ClientSecret, basic = uid, usecret, true
	}
	resp, oerr := h.svc.Exchange(r.Context(), req)
	if oerr != nil {
		if oerr.Status == http.StatusUnauthorized && basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="socle"`)
		}
		h.svc.log.Info("oidc token refused", "client_id", req.ClientID, "error", oerr.Code, "description", oerr.Description)
		return oauthJSON(w, oerr.Status, oerr)
	}
	return oauthJSON(w, http.StatusOK, resp)
}

// userinfo answers a bearer access token (also exempt from the session
// middleware, which would take the bearer for a Socle API token).
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) error {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims, oerr := h.svc.UserInfo(r.Context(), strings.TrimSpace(tok))
	if oerr != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+oerr.Code+`"`)
		return oauthJSON(w, oerr.Status, oerr)
	}
	return oauthJSON(w, http.StatusOK, claims)
}
