package territory

import (
	"context"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// summaryFrom is the establishments of a scope (condition on o.id), the
// base of the read helpers below.
const summaryFrom = ` FROM establishments e JOIN organizations o ON o.id = e.org_id`

// countRow is one group of the summary query.
type countRow struct {
	Type     Type
	Sector   Sector
	Priority Priority
	Count    int
}

// SummaryCounts counts the establishments of a scope grouped by type,
// sector and priority label, in one query: the callers fold the groups into
// the totals they show.
func (s *Store) SummaryCounts(ctx context.Context, scope string, scopeArgs []any) ([]countRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.type, e.sector, e.priority, COUNT(*)`+summaryFrom+
		` WHERE `+scope+` GROUP BY e.type, e.sector, e.priority`, scopeArgs...)
	if err != nil {
		return nil, fmt.Errorf("summary counts: %w", err)
	}
	defer rows.Close()
	var out []countRow
	for rows.Next() {
		var c countRow
		if err := rows.Scan(&c.Type, &c.Sector, &c.Priority, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EnrolmentTotals adds up the pupils of a scope's establishments per
// school year, newest first. The école, collège and second-degré files
// overlap (a collège may be in two of them), so each establishment counts
// once a year, with its largest figure.
func (s *Store) EnrolmentTotals(ctx context.Context, scope string, scopeArgs []any, years int) ([]YearTotal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.school_year, SUM(t.pupils), COUNT(*) FROM (
			SELECT en.school_year AS school_year, en.uai AS uai, MAX(en.pupils) AS pupils
			FROM enrolments en JOIN establishments e ON e.uai = en.uai JOIN organizations o ON o.id = e.org_id
			WHERE `+scope+` GROUP BY en.school_year, en.uai) t
		GROUP BY t.school_year ORDER BY t.school_year DESC LIMIT ?`, append(append([]any{}, scopeArgs...), years)...)
	if err != nil {
		return nil, fmt.Errorf("enrolment totals: %w", err)
	}
	defer rows.Close()
	var out []YearTotal
	for rows.Next() {
		var y YearTotal
		if err := rows.Scan(&y.SchoolYear, &y.Pupils, &y.Establishments); err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

// CommuneCounts lists the communes where a scope has establishments.
func (s *Store) CommuneCounts(ctx context.Context, scope string, scopeArgs []any) ([]Choice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.commune_code, MAX(e.commune_name), COUNT(*)`+summaryFrom+
		` WHERE e.commune_code <> '' AND `+scope+` GROUP BY e.commune_code`, scopeArgs...)
	if err != nil {
		return nil, fmt.Errorf("communes in scope: %w", err)
	}
	defer rows.Close()
	var out []Choice
	for rows.Next() {
		var c Choice
		if err := rows.Scan(&c.Value, &c.Label, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MaintainerCounts lists the collectivités that maintain establishments
// of a scope, with how many.
func (s *Store) MaintainerCounts(ctx context.Context, scope string, scopeArgs []any) ([]Maintainer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ra.id, ra.kind, ra.code, ra.name, COUNT(*)`+summaryFrom+`
		JOIN responsibilities r ON r.establishment_id = e.org_id AND r.domain = 'maintenance'
		JOIN organizations ra ON ra.id = r.authority_id
		WHERE `+scope+` GROUP BY ra.id, ra.kind, ra.code, ra.name`, scopeArgs...)
	if err != nil {
		return nil, fmt.Errorf("maintainers in scope: %w", err)
	}
	defer rows.Close()
	var out []Maintainer
	for rows.Next() {
		var m Maintainer
		if err := rows.Scan(&m.ID, &m.Kind, &m.Code, &m.Name, &m.Count); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EstablishmentsByOrgIDs returns the establishments of some organizations
// within a scope, by name.
func (s *Store) EstablishmentsByOrgIDs(ctx context.Context, ids []int64, scope string, scopeArgs []any) ([]Establishment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+len(scopeArgs))
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+estCols+estFrom+` WHERE o.id IN (`+db.Placeholders(len(ids))+`) AND `+scope+
		` ORDER BY o.name, e.uai`, append(args, scopeArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("establishments by id: %w", err)
	}
	defer rows.Close()
	var out []Establishment
	for rows.Next() {
		e, err := scanEstablishment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// HolidaysOfZone returns the holiday periods of a zone ending after from,
// the earliest first, one row per period (the calendar repeats each
// period for every académie of the zone). Zones are stored as the national
// calendar spells them (NormalizeZone), so "B" finds "Zone B".
func (s *Store) HolidaysOfZone(ctx context.Context, zone string, from time.Time, limit int) ([]Holiday, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT description, population, starts_at, ends_at, academy, zone, school_year FROM school_holidays
		WHERE zone = ? AND ends_at > ? ORDER BY starts_at, description`, NormalizeZone(zone), from.UTC().Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("holidays of zone %s: %w", zone, err)
	}
	defer rows.Close()
	type key struct {
		d          string
		start, end string
	}
	seen := map[key]bool{}
	var out []Holiday
	for rows.Next() && len(out) < limit {
		var h Holiday
		var start, end string
		if err := rows.Scan(&h.Description, &h.Population, &start, &end, &h.Academy, &h.Zone, &h.SchoolYear); err != nil {
			return nil, err
		}
		k := key{h.Description, start, end}
		if seen[k] {
			continue
		}
		seen[k] = true
		h.StartsAt, _ = time.Parse(time.RFC3339, start)
		h.EndsAt, _ = time.Parse(time.RFC3339, end)
		out = append(out, h)
	}
	return out, rows.Err()
}
