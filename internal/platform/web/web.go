// Package web is what every HTTP handler uses and that knows no domain:
// handlers that return errors, JSON and HTML rendering, errors shown in
// French, sessions and CSRF, security headers, request logs and metrics.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// HandlerFunc is an HTTP handler that may fail; the error is written by
// the router in the caller's language: JSON under /api/, a page elsewhere.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

type ctxKey int

const (
	principalKey ctxKey = iota
	csrfKey
)

// WithPrincipal stores who is calling in the request context.
func WithPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns who is calling (nil when anonymous).
func PrincipalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

func withCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey, token)
}

// CSRFToken returns the token forms must carry.
func CSRFToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey).(string)
	return t
}

// IsAPI reports whether the request is for the JSON API.
func IsAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// JSON writes v as JSON.
func JSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// APIError is the body of every API error.
type APIError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// DecodeJSON reads a JSON body of at most maxBytes into v, with a French
// error for the client when it is not valid.
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problem.New(http.StatusRequestEntityTooLarge, "body_too_large", "Requête trop volumineuse.").Wrap(err)
		}
		return problem.Invalid("invalid_json", "Corps de requête JSON invalide.").Wrap(err)
	}
	return nil
}

// errorResponder writes errors; the HTML side is given by the app (it
// needs the templates).
type errorResponder struct {
	log  *slog.Logger
	page func(w http.ResponseWriter, r *http.Request, status int, message string)
}

func (e errorResponder) write(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problem.As(err)
	if !ok {
		e.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem.New(http.StatusInternalServerError, "internal", "Une erreur interne est survenue. L'équipe technique a été prévenue.")
	} else if p.Status >= 500 {
		e.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", p.Code, "err", err)
	} else if p.Err != nil {
		e.log.DebugContext(r.Context(), "request refused", "path", r.URL.Path, "code", p.Code, "err", p.Err)
	}
	if p.Status == http.StatusUnauthorized && IsAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="socle"`)
	}
	if IsAPI(r) || e.page == nil {
		_ = JSON(w, p.Status, APIError{Code: p.Code, Message: p.Message, Fields: p.Fields})
		return
	}
	if p.Status == http.StatusUnauthorized {
		http.Redirect(w, r, "/connexion?retour="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	e.page(w, r, p.Status, p.Message)
}
