package planning

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/territory"
)

// Default prices (cents) when neither the criterion nor the price list
// gives one: indicative market prices of the territory.
var defaultPrices = map[string]int64{
	"pupil_device":   60000,  // a pupil workstation or tablet
	"board":          300000, // an interactive board, installed
	"device_renewal": 60000,  // an average device replaced
	"lump":           0,      // declared criteria: no price unless given
}

// PriceKeys lists the price-list entries with their labels.
func PriceKeys() [][2]string {
	return [][2]string{{"pupil_device", "Poste ou tablette élève"}, {"board", "Tableau numérique interactif posé"},
		{"device_renewal", "Renouvellement d'un équipement (si le parc ne donne pas de prix)"}}
}

// school is everything the gap and the priorities know of one
// establishment, gathered once per computation.
type school struct {
	OrgID                    int64
	UAI, Name                string
	Type                     territory.Type
	Nature                   string
	Priority                 territory.Priority
	CommuneCode, CommuneName string
	AuthID                   int64
	AuthName                 string
	Lat, Lon                 *float64
	// From the fleet's ratios (the enrolments of the latest year too).
	HasFleet                                    bool
	SchoolYear                                  string
	Pupils, Classes                             int
	PupilDevices, Boards, Devices, OverLifetime int
	OverLifetimeShare                           float64
	declared                                    map[Metric]float64
	Maturity                                    float64
	HasMaturity                                 bool
}

// snapshot is the data of one computation.
type snapshot struct {
	schools []*school
	byUAI   map[string]*school
	prices  map[string]int64
	rural   map[string]bool
	// recent[N] per UAI: dated devices, devices at least N years old, and
	// their renewal cost, from the fleet's forecast with lifetime N.
	recent map[int]map[string]ageRow
	hist   map[string]*ageHist
	// raw is the fleet's age pass when load read it.
	raw *Renewals
}

type ageRow struct {
	dated, old int
	oldCost    int64
}

func (s *Service) price(snap *snapshot, key string) int64 {
	if v, ok := snap.prices[key]; ok && v > 0 {
		return v
	}
	return defaultPrices[key]
}

// needsAges reports whether some criterion asks for the devices' ages.
func needsAges(ts ...Target) bool {
	for _, t := range ts {
		for _, c := range t.Criteria {
			if c.Metric == MetricRecentDevices {
				return true
			}
		}
	}
	return false
}

type renewalsResult struct {
	r   Renewals
	err error
}

// load gathers the establishments in scope and their data. The fleet is
// read in two passes over its assets (ratios, and ages when withAges);
// they run side by side, being most of the time on a large fleet.
func (s *Service) load(ctx context.Context, p *auth.Principal, withAges bool) (*snapshot, error) {
	var ages chan renewalsResult
	if withAges {
		ages = make(chan renewalsResult, 1)
		go func() {
			r, err := s.fleet.Renewals(ctx, p, maxAge, maxAge)
			ages <- renewalsResult{r, err}
		}()
	}
	snap, err := s.loadSchools(ctx, p)
	if ages != nil {
		res := <-ages
		if err == nil && res.err != nil {
			err = fmt.Errorf("fleet ages: %w", res.err)
		}
		if err == nil {
			snap.raw = &res.r
		}
	}
	return snap, err
}

func (s *Service) loadSchools(ctx context.Context, p *auth.Principal) (*snapshot, error) {
	ests, err := s.establishments(ctx, p, auth.PermPlanRead)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{byUAI: map[string]*school{}, recent: map[int]map[string]ageRow{}}
	for _, e := range ests {
		sc := &school{OrgID: e.ID, UAI: e.UAI, Name: e.Name, Type: e.Type, Nature: e.NatureLabel, Priority: e.Priority,
			CommuneCode: e.CommuneCode, CommuneName: e.CommuneName, Lat: e.Latitude, Lon: e.Longitude}
		if e.Responsible != nil {
			sc.AuthID, sc.AuthName = e.Responsible.ID, e.Responsible.Name
		}
		snap.schools = append(snap.schools, sc)
		snap.byUAI[e.UAI] = sc
	}
	if len(snap.schools) == 0 {
		return snap, nil
	}
	ratios, err := s.fleet.EquipmentRatios(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("fleet ratios: %w", err)
	}
	for _, r := range ratios {
		sc := snap.byUAI[r.UAI]
		if sc == nil {
			continue
		}
		sc.HasFleet = true
		sc.SchoolYear, sc.Pupils, sc.Classes = r.SchoolYear, r.Pupils, r.Classes
		sc.PupilDevices, sc.Boards, sc.Devices, sc.OverLifetime = r.PupilDevices, r.Boards, r.Devices, r.OverLifetime
		sc.OverLifetimeShare = r.OverLifetimeShare
	}
	declared, err := s.store.Declared(ctx)
	if err != nil {
		return nil, err
	}
	for _, sc := range snap.schools {
		sc.declared = declared[sc.OrgID]
	}
	if snap.prices, err = s.store.Prices(ctx); err != nil {
		return nil, err
	}
	if snap.rural, err = s.store.RuralCommunes(ctx); err != nil {
		return nil, err
	}
	maturity, err := s.latestMaturity(ctx)
	if err != nil {
		return nil, err
	}
	for _, sc := range snap.schools {
		if m, ok := maturity[sc.OrgID]; ok {
			sc.Maturity, sc.HasMaturity = m, true
		}
	}
	return snap, nil
}

// maxAge is the last age bucket of the histograms (that age or more).
const maxAge = 15

// ageHist is the devices of one establishment by age in years (purchase
// year to this year; the last bucket holds maxAge years or more), with
// their replacement cost.
type ageHist struct {
	count [maxAge + 1]int
	cost  [maxAge + 1]int64
	dated int
}

// histograms reads the age of every device in one pass: the fleet's
// forecast with a maxAge-year lifetime over maxAge years puts a device
// bought a years ago in year maxAge − a (a ≥ maxAge in the first year;
// this year's purchases fall beyond the horizon and are the dated devices
// left over). One pass instead of one per age the criteria and scenarios
// ask for: on 200,000 assets each pass is most of the time.
func (s *Service) histograms(ctx context.Context, p *auth.Principal, snap *snapshot) (map[string]*ageHist, error) {
	if snap.hist != nil {
		return snap.hist, nil
	}
	var res Renewals
	if snap.raw != nil {
		res = *snap.raw
	} else {
		var err error
		if res, err = s.fleet.Renewals(ctx, p, maxAge, maxAge); err != nil {
			return nil, fmt.Errorf("fleet ages: %w", err)
		}
	}
	out := map[string]*ageHist{}
	for _, row := range res.Rows {
		sc := snap.byUAI[row.UAI]
		if sc == nil || len(row.Devices) < maxAge {
			continue
		}
		h := &ageHist{dated: sc.Devices - row.Undated}
		seen := 0
		for i := 0; i < maxAge; i++ {
			h.count[maxAge-i] += row.Devices[i]
			h.cost[maxAge-i] += row.CostCents[i]
			seen += row.Devices[i]
		}
		h.count[0] = max(h.dated-seen, 0)
		out[row.UAI] = h
	}
	snap.hist = out
	return out, nil
}

// ages gives, per establishment, the dated devices and those at least n
// years old with their renewal cost.
func (s *Service) ages(ctx context.Context, p *auth.Principal, snap *snapshot, n int) (map[string]ageRow, error) {
	if r, ok := snap.recent[n]; ok {
		return r, nil
	}
	hist, err := s.histograms(ctx, p, snap)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ageRow, len(hist))
	for u, h := range hist {
		r := ageRow{dated: h.dated}
		for a := min(n, maxAge); a <= maxAge; a++ {
			r.old += h.count[a]
			r.oldCost += h.cost[a]
		}
		out[u] = r
	}
	snap.recent[n] = out
	return out, nil
}

// renewals is the territory's renewal cost per year over years when every
// device is replaced at life years (each device once, as the fleet's
// forecast counts them): a device a years old is due in year life − a,
// those already past it in the first year.
func (s *Service) renewals(ctx context.Context, p *auth.Principal, snap *snapshot, life, years int) ([]int64, error) {
	hist, err := s.histograms(ctx, p, snap)
	if err != nil {
		return nil, err
	}
	out := make([]int64, years)
	for _, h := range hist {
		// This year's purchases have no price in the histogram: the
		// school's mean price stands in for them.
		var n int
		var c int64
		for a := 1; a <= maxAge; a++ {
			n += h.count[a]
			c += h.cost[a]
		}
		for a := 0; a <= maxAge; a++ {
			i := max(life-a, 0)
			if i >= years || h.count[a] == 0 {
				continue
			}
			cost := h.cost[a]
			if a == 0 && n > 0 {
				cost = int64(h.count[0]) * (c / int64(n))
			}
			out[i] += cost
		}
	}
	return out, nil
}

// Cell is one establishment against one criterion.
type Cell struct {
	Criterion string `json:"criterion"`
	// Current is nil when the data is missing; Missing then says which.
	Current *float64 `json:"current"`
	Target  float64  `json:"target"`
	// Gap is how far the current value is from the target, in the metric's
	// unit (0 when met).
	Gap float64 `json:"gap"`
	Met bool    `json:"met"`
	// Units are the devices to buy or renew (fleet metrics), or 1 for an
	// unmet declared criterion.
	Units     int    `json:"units"`
	CostCents int64  `json:"cost_cents"`
	Missing   string `json:"missing,omitempty"`
}

// GapRow is one establishment.
type GapRow struct {
	UAI         string `json:"uai"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Priority    string `json:"priority"`
	CommuneCode string `json:"commune_code"`
	CommuneName string `json:"commune_name"`
	Authority   string `json:"authority"`
	Cells       []Cell `json:"cells"`
	Met         int    `json:"met"`
	Applicable  int    `json:"applicable"`
	MissingData int    `json:"missing_data"`
	CostCents   int64  `json:"cost_cents"`
}

// CriterionSummary is the share of schools meeting a criterion.
type CriterionSummary struct {
	Key        string  `json:"key"`
	Label      string  `json:"label"`
	Applicable int     `json:"applicable"`
	Met        int     `json:"met"`
	Missing    int     `json:"missing"`
	Share      float64 `json:"share"` // met / (applicable - missing)
	CostCents  int64   `json:"cost_cents"`
}

// GapTotal is the gap of a commune, a collectivité or the territory.
type GapTotal struct {
	Level          string `json:"level"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	Establishments int    `json:"establishments"`
	MeetingAll     int    `json:"meeting_all"`
	MissingData    int    `json:"missing_data"`
	CostCents      int64  `json:"cost_cents"`
}

// MissingData says which data a school lacks for a criterion.
type MissingData struct {
	UAI       string `json:"uai"`
	Name      string `json:"name"`
	Criterion string `json:"criterion"`
	Data      string `json:"data"`
}

// GapResult is the gap of every establishment in scope to a target.
type GapResult struct {
	Target      Target             `json:"target"`
	Rows        []GapRow           `json:"establishments"`
	Criteria    []CriterionSummary `json:"criteria"`
	Communes    []GapTotal         `json:"communes"`
	Authorities []GapTotal         `json:"authorities"`
	Territory   GapTotal           `json:"territory"`
	Missing     []MissingData      `json:"missing"`
}

// applies reports whether a criterion concerns a school.
func (c Criterion) applies(sc *school) bool {
	if c.EstablishmentType != "" && string(sc.Type) != c.EstablishmentType {
		return false
	}
	if c.Level != "" && !strings.Contains(strings.ToUpper(sc.Nature), strings.ToUpper(c.Level)) {
		return false
	}
	switch c.Priority {
	case "REP", "REP+":
		return string(sc.Priority) == c.Priority
	case "any":
		return sc.Priority != territory.PriorityNone
	case "none":
		return sc.Priority == territory.PriorityNone
	}
	return true
}

const eps = 1e-9

// evaluate computes one cell.
func (s *Service) evaluate(ctx context.Context, p *auth.Principal, snap *snapshot, c Criterion, sc *school) (Cell, error) {
	cell := Cell{Criterion: c.Key, Target: c.Threshold}
	info, _ := c.Metric.Info()
	set := func(v float64) {
		v = math.Round(v*100) / 100
		cell.Current = &v
		if info.AtMost {
			cell.Met = v <= c.Threshold+eps
			cell.Gap = math.Max(0, v-c.Threshold)
		} else {
			cell.Met = v >= c.Threshold-eps
			cell.Gap = math.Max(0, c.Threshold-v)
		}
		cell.Gap = math.Round(cell.Gap*100) / 100
	}
	priced := func(key string) int64 {
		if c.UnitPriceCents > 0 {
			return c.UnitPriceCents
		}
		return s.price(snap, key)
	}
	switch c.Metric {
	case MetricPupilsPerDevice:
		switch {
		case !sc.HasFleet:
			cell.Missing = "inventaire du parc (aucun équipement enregistré)"
		case sc.SchoolYear == "" || sc.Pupils == 0:
			cell.Missing = "effectifs d'élèves"
		case sc.PupilDevices == 0:
			// No pupil device at all: the ratio is infinite, which is a
			// known value (the gap is every device), not missing data.
			v := float64(sc.Pupils)
			cell.Current = &v
			cell.Gap = v - c.Threshold
		default:
			set(float64(sc.Pupils) / float64(sc.PupilDevices))
		}
		if cell.Current != nil && c.Threshold > 0 {
			need := int(math.Ceil(float64(sc.Pupils)/c.Threshold-eps)) - sc.PupilDevices
			cell.Met = need <= 0
			if need > 0 {
				cell.Units = need
				cell.CostCents = int64(need) * priced("pupil_device")
			}
		}
	case MetricBoardsPerClass:
		switch {
		case !sc.HasFleet:
			cell.Missing = "inventaire du parc (aucun équipement enregistré)"
		case sc.Classes == 0:
			cell.Missing = "nombre de classes"
		default:
			set(float64(sc.Boards) / float64(sc.Classes))
			need := int(math.Ceil(c.Threshold*float64(sc.Classes)-eps)) - sc.Boards
			cell.Met = need <= 0
			if need > 0 {
				cell.Units = need
				cell.CostCents = int64(need) * priced("board")
			}
		}
	case MetricRecentDevices:
		if !sc.HasFleet {
			cell.Missing = "inventaire du parc (aucun équipement enregistré)"
			break
		}
		n := c.Param
		if n <= 0 {
			n = 6
		}
		ages, err := s.ages(ctx, p, snap, n)
		if err != nil {
			return cell, err
		}
		a, ok := ages[sc.UAI]
		if !ok || a.dated <= 0 {
			cell.Missing = "dates d'achat des équipements"
			break
		}
		young := a.dated - a.old
		set(float64(young) / float64(a.dated))
		need := int(math.Ceil(c.Threshold*float64(a.dated)-eps)) - young
		cell.Met = need <= 0
		if need > 0 {
			cell.Units = need
			unit := c.UnitPriceCents
			if unit <= 0 && a.old > 0 && a.oldCost > 0 {
				unit = a.oldCost / int64(a.old) // the fleet's own renewal price
			}
			if unit <= 0 {
				unit = s.price(snap, "device_renewal")
			}
			cell.CostCents = int64(need) * unit
		}
	case MetricMaturity:
		if !sc.HasMaturity {
			cell.Missing = "réponse à l'autoévaluation de maturité numérique"
			break
		}
		set(sc.Maturity)
		if !cell.Met {
			cell.Units = 1
			cell.CostCents = priced("lump")
		}
	default:
		v, ok := sc.declared[c.Metric]
		if !ok {
			cell.Missing = info.Missing
			if cell.Missing == "" {
				cell.Missing = "valeur déclarée « " + string(c.Metric) + " »"
			}
			break
		}
		set(v)
		if !cell.Met {
			cell.Units = 1
			cell.CostCents = priced("lump")
		}
	}
	return cell, nil
}

// Gap computes the gap of every establishment in the caller's scope to a
// target.
func (s *Service) Gap(ctx context.Context, p *auth.Principal, targetID int64) (GapResult, error) {
	if err := needRead(p); err != nil {
		return GapResult{}, err
	}
	t, err := s.target(ctx, targetID)
	if err != nil {
		return GapResult{}, err
	}
	snap, err := s.load(ctx, p, needsAges(t))
	if err != nil {
		return GapResult{}, err
	}
	return s.gap(ctx, p, snap, t)
}

func (s *Service) target(ctx context.Context, id int64) (Target, error) {
	t, err := s.store.Target(ctx, id)
	if isNoRows(err) {
		return t, problem.NotFound("Cible")
	}
	return t, err
}

func (s *Service) gap(ctx context.Context, p *auth.Principal, snap *snapshot, t Target) (GapResult, error) {
	res := GapResult{Target: t, Rows: []GapRow{}, Missing: []MissingData{}, Territory: GapTotal{Level: "territory", Name: "Territoire"}}
	sums := make([]CriterionSummary, len(t.Criteria))
	for i, c := range t.Criteria {
		sums[i] = CriterionSummary{Key: c.Key, Label: c.Label}
	}
	communes, auths := map[string]*GapTotal{}, map[string]*GapTotal{}
	add := func(m map[string]*GapTotal, level, code, name string, r GapRow) {
		if code == "" {
			code, name = "-", "Non rattaché"
		}
		g := m[code]
		if g == nil {
			g = &GapTotal{Level: level, Code: code, Name: name}
			m[code] = g
		}
		g.Establishments++
		g.CostCents += r.CostCents
		if r.MissingData > 0 {
			g.MissingData++
		} else if r.Met == r.Applicable {
			g.MeetingAll++
		}
	}
	for _, sc := range snap.schools {
		row := GapRow{UAI: sc.UAI, Name: sc.Name, Type: string(sc.Type), Priority: string(sc.Priority), CommuneCode: sc.CommuneCode,
			CommuneName: sc.CommuneName, Authority: sc.AuthName, Cells: []Cell{}}
		for i, c := range t.Criteria {
			if !c.applies(sc) {
				continue
			}
			cell, err := s.evaluate(ctx, p, snap, c, sc)
			if err != nil {
				return res, err
			}
			row.Applicable++
			sums[i].Applicable++
			switch {
			case cell.Missing != "":
				row.MissingData++
				sums[i].Missing++
				res.Missing = append(res.Missing, MissingData{UAI: sc.UAI, Name: sc.Name, Criterion: c.Label, Data: cell.Missing})
			case cell.Met:
				row.Met++
				sums[i].Met++
			}
			row.CostCents += cell.CostCents
			sums[i].CostCents += cell.CostCents
			row.Cells = append(row.Cells, cell)
		}
		if row.Applicable == 0 {
			continue
		}
		res.Rows = append(res.Rows, row)
		add(communes, "commune", sc.CommuneCode, sc.CommuneName, row)
		authCode := ""
		if sc.AuthID != 0 {
			authCode = strconv.FormatInt(sc.AuthID, 10)
		}
		add(auths, "authority", authCode, sc.AuthName, row)
		terr := map[string]*GapTotal{"t": &res.Territory}
		add(terr, "territory", "t", "Territoire", row)
	}
	res.Territory.Code = ""
	for i := range sums {
		if known := sums[i].Applicable - sums[i].Missing; known > 0 {
			sums[i].Share = math.Round(float64(sums[i].Met)/float64(known)*1000) / 1000
		}
	}
	res.Criteria = sums
	res.Communes, res.Authorities = flattenTotals(communes), flattenTotals(auths)
	return res, nil
}

func flattenTotals(m map[string]*GapTotal) []GapTotal {
	out := make([]GapTotal, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// CriterionShare counts the establishments under orgID (in the caller's
// scope) that meet a criterion of a target, among those it applies to and
// whose data is known. It feeds the governance indicators.
func (s *Service) CriterionShare(ctx context.Context, p *auth.Principal, targetID int64, criterionKey string, orgID int64) (met, total int, err error) {
	if err := needRead(p); err != nil {
		return 0, 0, err
	}
	t, err := s.target(ctx, targetID)
	if err != nil {
		return 0, 0, err
	}
	var crit *Criterion
	for i := range t.Criteria {
		if t.Criteria[i].Key == criterionKey {
			crit = &t.Criteria[i]
		}
	}
	if crit == nil {
		return 0, 0, problem.NotFound("Critère")
	}
	under, err := s.descendants(ctx, orgID)
	if err != nil {
		return 0, 0, err
	}
	snap, err := s.load(ctx, p, crit.Metric == MetricRecentDevices)
	if err != nil {
		return 0, 0, err
	}
	for _, sc := range snap.schools {
		if !under[sc.OrgID] || !crit.applies(sc) {
			continue
		}
		cell, err := s.evaluate(ctx, p, snap, *crit, sc)
		if err != nil {
			return 0, 0, err
		}
		if cell.Missing != "" {
			continue
		}
		total++
		if cell.Met {
			met++
		}
	}
	return met, total, nil
}

// isNotFound reports a 404 problem.
func isNotFound(err error) bool {
	pe, ok := problem.As(err)
	return ok && pe.Status == 404
}
