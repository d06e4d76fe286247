// Package demo fills an empty database with a generated territory and one
// account per role, so that `socle serve --demo` shows a working platform
// without any national data. Everything is generated from a fixed seed: no
// real data is copied, and two runs give the same territory.
//
// The data is built in steps (see steps): the territory first, then what
// hangs off it. A later domain adds its demo data (catalogue, tickets,
// fleet, ENT people...) as one more step in its own file.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"socle/internal/catalog"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// Password is the demo accounts' password (demo mode only).
const Password = "socle-demo"

// Account is a demo login shown on the login page and printed by serve.
type Account struct {
	Email, Password, Role, DisplayName, Scope string
}

// Info is what the demo created.
type Info struct {
	Accounts             []Account
	Academy, Departement string
	Establishments       int
}

// step is one part of the demo data. A tx step writes through the single
// transaction that creates the territory, so that a failure leaves an
// empty database and the next start tries again. An after step runs once
// that transaction has committed, for the services that open their own
// transactions (accounts; on SQLite the one write connection is held by the
// territory's transaction until it commits).
type step struct {
	name  string
	tx    func(ctx context.Context, tx *db.Tx, w *seeder) error
	after func(ctx context.Context, w *seeder) error
}

// steps lists the demo data in the order it is written. Later issues append
// theirs; a step that needs accounts (tickets, ENT people) comes after
// "accounts" and uses seeder.users.
func steps() []step {
	return []step{
		{name: "territory", tx: writeTerritory},
		{name: "school holidays", tx: writeHolidays},
		{name: "carte scolaire", tx: writeSectors},
		{name: "catalogue", tx: writeCatalog},
		{name: "accounts", after: createAccounts},
		{name: "support staff", after: createStaff},
		{name: "ticket history", after: writeTickets},
	}
}

// seeder is what the steps share: the services, the generated plan, and
// what earlier steps created, for later ones to hang their data on.
type seeder struct {
	db    *db.DB
	auth  *auth.Service
	terr  *territory.Service
	store *territory.Store
	log   *slog.Logger
	plan  *plan
	// orgs are the ids of the organizations written, by natural key.
	orgs map[orgKey]int64
	// users are the ids of the demo accounts, by e-mail.
	users map[string]int64
	// catalog and helpdesk are set by WithCatalog and WithHelpdesk; their
	// steps are skipped without them.
	catalog  *catalog.Service
	helpdesk *helpdesk.Service
	// now is the instant the ticket history ends at.
	now time.Time
	cat *catalogState
	// extra are the steps of the domains above the helpdesk, added by their
	// options (WithFleet, ...) in the order the options are given; they run
	// after the built-in steps.
	extra []step
}

// Option adds the demo data of a domain above the territory.
type Option func(*seeder)

// WithCatalog adds the catalogue, teams, calendars and conventions.
func WithCatalog(c *catalog.Service) Option { return func(w *seeder) { w.catalog = c } }

// WithHelpdesk adds the support staff and a year of ticket history; it
// needs WithCatalog.
func WithHelpdesk(h *helpdesk.Service) Option { return func(w *seeder) { w.helpdesk = h } }

// orgKey is an organization's natural key.
type orgKey struct {
	kind territory.Kind
	code string
}

func (w *seeder) orgID(k orgKey) (int64, error) {
	id, ok := w.orgs[k]
	if !ok {
		return 0, fmt.Errorf("demo organization %s %s was not created", k.kind, k.code)
	}
	return id, nil
}

// seedLock is the PostgreSQL advisory lock that keeps two processes
// started together on one empty database from both seeding it ("socle" in
// ASCII).
const seedLock int64 = 0x736f636c65

// Seed creates the demo territory and accounts if the database has no
// organization yet; it returns created=false (and the accounts list, so that
// the login page can still list them) when data already exists. created is
// true as soon as the territory has been committed, even if a later step
// then fails and err is set.
func Seed(ctx context.Context, d *db.DB, authSvc *auth.Service, terr *territory.Service, log *slog.Logger, opts ...Option) (info Info, created bool, err error) {
	start := time.Now()
	p := generate()
	info = Info{Accounts: accountsOf(p), Academy: academyName, Departement: departementName}
	w := &seeder{db: d, auth: authSvc, terr: terr, store: terr.Store(), log: log, plan: p,
		orgs: map[orgKey]int64{}, users: map[string]int64{}, now: time.Now()}
	for _, o := range opts {
		o(w)
	}
	all := append(steps(), w.extra...)
	err = d.InTx(ctx, func(tx *db.Tx) error {
		empty, err := lockAndCheckEmpty(ctx, tx)
		if err != nil || !empty {
			return err
		}
		for _, s := range all {
			if s.tx == nil {
				continue
			}
			if err := s.tx(ctx, tx, w); err != nil {
				return fmt.Errorf("demo %s: %w", s.name, err)
			}
		}
		// Last, once every step has added its organizations, so that the
		// grants of the accounts reach them.
		if err := w.store.SyncScopeTree(ctx, tx); err != nil {
			return fmt.Errorf("demo scope tree: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return info, false, fmt.Errorf("seed demo territory: %w", err)
	}
	if !created {
		log.Info("demo data already present, nothing generated")
		return info, false, nil
	}
	for _, s := range all {
		if s.after == nil {
			continue
		}
		if err := s.after(ctx, w); err != nil {
			return info, true, fmt.Errorf("demo %s: %w", s.name, err)
		}
	}
	info.Establishments = len(p.schools)
	log.Info("demo territory created", "departement", departementName, "communes", len(p.communes),
		"establishments", info.Establishments, "accounts", len(w.users), "tickets", w.tickets(), "elapsed", time.Since(start).Round(time.Millisecond))
	return info, true, nil
}

// lockAndCheckEmpty reports whether the database has no organization. On
// PostgreSQL it first takes a transaction-scoped lock, so a second process
// waits for the first to commit and then finds the data; SQLite's
// transactions already take the write lock at BEGIN.
func lockAndCheckEmpty(ctx context.Context, tx *db.Tx) (bool, error) {
	if tx.Dialect() == db.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, seedLock); err != nil {
			return false, fmt.Errorf("lock demo seeding: %w", err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM organizations LIMIT 1) t`).Scan(&n); err != nil {
		return false, fmt.Errorf("look for existing organizations: %w", err)
	}
	return n == 0, nil
}
