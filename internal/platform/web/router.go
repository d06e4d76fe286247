package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
)

// Router mounts handlers that return errors on a standard ServeMux.
type Router struct {
	mux    *http.ServeMux
	errors errorResponder
	// patterns records what was mounted, in order: ServeMux cannot list
	// its routes, and tests check every API route against the OpenAPI
	// document and the scope matrix.
	patterns []string
}

// NewRouter returns a router; errorPage renders an error as an HTML page.
func NewRouter(log *slog.Logger, errorPage func(w http.ResponseWriter, r *http.Request, status int, message string)) *Router {
	return &Router{mux: http.NewServeMux(), errors: errorResponder{log: log, page: errorPage}}
}

// Handle mounts a handler on a ServeMux pattern ("GET /x/{id}").
func (rt *Router) Handle(pattern string, h HandlerFunc) {
	rt.patterns = append(rt.patterns, pattern)
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		setRoute(r)
		if err := h(w, r); err != nil {
			rt.errors.write(w, r, err)
		}
	})
}

// HandleHTTP mounts a plain http.Handler (static files, metrics).
func (rt *Router) HandleHTTP(pattern string, h http.Handler) {
	rt.patterns = append(rt.patterns, pattern)
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r)
		h.ServeHTTP(w, r)
	}))
}

// Patterns returns the patterns mounted so far, in mounting order.
func (rt *Router) Patterns() []string { return slices.Clone(rt.patterns) }

// Error writes err as the router would.
func (rt *Router) Error(w http.ResponseWriter, r *http.Request, err error) {
	rt.errors.write(w, r, err)
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
