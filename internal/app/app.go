package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"socle/internal/catalog"
	"socle/internal/demo"
	"socle/internal/ent/collab"
	"socle/internal/ent/space"
	"socle/internal/ent/sso"
	"socle/internal/fleet"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/web"
	"socle/internal/portal"
	"socle/internal/territory"
	assets "socle/web"
)

// Migrations lists every component's schema in dependency order.
func Migrations() []db.MigrationSet {
	return []db.MigrationSet{
		auth.Migrations(), territory.Migrations(), catalog.Migrations(), helpdesk.Migrations(),
		collab.Migrations(), sso.Migrations(), space.Migrations(), fleet.Migrations(),
		// wire:people migrations
		// wire:notify migrations
		// wire:production migrations
		// wire:planning migrations
		// wire:governance migrations
	}
}

// App is a wired Socle instance.
type App struct {
	Config    Config
	Log       *slog.Logger
	DB        *db.DB
	Auth      *auth.Service
	Territory *territory.Service
	Catalog   *catalog.Service
	Helpdesk  *helpdesk.Service
	Collab    *collab.Server
	SSO       *sso.Service
	Space     *space.Service
	Fleet     *fleet.Service
	// wire:people field
	// wire:notify field
	// wire:production field
	// wire:planning field
	// wire:governance field
	Registry *prometheus.Registry
	Renderer *web.Renderer
	// Router is set by Handler; tests read its patterns to hold every API
	// route to the OpenAPI document and the scope matrix.
	Router *web.Router
}

// Open connects to the database and migrates it.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	applied, err := d.Migrate(ctx, Migrations())
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("migration applied", "component", m.Component, "version", m.Version, "name", m.Name)
	}
	a := &App{Config: cfg, Log: log, DB: d}
	a.Auth = auth.NewService(d, auth.DefaultSettings(), log)
	a.Territory = territory.NewService(d, a.Auth, log)
	// Signed conventions are kept beside the database, in the data
	// directory that backups cover.
	a.Catalog = catalog.NewService(d, filepath.Join(cfg.DataDir, "files"), log)
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + cfg.Addr
	}
	a.Helpdesk = helpdesk.NewService(d, a.Auth, helpdesk.CatalogLevels{Catalog: a.Catalog}, helpdesk.Options{
		FilesRoot: filepath.Join(cfg.DataDir, "files"), Mail: cfg.Mail, BaseURL: publicURL}, log)
	a.Catalog.SetMeasuredLevels(a.Helpdesk)
	copts := collab.Options{}
	if d.Dialect() == db.Postgres {
		// Updates accepted by another process reach this one's clients
		// through LISTEN/NOTIFY on the shared database.
		copts.ListenerURL = cfg.DatabaseURL
	}
	a.Collab = collab.NewServer(d, a.Auth, authorizeCollab, log, copts)
	// Personal files live in the data directory, which backups cover.
	blobs, err := space.NewDiskBlobs(filepath.Join(cfg.DataDir, "space"))
	if err != nil {
		d.Close()
		return nil, err
	}
	a.Space = space.NewService(d, blobs, space.DefaultConfig(), log)
	a.Fleet = fleet.NewService(d, log)
	a.SSO = sso.NewService(d, a.Auth, log, sso.Options{Issuer: strings.TrimSuffix(publicURL, "/"), UAIs: a.establishmentUAIs})
	// wire:people service
	// wire:notify service
	// wire:production service
	// wire:planning service
	// wire:governance service
	return a, nil
}

// Close stops the collaboration engine and releases the database.
func (a *App) Close() error {
	a.Collab.Close()
	return a.DB.Close()
}

// establishmentUAIs lists the establishments a person's roles name, for
// the "uai" attribute released to the territory's services by single
// sign-on.
func (a *App) establishmentUAIs(ctx context.Context, p *auth.Principal) ([]string, error) {
	var ids []int64
	for _, g := range p.Grants {
		if g.OrgID != 0 {
			ids = append(ids, g.OrgID)
		}
	}
	es, err := a.Territory.EstablishmentsOf(ctx, p, ids)
	if err != nil {
		return nil, err
	}
	uais := make([]string, 0, len(es))
	for _, e := range es {
		uais = append(uais, e.UAI)
	}
	return uais, nil
}

// authorizeCollab decides who may open a collaborative document. The
// productions that own documents and their shares come with the ENT's
// collaborative tools; until then only platform administrators reach the
// engine, for diagnosis.
func authorizeCollab(_ context.Context, p *auth.Principal, _ string) (collab.Access, error) {
	if p.Global(auth.PermUserManage) {
		return collab.AccessWrite, nil
	}
	return collab.AccessNone, nil
}

// SeedDemo creates the demo territory when the database is empty.
func (a *App) SeedDemo(ctx context.Context) (demo.Info, bool, error) {
	opts := []demo.Option{demo.WithCatalog(a.Catalog), demo.WithHelpdesk(a.Helpdesk)}
	// wire:fleet demo
	// wire:people demo
	// wire:notify demo
	// wire:production demo
	// wire:planning demo
	// wire:governance demo
	return demo.Seed(ctx, a.DB, a.Auth, a.Territory, a.Log, opts...)
}

// Handler builds the HTTP handler: every route, behind the middlewares.
func (a *App) Handler() (http.Handler, error) {
	renderer, err := web.NewRenderer(assets.Templates(), a.Log, nil)
	if err != nil {
		return nil, err
	}
	renderer.Site = web.SiteInfo{Name: "Socle", Version: Version, Demo: a.Config.Demo}
	if a.Config.Demo {
		for _, acc := range demo.Accounts() {
			renderer.Site.DemoAccounts = append(renderer.Site.DemoAccounts, web.DemoAccount{Email: acc.Email, Password: acc.Password, Role: acc.Role, Scope: acc.Scope})
		}
	}
	a.Renderer = renderer
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := web.NewMetrics(a.Registry)

	router := web.NewRouter(a.Log, renderer.ErrorPage)
	a.Router = router
	sessions := &web.Sessions{Auth: a.Auth, Router: router, Secure: a.Config.SecureCookies, Exempt: append(sso.ExemptPaths(), fleet.AgentPaths()...)}

	static := http.FileServerFS(assets.Static())
	router.HandleHTTP("GET /static/", http.StripPrefix("/static/", cacheStatic(static)))
	router.Handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		return web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	router.Handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.Ping(ctx); err != nil {
			a.Log.Warn("not ready", "err", err)
			return web.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "injoignable"})
		}
		return web.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	router.HandleHTTP("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	apiDoc, err := OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	router.Handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(apiDoc)
		return err
	})

	portal.NewHandler(a.Auth, a.Territory, renderer, sessions).Routes(router)
	territory.NewHandler(a.Territory, renderer).Routes(router)
	catalog.NewHandler(a.Catalog, renderer).Routes(router)
	helpdesk.NewHandler(a.Helpdesk, renderer).Routes(router)
	router.HandleHTTP("GET /collab/{id}", a.Collab)
	sso.NewHandler(a.SSO, renderer).Routes(router)
	space.NewHandler(a.Space, renderer).Routes(router)
	fleet.NewHandler(a.Fleet, renderer, fleet.AgentOptions{BasicUser: a.Config.AgentUser, BasicPassword: a.Config.AgentPassword}).Routes(router)
	// wire:people routes
	// wire:notify routes
	// wire:production routes
	// wire:planning routes
	// wire:governance routes

	observe := []web.Middleware{web.Instrument(a.Log, metrics), web.Recover(a.Log, router), web.SecurityHeaders,
		http.NewCrossOriginProtection().Handler}
	root := http.NewServeMux()
	// WebDAV clients authenticate every request with HTTP Basic and send no
	// CSRF token: /dav/ sits beside the session middleware, not behind it.
	root.Handle("/dav/", web.Chain(space.NewDAV(a.Space, a.Auth, "/dav", a.Log), observe...))
	root.Handle("/", web.Chain(router, append(observe, sessions.Middleware)...))
	return root, nil
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// Describe summarises the instance for the start-up message.
func (a *App) Describe() string {
	return fmt.Sprintf("Socle %s on %s", Version, a.Config.Engine())
}
