package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"socle/internal/platform/auth"
)

// Renderer renders pages: each page template (pages/**/*.html) is parsed
// with the shared layout and partials (layout/*.html) once, at start.
type Renderer struct {
	pages map[string]*template.Template
	log   *slog.Logger
	// Site is shown in every page (demo mode banner, version).
	Site SiteInfo
	// Badges, when set, gives the counts the layout shows beside its
	// links for a logged-in person (unread notifications, ...). The app
	// sets it, so the platform knows no domain; an error only loses the
	// badges, never the page.
	Badges func(r *http.Request, p *auth.Principal) (map[string]int, error)
}

// SiteInfo is what every page knows of the running instance.
type SiteInfo struct {
	Name    string
	Version string
	Demo    bool
	// DemoAccounts are listed on the login page in demo mode only.
	DemoAccounts []DemoAccount
	// ExternalLogin, when set, is the name of the identity provider the
	// login page offers beside the password form (ÉduConnect).
	ExternalLogin string
}

// DemoAccount is a login listed on the demo login page.
type DemoAccount struct{ Email, Password, Role, Scope string }

// View is the data of every page.
type View struct {
	Title     string
	Principal *auth.Principal
	CSRF      string
	Site      SiteInfo
	Path      string
	Query     url.Values
	Flash     string
	Data      any
	// Badges are the layout's per-person counts, by name.
	Badges map[string]int
}

// NewRenderer parses the templates of fsys.
func NewRenderer(fsys fs.FS, log *slog.Logger, extra template.FuncMap) (*Renderer, error) {
	funcs := Funcs()
	for k, v := range extra {
		funcs[k] = v
	}
	base, err := template.New("").Funcs(funcs).ParseFS(fsys, "layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}, log: log}
	err = fs.WalkDir(fsys, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(fsys, p); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		r.pages[strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Render writes a page (its name is its path under pages/ without .html)
// inside the layout. It renders to a buffer first so a template error never
// sends half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) error {
	t, ok := rd.pages[page]
	if !ok {
		return fmt.Errorf("unknown page template %q", page)
	}
	v := View{Title: title, Principal: PrincipalFrom(r.Context()), CSRF: CSRFToken(r.Context()), Site: rd.Site,
		Path: r.URL.Path, Query: r.URL.Query(), Data: data}
	if rd.Badges != nil && !v.Principal.IsAnonymous() {
		b, err := rd.Badges(r, v.Principal)
		if err != nil {
			rd.log.Warn("layout badges", "err", err)
		}
		v.Badges = b
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// ErrorPage renders the error page; it is given to the router.
func (rd *Renderer) ErrorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	title := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		title = "Page introuvable"
	case http.StatusForbidden:
		title = "Accès refusé"
	case http.StatusBadRequest:
		title = "Demande invalide"
	case http.StatusInternalServerError:
		title = "Erreur interne"
	}
	if err := rd.Render(w, r, status, "error", title, map[string]any{"Status": status, "Message": message}); err != nil {
		rd.log.Error("render error page", "err", err)
		http.Error(w, message, status)
	}
}

// Funcs are the template helpers shared by every page.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"number": FormatNumber,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(Paris()).Format("02/01/2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(Paris()).Format("02/01/2006 à 15:04")
		},
		"query": func(q url.Values, kv ...string) string {
			c := url.Values{}
			for k, v := range q {
				c[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == "" {
					c.Del(kv[i])
				} else {
					c.Set(kv[i], kv[i+1])
				}
			}
			return c.Encode()
		},
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return a - b },
		"deref": func(p any) any {
			switch v := p.(type) {
			case *int:
				if v == nil {
					return nil
				}
				return *v
			case *float64:
				if v == nil {
					return nil
				}
				return *v
			}
			return p
		},
	}
}

// FormatNumber writes an integer the French way: 12 345.
func FormatNumber(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatEuros writes an amount in cents the French way: "1 234 €", or
// with its cents, "1 234,56 €".
func FormatEuros(cents int64, withCents bool) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	if !withCents {
		euros := (cents + 50) / 100
		if euros == 0 {
			sign = ""
		}
		return sign + FormatNumber(int(euros)) + "\u00a0€"
	}
	return sign + FormatNumber(int(cents/100)) + fmt.Sprintf(",%02d\u00a0€", cents%100)
}

// Paris is the time zone every date is shown in. It comes from the
// embedded tz database (the binary imports time/tzdata), so it works on a
// machine without zoneinfo; loaded once.
var Paris = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
})
