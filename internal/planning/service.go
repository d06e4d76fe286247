package planning

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/territory"
)

// Territory is what the plan reads of the territory: the establishments in
// the caller's scope, with their coordinates, and their enrolments.
type Territory interface {
	Search(ctx context.Context, p *auth.Principal, f territory.Filter) (territory.SearchResult, error)
	Establishment(ctx context.Context, p *auth.Principal, uai string) (territory.Establishment, []territory.Enrolment, error)
}

// EquipmentRatio is the equipment of one establishment as the fleet
// counts it, with the enrolments of the latest school year.
type EquipmentRatio struct {
	UAI                                         string
	SchoolYear                                  string
	Pupils, Classes                             int
	PupilDevices, Boards, Devices, OverLifetime int
	OverLifetimeShare                           float64
}

// Renewals is the fleet's renewal forecast with one lifetime for every
// type: per establishment and year, the devices reaching that age (those
// already past it count in the first year) and their replacement cost.
type Renewals struct {
	Years          []int
	Rows           []RenewalRow
	TotalCostCents []int64
}

// RenewalRow is one establishment of Renewals.
type RenewalRow struct {
	UAI       string
	Devices   []int
	CostCents []int64
	// Undated devices have no purchase date.
	Undated int
}

// Fleet is what the plan reads of the fleet, in the caller's scope. The
// application wires the fleet behind it (internal/planning/fleetlink), so
// the plan does not depend on the fleet's own types.
type Fleet interface {
	EquipmentRatios(ctx context.Context, p *auth.Principal) ([]EquipmentRatio, error)
	Renewals(ctx context.Context, p *auth.Principal, lifetimeYears, years int) (Renewals, error)
}

// Deployment is a completed deployment operation, handed to the fleet.
type Deployment struct {
	OperationID    int64
	Title          string
	Establishments []string
	AssetIDs       []int64
	Date           string
}

// FleetUpdater records in the fleet that a deployment operation is done
// (the assets concerned are put in service). The application wires the
// fleet behind it; nil means nothing is recorded.
type FleetUpdater interface {
	DeploymentDone(ctx context.Context, p *auth.Principal, d Deployment) error
}

// Options are the optional collaborators of the service.
type Options struct {
	Updater FleetUpdater
	// Now is the clock (tests pin it); nil: time.Now.
	Now func() time.Time
}

// Service is the rules of the plan. Every read is filtered by the caller's
// scope for plan.read (survey answers by survey.answer); what lies outside
// does not exist for them.
type Service struct {
	db      *db.DB
	store   *Store
	terr    Territory
	fleet   Fleet
	updater FleetUpdater
	log     *slog.Logger
	now     func() time.Time
}

// NewService builds the service.
func NewService(d *db.DB, terr Territory, fl Fleet, log *slog.Logger, o Options) *Service {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, store: &Store{db: d}, terr: terr, fleet: fl, updater: o.Updater, log: log, now: now}
}

// needRead refuses callers without plan.read anywhere.
func needRead(p *auth.Principal) error {
	if anonymous(p) {
		return problem.Unauthenticated()
	}
	if !p.Has(auth.PermPlanRead) {
		return problem.Forbidden()
	}
	return nil
}

// needManage refuses callers without plan.manage anywhere. Targets, plans
// and the programme belong to the collectivité's whole territory, so the
// write needs the permission, and the reads stay scoped.
func needManage(p *auth.Principal) error {
	if anonymous(p) {
		return problem.Unauthenticated()
	}
	if !p.Has(auth.PermPlanManage) {
		return problem.Forbidden()
	}
	return nil
}

// scopeIDs returns the organization ids within the caller's scope for perm
// among ids (nil ids: none).
func (s *Service) scopeIDs(ctx context.Context, p *auth.Principal, perm auth.Permission, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	scope, args := p.ScopeSQL(perm, "o.id")
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		a := make([]any, 0, len(part)+len(args))
		for _, id := range part {
			a = append(a, id)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT o.id FROM organizations o WHERE o.id IN (`+db.Placeholders(len(part))+`) AND `+scope, append(a, args...)...)
		if err != nil {
			return nil, fmt.Errorf("scope: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// establishments lists the establishments in the caller's scope for perm,
// through the territory's search (which gives coordinates and the
// maintaining collectivité).
func (s *Service) establishments(ctx context.Context, p *auth.Principal, perm auth.Permission) ([]territory.Establishment, error) {
	var all []territory.Establishment
	f := territory.Filter{Limit: territory.MaxPageSize}
	for {
		res, err := s.terr.Search(ctx, p, f)
		if err != nil {
			return nil, fmt.Errorf("establishments: %w", err)
		}
		all = append(all, res.Items...)
		if len(res.Items) < f.Limit || len(all) >= res.Total {
			break
		}
		f.Offset += f.Limit
	}
	ids := make([]int64, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	in, err := s.scopeIDs(ctx, p, perm, ids)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, e := range all {
		if in[e.ID] && e.Status != territory.StatusClosed {
			out = append(out, e)
		}
	}
	return out, nil
}

// establishmentByUAI finds one establishment in the caller's scope for perm.
func (s *Service) establishmentByUAI(ctx context.Context, p *auth.Principal, perm auth.Permission, uai string) (territory.Establishment, error) {
	e, _, err := s.terr.Establishment(ctx, p, uai)
	if err != nil {
		return e, err
	}
	in, err := s.scopeIDs(ctx, p, perm, []int64{e.ID})
	if err != nil {
		return e, err
	}
	if !in[e.ID] {
		return e, problem.NotFound("Établissement")
	}
	return e, nil
}

// descendants returns the organization ids under orgID (itself included).
func (s *Service) descendants(ctx context.Context, orgID int64) (map[int64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT descendant_id FROM org_closure WHERE ancestor_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("descendants: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{orgID: true}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

func actor(p *auth.Principal) string {
	if p == nil || p.User.Email == "" {
		return "inconnu"
	}
	return p.User.Email
}

// anonymous reports a caller nobody logged in as; the local operator
// (auth.System) has no user id but holds grants.
func anonymous(p *auth.Principal) bool { return p == nil || (p.User.ID == 0 && len(p.Grants) == 0) }
