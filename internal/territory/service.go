package territory

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service is the rules of the territory: every read is filtered by the
// caller's scope, and what lies outside it does not exist for them.
type Service struct {
	db    *db.DB
	store *Store
	auth  *auth.Service
	log   *slog.Logger
}

// NewService builds the service.
func NewService(d *db.DB, authSvc *auth.Service, log *slog.Logger) *Service {
	return &Service{db: d, store: NewStore(d), auth: authSvc, log: log}
}

// Store exposes the store to wiring code (demo data, tests).
func (s *Service) Store() *Store { return s.store }

// MaxPageSize bounds a page of results.
const MaxPageSize = 200

// Search lists the establishments in the caller's scope matching f.
func (s *Service) Search(ctx context.Context, p *auth.Principal, f Filter) (SearchResult, error) {
	if !p.Has(auth.PermOrgRead) {
		return SearchResult{Items: []Establishment{}}, nil
	}
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	return s.store.Search(ctx, f, scope, args)
}

// Establishment returns one establishment by UAI, with its enrolments.
func (s *Service) Establishment(ctx context.Context, p *auth.Principal, uai string) (Establishment, []Enrolment, error) {
	uai = NormalizeUAI(uai)
	if !ValidUAI(uai) {
		return Establishment{}, nil, problem.NotFound("Établissement")
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	e, err := s.store.EstablishmentByUAI(ctx, uai, scope, args)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return e, nil, err
	}
	enr, err := s.store.Enrolments(ctx, uai)
	return e, enr, err
}

// Organization returns one organization by id.
func (s *Service) Organization(ctx context.Context, p *auth.Principal, id int64) (Organization, error) {
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	o, err := s.store.OrgByID(ctx, id, scope, args)
	if errors.Is(err, sql.ErrNoRows) {
		return o, problem.NotFound("Organisation")
	}
	return o, err
}

// Authorities lists the collectivités in the caller's scope (for filters).
func (s *Service) Authorities(ctx context.Context, p *auth.Principal) ([]Organization, error) {
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	return s.store.Orgs(ctx, []Kind{KindRegion, KindDepartement, KindEPCI, KindCommune}, scope, args)
}

// ResolveOrg finds an organization by id, or an establishment by UAI, for
// the command line and for grants.
func (s *Service) ResolveOrg(ctx context.Context, ref string) (Organization, error) {
	if u := NormalizeUAI(ref); ValidUAI(u) {
		o, err := s.store.OrgByKindCode(ctx, s.db, KindEstablishment, u)
		if errors.Is(err, sql.ErrNoRows) {
			return o, problem.NotFound("Établissement " + u)
		}
		return o, err
	}
	var id int64
	for _, c := range ref {
		if c < '0' || c > '9' {
			return Organization{}, problem.Invalid("invalid_org", "Organisation inconnue : donnez un UAI valide ou un identifiant numérique.")
		}
		id = id*10 + int64(c-'0')
	}
	o, err := s.store.OrgByID(ctx, id, "1=1", nil)
	if errors.Is(err, sql.ErrNoRows) {
		return o, problem.NotFound("Organisation")
	}
	return o, err
}
