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

// ValidateWeights refuses weights that do not make sense, with a message
// saying why: unknown factors, negative, not finite or above 100, or all
// zero (nothing would be ranked).
func ValidateWeights(w Weights) error {
	known := map[Factor]bool{}
	for _, f := range factorList {
		known[f] = true
	}
	sum := 0.0
	for f, v := range w {
		if !known[f] {
			return problem.Invalid("invalid_weights", "Critère de priorité inconnu : "+string(f)+".").Field(string(f), "Critère inconnu.")
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return problem.Invalid("invalid_weights", "Le poids de « "+f.Label()+" » n'est pas un nombre.").Field(string(f), "Nombre attendu.")
		}
		if v < 0 {
			return problem.Invalid("invalid_weights", "Le poids de « "+f.Label()+" » est négatif : un poids va de 0 (ignoré) à 100.").Field(string(f), "Poids négatif.")
		}
		if v > 100 {
			return problem.Invalid("invalid_weights", "Le poids de « "+f.Label()+" » dépasse 100 : un poids va de 0 (ignoré) à 100.").Field(string(f), "Poids trop grand.")
		}
		sum += v
	}
	if sum <= 0 {
		return problem.Invalid("invalid_weights", "Tous les poids sont nuls : donnez un poids à au moins un critère, sinon aucun établissement ne peut être classé.").Field(string(FactorGap), "Au moins un poids non nul.")
	}
	return nil
}

// Weights returns the weights of a collectivité (orgID 0: the territory's
// default), falling back to the defaults.
func (s *Service) Weights(ctx context.Context, p *auth.Principal, orgID int64) (Weights, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	return s.weights(ctx, orgID)
}

func (s *Service) weights(ctx context.Context, orgID int64) (Weights, error) {
	w, ok, err := s.store.Weights(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if !ok && orgID != 0 {
		w, ok, err = s.store.Weights(ctx, 0)
		if err != nil {
			return nil, err
		}
	}
	if !ok {
		return DefaultWeights(), nil
	}
	return w, nil
}

// SetWeights records a collectivité's weights: plan.manage on that
// collectivité (orgID 0, the territory default: on the whole platform).
func (s *Service) SetWeights(ctx context.Context, p *auth.Principal, orgID int64, w Weights) (Weights, error) {
	if err := needManage(p); err != nil {
		return nil, err
	}
	if orgID == 0 {
		if !p.Global(auth.PermPlanManage) {
			return nil, problem.Forbidden()
		}
	} else if in, err := s.scopeIDs(ctx, p, auth.PermPlanManage, []int64{orgID}); err != nil {
		return nil, err
	} else if !in[orgID] {
		return nil, problem.NotFound("Collectivité")
	}
	if err := ValidateWeights(w); err != nil {
		return nil, err
	}
	full := Weights{}
	for _, f := range factorList {
		full[f] = w[f]
	}
	if err := s.store.SetWeights(ctx, s.db, orgID, full, s.now().UTC()); err != nil {
		return nil, fmt.Errorf("set weights: %w", err)
	}
	return full, nil
}

// FactorScore explains one factor of a score.
type FactorScore struct {
	Factor Factor  `json:"factor"`
	Label  string  `json:"label"`
	Value  float64 `json:"value"` // 0 to 1
	Weight float64 `json:"weight"`
	Points float64 `json:"points"` // contribution to the score out of 100
	Why    string  `json:"why"`
}

// Ranked is one establishment in the priority list.
type Ranked struct {
	Rank        int           `json:"rank"`
	UAI         string        `json:"uai"`
	Name        string        `json:"name"`
	CommuneCode string        `json:"commune_code"`
	CommuneName string        `json:"commune_name"`
	Priority    string        `json:"priority"`
	Score       float64       `json:"score"`
	Factors     []FactorScore `json:"factors"`
	GapShare    float64       `json:"gap_share"`
	CostCents   int64         `json:"cost_cents"`
	Lat         *float64      `json:"latitude,omitempty"`
	Lon         *float64      `json:"longitude,omitempty"`
}

// EquityRow compares a commune with the territory.
type EquityRow struct {
	CommuneCode    string  `json:"commune_code"`
	CommuneName    string  `json:"commune_name"`
	Establishments int     `json:"establishments"`
	MeanScore      float64 `json:"mean_score"`
	MeanGapShare   float64 `json:"mean_gap_share"`
	CostCents      int64   `json:"cost_cents"`
	// Distance is the commune's mean gap share minus the territory's, in
	// percentage points: positive means further from the target.
	Distance float64 `json:"distance_points"`
}

// Priorities is the ranked list and the equity view.
type Priorities struct {
	Target        Target      `json:"target"`
	Weights       Weights     `json:"weights"`
	Ranked        []Ranked    `json:"ranked"`
	Equity        []EquityRow `json:"equity"`
	TerritoryMean float64     `json:"territory_mean_gap_share"`
}

// Priorities ranks the establishments in scope against a target with the
// weights of a collectivité (0: the territory's).
func (s *Service) Priorities(ctx context.Context, p *auth.Principal, targetID, weightsOrg int64) (Priorities, error) {
	if err := needRead(p); err != nil {
		return Priorities{}, err
	}
	t, err := s.target(ctx, targetID)
	if err != nil {
		return Priorities{}, err
	}
	w, err := s.weights(ctx, weightsOrg)
	if err != nil {
		return Priorities{}, err
	}
	snap, err := s.load(ctx, p, needsAges(t))
	if err != nil {
		return Priorities{}, err
	}
	g, err := s.gap(ctx, p, snap, t)
	if err != nil {
		return Priorities{}, err
	}
	return s.rank(snap, g, w), nil
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func (s *Service) rank(snap *snapshot, g GapResult, w Weights) Priorities {
	out := Priorities{Target: g.Target, Weights: w, Ranked: []Ranked{}, Equity: []EquityRow{}}
	perCommune := map[string]int{}
	for _, sc := range snap.schools {
		perCommune[sc.CommuneCode]++
	}
	total := 0.0
	for _, f := range factorList {
		total += w[f]
	}
	for _, row := range g.Rows {
		sc := snap.byUAI[row.UAI]
		known := row.Applicable - row.MissingData
		gapShare := 0.0
		gapWhy := "aucune donnée connue pour les critères de la cible"
		if known > 0 {
			gapShare = float64(known-row.Met) / float64(known)
			gapWhy = fmt.Sprintf("%d critère(s) non atteint(s) sur %d renseigné(s)", known-row.Met, known)
			if row.MissingData > 0 {
				gapWhy += fmt.Sprintf(" ; %d sans donnée", row.MissingData)
			}
		}
		vals := map[Factor]float64{FactorGap: gapShare}
		why := map[Factor]string{FactorGap: gapWhy}
		switch sc.Priority {
		case "REP+":
			vals[FactorREP], why[FactorREP] = 1, "REP+"
		case "REP":
			vals[FactorREP], why[FactorREP] = 0.5, "REP (moitié du poids, REP+ le plein)"
		default:
			why[FactorREP] = "hors éducation prioritaire"
		}
		if rural, ok := snap.rural[sc.CommuneCode]; ok {
			if rural {
				vals[FactorRural], why[FactorRural] = 1, "commune déclarée rurale"
			} else {
				why[FactorRural] = "commune déclarée non rurale"
			}
		} else if perCommune[sc.CommuneCode] <= 2 {
			vals[FactorRural], why[FactorRural] = 1, fmt.Sprintf("estimée rurale : %d établissement(s) dans la commune (non déclarée)", perCommune[sc.CommuneCode])
		} else {
			why[FactorRural] = fmt.Sprintf("estimée non rurale : %d établissements dans la commune (non déclarée)", perCommune[sc.CommuneCode])
		}
		if v, ok := sc.declared[MetricConnection]; ok {
			vals[FactorConnectivity] = 1 - math.Min(v, 100)/100
			why[FactorConnectivity] = fmt.Sprintf("débit déclaré %s Mbit/s (100 Mbit/s ou plus : 0)", frNum(v))
		} else {
			why[FactorConnectivity] = "débit non déclaré : compté 0"
		}
		if sc.HasMaturity {
			vals[FactorSurvey] = math.Max(0, math.Min(1, (3-sc.Maturity)/2))
			why[FactorSurvey] = fmt.Sprintf("niveau moyen %s sur 3", frNum(sc.Maturity))
		} else {
			why[FactorSurvey] = "pas d'autoévaluation : compté 0"
		}
		if sc.HasFleet && sc.Devices > 0 {
			vals[FactorAge] = sc.OverLifetimeShare
			why[FactorAge] = fmt.Sprintf("%d équipement(s) sur %d au-delà de leur durée de vie", sc.OverLifetime, sc.Devices)
		} else {
			why[FactorAge] = "parc non inventorié : compté 0"
		}
		r := Ranked{UAI: row.UAI, Name: row.Name, CommuneCode: row.CommuneCode, CommuneName: row.CommuneName, Priority: row.Priority,
			GapShare: math.Round(gapShare*1000) / 1000, CostCents: row.CostCents, Lat: sc.Lat, Lon: sc.Lon}
		score := 0.0
		for _, f := range factorList {
			pts := 0.0
			if total > 0 {
				pts = 100 * w[f] * vals[f] / total
			}
			score += pts
			r.Factors = append(r.Factors, FactorScore{Factor: f, Label: f.Label(), Value: math.Round(vals[f]*1000) / 1000, Weight: w[f], Points: round1(pts), Why: why[f]})
		}
		r.Score = round1(score)
		out.Ranked = append(out.Ranked, r)
	}
	sort.SliceStable(out.Ranked, func(i, j int) bool {
		if out.Ranked[i].Score != out.Ranked[j].Score {
			return out.Ranked[i].Score > out.Ranked[j].Score
		}
		return out.Ranked[i].UAI < out.Ranked[j].UAI
	})
	type acc struct {
		EquityRow
		score, gap float64
	}
	communes := map[string]*acc{}
	sumGap := 0.0
	for i := range out.Ranked {
		r := &out.Ranked[i]
		r.Rank = i + 1
		a := communes[r.CommuneCode]
		if a == nil {
			a = &acc{EquityRow: EquityRow{CommuneCode: r.CommuneCode, CommuneName: r.CommuneName}}
			communes[r.CommuneCode] = a
		}
		a.Establishments++
		a.score += r.Score
		a.gap += r.GapShare
		a.CostCents += r.CostCents
		sumGap += r.GapShare
	}
	if n := len(out.Ranked); n > 0 {
		out.TerritoryMean = math.Round(sumGap/float64(n)*1000) / 1000
	}
	for _, a := range communes {
		a.MeanScore = round1(a.score / float64(a.Establishments))
		a.MeanGapShare = math.Round(a.gap/float64(a.Establishments)*1000) / 1000
		a.Distance = round1((a.MeanGapShare - out.TerritoryMean) * 100)
		out.Equity = append(out.Equity, a.EquityRow)
	}
	sort.Slice(out.Equity, func(i, j int) bool {
		if out.Equity[i].Distance != out.Equity[j].Distance {
			return out.Equity[i].Distance > out.Equity[j].Distance
		}
		return out.Equity[i].CommuneName < out.Equity[j].CommuneName
	})
	return out
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return trimSuffixDot(s)
}

// frNum writes a number the French way, with a decimal comma.
func frNum(f float64) string { return strings.Replace(trimFloat(f), ".", ",", 1) }

func trimSuffixDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}
