package planning

import (
	"strings"
	"testing"

	"socle/internal/platform/auth"
)

// Named schools of the real Ille-et-Vilaine data (2022 enrolments, the
// latest year of the file).
const (
	uaiChevre    = "0350103X" // École élémentaire publique le Chevré, Acigné: 289 pupils, 12 classes
	uaiGuillevic = "0352199A" // École élémentaire publique Guillevic, Rennes, REP+: 259 pupils, 16 classes
	uaiVolga     = "0352258P" // École élémentaire publique Volga, Rennes, REP+: no fleet generated
)

func acceptanceTarget() Target {
	return Target{Name: "Cible écoles", Status: TargetCurrent, Criteria: []Criterion{
		{Key: "postes", EstablishmentType: "ecole", Metric: MetricPupilsPerDevice, Threshold: 5},
		{Key: "tni", EstablishmentType: "ecole", Metric: MetricBoardsPerClass, Threshold: 1},
		{Key: "age", EstablishmentType: "ecole", Metric: MetricRecentDevices, Param: 6, Threshold: 0.8},
		{Key: "thd", EstablishmentType: "ecole", Metric: MetricConnection, Threshold: 100, UnitPriceCents: 150000},
	}}
}

func cellOf(t *testing.T, g GapResult, uai, key string) (GapRow, Cell) {
	t.Helper()
	for _, r := range g.Rows {
		if r.UAI != uai {
			continue
		}
		for _, c := range r.Cells {
			if c.Criterion == key {
				return r, c
			}
		}
		t.Fatalf("%s has no cell %s", uai, key)
	}
	t.Fatalf("%s is not in the gap", uai)
	return GapRow{}, Cell{}
}

func val(c Cell) float64 {
	if c.Current == nil {
		return -1
	}
	return *c.Current
}

// The gap and the priorities on the real Ille-et-Vilaine data with a
// generated fleet, checked by hand for named schools.
func TestAcceptanceIlleEtVilaine(t *testing.T) {
	f := newFx(t)
	f.ille(uaiVolga)
	sys := auth.System()
	tg, err := f.svc.CreateTarget(f.ctx, sys, acceptanceTarget())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDeclared(f.ctx, sys, uaiChevre, MetricConnection, 30); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"35001", "35238"} { // Acigné, Rennes
		if err := f.svc.SetRural(f.ctx, sys, c, false); err != nil {
			t.Fatal(err)
		}
	}
	g, err := f.svc.Gap(f.ctx, sys, tg.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Le Chevré: n = 350103, n mod 3 = 0, n mod 4 = 3.
	// Workstations 12×1 = 12, boards 12 − 3 = 9, 21 devices.
	// Pupils per device 289/12 = 24.08; to reach 5: ⌈289/5⌉ = 58 − 12 = 46
	// devices × 600 € (price list) = 27 600 €.
	// Boards per class 9/12 = 0.75; 3 boards × 3 000 € = 9 000 €.
	// Devices under 6 years: device i bought (i mod 8) years ago, 6 years
	// or more when i mod 8 ∈ {6, 7}: i = 6, 7, 14, 15 → 4 old, 17 young,
	// 17/21 = 0.81 ≥ 0.8: met.
	// Connection declared 30 < 100: not met, gap 70, lump 1 500 €.
	// Total 27 600 + 9 000 + 1 500 = 38 100 €.
	row, c := cellOf(t, g, uaiChevre, "postes")
	if val(c) != 24.08 || c.Met || c.Units != 46 || c.CostCents != 2760000 {
		t.Errorf("Chevré postes = %v met=%v units=%d cost=%d", val(c), c.Met, c.Units, c.CostCents)
	}
	if _, c = cellOf(t, g, uaiChevre, "tni"); val(c) != 0.75 || c.Units != 3 || c.CostCents != 900000 {
		t.Errorf("Chevré tni = %v units=%d cost=%d", val(c), c.Units, c.CostCents)
	}
	if _, c = cellOf(t, g, uaiChevre, "age"); val(c) != 0.81 || !c.Met || c.CostCents != 0 {
		t.Errorf("Chevré age = %v met=%v cost=%d", val(c), c.Met, c.CostCents)
	}
	if _, c = cellOf(t, g, uaiChevre, "thd"); val(c) != 30 || c.Met || c.Gap != 70 || c.CostCents != 150000 {
		t.Errorf("Chevré thd = %v met=%v gap=%v cost=%d", val(c), c.Met, c.Gap, c.CostCents)
	}
	if row.CostCents != 3810000 || row.Met != 1 || row.Applicable != 4 || row.MissingData != 0 {
		t.Errorf("Chevré row: cost=%d met=%d/%d missing=%d", row.CostCents, row.Met, row.Applicable, row.MissingData)
	}

	// Guillevic: n = 352199, n mod 3 = 2, n mod 4 = 3.
	// Workstations 16×3 = 48, boards 13, 61 devices.
	// 259/48 = 5.40; ⌈259/5⌉ = 52 − 48 = 4 × 600 € = 2 400 €.
	// 13/16 = 0.81; 3 boards = 9 000 €.
	// Old devices (i mod 8 ∈ {6, 7}, i < 61): 14, of which 12 workstations
	// (i < 48) and 2 boards (54, 55); young 47/61 = 0.77 < 0.8;
	// ⌈0.8×61⌉ = 49 − 47 = 2 devices at the fleet's renewal price of the
	// old ones, (12×700 + 2×3 000)/14 = 1 028,57 € → 2 × 102 857 c.
	// Connection not declared: missing, never zero.
	row, c = cellOf(t, g, uaiGuillevic, "postes")
	if val(c) != 5.4 || c.Units != 4 || c.CostCents != 240000 {
		t.Errorf("Guillevic postes = %v units=%d cost=%d", val(c), c.Units, c.CostCents)
	}
	if _, c = cellOf(t, g, uaiGuillevic, "tni"); val(c) != 0.81 || c.Units != 3 {
		t.Errorf("Guillevic tni = %v units=%d", val(c), c.Units)
	}
	if _, c = cellOf(t, g, uaiGuillevic, "age"); val(c) != 0.77 || c.Met || c.Units != 2 || c.CostCents != 205714 {
		t.Errorf("Guillevic age = %v met=%v units=%d cost=%d", val(c), c.Met, c.Units, c.CostCents)
	}
	if _, c = cellOf(t, g, uaiGuillevic, "thd"); c.Current != nil || c.Missing != "débit de connexion déclaré" || c.Met {
		t.Errorf("Guillevic thd = %+v", c)
	}
	if row.CostCents != 1345714 || row.Met != 0 || row.MissingData != 1 {
		t.Errorf("Guillevic row: cost=%d met=%d missing=%d", row.CostCents, row.Met, row.MissingData)
	}

	// Volga has no fleet: the fleet criteria name the missing inventory.
	_, c = cellOf(t, g, uaiVolga, "postes")
	if c.Current != nil || !strings.Contains(c.Missing, "inventaire du parc") {
		t.Errorf("Volga postes = %+v", c)
	}
	found := false
	for _, m := range g.Missing {
		found = found || (m.UAI == uaiVolga && strings.Contains(m.Data, "inventaire"))
	}
	if !found {
		t.Error("Volga's missing inventory is not listed")
	}
	// Shares: every école counted once per criterion, met + unmet + missing.
	for _, cs := range g.Criteria {
		if cs.Applicable < 500 || cs.Met > cs.Applicable-cs.Missing {
			t.Errorf("criterion %s: %+v", cs.Key, cs)
		}
	}
	if g.Territory.Establishments != len(g.Rows) || len(g.Communes) < 100 {
		t.Errorf("territory %+v, %d communes", g.Territory, len(g.Communes))
	}

	// Priorities with the default weights (gap 40, REP 20, rural 10,
	// connectivity 10, survey 10, age 10; total 100).
	// Le Chevré: gap 3 unmet of 4 → 0.75 × 40 = 30; not REP; Acigné
	// declared not rural; 30 Mbit/s → 1 − 0.3 = 0.7 × 10 = 7; no survey;
	// devices past their lifetime (workstations ≥ 5 years: i mod 8 ∈
	// {5, 6, 7} → 3; boards ≥ 7 years: i = 15 → 1) 4/21 = 0.19 × 10 = 1.9.
	// Score 38.9.
	// Guillevic: 3 unmet of 3 known → 40; REP+ → 20; no connection, no
	// survey; past lifetime 18 workstations + 1 board = 19/61 = 0.31 → 3.1.
	// Score 63.1.
	pr, err := f.svc.Priorities(f.ctx, sys, tg.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]Ranked{}
	for _, r := range pr.Ranked {
		scores[r.UAI] = r
	}
	if s := scores[uaiChevre]; s.Score != 38.9 || s.Factors[0].Points != 30 || s.Factors[3].Points != 7 || s.Factors[5].Points != 1.9 {
		t.Errorf("Chevré score %v %+v", s.Score, s.Factors)
	}
	if s := scores[uaiGuillevic]; s.Score != 63.1 || s.Factors[1].Points != 20 || !strings.Contains(s.Factors[3].Why, "non déclaré") {
		t.Errorf("Guillevic score %v %+v", s.Score, s.Factors)
	}
	if scores[uaiGuillevic].Rank >= scores[uaiChevre].Rank {
		t.Errorf("Guillevic (REP+, further from the target) ranks %d, after Chevré %d", scores[uaiGuillevic].Rank, scores[uaiChevre].Rank)
	}
	if len(pr.Equity) < 100 {
		t.Errorf("equity rows: %d", len(pr.Equity))
	}
	// CriterionShare for the governance indicators: Rennes's écoles.
	met, total, err := f.svc.CriterionShare(f.ctx, sys, tg.ID, "tni", f.orgID("commune", "35238"))
	if err != nil || total < 50 || met > total {
		t.Errorf("criterion share Rennes: %d/%d %v", met, total, err)
	}
}
