package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// defaultUnitPrice is an indicative replacement price per type, in cents,
// used when an asset's own purchase price is unknown; territories give
// their market prices through ForecastOptions.UnitPrices.
var defaultUnitPrice = map[Type]int64{
	TypeWorkstation: 70000, TypeLaptop: 80000, TypeTablet: 40000, TypeTabletCart: 150000, TypeBoard: 300000,
	TypeProjector: 100000, TypePrinter: 40000, TypeSwitch: 150000, TypeAccessPoint: 50000, TypeServer: 400000,
	TypeOther: 30000,
}

// ForecastOptions are the renewal rules.
type ForecastOptions struct {
	// Years is the horizon (default 5), starting with the current year.
	Years int
	// Lifetimes in years per type override DefaultLifetimes.
	Lifetimes map[Type]int
	// UnitPrices in cents per type override the asset's purchase price.
	UnitPrices map[Type]int64
	// UAI restricts the forecast to one establishment.
	UAI string
}

// ForecastRow is the renewals of one establishment.
type ForecastRow struct {
	UAI  string `json:"establishment"`
	Name string `json:"name"`
	// Devices and CostCents are per year of ForecastResult.Years; devices
	// already past their lifetime count in the first year.
	Devices   []int   `json:"devices"`
	CostCents []int64 `json:"cost_cents"`
	// Undated devices have no purchase date and cannot be forecast.
	Undated int `json:"undated"`
}

// ForecastResult is the renewal plan for the next years.
type ForecastResult struct {
	Years          []int         `json:"years"`
	Rows           []ForecastRow `json:"establishments"`
	TotalDevices   []int         `json:"total_devices"`
	TotalCostCents []int64       `json:"total_cost_cents"`
}

type plannedAsset struct {
	orgID      int64
	uai, name  string
	typ        Type
	use        Use
	state      State
	purchased  string
	priceCents int64
}

func (s *Service) plannedAssets(ctx context.Context, p *auth.Principal, uai string) ([]plannedAsset, error) {
	scope, args := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	q := `SELECT a.establishment_id, e.uai, o.name, a.type, a.assigned_use, a.state, a.purchase_date, a.price_cents
		FROM assets a JOIN establishments e ON e.org_id = a.establishment_id JOIN organizations o ON o.id = a.establishment_id
		WHERE ` + scope
	if uai != "" {
		q += ` AND e.uai = ?`
		args = append(args, uai)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY e.uai`, args...)
	if err != nil {
		return nil, fmt.Errorf("assets for planning: %w", err)
	}
	defer rows.Close()
	var out []plannedAsset
	for rows.Next() {
		var a plannedAsset
		if err := rows.Scan(&a.orgID, &a.uai, &a.name, &a.typ, &a.use, &a.state, &a.purchased, &a.priceCents); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Forecast counts, per establishment and year, the devices due for renewal
// (purchase year + lifetime of the type) and their cost, for the active
// fleet in the caller's scope.
func (s *Service) Forecast(ctx context.Context, p *auth.Principal, o ForecastOptions) (ForecastResult, error) {
	if o.Years <= 0 || o.Years > 15 {
		o.Years = 5
	}
	if err := s.checkUAI(ctx, p, o.UAI); err != nil {
		return ForecastResult{}, err
	}
	assets, err := s.plannedAssets(ctx, p, o.UAI)
	if err != nil {
		return ForecastResult{}, err
	}
	return forecast(assets, s.now(), o), nil
}

func forecast(assets []plannedAsset, now time.Time, o ForecastOptions) ForecastResult {
	first := now.Year()
	res := ForecastResult{TotalDevices: make([]int, o.Years), TotalCostCents: make([]int64, o.Years), Rows: []ForecastRow{}}
	for i := range o.Years {
		res.Years = append(res.Years, first+i)
	}
	rows := map[string]*ForecastRow{}
	for _, a := range assets {
		if !a.state.Active() {
			continue
		}
		r := rows[a.uai]
		if r == nil {
			r = &ForecastRow{UAI: a.uai, Name: a.name, Devices: make([]int, o.Years), CostCents: make([]int64, o.Years)}
			rows[a.uai] = r
		}
		bought, err := time.Parse(dateLayout, a.purchased)
		if err != nil {
			r.Undated++
			continue
		}
		life, ok := o.Lifetimes[a.typ]
		if !ok {
			life = defaultLifetime[a.typ]
		}
		due := bought.Year() + life
		i := max(due-first, 0)
		if i >= o.Years {
			continue
		}
		price, ok := o.UnitPrices[a.typ]
		if !ok {
			price = a.priceCents
		}
		if price <= 0 {
			price = defaultUnitPrice[a.typ]
		}
		r.Devices[i]++
		r.CostCents[i] += price
		res.TotalDevices[i]++
		res.TotalCostCents[i] += price
	}
	for _, r := range rows {
		res.Rows = append(res.Rows, *r)
	}
	sort.Slice(res.Rows, func(i, j int) bool { return res.Rows[i].UAI < res.Rows[j].UAI })
	return res
}

// Ratio is the equipment level of one establishment, commune or
// collectivité.
type Ratio struct {
	Level string `json:"level"` // establishment, commune, authority
	Code  string `json:"code"`
	Name  string `json:"name"`
	// SchoolYear is the enrolment year used (the latest per school).
	SchoolYear   string `json:"school_year,omitempty"`
	Pupils       int    `json:"pupils"`
	Classes      int    `json:"classes"`
	PupilDevices int    `json:"pupil_devices"`
	Boards       int    `json:"boards"`
	Devices      int    `json:"devices"`
	OverLifetime int    `json:"over_lifetime"`
	// PupilsPerDevice is pupils / pupil devices (0 when either is
	// unknown); BoardsPerClass boards / classes; OverLifetimeShare the
	// share of active devices older than their type's lifetime.
	PupilsPerDevice   float64 `json:"pupils_per_device"`
	BoardsPerClass    float64 `json:"boards_per_class"`
	OverLifetimeShare float64 `json:"over_lifetime_share"`
}

func (r *Ratio) compute() {
	r.PupilsPerDevice, r.BoardsPerClass, r.OverLifetimeShare = 0, 0, 0
	if r.PupilDevices > 0 && r.Pupils > 0 {
		r.PupilsPerDevice = round2(float64(r.Pupils) / float64(r.PupilDevices))
	}
	if r.Classes > 0 {
		r.BoardsPerClass = round2(float64(r.Boards) / float64(r.Classes))
	}
	if r.Devices > 0 {
		r.OverLifetimeShare = round2(float64(r.OverLifetime) / float64(r.Devices))
	}
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Ratios is the equipment level per school, commune and collectivité.
type Ratios struct {
	Establishments []Ratio `json:"establishments"`
	Communes       []Ratio `json:"communes"`
	Authorities    []Ratio `json:"authorities"`
}

// Ratios computes the equipment ratios of the establishments in the
// caller's scope that have at least one asset (a directory of thousands of
// schools without inventory would only add empty lines). The fleet is read
// grouped by the database (Figures), not asset by asset.
func (s *Service) Ratios(ctx context.Context, p *auth.Principal, uai string) (Ratios, error) {
	figs, err := s.Figures(ctx, p, uai)
	if err != nil {
		return Ratios{}, err
	}
	return s.RatiosOf(ctx, figs)
}

// RatiosOf computes the ratios from figures the caller read with Figures
// (already in its scope), so that a caller needing both reads the fleet
// once.
func (s *Service) RatiosOf(ctx context.Context, figs Figures) (Ratios, error) {
	type school struct {
		Ratio
		orgID                                    int64
		communeCode, communeName, authName, auth string
	}
	schools := map[string]*school{}
	var order []string
	for _, f := range figs.Rows {
		sc := schools[f.UAI]
		if sc == nil {
			sc = &school{Ratio: Ratio{Level: "establishment", Code: f.UAI, Name: f.Name}, orgID: f.EstablishmentID}
			schools[f.UAI] = sc
			order = append(order, f.UAI)
		}
		sc.Devices += f.Devices
		sc.PupilDevices += f.PupilDevices
		sc.Boards += f.Boards
		sc.OverLifetime += f.OverLifetime
	}
	if len(order) == 0 {
		return Ratios{Establishments: []Ratio{}, Communes: []Ratio{}, Authorities: []Ratio{}}, nil
	}
	// Latest school year per school; the source files overlap (école,
	// collège, second degré), so the largest figure of that year is kept
	// rather than a sum.
	args := make([]any, len(order))
	for i, u := range order {
		args[i] = u
	}
	rows, err := s.db.QueryContext(ctx, `SELECT uai, school_year, MAX(pupils), COALESCE(MAX(classes), 0) FROM enrolments
		WHERE uai IN (`+db.Placeholders(len(args))+`) GROUP BY uai, school_year`, args...)
	if err != nil {
		return Ratios{}, fmt.Errorf("enrolments: %w", err)
	}
	for rows.Next() {
		var u, year string
		var pupils, classes int
		if err := rows.Scan(&u, &year, &pupils, &classes); err != nil {
			rows.Close()
			return Ratios{}, err
		}
		if sc := schools[u]; sc != nil && year > sc.SchoolYear {
			sc.SchoolYear, sc.Pupils, sc.Classes = year, pupils, classes
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Ratios{}, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT e.uai, e.commune_code, e.commune_name, COALESCE(r.authority_id, 0), COALESCE(ao.name, '')
		FROM establishments e LEFT JOIN responsibilities r ON r.establishment_id = e.org_id AND r.domain = 'maintenance'
		LEFT JOIN organizations ao ON ao.id = r.authority_id WHERE e.uai IN (`+db.Placeholders(len(args))+`)`, args...)
	if err != nil {
		return Ratios{}, fmt.Errorf("communes and authorities: %w", err)
	}
	for rows.Next() {
		var u, cc, cn, an string
		var aid int64
		if err := rows.Scan(&u, &cc, &cn, &aid, &an); err != nil {
			rows.Close()
			return Ratios{}, err
		}
		if sc := schools[u]; sc != nil {
			sc.communeCode, sc.communeName, sc.authName = cc, cn, an
			if aid != 0 {
				sc.auth = strconv.FormatInt(aid, 10)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Ratios{}, err
	}
	out := Ratios{Establishments: []Ratio{}, Communes: []Ratio{}, Authorities: []Ratio{}}
	communes, auths := map[string]*Ratio{}, map[string]*Ratio{}
	addTo := func(m map[string]*Ratio, level, code, name string, r Ratio) {
		if code == "" {
			return
		}
		g := m[code]
		if g == nil {
			g = &Ratio{Level: level, Code: code, Name: name}
			m[code] = g
		}
		g.Pupils += r.Pupils
		g.Classes += r.Classes
		g.PupilDevices += r.PupilDevices
		g.Boards += r.Boards
		g.Devices += r.Devices
		g.OverLifetime += r.OverLifetime
	}
	for _, u := range order {
		sc := schools[u]
		sc.compute()
		out.Establishments = append(out.Establishments, sc.Ratio)
		addTo(communes, "commune", sc.communeCode, sc.communeName, sc.Ratio)
		addTo(auths, "authority", sc.auth, sc.authName, sc.Ratio)
	}
	flatten := func(m map[string]*Ratio) []Ratio {
		res := []Ratio{}
		for _, r := range m {
			r.compute()
			res = append(res, *r)
		}
		sort.Slice(res, func(i, j int) bool { return res[i].Code < res[j].Code })
		return res
	}
	out.Communes, out.Authorities = flatten(communes), flatten(auths)
	return out, nil
}

// Pages write ratios the French way: decimal comma, percentages.
func frDecimal(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', 2, 64), ".", ",", 1)
}

// PupilsPerDeviceText is PupilsPerDevice for pages ("—" when unknown).
func (r Ratio) PupilsPerDeviceText() string {
	if r.PupilsPerDevice == 0 {
		return "—"
	}
	return frDecimal(r.PupilsPerDevice)
}

// BoardsPerClassText is BoardsPerClass for pages.
func (r Ratio) BoardsPerClassText() string {
	if r.Classes == 0 {
		return "—"
	}
	return frDecimal(r.BoardsPerClass)
}

// OverLifetimePercent is OverLifetimeShare as a percentage.
func (r Ratio) OverLifetimePercent() string {
	return strconv.Itoa(int(r.OverLifetimeShare*100+0.5)) + "\u00a0%"
}

// checkUAI fails with 404 when a filter names an establishment that does
// not exist or lies outside the caller's fleet scope, rather than
// answering an empty result that would confirm nothing.
func (s *Service) checkUAI(ctx context.Context, p *auth.Principal, uai string) error {
	if uai == "" {
		return nil
	}
	orgID, err := s.store.EstablishmentByUAI(ctx, s.db, uai)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.inScope(ctx, p, auth.PermFleetRead, orgID)) {
		return problem.NotFound("Établissement")
	}
	return err
}
