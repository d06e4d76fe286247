package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Fact is one measured figure of a transparency page or a file: a value or
// "no data" with the reason.
type Fact struct {
	Key   string
	Label string
	Unit  string
	Value Value
}

// Text is the fact in words: the figure with its unit, or why there is none.
func (f Fact) Text() string {
	if !f.Value.OK {
		return "Pas de données : " + f.Value.Reason
	}
	return formatValue(f.Value.V) + " " + f.Unit
}

// TransparencyPage is what a collectivité shows of the services it
// receives: measured quality, equipment, ENT use and the plan's progress.
type TransparencyPage struct {
	OrgID           int64
	Name            string
	Kind            string
	Public          bool
	CanManage       bool
	From, To        time.Time
	Facts           []Fact
	Services        []QualityRow
	Communes        []QualityRow
	Plan            []PlanStep
	PlanUnavailable string
}

// transparencyKind reports whether an organization of this kind (a
// collectivité) may publish a page.
func transparencyKind(kind string) bool {
	return kind == "commune" || kind == "epci" || kind == "departement" || kind == "region"
}

// Transparency returns the page of a collectivité. Anyone may read it when
// the collectivité made it public; otherwise the readers of its
// governance or reports only (404 for others).
func (s *Service) Transparency(ctx context.Context, p *auth.Principal, orgID int64) (TransparencyPage, error) {
	var tp TransparencyPage
	var public sql.NullBool
	err := s.db.QueryRowContext(ctx, `SELECT o.id, o.name, o.kind, t.public FROM organizations o LEFT JOIN gov_transparency t ON t.org_id = o.id
		WHERE o.id = ?`, orgID).Scan(&tp.OrgID, &tp.Name, &tp.Kind, &public)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !transparencyKind(tp.Kind)) {
		return tp, problem.NotFound("Collectivité")
	}
	if err != nil {
		return tp, fmt.Errorf("transparency of %d: %w", orgID, err)
	}
	tp.Public = public.Valid && public.Bool
	if !anonymous(p) {
		if ok, _ := s.auth.Allowed(ctx, p, auth.PermGovernanceManage, orgID); ok {
			tp.CanManage = true
		}
	}
	if !tp.Public && !tp.CanManage {
		ok := false
		if !anonymous(p) {
			r1, _ := s.auth.Allowed(ctx, p, auth.PermGovernanceRead, orgID)
			r2, _ := s.auth.Allowed(ctx, p, auth.PermReportRead, orgID)
			ok = r1 || r2
		}
		if !ok {
			return tp, problem.NotFound("Collectivité")
		}
	}
	tp.To = s.now()
	tp.From = tp.To.AddDate(-1, 0, 0)
	period := Period{Key: "12 derniers mois", From: tp.From, To: tp.To}
	for _, si := range s.opts.Sources {
		v, err := s.measure(ctx, si.Key, orgID, period)
		if err != nil {
			return tp, err
		}
		tp.Facts = append(tp.Facts, Fact{Key: si.Key, Label: si.Label, Unit: si.Unit, Value: v})
	}
	if tp.Services, err = s.opts.Quality.QualityByService(ctx, orgID, tp.From, tp.To); err != nil {
		return tp, err
	}
	if tp.Communes, err = s.opts.Quality.QualityByCommune(ctx, orgID, tp.From, tp.To); err != nil {
		return tp, err
	}
	tp.Plan, tp.PlanUnavailable, err = s.opts.Plan.PlanProgress(ctx, orgID)
	return tp, err
}

// SetTransparency makes a collectivité's page public (readable without
// login) or not.
func (s *Service) SetTransparency(ctx context.Context, p *auth.Principal, orgID int64, public bool) error {
	if err := s.check(ctx, p, auth.PermGovernanceManage, orgID, "Collectivité"); err != nil {
		return err
	}
	var kind string
	if err := s.db.QueryRowContext(ctx, `SELECT kind FROM organizations WHERE id = ?`, orgID).Scan(&kind); err != nil || !transparencyKind(kind) {
		return problem.Invalid("not_authority", "Seule une collectivité publie une page de transparence.")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO gov_transparency (org_id, public, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET public = excluded.public, updated_at = excluded.updated_at`, orgID, public, s.now().UTC())
	return err
}
