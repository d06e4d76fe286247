// Package portal is the front door: logging in and out, the home page of
// each role, and the API's login.
package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
	"socle/internal/territory"
)

// Handler serves the portal.
type Handler struct {
	auth      *auth.Service
	territory *territory.Service
	render    *web.Renderer
	sessions  *web.Sessions
	// The ENT's parts of the home page; each is left out when nil.
	timeline  Timeline
	directory Directory
	mounted   func() map[string]bool
}

// NewHandler builds the handler; options add the ENT's parts of the home
// page.
func NewHandler(a *auth.Service, t *territory.Service, r *web.Renderer, s *web.Sessions, opts ...Option) *Handler {
	h := &Handler{auth: a, territory: t, render: r, sessions: s}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Routes mounts the portal's routes.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /{$}", h.home)
	r.Handle("GET /connexion", h.loginPage)
	r.Handle("POST /connexion", h.login)
	r.Handle("POST /deconnexion", h.logout)
	r.Handle("POST /api/v1/auth/login", h.apiLogin)
	r.Handle("GET /api/v1/me", h.apiMe)
	r.Handle("/api/", apiFallback(r))
}

// apiFallback answers the API requests no route takes, in JSON like every
// other API error (ServeMux would answer in plain text): 405 with the
// methods the path has, or 404. It reads the router's patterns when the
// request comes, so routes mounted after it count too.
func apiFallback(rt *web.Router) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, p := range rt.Patterns() {
			method, path, ok := strings.Cut(p, " ")
			if !ok || !pathMatches(path, r.URL.Path) || slices.Contains(allow, method) {
				continue
			}
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
		if len(allow) == 0 {
			return problem.NotFound("Ressource")
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return problem.New(http.StatusMethodNotAllowed, "method_not_allowed",
			"Méthode "+r.Method+" non prise en charge ici ; méthodes possibles : "+strings.Join(allow, ", ")+".")
	}
}

// pathMatches reports whether a path fits a route's path template, where
// "{name}" stands for one segment: enough for the API's routes, which use
// no other wildcard.
func pathMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
		} else if t != ps[i] {
			return false
		}
	}
	return true
}

type loginData struct {
	Email, Return, Error string
}

// safeReturn keeps a post-login redirect on this site.
func safeReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	if u, err := url.Parse(s); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return s
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if p := web.PrincipalFrom(r.Context()); !p.IsAnonymous() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return h.render.Render(w, r, http.StatusOK, "login", "Connexion", loginData{Return: safeReturn(r.URL.Query().Get("retour"))})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	ret := safeReturn(r.PostFormValue("retour"))
	u, err := h.auth.Login(r.Context(), email, password, web.ClientIP(r))
	if err != nil {
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		return h.render.Render(w, r, p.Status, "login", "Connexion", loginData{Email: email, Return: ret, Error: p.Message})
	}
	secret, _, expires, err := h.auth.StartSession(r.Context(), u.ID)
	if err != nil {
		return err
	}
	h.sessions.StartSession(w, secret, expires)
	http.Redirect(w, r, ret, http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(web.SessionCookie); err == nil {
		if err := h.auth.EndSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.sessions.EndSession(w)
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
	return nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
}

func (h *Handler) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := web.DecodeJSON(w, r, 8<<10, &req); err != nil {
		return err
	}
	u, err := h.auth.Login(r.Context(), req.Email, req.Password, web.ClientIP(r))
	if err != nil {
		return err
	}
	tok, exp, err := h.auth.IssueToken(r.Context(), u.ID, "api login")
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, loginResponse{Token: tok, ExpiresAt: exp.UTC().Format("2006-01-02T15:04:05Z07:00")})
}

type meGrant struct {
	Role      auth.Role `json:"role"`
	OrgID     int64     `json:"org_id,omitempty"`
	Recursive bool      `json:"recursive"`
}

type meResponse struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Grants      []meGrant `json:"grants"`
}

func (h *Handler) apiMe(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	me := meResponse{ID: p.User.ID, Email: p.User.Email, DisplayName: p.User.DisplayName, Grants: []meGrant{}}
	for _, g := range p.Grants {
		me.Grants = append(me.Grants, meGrant{Role: g.Role, OrgID: g.OrgID, Recursive: g.Recursive})
	}
	return web.JSON(w, http.StatusOK, me)
}
