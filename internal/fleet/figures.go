package fleet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
)

// YearFigures is the fleet of one establishment bought in one year, as
// the database groups it: the plan and the ratios need counts and sums,
// and reading every asset row by row was most of their time on a large
// territory.
type YearFigures struct {
	EstablishmentID int64
	UAI, Name       string
	// Dated is false for the devices without a purchase date; Year is
	// their purchase year otherwise.
	Dated bool
	Year  int
	// Assets counts every device, whatever its state; the other figures
	// count active devices only (State.Active).
	Assets       int
	Devices      int
	PupilDevices int
	Boards       int
	// OverLifetime counts the dated devices at least as old as their
	// type's default lifetime on the day of Figures.Now.
	OverLifetime int
	// CostCents is the replacement cost of the devices: their own price,
	// or the type's indicative price when it is unknown.
	CostCents int64
}

// Figures is the grouped fleet in the caller's scope.
type Figures struct {
	// Now is the clock reading the figures were computed for.
	Now time.Time
	// Rows are ordered by UAI then year (undated first).
	Rows []YearFigures
}

// pupilDeviceTypes are the devices a pupil works on, for the pupils per
// device ratio.
var pupilDeviceTypes = []Type{TypeWorkstation, TypeLaptop, TypeTablet}

// inactiveStates are the states State.Active rejects.
var inactiveStates = []State{StateRetired, StateDisposed, StateOrdered}

// sqlList quotes constant identifiers of this package (types, states) for
// an IN list; they never come from a user.
func sqlList[T ~string](vs []T) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + string(v) + "'"
	}
	return strings.Join(q, ", ")
}

// figuresSQL is the grouped read, one text for both engines: per purchase
// year, establishment and whether the devices are active, conditional sums
// over the assets. Purchase dates are stored as YYYY-MM-DD or empty (the
// service and the imports validate them), so the year is their first four
// characters and dates compare as text. The lifetime cut-off days are
// parameters (one per type in Types order, then one for an unknown type),
// computed by lifetimeCutoff.
func figuresSQL(scope string, withUAI bool) string {
	var cutoff, price strings.Builder
	cutoff.WriteString("CASE a.type")
	price.WriteString("CASE a.type")
	for _, t := range Types {
		cutoff.WriteString(" WHEN '" + string(t) + "' THEN ?")
		price.WriteString(" WHEN '" + string(t) + "' THEN " + strconv.FormatInt(defaultUnitPrice[t], 10))
	}
	cutoff.WriteString(" ELSE ? END")
	price.WriteString(" ELSE 0 END")
	// Activity is a grouping key rather than a condition in every sum:
	// evaluated once per asset, it is most of the work saved on SQLite.
	active := `CASE WHEN a.state IN (` + sqlList(inactiveStates) + `) THEN 0 ELSE 1 END`
	q := `SELECT g.establishment_id, e.uai, o.name, g.year, g.active, g.assets, g.pupil_devices, g.boards, g.over_lifetime, g.cost
		FROM (SELECT a.establishment_id, SUBSTR(a.purchase_date, 1, 4) AS year, ` + active + ` AS active,
			COUNT(*) AS assets,
			CAST(SUM(CASE WHEN a.type IN (` + sqlList(pupilDeviceTypes) + `) AND a.assigned_use = '` + string(UsePupils) + `' THEN 1 ELSE 0 END) AS BIGINT) AS pupil_devices,
			CAST(SUM(CASE WHEN a.type = '` + string(TypeBoard) + `' THEN 1 ELSE 0 END) AS BIGINT) AS boards,
			CAST(SUM(CASE WHEN a.purchase_date <> '' AND a.purchase_date <= ` + cutoff.String() + ` THEN 1 ELSE 0 END) AS BIGINT) AS over_lifetime,
			CAST(SUM(CASE WHEN a.price_cents > 0 THEN a.price_cents ELSE ` + price.String() + ` END) AS BIGINT) AS cost
			FROM assets a WHERE ` + scope
	if withUAI {
		q += ` AND a.establishment_id IN (SELECT org_id FROM establishments WHERE uai = ?)`
	}
	// The year leads the grouping on purpose: led by the establishment,
	// SQLite walks the establishment index and looks every asset up by row
	// id, slower than one table scan and a sort.
	q += ` GROUP BY SUBSTR(a.purchase_date, 1, 4), a.establishment_id, ` + active + `) g
		JOIN establishments e ON e.org_id = g.establishment_id JOIN organizations o ON o.id = g.establishment_id
		ORDER BY e.uai, g.year`
	return q
}

// lifetimeCutoff is the last purchase day (YYYY-MM-DD) of devices that
// have reached life years at now, exactly as the row by row rule
// !now.Before(bought.AddDate(life, 0, 0)) decides: that rule only grows
// with the purchase day, so the last day is found by stepping from one
// calendar guess.
func lifetimeCutoff(now time.Time, life int) string {
	over := func(d time.Time) bool { return !now.Before(d.AddDate(life, 0, 0)) }
	u := now.UTC()
	d := time.Date(u.Year()-life, u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	for !over(d) {
		d = d.AddDate(0, 0, -1)
	}
	for over(d.AddDate(0, 0, 1)) {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(dateLayout)
}

// Figures reads the fleet in the caller's scope grouped by establishment
// and purchase year, computed in the database (uai, when set, restricts
// it to one establishment and must be in scope).
func (s *Service) Figures(ctx context.Context, p *auth.Principal, uai string) (Figures, error) {
	if err := s.checkUAI(ctx, p, uai); err != nil {
		return Figures{}, err
	}
	now := s.now()
	scope, scopeArgs := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	args := make([]any, 0, len(Types)+2+len(scopeArgs))
	for _, t := range Types {
		args = append(args, lifetimeCutoff(now, defaultLifetime[t]))
	}
	args = append(args, lifetimeCutoff(now, 0))
	args = append(args, scopeArgs...)
	if uai != "" {
		args = append(args, uai)
	}
	rows, err := s.db.QueryContext(ctx, figuresSQL(scope, uai != ""), args...)
	if err != nil {
		return Figures{}, fmt.Errorf("fleet figures: %w", err)
	}
	defer rows.Close()
	out := Figures{Now: now, Rows: []YearFigures{}}
	for rows.Next() {
		var f YearFigures
		var year string
		var active, assets, pupils, boards, over int
		var cost int64
		if err := rows.Scan(&f.EstablishmentID, &f.UAI, &f.Name, &year, &active, &assets, &pupils, &boards, &over, &cost); err != nil {
			return Figures{}, fmt.Errorf("fleet figures: %w", err)
		}
		if f.Dated = year != ""; f.Dated {
			if f.Year, err = strconv.Atoi(year); err != nil {
				return Figures{}, fmt.Errorf("fleet figures: year %q: %w", year, err)
			}
		}
		// The active and inactive devices of one year come as two rows
		// next to each other: they make one.
		cur := &f
		if n := len(out.Rows); n > 0 {
			if last := &out.Rows[n-1]; last.EstablishmentID == f.EstablishmentID && last.Dated == f.Dated && last.Year == f.Year {
				cur = last
			}
		}
		cur.Assets += assets
		if active == 1 {
			cur.Devices, cur.PupilDevices, cur.Boards, cur.OverLifetime, cur.CostCents = assets, pupils, boards, over, cost
		}
		if cur == &f {
			out.Rows = append(out.Rows, f)
		}
	}
	if err := rows.Err(); err != nil {
		return Figures{}, fmt.Errorf("fleet figures: %w", err)
	}
	return out, nil
}
