package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"socle/internal/catalog"
	"socle/internal/demo"
	"socle/internal/ent/collab"
	"socle/internal/ent/notify"
	"socle/internal/ent/people"
	"socle/internal/ent/privacy"
	"socle/internal/ent/production"
	"socle/internal/ent/space"
	"socle/internal/ent/sso"
	"socle/internal/fleet"
	"socle/internal/governance"
	"socle/internal/helpdesk"
	"socle/internal/planning"
	"socle/internal/planning/fleetlink"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
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
		people.Migrations(),
		// wire:people migrations
		notify.Migrations(), privacy.Migrations(),
		// wire:notify migrations
		production.Migrations(),
		// wire:production migrations
		planning.Migrations(),
		// wire:planning migrations
		governance.Migrations(),
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
	People    *people.Service
	// wire:people field
	Notify  *notify.Service
	Privacy *privacy.Service
	// wire:notify field
	Production *production.Service
	// wire:production field
	Planning *planning.Service
	// wire:planning field
	Governance *governance.Service
	// Audience counts the ENT's page views (pseudonymized); its Middleware
	// belongs inside the session middleware, around the router.
	Audience *governance.Recorder
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
		FilesRoot: filepath.Join(cfg.DataDir, "files"), Mail: cfg.Mail, BaseURL: publicURL, Timeline: ticketTimeline{a}}, log)
	a.Catalog.SetMeasuredLevels(a.Helpdesk)
	copts := collab.Options{}
	if d.Dialect() == db.Postgres {
		// Updates accepted by another process reach this one's clients
		// through LISTEN/NOTIFY on the shared database.
		copts.ListenerURL = cfg.DatabaseURL
	}
	a.Collab = collab.NewServer(d, a.Auth, a.authorizeCollab, log, copts)
	// Personal files live in the data directory, which backups cover, or
	// in S3-compatible storage shared by several processes when configured.
	blobs, err := space.OpenBlobs(ctx, cfg.S3, filepath.Join(cfg.DataDir, "space"))
	if err != nil {
		d.Close()
		return nil, err
	}
	spaceCfg := space.DefaultConfig()
	// Class and group spaces follow the directory's memberships.
	spaceCfg.Memberships = spaceMembers{a}
	a.Space = space.NewService(d, blobs, spaceCfg, log)
	a.Fleet = fleet.NewService(d, log)
	// IMAC: solving a request changes the fleet; an asset lists its tickets.
	a.Helpdesk.SetFleet(a.Fleet)
	a.Fleet.SetTickets(a.Helpdesk)
	a.SSO = sso.NewService(d, a.Auth, log, sso.Options{Issuer: strings.TrimSuffix(publicURL, "/"), UAIs: a.establishmentUAIs, Delegation: cfg.Delegation})
	// Suspended people are deleted past the grace period only once a
	// Deleter that exports their data first is wired (SetDeleter).
	a.People = people.NewService(d, a.Auth, log, people.Options{})
	// wire:people service
	// Notifications mail through the helpdesk's SMTP settings. Their
	// outbox worker and the due deletions run only in serve (Start/Close),
	// not in one-shot commands.
	a.Notify = notify.NewService(d, notify.Options{Mail: notify.MailConfig(cfg.Mail), BaseURL: publicURL}, log)
	for _, t := range []notify.Type{
		{Key: "share", Label: "Partage avec moi", Default: notify.Immediate},
		{Key: "assignment", Label: "Nouveau travail à faire", Default: notify.Immediate},
		{Key: "comment", Label: "Nouveau commentaire", Default: notify.Daily},
		// The helpdesk already mails the people of a ticket: the timeline
		// only, unless they ask for more.
		{Key: "ticket", Label: "Suivi de mes demandes d'assistance", Default: notify.Never},
	} {
		a.Notify.Declare(t)
	}
	// Archives made before a deletion stay in the data directory, which
	// backups cover.
	a.Privacy = privacy.NewService(d, privacy.Options{ArchiveDir: filepath.Join(cfg.DataDir, "privacy", "archives"),
		Guardians: a.People, Establishments: a.People}, log)
	a.Privacy.Register(a.Space)
	a.Privacy.Register(a.People)
	a.Privacy.Register(a.Notify)
	// People who left every school are deleted past the grace period
	// through the data-protection service, which exports their data first;
	// reads of a pupil's record are logged there.
	a.People.SetDeleter(a.Privacy)
	a.People.SetAccessLogger(a.Privacy)
	// wire:notify service
	// Productions read the directory, notify through the timeline and keep
	// their content in the collaboration engine's documents.
	a.Production = production.NewService(d, productionDirectory{a}, productionNotifier{a.Notify}, a.Collab, log)
	a.Production.SetMediaStore(productionMedia{a})
	// A person's data export carries their productions in open formats;
	// the productions they own go with their account.
	a.Privacy.Register(a.Production)
	// wire:production service
	// The account goes last: the other contributors still find the person.
	a.Privacy.Register(privacy.NewAccountContributor(d))
	// The plan reads the territory and the fleet through its own
	// interfaces; fleetlink also records completed deployments in the fleet.
	link := fleetlink.New(a.Fleet)
	a.Planning = planning.NewService(d, a.Territory, link, log, planning.Options{Updater: link})
	// wire:planning service
	gopts := governanceOptions(d)
	gopts.Sources = append(gopts.Sources, planningSources(a.Planning)...)
	gopts.Sources = append(gopts.Sources, productionSources(a.Production)...)
	gopts.Plan = planProgress{a.Planning}
	a.Governance = governance.NewService(d, a.Auth, log, gopts)
	a.Audience = a.Governance.Recorder()
	// wire:governance service
	return a, nil
}

// Close stops the collaboration engine and releases the database.
func (a *App) Close() error {
	a.Collab.Close()
	return a.DB.Close()
}

// ticketTimeline puts the helpdesk's notifications on the timeline of the
// people they mail, when those have an account. It reads a.Notify at call
// time: the helpdesk is built before the notifications.
type ticketTimeline struct{ a *App }

func (tt ticketTimeline) TicketEvent(ctx context.Context, email, ref, subject string) error {
	u, err := tt.a.Auth.UserByEmail(ctx, email)
	if pe, ok := problem.As(err); ok && pe.Status == http.StatusNotFound {
		return nil // a contractor's or a guest's address: mail only
	}
	if err != nil {
		return err
	}
	return tt.a.Notify.Notify(ctx, []int64{u.ID}, notify.Notification{Type: "ticket", Title: subject, Link: "/tickets/" + ref})
}

// spaceMembers gives the personal space the class and group spaces of a
// person from the directory. It reads a.People at call time: the space is
// built before the directory.
type spaceMembers struct{ a *App }

func (m spaceMembers) SpacesOf(ctx context.Context, userID int64) ([]space.GroupSpace, error) {
	gs, err := m.a.People.GroupsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]space.GroupSpace, 0, len(gs))
	for _, g := range gs {
		kind := space.OwnerGroup
		if g.Kind == "class" {
			kind = space.OwnerClass
		}
		out = append(out, space.GroupSpace{ID: g.ID, Name: g.Name, Kind: kind})
	}
	return out, nil
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

// authorizeCollab decides who may open a collaborative document: the
// production that owns it and its shares. It reads a.Production at call
// time: the engine is built before the productions.
func (a *App) authorizeCollab(ctx context.Context, p *auth.Principal, docID string) (collab.Access, error) {
	if a.Production == nil {
		return collab.AccessNone, nil
	}
	return a.Production.Authorize(ctx, p, docID)
}

// SeedDemo creates the demo territory when the database is empty.
func (a *App) SeedDemo(ctx context.Context) (demo.Info, bool, error) {
	opts := []demo.Option{demo.WithCatalog(a.Catalog), demo.WithHelpdesk(a.Helpdesk)}
	opts = append(opts, demo.WithFleet(a.Fleet))
	// wire:fleet demo
	opts = append(opts, demo.WithPeople(a.People))
	// wire:people demo
	// wire:notify demo
	opts = append(opts, demo.WithProductions(a.Production, a.People))
	// wire:production demo
	opts = append(opts, demo.WithPlanning(a.Planning))
	// wire:planning demo
	opts = append(opts, demo.WithGovernance(a.Governance))
	// wire:governance demo
	return demo.Seed(ctx, a.DB, a.Auth, a.Territory, a.Log, opts...)
}

// Handler builds the HTTP handler: every route, behind the middlewares.
func (a *App) Handler() (http.Handler, error) {
	renderer, err := web.NewRenderer(assets.Templates(), a.Log, nil)
	if err != nil {
		return nil, err
	}
	renderer.Site = web.SiteInfo{Name: "Socle", Version: Version, Demo: a.Config.Demo, ExternalLogin: a.SSO.DelegationLabel()}
	if a.Config.Demo {
		for _, acc := range demo.Accounts() {
			renderer.Site.DemoAccounts = append(renderer.Site.DemoAccounts, web.DemoAccount{Email: acc.Email, Password: acc.Password, Role: acc.Role, Scope: acc.Scope})
		}
	}
	renderer.Badges = func(r *http.Request, p *auth.Principal) (map[string]int, error) {
		n, err := a.Notify.Unread(r.Context(), p)
		return map[string]int{"notifications": n}, err
	}
	a.Renderer = renderer
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := web.NewMetrics(a.Registry)

	router := web.NewRouter(a.Log, renderer.ErrorPage)
	a.Router = router
	sessions := &web.Sessions{Auth: a.Auth, Router: router, Secure: a.Config.SecureCookies, Exempt: append(sso.ExemptPaths(), fleet.AgentPaths()...)}

	static := http.FileServerFS(assets.Static())
	// Compressed for the schools' networks: the editors' scripts weigh
	// 320 kB, 90 kB gzipped.
	router.HandleHTTP("GET /static/", http.StripPrefix("/static/", cacheStatic(gzhttp.GzipHandler(static))))
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

	portal.NewHandler(a.Auth, a.Territory, renderer, sessions, a.portalOptions(router.Patterns)...).Routes(router)
	territory.NewHandler(a.Territory, renderer).Routes(router)
	catalog.NewHandler(a.Catalog, renderer).Routes(router)
	helpdesk.NewHandler(a.Helpdesk, renderer).Routes(router)
	router.HandleHTTP("GET /collab/{id}", a.Collab)
	sso.NewHandler(a.SSO, renderer).Routes(router)
	space.NewHandler(a.Space, renderer).Routes(router)
	fleet.NewHandler(a.Fleet, renderer, fleet.AgentOptions{BasicUser: a.Config.AgentUser, BasicPassword: a.Config.AgentPassword}).Routes(router)
	people.NewHandler(a.People, renderer).Routes(router)
	// wire:people routes
	notify.NewHandler(a.Notify, renderer).Routes(router)
	privacy.NewHandler(a.Privacy, renderer).Routes(router)
	// wire:notify routes
	productions, err := production.NewHandler(a.Production, renderer, assets.Static())
	if err != nil {
		return nil, err
	}
	productions.Routes(router)
	// wire:production routes
	planning.NewHandler(a.Planning, renderer).Routes(router)
	// wire:planning routes
	governance.NewHandler(a.Governance, renderer).Routes(router)
	// wire:governance routes

	observe := []web.Middleware{web.Instrument(a.Log, metrics), web.Recover(a.Log, router), web.SecurityHeaders,
		http.NewCrossOriginProtection().Handler}
	root := http.NewServeMux()
	// WebDAV clients authenticate every request with HTTP Basic and send no
	// CSRF token: /dav/ sits beside the session middleware, not behind it.
	root.Handle("/dav/", web.Chain(space.NewDAV(a.Space, a.Auth, "/dav", a.Log), observe...))
	// The ENT audience counts page views once the session says who is
	// there (pseudonymized, aggregated by day).
	root.Handle("/", web.Chain(router, append(observe, sessions.Middleware, a.Audience.Middleware)...))
	return root, nil
}

// cacheStatic lets browsers keep the assets an hour, and the editors'
// chunks for good: their names carry a hash of their content.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "editor/chunks/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=3600")
		}
		h.ServeHTTP(w, r)
	})
}

// Describe summarises the instance for the start-up message.
func (a *App) Describe() string {
	return fmt.Sprintf("Socle %s on %s", Version, a.Config.Engine())
}
