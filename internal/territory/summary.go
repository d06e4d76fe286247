package territory

import (
	"context"
	"slices"
	"strings"
	"time"

	"socle/internal/platform/auth"
)

// Summary is the figures of the establishments in a caller's scope, for
// home pages and dashboards.
type Summary struct {
	Total   int
	Public  int
	Private int
	REP     int
	REPPlus int
	// Rows has one line per establishment type present in the scope, in
	// the order of Types, the unknown type last.
	Rows []SummaryRow
}

// SummaryRow is the figures of one establishment type.
type SummaryRow struct {
	Type    Type
	Label   string
	Total   int
	Public  int
	Private int
	REP     int
	REPPlus int
}

// Priority is the number of establishments in éducation prioritaire.
func (s Summary) Priority() int { return s.REP + s.REPPlus }

// TypeParam is the value of the type filter of the territory browser for
// this row ("inconnu" for the establishments without a type).
func (r SummaryRow) TypeParam() string {
	if r.Type == TypeUnknown {
		return "inconnu"
	}
	return string(r.Type)
}

// YearTotal is the pupils of a scope for one school year.
type YearTotal struct {
	SchoolYear     string
	Pupils         int
	Establishments int
}

// Choice is a value of a filter with the number of establishments it
// selects.
type Choice struct {
	Value string
	Label string
	Count int
}

// Maintainer is a collectivité that maintains establishments of a scope.
type Maintainer struct {
	ID    int64
	Kind  Kind
	Code  string
	Name  string
	Count int
}

// FilterOptions is what the territory browser offers in its selects: only
// values that select something in the caller's scope.
type FilterOptions struct {
	Communes    []Choice
	Maintainers []Maintainer
}

// Summary counts the establishments in the caller's scope by type, sector
// and priority label, with a single grouped query.
func (s *Service) Summary(ctx context.Context, p *auth.Principal) (Summary, error) {
	var sum Summary
	if !p.Has(auth.PermOrgRead) {
		return sum, nil
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	groups, err := s.store.SummaryCounts(ctx, scope, args)
	if err != nil {
		return sum, err
	}
	rows := map[Type]*SummaryRow{}
	for _, g := range groups {
		r := rows[g.Type]
		if r == nil {
			r = &SummaryRow{Type: g.Type, Label: g.Type.Label()}
			rows[g.Type] = r
		}
		r.Total += g.Count
		sum.Total += g.Count
		switch g.Sector {
		case SectorPublic:
			r.Public += g.Count
			sum.Public += g.Count
		case SectorPrivate:
			r.Private += g.Count
			sum.Private += g.Count
		}
		switch g.Priority {
		case PriorityREP:
			r.REP += g.Count
			sum.REP += g.Count
		case PriorityREPPlus:
			r.REPPlus += g.Count
			sum.REPPlus += g.Count
		}
	}
	for _, t := range append(slices.Clone(Types), TypeUnknown) {
		if r := rows[t]; r != nil {
			sum.Rows = append(sum.Rows, *r)
			delete(rows, t)
		}
	}
	// Types the code does not know yet (a new value in the directory) are
	// still counted, after the known ones.
	rest := make([]SummaryRow, 0, len(rows))
	for _, r := range rows {
		rest = append(rest, *r)
	}
	slices.SortFunc(rest, func(a, b SummaryRow) int { return strings.Compare(string(a.Type), string(b.Type)) })
	sum.Rows = append(sum.Rows, rest...)
	return sum, nil
}

// EnrolmentTotals gives the pupils of the caller's scope for the last
// years school years with enrolment data, newest first.
func (s *Service) EnrolmentTotals(ctx context.Context, p *auth.Principal, years int) ([]YearTotal, error) {
	if !p.Has(auth.PermOrgRead) {
		return nil, nil
	}
	if years <= 0 {
		years = 3
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	return s.store.EnrolmentTotals(ctx, scope, args, years)
}

// FilterOptions lists the communes and the maintaining collectivités of
// the establishments in the caller's scope, sorted for a select: communes
// by name (accents ignored), collectivités from the largest kind to the
// smallest, then by name.
func (s *Service) FilterOptions(ctx context.Context, p *auth.Principal) (FilterOptions, error) {
	var fo FilterOptions
	if !p.Has(auth.PermOrgRead) {
		return fo, nil
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	var err error
	if fo.Communes, err = s.store.CommuneCounts(ctx, scope, args); err != nil {
		return fo, err
	}
	slices.SortFunc(fo.Communes, func(a, b Choice) int {
		if c := strings.Compare(SearchKey(a.Label), SearchKey(b.Label)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	if fo.Maintainers, err = s.store.MaintainerCounts(ctx, scope, args); err != nil {
		return fo, err
	}
	rank := map[Kind]int{KindRegion: 0, KindDepartement: 1, KindEPCI: 2, KindCommune: 3}
	slices.SortFunc(fo.Maintainers, func(a, b Maintainer) int {
		if ra, rb := rank[a.Kind], rank[b.Kind]; ra != rb {
			return ra - rb
		}
		return strings.Compare(SearchKey(a.Name), SearchKey(b.Name))
	})
	return fo, nil
}

// EstablishmentsOf returns the establishments among some organizations
// (the ones a person's grants name) that lie in the caller's scope.
func (s *Service) EstablishmentsOf(ctx context.Context, p *auth.Principal, orgIDs []int64) ([]Establishment, error) {
	if !p.Has(auth.PermOrgRead) || len(orgIDs) == 0 {
		return nil, nil
	}
	scope, args := p.ScopeSQL(auth.PermOrgRead, "o.id")
	return s.store.EstablishmentsByOrgIDs(ctx, orgIDs, scope, args)
}

// UpcomingHolidays returns the next school-holiday periods of a zone (the
// national calendar is public: any reader may see it).
func (s *Service) UpcomingHolidays(ctx context.Context, p *auth.Principal, zone string, from time.Time, n int) ([]Holiday, error) {
	if !p.Has(auth.PermOrgRead) || zone == "" {
		return nil, nil
	}
	return s.store.HolidaysOfZone(ctx, zone, from, n)
}
