package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middlewares, the first one outermost.
func Chain(h http.Handler, m ...Middleware) http.Handler {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// statusRecorder remembers the status and size written.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flush,
// hijack for WebSockets).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func record(w http.ResponseWriter) *statusRecorder {
	if rec, ok := w.(*statusRecorder); ok {
		return rec
	}
	return &statusRecorder{ResponseWriter: w}
}

// routeKey holds, in the context, where the router writes the matched
// route pattern: middlewares outside the mux see another *http.Request than
// the one the mux annotates.
type routeKey struct{}

func setRoute(r *http.Request) {
	if p, ok := r.Context().Value(routeKey{}).(*string); ok {
		*p = r.Pattern
	}
}

// Instrument logs one line per request and records its metrics. Only the
// path is logged, never the query string: it may carry tokens or search
// terms about people. Metrics use the route pattern, never the raw path.
func Instrument(log *slog.Logger, m *Metrics) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := record(w)
			route := new(string)
			r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
			next.ServeHTTP(rec, r)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			if m != nil {
				m.observe(r.Method, *route, status, elapsed)
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", *route),
				slog.Int("status", status), slog.Int64("bytes", rec.bytes), slog.Duration("duration", elapsed))
		})
	}
}

// Recover turns a panic into a 500 answer and a log line.
func Recover(log *slog.Logger, router *Router) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					router.Error(w, r, fmt.Errorf("panic: %v", v))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets the headers every answer carries. Pages load their
// scripts and styles from this server only.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// Cookie names.
const (
	SessionCookie = "socle_session"
	csrfCookie    = "socle_csrf"
	// CSRFField is the form field (and X-CSRF-Token the header) that carries
	// the token on state-changing requests.
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// Sessions authenticates requests: a bearer API token, or the session
// cookie. Requests authenticated by cookie (and anonymous form posts such
// as the login) must carry the CSRF token on every state-changing method;
// bearer requests cannot be forged by another site and are exempt.
type Sessions struct {
	Auth   *auth.Service
	Router *Router
	// Secure marks cookies Secure (set when served over HTTPS, directly or
	// behind a proxy).
	Secure bool
	// Exempt lists paths passed through untouched (no principal, no CSRF
	// check): endpoints that authenticate their callers themselves, such
	// as the OpenID Connect token endpoint called by a relying party.
	Exempt []string
}

// Middleware returns the authentication and CSRF middleware.
func (s *Sessions) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(s.Exempt, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.Router.Error(w, r, problem.Unauthenticated())
				return
			}
			p, err := s.Auth.TokenPrincipal(ctx, strings.TrimSpace(tok))
			if err != nil {
				s.Router.Error(w, r, err)
				return
			}
			if p == nil {
				s.Router.Error(w, r, problem.New(http.StatusUnauthorized, "invalid_token", "Jeton d'accès invalide ou expiré."))
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
			return
		}
		var p *auth.Principal
		var token string
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			var err error
			p, token, err = s.Auth.SessionPrincipal(ctx, c.Value)
			if err != nil {
				s.Router.Error(w, r, err)
				return
			}
			if p == nil {
				// Expired or unknown: drop the cookie.
				http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
			}
		}
		if p == nil {
			if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 20 {
				token = c.Value
			} else {
				token = newToken()
				http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
			}
		}
		// An API call without a session (the token login of a script) has
		// no cookie another site could ride on, and the token it gets back
		// is unreadable cross-origin: only cookie sessions and HTML forms
		// need the CSRF token.
		if !safeMethod(r.Method) && (p != nil || !IsAPI(r)) {
			sent := r.Header.Get(CSRFHeader)
			if sent == "" {
				var err error
				if sent, err = formCSRF(w, r); err != nil {
					s.Router.Error(w, r, err)
					return
				}
			}
			if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				s.Router.Error(w, r, problem.New(http.StatusForbidden, "csrf", "Le formulaire a expiré. Rechargez la page et recommencez."))
				return
			}
		}
		ctx = withCSRF(WithPrincipal(ctx, p), token)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// MaxFormBytes bounds a form body, uploads included (a national directory
// file is about 60 MB).
const MaxFormBytes = 256 << 20

// formCSRF reads the CSRF field of a urlencoded or multipart form. Multipart
// bodies are parsed with files beyond 8 MB spooled to disk, so an upload
// never sits whole in memory, and the body is bounded.
func formCSRF(w http.ResponseWriter, r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	var err error
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		err = r.ParseForm()
	case strings.HasPrefix(ct, "multipart/form-data"):
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		err = r.ParseMultipartForm(8 << 20)
	default:
		return "", nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "", problem.New(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("Envoi trop volumineux : %d Mo au plus.", tooBig.Limit>>20))
	}
	if err != nil {
		return "", problem.Invalid("invalid_form", "Formulaire illisible.").Wrap(err)
	}
	return r.PostFormValue(CSRFField), nil
}

// StartSession sets the session cookie.
func (s *Sessions) StartSession(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", Expires: expires, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
}

// EndSession clears the session cookie.
func (s *Sessions) EndSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ClientIP returns the client's address (for login throttling). Proxy
// headers are not trusted: behind a reverse proxy, configure it to set the
// real address at the TCP level or extend this with a trusted-proxy list.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RequireUser fails with 401 when nobody is logged in.
func RequireUser(r *http.Request) (*auth.Principal, error) {
	p := PrincipalFrom(r.Context())
	if p.IsAnonymous() {
		return nil, problem.Unauthenticated()
	}
	return p, nil
}
