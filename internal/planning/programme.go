package planning

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// AddBudgetLine records an amount of the programme.
func (s *Service) AddBudgetLine(ctx context.Context, p *auth.Principal, b BudgetLine) (BudgetLine, error) {
	if err := needManage(p); err != nil {
		return BudgetLine{}, err
	}
	b.Label = strings.TrimSpace(b.Label)
	if b.Label == "" {
		return b, problem.Invalid("invalid_budget", "Donnez un intitulé à la ligne.").Field("label", "Intitulé obligatoire.")
	}
	if b.Year < 2000 || b.Year > 2100 {
		return b, problem.Invalid("invalid_budget", "Année entre 2000 et 2100.").Field("year", "Année invalide.")
	}
	if b.Funder != FunderAuthority && b.Funder != FunderState && b.Funder != FunderOther {
		return b, problem.Invalid("invalid_budget", "Financeur : collectivite, etat ou autre.").Field("funder", "Financeur inconnu.")
	}
	if b.Nature != "investment" && b.Nature != "operating" {
		return b, problem.Invalid("invalid_budget", "Nature : investment (investissement) ou operating (fonctionnement).").Field("nature", "Nature inconnue.")
	}
	if b.PlannedCents < 0 || b.CommittedCents < 0 || b.SpentCents < 0 {
		return b, problem.Invalid("invalid_budget", "Les montants ne peuvent pas être négatifs.").Field("planned_cents", "Montant négatif.")
	}
	if b.SpentCents > b.CommittedCents && b.CommittedCents > 0 {
		return b, problem.Invalid("invalid_budget", "Le mandaté dépasse l'engagé : vérifiez les montants.").Field("spent_cents", "Mandaté supérieur à l'engagé.")
	}
	id, err := insertID(ctx, s.db, `INSERT INTO plan_budget_lines (year, funder, nature, label, planned_cents, committed_cents, spent_cents, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.Year, string(b.Funder), b.Nature, b.Label, b.PlannedCents, b.CommittedCents, b.SpentCents, s.now().UTC())
	if err != nil {
		return b, fmt.Errorf("insert budget line: %w", err)
	}
	b.ID = id
	return b, nil
}

// ProgrammeCell is planned / committed / spent amounts.
type ProgrammeCell struct {
	PlannedCents   int64 `json:"planned_cents"`
	CommittedCents int64 `json:"committed_cents"`
	SpentCents     int64 `json:"spent_cents"`
}

func (c *ProgrammeCell) add(b BudgetLine) {
	c.PlannedCents += b.PlannedCents
	c.CommittedCents += b.CommittedCents
	c.SpentCents += b.SpentCents
}

// ProgrammeYear is one year of the programme.
type ProgrammeYear struct {
	Year       int                      `json:"year"`
	ByFunder   map[Funder]ProgrammeCell `json:"by_funder"`
	Investment ProgrammeCell            `json:"investment"`
	Operating  ProgrammeCell            `json:"operating"`
	Total      ProgrammeCell            `json:"total"`
}

// Programme is the technical and financial programme.
type Programme struct {
	Lines    []BudgetLine             `json:"lines"`
	Years    []ProgrammeYear          `json:"years"`
	Total    ProgrammeCell            `json:"total"`
	ByFunder map[Funder]ProgrammeCell `json:"by_funder"`
}

// Programme sums the budget lines by year, funder and nature.
func (s *Service) Programme(ctx context.Context, p *auth.Principal) (Programme, error) {
	if err := needRead(p); err != nil {
		return Programme{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, year, funder, nature, label, planned_cents, committed_cents, spent_cents FROM plan_budget_lines ORDER BY year, funder, id`)
	if err != nil {
		return Programme{}, fmt.Errorf("budget: %w", err)
	}
	defer rows.Close()
	out := Programme{Lines: []BudgetLine{}, Years: []ProgrammeYear{}, ByFunder: map[Funder]ProgrammeCell{}}
	years := map[int]*ProgrammeYear{}
	for rows.Next() {
		var b BudgetLine
		if err := rows.Scan(&b.ID, &b.Year, &b.Funder, &b.Nature, &b.Label, &b.PlannedCents, &b.CommittedCents, &b.SpentCents); err != nil {
			return out, err
		}
		out.Lines = append(out.Lines, b)
		y := years[b.Year]
		if y == nil {
			y = &ProgrammeYear{Year: b.Year, ByFunder: map[Funder]ProgrammeCell{}}
			years[b.Year] = y
		}
		c := y.ByFunder[b.Funder]
		c.add(b)
		y.ByFunder[b.Funder] = c
		if b.Nature == "operating" {
			y.Operating.add(b)
		} else {
			y.Investment.add(b)
		}
		y.Total.add(b)
		out.Total.add(b)
		f := out.ByFunder[b.Funder]
		f.add(b)
		out.ByFunder[b.Funder] = f
	}
	for _, y := range years {
		out.Years = append(out.Years, *y)
	}
	sort.Slice(out.Years, func(i, j int) bool { return out.Years[i].Year < out.Years[j].Year })
	return out, rows.Err()
}

// CreateScenario records a scenario.
func (s *Service) CreateScenario(ctx context.Context, p *auth.Principal, sc Scenario) (Scenario, error) {
	if err := needManage(p); err != nil {
		return sc, err
	}
	sc.Name = strings.TrimSpace(sc.Name)
	if sc.Name == "" {
		return sc, problem.Invalid("invalid_scenario", "Donnez un nom au scénario.").Field("name", "Nom obligatoire.")
	}
	if _, err := s.target(ctx, sc.TargetID); err != nil {
		return sc, problem.Invalid("invalid_scenario", "Choisissez une cible existante.").Field("target_id", "Cible inconnue.")
	}
	if sc.RenewYears < 2 || sc.RenewYears > 12 {
		return sc, problem.Invalid("invalid_scenario", "Renouvellement tous les 2 à 12 ans.").Field("renew_years", "Durée invalide.")
	}
	if sc.GeneraliseYears < 1 || sc.GeneraliseYears > 10 {
		return sc, problem.Invalid("invalid_scenario", "Généralisation en 1 à 10 ans.").Field("generalise_years", "Durée invalide.")
	}
	if sc.StartYear == 0 {
		sc.StartYear = s.now().Year()
	}
	if sc.Horizon == 0 {
		sc.Horizon = 6
	}
	if sc.Horizon < sc.GeneraliseYears || sc.Horizon > 15 {
		return sc, problem.Invalid("invalid_scenario", "L'horizon (1 à 15 ans) doit couvrir la durée de généralisation.").Field("horizon", "Horizon invalide.")
	}
	if sc.StartYear < s.now().Year() || sc.StartYear > s.now().Year()+5 {
		return sc, problem.Invalid("invalid_scenario", "Le scénario commence cette année ou dans les cinq ans.").Field("start_year", "Année invalide.")
	}
	id, err := insertID(ctx, s.db, `INSERT INTO plan_scenarios (name, target_id, renew_years, generalise_years, start_year, horizon, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sc.Name, sc.TargetID, sc.RenewYears, sc.GeneraliseYears, sc.StartYear, sc.Horizon, s.now().UTC())
	if err != nil {
		return sc, fmt.Errorf("insert scenario: %w", err)
	}
	sc.ID = id
	return sc, nil
}

// Scenarios lists the scenarios.
func (s *Service) Scenarios(ctx context.Context, p *auth.Principal) ([]Scenario, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, target_id, renew_years, generalise_years, start_year, horizon FROM plan_scenarios ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Scenario{}
	for rows.Next() {
		var sc Scenario
		if err := rows.Scan(&sc.ID, &sc.Name, &sc.TargetID, &sc.RenewYears, &sc.GeneraliseYears, &sc.StartYear, &sc.Horizon); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// ScenarioYear is one year of a scenario.
type ScenarioYear struct {
	Year int `json:"year"`
	// GapClosingCents is what closing the gap of that year's tranche of
	// establishments costs; RenewalCents the devices reaching the renewal
	// age that year.
	GapClosingCents int64 `json:"gap_closing_cents"`
	RenewalCents    int64 `json:"renewal_cents"`
	CostCents       int64 `json:"cost_cents"`
	// RemainingGapCents is what would still be needed at the end of the
	// year: the gap of establishments not yet treated, plus the devices
	// older than the target's age that the renewal rule keeps in service.
	RemainingGapCents int64 `json:"remaining_gap_cents"`
	// SchoolsBelowTarget are the establishments still short of the target.
	SchoolsBelowTarget int `json:"schools_below_target"`
	TreatedSchools     int `json:"treated_schools"`
}

// ScenarioResult is a scenario computed year by year.
type ScenarioResult struct {
	Scenario  Scenario       `json:"scenario"`
	Years     []ScenarioYear `json:"years"`
	TotalCost int64          `json:"total_cost_cents"`
	// AgedDevices is the cost of the devices kept beyond the target's age
	// each year (renewal later than the target asks).
	Explanation string `json:"explanation"`
}

// ScenarioComparison puts scenarios side by side.
type ScenarioComparison struct {
	Target       Target           `json:"target"`
	StartGapCost int64            `json:"start_gap_cents"`
	BelowTarget  int              `json:"schools_below_target"`
	Results      []ScenarioResult `json:"scenarios"`
	Years        []int            `json:"years"`
}

// CompareScenarios computes the given scenarios (all of them when ids is
// empty) on one snapshot of the data; they must share a target.
func (s *Service) CompareScenarios(ctx context.Context, p *auth.Principal, ids []int64) (ScenarioComparison, error) {
	if err := needRead(p); err != nil {
		return ScenarioComparison{}, err
	}
	all, err := s.Scenarios(ctx, p)
	if err != nil {
		return ScenarioComparison{}, err
	}
	var chosen []Scenario
	for _, sc := range all {
		if len(ids) == 0 {
			chosen = append(chosen, sc)
			continue
		}
		for _, id := range ids {
			if id == sc.ID {
				chosen = append(chosen, sc)
			}
		}
	}
	if len(chosen) == 0 {
		return ScenarioComparison{}, problem.NotFound("Scénario")
	}
	targetID := chosen[0].TargetID
	for _, sc := range chosen {
		if sc.TargetID != targetID {
			return ScenarioComparison{}, problem.Invalid("invalid_comparison", "Les scénarios comparés doivent viser la même cible.").Field("scenarios", "Cibles différentes.")
		}
	}
	t, err := s.target(ctx, targetID)
	if err != nil {
		return ScenarioComparison{}, err
	}
	snap, err := s.load(ctx, p, true)
	if err != nil {
		return ScenarioComparison{}, err
	}
	g, err := s.gap(ctx, p, snap, t)
	if err != nil {
		return ScenarioComparison{}, err
	}
	w, err := s.weights(ctx, 0)
	if err != nil {
		return ScenarioComparison{}, err
	}
	pr := s.rank(snap, g, w)
	out := ScenarioComparison{Target: t}
	// The gap closed by generalisation leaves the device-age criteria to
	// the renewal rule, which the scenario sets.
	ageKeys := map[string]int{}
	for _, c := range t.Criteria {
		if c.Metric == MetricRecentDevices {
			ageKeys[c.Key] = max(c.Param, 1)
		}
	}
	closing := map[string]int64{}
	rowsByUAI := map[string]GapRow{}
	for _, r := range g.Rows {
		rowsByUAI[r.UAI] = r
		for _, c := range r.Cells {
			if _, age := ageKeys[c.Criterion]; !age {
				closing[r.UAI] += c.CostCents
			}
		}
	}
	// Establishments needing work, in priority order.
	var queue []string
	for _, r := range pr.Ranked {
		row := rowsByUAI[r.UAI]
		if row.Met < row.Applicable-row.MissingData || closing[r.UAI] > 0 {
			queue = append(queue, r.UAI)
		}
	}
	out.BelowTarget = len(queue)
	for _, u := range queue {
		out.StartGapCost += closing[u]
	}
	targetAge := 0
	for _, n := range ageKeys {
		if targetAge == 0 || n < targetAge {
			targetAge = n
		}
	}
	for _, sc := range chosen {
		res, err := s.simulate(ctx, p, snap, sc, queue, closing, targetAge)
		if err != nil {
			return out, err
		}
		out.Results = append(out.Results, res)
	}
	for _, y := range out.Results[0].Years {
		out.Years = append(out.Years, y.Year)
	}
	return out, nil
}

func (s *Service) simulate(ctx context.Context, p *auth.Principal, snap *snapshot, sc Scenario, queue []string, closing map[string]int64, targetAge int) (ScenarioResult, error) {
	res := ScenarioResult{Scenario: sc}
	thisYear := s.now().Year()
	offset := sc.StartYear - thisYear
	years := sc.Horizon + offset
	renew, err := s.renewals(ctx, p, snap, sc.RenewYears, years)
	if err != nil {
		return res, fmt.Errorf("renewal forecast: %w", err)
	}
	var aged []int64
	if targetAge > 0 && targetAge < sc.RenewYears {
		if aged, err = s.renewals(ctx, p, snap, targetAge, years); err != nil {
			return res, fmt.Errorf("age forecast: %w", err)
		}
	}
	per := int(math.Ceil(float64(len(queue)) / float64(sc.GeneraliseYears)))
	remaining := int64(0)
	for _, u := range queue {
		remaining += closing[u]
	}
	treated := 0
	var cumAged, cumRenew int64
	for i := 0; i < years; i++ {
		if i < len(aged) {
			cumAged += aged[i]
		}
		cumRenew += renew[i]
		if i < offset {
			continue // before the scenario starts
		}
		y := ScenarioYear{Year: thisYear + i, RenewalCents: renew[i]}
		if k := i - offset; k < sc.GeneraliseYears {
			for j := k * per; j < min((k+1)*per, len(queue)); j++ {
				y.GapClosingCents += closing[queue[j]]
				treated++
			}
		}
		remaining -= y.GapClosingCents
		y.CostCents = y.GapClosingCents + y.RenewalCents
		y.TreatedSchools = treated
		y.SchoolsBelowTarget = len(queue) - treated
		backlog := int64(0)
		if aged != nil {
			// Devices past the target's age but not yet at the renewal
			// age: still in service, still counted in the gap.
			backlog = max(0, cumAged-cumRenew)
		}
		y.RemainingGapCents = remaining + backlog
		res.TotalCost += y.CostCents
		res.Years = append(res.Years, y)
	}
	res.Explanation = fmt.Sprintf("Équipements renouvelés à %d ans ; cible généralisée en %d an(s), %d établissement(s) par an dans l'ordre des priorités.", sc.RenewYears, sc.GeneraliseYears, per)
	return res, nil
}
