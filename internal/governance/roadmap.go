package governance

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// CreateRoadmap records a roadmap of an organization.
func (s *Service) CreateRoadmap(ctx context.Context, p *auth.Principal, r Roadmap) (Roadmap, error) {
	r.Title = strings.TrimSpace(r.Title)
	if err := required("title", "Le titre", r.Title); err != nil {
		return Roadmap{}, err
	}
	if r.FirstYear < 2000 || r.LastYear < r.FirstYear || r.LastYear > r.FirstYear+20 {
		return Roadmap{}, problem.Invalid("invalid_years", "Années invalides : la dernière suit la première, sur 20 ans au plus.").Field("last_year", "Années invalides.")
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, r.OrgID, "Organisation"); err != nil {
		return Roadmap{}, err
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO gov_roadmaps (org_id, title, first_year, last_year, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		r.OrgID, r.Title, r.FirstYear, r.LastYear, s.now().UTC()).Scan(&r.ID)
	if err != nil {
		return Roadmap{}, fmt.Errorf("insert roadmap: %w", err)
	}
	return s.Roadmap(ctx, p, r.ID)
}

// Roadmaps lists the roadmaps in scope, without their items.
func (s *Service) Roadmaps(ctx context.Context, p *auth.Principal) ([]Roadmap, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "r.org_id")
	return s.roadmaps(ctx, `WHERE `+scope+` ORDER BY r.first_year DESC, r.title`, args...)
}

func (s *Service) roadmaps(ctx context.Context, where string, args ...any) ([]Roadmap, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.org_id, r.title, r.first_year, r.last_year FROM gov_roadmaps r `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("roadmaps: %w", err)
	}
	defer rows.Close()
	out := []Roadmap{}
	for rows.Next() {
		var r Roadmap
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Title, &r.FirstYear, &r.LastYear); err != nil {
			return nil, err
		}
		r.Items = []RoadmapItem{}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Roadmap returns a roadmap with its items and indicators, in tree order.
func (s *Service) Roadmap(ctx context.Context, p *auth.Principal, id int64) (Roadmap, error) {
	if anonymous(p) {
		return Roadmap{}, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "r.org_id")
	rs, err := s.roadmaps(ctx, `WHERE r.id = ? AND `+scope, append([]any{id}, args...)...)
	if err != nil {
		return Roadmap{}, err
	}
	if len(rs) == 0 {
		return Roadmap{}, problem.NotFound("Feuille de route")
	}
	r := rs[0]
	rows, err := s.db.QueryContext(ctx, `SELECT id, COALESCE(parent_id, 0), level, title, year FROM gov_roadmap_items
		WHERE roadmap_id = ? ORDER BY position, id`, id)
	if err != nil {
		return r, fmt.Errorf("roadmap items: %w", err)
	}
	var flat []RoadmapItem
	for rows.Next() {
		var it RoadmapItem
		if err := rows.Scan(&it.ID, &it.ParentID, &it.Level, &it.Title, &it.Year); err != nil {
			rows.Close()
			return r, err
		}
		flat = append(flat, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	inds, err := s.store.indicators(ctx, `WHERE r.id = ? ORDER BY i.id`, id)
	if err != nil {
		return r, err
	}
	byObjective := map[int64][]Indicator{}
	for _, in := range inds {
		byObjective[in.ObjectiveID] = append(byObjective[in.ObjectiveID], in)
	}
	// Depth-first order: each ambition, its targets, their objectives.
	children := map[int64][]RoadmapItem{}
	for _, it := range flat {
		it.Indicators = byObjective[it.ID]
		children[it.ParentID] = append(children[it.ParentID], it)
	}
	var walk func(parent int64)
	walk = func(parent int64) {
		for _, it := range children[parent] {
			r.Items = append(r.Items, it)
			walk(it.ID)
		}
	}
	walk(0)
	return r, nil
}

// childLevel is the level of an item under a parent of the given level.
func childLevel(parent string) string {
	switch parent {
	case "":
		return LevelAmbition
	case LevelAmbition:
		return LevelTarget
	}
	return LevelObjective
}

// AddItem adds an ambition (no parent), a target (under an ambition) or an
// objective (under a target, with its year).
func (s *Service) AddItem(ctx context.Context, p *auth.Principal, roadmapID int64, it RoadmapItem) (RoadmapItem, error) {
	r, err := s.Roadmap(ctx, p, roadmapID)
	if err != nil {
		return RoadmapItem{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, r.OrgID, "Feuille de route"); err != nil {
		return RoadmapItem{}, err
	}
	it.Title = strings.TrimSpace(it.Title)
	if err := required("title", "Le titre", it.Title); err != nil {
		return RoadmapItem{}, err
	}
	parentLevel := ""
	if it.ParentID != 0 {
		found := false
		for _, x := range r.Items {
			if x.ID == it.ParentID {
				parentLevel, found = x.Level, true
			}
		}
		if !found || parentLevel == LevelObjective {
			return RoadmapItem{}, problem.Invalid("invalid_parent", "Élément parent inconnu dans cette feuille de route.").Field("parent_id", "Parent inconnu.")
		}
	}
	it.Level = childLevel(parentLevel)
	if it.Level == LevelObjective && (it.Year < r.FirstYear || it.Year > r.LastYear) {
		return RoadmapItem{}, problem.Invalid("invalid_year", fmt.Sprintf("L'année d'un objectif va de %d à %d.", r.FirstYear, r.LastYear)).Field("year", "Année hors de la feuille de route.")
	}
	if it.Level != LevelObjective {
		it.Year = 0
	}
	err = s.db.QueryRowContext(ctx, `INSERT INTO gov_roadmap_items (roadmap_id, parent_id, level, title, year, position)
		VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM gov_roadmap_items WHERE roadmap_id = ?)) RETURNING id`,
		roadmapID, db.NullID(it.ParentID), it.Level, it.Title, it.Year, roadmapID).Scan(&it.ID)
	if err != nil {
		return RoadmapItem{}, fmt.Errorf("insert roadmap item: %w", err)
	}
	return it, nil
}

// AddIndicator adds a success indicator to an objective.
func (s *Service) AddIndicator(ctx context.Context, p *auth.Principal, objectiveID int64, in Indicator) (Indicator, error) {
	var roadmapID int64
	var level string
	err := s.db.QueryRowContext(ctx, `SELECT roadmap_id, level FROM gov_roadmap_items WHERE id = ?`, objectiveID).Scan(&roadmapID, &level)
	if err != nil {
		return Indicator{}, problem.NotFound("Objectif")
	}
	r, err := s.Roadmap(ctx, p, roadmapID)
	if err != nil {
		return Indicator{}, err
	}
	if level != LevelObjective {
		return Indicator{}, problem.Invalid("not_objective", "Un indicateur se rattache à un objectif.").Field("objective_id", "Pas un objectif.")
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, r.OrgID, "Feuille de route"); err != nil {
		return Indicator{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := required("name", "Le nom", in.Name); err != nil {
		return Indicator{}, err
	}
	if !in.Frequency.valid() {
		return Indicator{}, problem.Invalid("invalid_frequency", "Fréquence de collecte inconnue (monthly, quarterly, yearly).").Field("frequency", "Fréquence inconnue.")
	}
	if in.Source != SourceDeclared {
		if _, ok := s.sourceByKey(in.Source); !ok {
			return Indicator{}, problem.Invalid("unknown_source", "Source inconnue : choisissez une source calculée ou « declared ».").Field("source", "Source inconnue.")
		}
	}
	var target any
	if in.Target != nil {
		target = *in.Target
	}
	in.ObjectiveID = objectiveID
	err = s.db.QueryRowContext(ctx, `INSERT INTO gov_indicators (objective_id, name, definition, unit, source, target_value, higher_is_better, frequency)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, objectiveID, in.Name, strings.TrimSpace(in.Definition), strings.TrimSpace(in.Unit),
		in.Source, target, in.HigherBest, string(in.Frequency)).Scan(&in.ID)
	if err != nil {
		return Indicator{}, fmt.Errorf("insert indicator: %w", err)
	}
	return in, nil
}

// indicator returns an indicator in the caller's read scope and its roadmap.
func (s *Service) indicator(ctx context.Context, p *auth.Principal, id int64) (Indicator, Roadmap, error) {
	if anonymous(p) {
		return Indicator{}, Roadmap{}, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "r.org_id")
	is, err := s.store.indicators(ctx, `WHERE i.id = ? AND `+scope, append([]any{id}, args...)...)
	if err != nil {
		return Indicator{}, Roadmap{}, err
	}
	if len(is) == 0 {
		return Indicator{}, Roadmap{}, problem.NotFound("Indicateur")
	}
	rs, err := s.roadmaps(ctx, `WHERE r.id = (SELECT roadmap_id FROM gov_roadmap_items WHERE id = ?)`, is[0].ObjectiveID)
	if err != nil || len(rs) == 0 {
		return is[0], Roadmap{}, fmt.Errorf("roadmap of indicator %d: %w", id, err)
	}
	return is[0], rs[0], nil
}

// IndicatorView is an indicator with its series (the latest value of each
// period, oldest first) and where it stands against its target.
type IndicatorView struct {
	Indicator
	Roadmap     string           `json:"roadmap"`
	Objective   string           `json:"objective"`
	SourceLabel string           `json:"source_label"`
	Series      []IndicatorValue `json:"series"`
	Latest      *IndicatorValue  `json:"latest"`
	// TargetMet is nil without data or without target.
	TargetMet *bool `json:"target_met"`
	// Unproven counts declared values without evidence.
	Unproven int `json:"unproven"`
}

// StatusText says where the indicator stands, in words (never only a colour).
func (v IndicatorView) StatusText() string {
	switch {
	case v.Latest == nil:
		return "Jamais mesuré"
	case v.Latest.Value == nil:
		return "Pas de données : " + v.Latest.NoDataReason
	case v.TargetMet == nil:
		return "Sans cible"
	case *v.TargetMet:
		return "Cible atteinte"
	}
	return "Cible non atteinte"
}

// Indicators returns the indicators of the roadmaps in scope with their
// series; roadmapID 0 is every roadmap, orgID 0 every organization.
func (s *Service) Indicators(ctx context.Context, p *auth.Principal, roadmapID, orgID int64) ([]IndicatorView, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "r.org_id")
	where := `WHERE ` + scope
	if roadmapID != 0 {
		where += ` AND r.id = ?`
		args = append(args, roadmapID)
	}
	if orgID != 0 {
		where += ` AND r.org_id = ?`
		args = append(args, orgID)
	}
	return s.indicatorViews(ctx, where, args...)
}

func (s *Service) indicatorViews(ctx context.Context, where string, args ...any) ([]IndicatorView, error) {
	inds, err := s.store.indicators(ctx, where+` ORDER BY r.id, o.position, i.id`, args...)
	if err != nil {
		return nil, err
	}
	if len(inds) == 0 {
		return []IndicatorView{}, nil
	}
	ids := make([]any, len(inds))
	for i, in := range inds {
		ids[i] = in.ID
	}
	vals, err := s.store.values(ctx, `WHERE v.indicator_id IN (`+db.Placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	byInd := map[int64][]IndicatorValue{}
	for _, v := range vals {
		byInd[v.IndicatorID] = append(byInd[v.IndicatorID], v)
	}
	names := map[int64][2]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.title, r.title FROM gov_roadmap_items o JOIN gov_roadmaps r ON r.id = o.roadmap_id
		WHERE o.id IN (SELECT objective_id FROM gov_indicators WHERE id IN (`+db.Placeholders(len(ids))+`))`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var o, r string
		if err := rows.Scan(&id, &o, &r); err != nil {
			rows.Close()
			return nil, err
		}
		names[id] = [2]string{o, r}
	}
	rows.Close()
	out := make([]IndicatorView, 0, len(inds))
	for _, in := range inds {
		v := IndicatorView{Indicator: in, Objective: names[in.ObjectiveID][0], Roadmap: names[in.ObjectiveID][1], Series: []IndicatorValue{}}
		v.SourceLabel = "Déclaratif (avec justificatif)"
		if si, ok := s.sourceByKey(in.Source); ok {
			v.SourceLabel = si.Label
		} else if in.Source != SourceDeclared {
			v.SourceLabel = in.Source + " (non raccordée)"
		}
		// The latest row of each period is its value: rows are ordered by
		// period then id, so a later row replaces an earlier one here.
		for _, x := range byInd[in.ID] {
			if x.Origin == SourceDeclared && x.Flagged {
				v.Unproven++
			}
			if n := len(v.Series); n > 0 && v.Series[n-1].Period == x.Period {
				v.Series[n-1] = x
			} else {
				v.Series = append(v.Series, x)
			}
		}
		if n := len(v.Series); n > 0 {
			last := v.Series[n-1]
			v.Latest = &last
			if last.Value != nil && in.Target != nil {
				met := *last.Value >= *in.Target
				if !in.HigherBest {
					met = *last.Value <= *in.Target
				}
				v.TargetMet = &met
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Refresh measures every computed indicator of the roadmaps in scope
// (one roadmap when roadmapID is not 0) for the current period, and
// records the value when it differs from the last one of that period:
// the history grows, nothing is overwritten. It returns how many values
// were recorded.
func (s *Service) Refresh(ctx context.Context, p *auth.Principal, roadmapID int64) (int, error) {
	views, err := s.Indicators(ctx, p, roadmapID, 0)
	if err != nil {
		return 0, err
	}
	return s.refreshViews(ctx, views, actor(p))
}

// RefreshSystem is Refresh for the periodic job: every indicator.
func (s *Service) RefreshSystem(ctx context.Context) (int, error) {
	return s.Refresh(ctx, auth.System(), 0)
}

func (s *Service) refreshViews(ctx context.Context, views []IndicatorView, who string) (int, error) {
	now := s.now()
	orgOf := map[int64]int64{}
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, r.org_id FROM gov_roadmap_items o JOIN gov_roadmaps r ON r.id = o.roadmap_id WHERE o.level = ?`, LevelObjective)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var o, org int64
		if err := rows.Scan(&o, &org); err != nil {
			rows.Close()
			return 0, err
		}
		orgOf[o] = org
	}
	rows.Close()
	n := 0
	for _, v := range views {
		if v.Source == SourceDeclared {
			continue
		}
		period := PeriodOf(v.Frequency, now)
		m, err := s.measure(ctx, v.Source, orgOf[v.ObjectiveID], period)
		if err != nil {
			return n, err
		}
		iv := IndicatorValue{IndicatorID: v.ID, Period: period.Key, Origin: "computed", Detail: m.Detail, RecordedBy: who, RecordedAt: now}
		if m.OK {
			x := round3(m.V)
			iv.Value = &x
		} else {
			iv.NoDataReason = m.Reason
		}
		if last := lastOfPeriod(v.Series, period.Key); last != nil && sameValue(*last, iv) {
			continue
		}
		if _, err := s.store.insertValue(ctx, s.db, iv); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func lastOfPeriod(series []IndicatorValue, period string) *IndicatorValue {
	for i := len(series) - 1; i >= 0; i-- {
		if series[i].Period == period {
			return &series[i]
		}
	}
	return nil
}

func sameValue(a, b IndicatorValue) bool {
	if (a.Value == nil) != (b.Value == nil) {
		return false
	}
	if a.Value != nil {
		return *a.Value == *b.Value
	}
	return a.NoDataReason == b.NoDataReason
}

// Declaration is a declared value of an indicator.
type Declaration struct {
	Period   string  `json:"period"`
	Value    float64 `json:"value"`
	Evidence string  `json:"evidence"`
}

// Declare records a declared value. The managers of the roadmap's
// territory and the people a campaign asks may declare. A value without
// evidence is recorded but flagged.
func (s *Service) Declare(ctx context.Context, p *auth.Principal, indicatorID int64, d Declaration) (IndicatorValue, error) {
	in, r, err := s.indicator(ctx, p, indicatorID)
	if err != nil && !isNotFound(err) {
		return IndicatorValue{}, err
	}
	asked := false
	if err != nil || s.check(ctx, p, auth.PermGovernanceManage, r.OrgID, "Indicateur") != nil {
		// Not a manager: a campaign must ask this person.
		cs, cerr := s.campaignsOf(ctx, indicatorID)
		if cerr != nil {
			return IndicatorValue{}, cerr
		}
		for _, c := range cs {
			for _, g := range p.Grants {
				if string(g.Role) == c.RespondentRole && s.under(ctx, g.OrgID, c.OrgID) {
					asked = true
				}
			}
		}
		if !asked {
			if err != nil {
				return IndicatorValue{}, err
			}
			return IndicatorValue{}, problem.Forbidden()
		}
		if err != nil {
			var rows []Indicator
			if rows, err = s.store.indicators(ctx, `WHERE i.id = ?`, indicatorID); err != nil || len(rows) == 0 {
				return IndicatorValue{}, problem.NotFound("Indicateur")
			}
			in = rows[0]
		}
	}
	if in.Source != SourceDeclared {
		return IndicatorValue{}, problem.Conflict("computed_indicator", "Cet indicateur est calculé par Socle : il ne se déclare pas.")
	}
	d.Period = strings.TrimSpace(d.Period)
	if d.Period == "" {
		d.Period = PeriodOf(in.Frequency, s.now()).Key
	}
	if !validPeriod(in.Frequency, d.Period) {
		return IndicatorValue{}, problem.Invalid("invalid_period", "Période invalide pour cette fréquence (2026, 2026-T1 ou 2026-03).").Field("period", "Période invalide.")
	}
	if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) {
		return IndicatorValue{}, problem.Invalid("invalid_value", "Valeur invalide.").Field("value", "Nombre attendu.")
	}
	v := d.Value
	iv := IndicatorValue{IndicatorID: indicatorID, Period: d.Period, Value: &v, Origin: SourceDeclared,
		Evidence: strings.TrimSpace(d.Evidence), RecordedBy: actor(p), RecordedAt: s.now()}
	iv.Flagged = iv.Evidence == ""
	if iv.ID, err = s.store.insertValue(ctx, s.db, iv); err != nil {
		return IndicatorValue{}, err
	}
	return iv, nil
}

func isNotFound(err error) bool {
	pe, ok := problem.As(err)
	return ok && pe.Code == "not_found"
}

func validPeriod(f Frequency, key string) bool {
	var layout string
	switch f {
	case Monthly:
		layout = "2006-01"
	case Quarterly:
		y, q, ok := strings.Cut(key, "-T")
		if !ok || len(q) != 1 || q < "1" || q > "4" {
			return false
		}
		key, layout = y, "2006"
	default:
		layout = "2006"
	}
	_, err := time.Parse(layout, key)
	return err == nil
}

// CreateCampaign asks the holders of a role on an organization to declare
// an indicator at its frequency.
func (s *Service) CreateCampaign(ctx context.Context, p *auth.Principal, c Campaign) (Campaign, error) {
	in, r, err := s.indicator(ctx, p, c.IndicatorID)
	if err != nil {
		return Campaign{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, r.OrgID, "Indicateur"); err != nil {
		return Campaign{}, err
	}
	if in.Source != SourceDeclared {
		return Campaign{}, problem.Conflict("computed_indicator", "Cet indicateur est calculé par Socle : pas de campagne de déclaration.")
	}
	if !auth.Role(c.RespondentRole).Valid() {
		return Campaign{}, problem.Invalid("invalid_role", "Rôle inconnu.").Field("respondent_role", "Rôle inconnu.")
	}
	if c.OrgID == 0 {
		c.OrgID = r.OrgID
	}
	c.Frequency = in.Frequency
	err = s.db.QueryRowContext(ctx, `INSERT INTO gov_campaigns (indicator_id, org_id, respondent_role, frequency, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		c.IndicatorID, c.OrgID, c.RespondentRole, string(c.Frequency), s.now().UTC()).Scan(&c.ID)
	if err != nil {
		return Campaign{}, fmt.Errorf("insert campaign: %w", err)
	}
	c.IndicatorName = in.Name
	return c, nil
}

func (s *Service) campaignsOf(ctx context.Context, indicatorID int64) ([]Campaign, error) {
	return s.campaigns(ctx, `WHERE c.indicator_id = ?`, indicatorID)
}

func (s *Service) campaigns(ctx context.Context, where string, args ...any) ([]Campaign, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.indicator_id, i.name, c.org_id, c.respondent_role, c.frequency
		FROM gov_campaigns c JOIN gov_indicators i ON i.id = c.indicator_id `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		var c Campaign
		if err := rows.Scan(&c.ID, &c.IndicatorID, &c.IndicatorName, &c.OrgID, &c.RespondentRole, &c.Frequency); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Campaigns lists the campaigns in scope with the period awaiting a
// declaration: the previous complete period, if nothing was declared for it.
func (s *Service) Campaigns(ctx context.Context, p *auth.Principal) ([]Campaign, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "c.org_id")
	var roles []any
	var conds []string
	for _, g := range p.Grants {
		roles = append(roles, string(g.Role), g.OrgID, g.OrgID)
		conds = append(conds, "(c.respondent_role = ? AND (c.org_id = ? OR EXISTS (SELECT 1 FROM org_closure oc WHERE oc.ancestor_id = c.org_id AND oc.descendant_id = ?)))")
	}
	where := `WHERE (` + scope
	if len(conds) > 0 {
		where += " OR " + strings.Join(conds, " OR ")
		args = append(args, roles...)
	}
	cs, err := s.campaigns(ctx, where+`)`, args...)
	if err != nil {
		return nil, err
	}
	for i, c := range cs {
		due := PeriodOf(c.Frequency, s.now()).Previous(c.Frequency).Key
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM gov_indicator_values WHERE indicator_id = ? AND period = ? AND origin = ?`,
			c.IndicatorID, due, SourceDeclared).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			cs[i].DuePeriod = due
		}
	}
	return cs, nil
}

// under reports whether orgID is ancestorID or lies under it.
func (s *Service) under(ctx context.Context, orgID, ancestorID int64) bool {
	if orgID == ancestorID {
		return true
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_closure WHERE ancestor_id = ? AND descendant_id = ?`, ancestorID, orgID).Scan(&n)
	return err == nil && n > 0
}

// MeasureAt measures a computed indicator over the period containing at
// and records the value as known at the end of that period (or now): the
// way to rebuild the history of past periods from data Socle already has
// (tickets, audience). It is an operator's action, without scope.
func (s *Service) MeasureAt(ctx context.Context, indicatorID int64, at time.Time) (IndicatorValue, error) {
	is, err := s.store.indicators(ctx, `WHERE i.id = ?`, indicatorID)
	if err != nil {
		return IndicatorValue{}, err
	}
	if len(is) == 0 {
		return IndicatorValue{}, problem.NotFound("Indicateur")
	}
	in := is[0]
	var orgID int64
	if err := s.db.QueryRowContext(ctx, `SELECT r.org_id FROM gov_roadmap_items o JOIN gov_roadmaps r ON r.id = o.roadmap_id WHERE o.id = ?`,
		in.ObjectiveID).Scan(&orgID); err != nil {
		return IndicatorValue{}, fmt.Errorf("roadmap of indicator %d: %w", indicatorID, err)
	}
	period := PeriodOf(in.Frequency, at)
	m, err := s.measure(ctx, in.Source, orgID, period)
	if err != nil {
		return IndicatorValue{}, err
	}
	when := period.To
	if now := s.now(); when.After(now) {
		when = now
	}
	iv := IndicatorValue{IndicatorID: indicatorID, Period: period.Key, Origin: "computed", Detail: m.Detail, RecordedBy: "historique", RecordedAt: when}
	if m.OK {
		x := round3(m.V)
		iv.Value = &x
	} else {
		iv.NoDataReason = m.Reason
	}
	iv.ID, err = s.store.insertValue(ctx, s.db, iv)
	return iv, err
}

// RecordHistory writes a value as given: figures of past periods taken
// over from former tools (a yearly inventory, a former ENT's statistics).
// It is an operator's action, without scope; values stay append-only.
func (s *Service) RecordHistory(ctx context.Context, v IndicatorValue) (IndicatorValue, error) {
	if v.Origin != SourceDeclared {
		v.Origin = "computed"
	}
	if v.Origin == SourceDeclared && strings.TrimSpace(v.Evidence) == "" {
		v.Flagged = true
	}
	if v.RecordedAt.IsZero() {
		v.RecordedAt = s.now()
	}
	var err error
	v.ID, err = s.store.insertValue(ctx, s.db, v)
	return v, err
}
