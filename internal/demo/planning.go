package demo

import (
	"context"
	"fmt"
	"time"

	"socle/internal/planning"
	"socle/internal/platform/auth"
	"socle/internal/territory"
)

// WithPlanning adds the deployment plan: the target in force and the next
// one, declared connectivity and ENT values for most schools (some left
// undeclared, so the gap shows its missing data), an open self-assessment
// campaign answered by two thirds of the chef-lieu's écoles (the demo
// school head's among them, twice, to show the history), the territory's
// priority weights, a phased plan with three waves and operations of the
// five kinds, a three-year programme and two scenarios. It runs after the
// commit, through the service, so every rule applies; without the fleet
// demo the fleet criteria simply report missing data.
func WithPlanning(s *planning.Service) Option {
	return func(w *seeder) {
		if s == nil {
			return
		}
		w.extra = append(w.extra, step{name: "planning", after: func(ctx context.Context, w *seeder) error {
			return writePlanning(ctx, w, s)
		}})
	}
}

func writePlanning(ctx context.Context, w *seeder, s *planning.Service) error {
	sys := auth.System()
	crit := func(key, typ string, m planning.Metric, param int, th float64, price int64) planning.Criterion {
		return planning.Criterion{Key: key, EstablishmentType: typ, Metric: m, Param: param, Threshold: th, UnitPriceCents: price}
	}
	current, err := s.CreateTarget(ctx, sys, planning.Target{Name: "Cible 2026-2030", Status: planning.TargetCurrent,
		Description: "Socle numérique de base pour chaque école, collège et lycée du territoire.",
		Criteria: []planning.Criterion{
			crit("ecole-postes", "ecole", planning.MetricPupilsPerDevice, 0, 5, 0),
			crit("ecole-tni", "ecole", planning.MetricBoardsPerClass, 0, 1, 0),
			crit("ecole-age", "ecole", planning.MetricRecentDevices, 6, 0.8, 0),
			crit("ecole-thd", "ecole", planning.MetricConnection, 0, 100, 150000),
			crit("ecole-ent", "ecole", planning.MetricENT, 0, 1, 50000),
			crit("ecole-maturite", "ecole", planning.MetricMaturity, 0, 2, 120000),
			crit("college-postes", "college", planning.MetricPupilsPerDevice, 0, 3, 0),
			crit("college-tni", "college", planning.MetricBoardsPerClass, 0, 1, 0),
			crit("college-wifi", "college", planning.MetricWifi, 0, 0.9, 800000),
			crit("college-thd", "college", planning.MetricConnection, 0, 500, 300000),
			crit("lycee-postes", "lycee", planning.MetricPupilsPerDevice, 0, 2, 0),
			crit("lycee-age", "lycee", planning.MetricRecentDevices, 5, 0.8, 0),
			{Key: "referent-rep", Priority: "any", Metric: planning.MetricReferent, Threshold: 1, UnitPriceCents: 80000},
		}})
	if err != nil {
		return fmt.Errorf("current target: %w", err)
	}
	if _, err := s.CreateTarget(ctx, sys, planning.Target{Name: "Cible du prochain plan (2031-2035)", Status: planning.TargetNext,
		Criteria: []planning.Criterion{
			crit("ecole-postes", "ecole", planning.MetricPupilsPerDevice, 0, 3, 0),
			crit("ecole-tni", "ecole", planning.MetricBoardsPerClass, 0, 1, 0),
			crit("ecole-thd", "ecole", planning.MetricConnection, 0, 300, 150000),
			crit("college-postes", "college", planning.MetricPupilsPerDevice, 0, 2, 0),
			crit("college-wifi", "college", planning.MetricWifi, 0, 1, 800000),
		}}); err != nil {
		return fmt.Errorf("next target: %w", err)
	}
	// Declared values: four schools in five, the rest left for the survey.
	for i, sc := range w.plan.schools {
		if i%5 == 4 {
			continue
		}
		mbps := []float64{8, 30, 100, 200, 1000}[i%5]
		if sc.Type != territory.TypeEcole {
			mbps = []float64{100, 500, 1000, 200, 1000}[i%5]
		}
		if err := s.SetDeclared(ctx, sys, sc.UAI, planning.MetricConnection, mbps); err != nil {
			return fmt.Errorf("declared connection %s: %w", sc.UAI, err)
		}
		if err := s.SetDeclared(ctx, sys, sc.UAI, planning.MetricENT, float64(((i/2)%2+boolInt(i%3 == 0))%2)); err != nil {
			return fmt.Errorf("declared ENT %s: %w", sc.UAI, err)
		}
		if sc.Type != territory.TypeEcole {
			if err := s.SetDeclared(ctx, sys, sc.UAI, planning.MetricWifi, []float64{0.5, 0.95, 1, 0.7}[i%4]); err != nil {
				return fmt.Errorf("declared Wi-Fi %s: %w", sc.UAI, err)
			}
		}
		if sc.Priority != territory.PriorityNone {
			if err := s.SetDeclared(ctx, sys, sc.UAI, planning.MetricReferent, float64(i%2)); err != nil {
				return fmt.Errorf("declared referent %s: %w", sc.UAI, err)
			}
		}
	}
	for _, c := range w.plan.communes {
		if err := s.SetRural(ctx, sys, c.code, c.tier == tierVillage); err != nil {
			return fmt.Errorf("rural %s: %w", c.code, err)
		}
	}
	if _, err := s.SetWeights(ctx, sys, 0, planning.Weights{planning.FactorGap: 40, planning.FactorREP: 25, planning.FactorRural: 10,
		planning.FactorConnectivity: 10, planning.FactorSurvey: 10, planning.FactorAge: 5}); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	if err := demoSurvey(ctx, w, s, sys); err != nil {
		return err
	}
	if err := demoDeploymentPlan(ctx, w, s, sys); err != nil {
		return err
	}
	year := w.now.Year()
	for i, b := range []planning.BudgetLine{
		{Year: year, Funder: planning.FunderAuthority, Nature: "investment", Label: "Postes et tablettes des écoles (vague 1)", PlannedCents: 42000000, CommittedCents: 38000000, SpentCents: 21000000},
		{Year: year, Funder: planning.FunderState, Nature: "investment", Label: "Socle numérique dans les écoles élémentaires (appel à projets)", PlannedCents: 18000000, CommittedCents: 18000000, SpentCents: 9000000},
		{Year: year, Funder: planning.FunderAuthority, Nature: "operating", Label: "Maintenance et assistance", PlannedCents: 9500000, CommittedCents: 9500000, SpentCents: 6000000},
		{Year: year + 1, Funder: planning.FunderAuthority, Nature: "investment", Label: "Tableaux interactifs et Wi-Fi (vague 2)", PlannedCents: 61000000},
		{Year: year + 1, Funder: planning.FunderOther, Nature: "investment", Label: "Fibre des écoles rurales (fonds européens)", PlannedCents: 12000000},
		{Year: year + 1, Funder: planning.FunderAuthority, Nature: "operating", Label: "Maintenance, assistance et ENT", PlannedCents: 11000000},
		{Year: year + 2, Funder: planning.FunderAuthority, Nature: "investment", Label: "Généralisation", PlannedCents: 75000000},
		{Year: year + 2, Funder: planning.FunderAuthority, Nature: "operating", Label: "Maintenance, assistance et ENT", PlannedCents: 12500000},
	} {
		if _, err := s.AddBudgetLine(ctx, sys, b); err != nil {
			return fmt.Errorf("budget line %d: %w", i, err)
		}
	}
	for _, sc := range []planning.Scenario{
		{Name: "Renouveler à 5 ans, généraliser en 2 ans", TargetID: current.ID, RenewYears: 5, GeneraliseYears: 2, StartYear: year, Horizon: 6},
		{Name: "Renouveler à 6 ans, généraliser en 3 ans", TargetID: current.ID, RenewYears: 6, GeneraliseYears: 3, StartYear: year, Horizon: 6},
	} {
		if _, err := s.CreateScenario(ctx, sys, sc); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
	}
	return nil
}

func demoSurvey(ctx context.Context, w *seeder, s *planning.Service, sys *auth.Principal) error {
	qs, err := s.Questionnaires(ctx, sys)
	if err != nil {
		return err
	}
	var maturity, equipment planning.Questionnaire
	for _, q := range qs {
		switch q.BuiltinKey {
		case "maturity":
			maturity = q
		case "equipment":
			equipment = q
		}
	}
	head := w.plan.demoEcole()
	var ecoles, colleges []string
	for _, sc := range w.plan.schools {
		switch {
		case sc.commune == w.plan.chefLieu && sc.Type == territory.TypeEcole && sc.public():
			ecoles = append(ecoles, sc.UAI)
		case sc.Type == territory.TypeCollege && sc.public():
			colleges = append(colleges, sc.UAI)
		}
	}
	today := w.now
	opens, closes := today.AddDate(0, 0, -21).Format("2006-01-02"), today.AddDate(0, 0, 28).Format("2006-01-02")
	camp, err := s.CreateCampaign(ctx, sys, planning.Campaign{QuestionnaireID: maturity.ID, Name: "Autoévaluation " + schoolYearOf(today) + " — écoles de " + w.plan.chefLieu.name,
		OpensOn: opens, ClosesOn: closes, Establishments: ecoles})
	if err != nil {
		return fmt.Errorf("maturity campaign: %w", err)
	}
	answer := func(q planning.Questionnaire, seed int) map[string]any {
		out := map[string]any{}
		for j, qu := range q.Questions {
			key := fmt.Sprint(qu.ID)
			switch qu.Type {
			case planning.QSingle:
				out[key] = (seed + j) % len(qu.Options)
			case planning.QMultiple:
				out[key] = []any{seed % len(qu.Options)}
			case planning.QNumber:
				out[key] = float64(10 + seed%90)
			case planning.QScale:
				out[key] = float64((seed * 17) % (qu.Max + 1))
			case planning.QYesNo:
				out[key] = map[bool]string{true: "oui", false: "non"}[(seed+j)%2 == 0]
			case planning.QText:
				out[key] = "Besoin de formation au tableau interactif."
			}
		}
		return out
	}
	for i, uai := range ecoles {
		if i%3 == 2 || uai == head.UAI {
			continue // a third have not answered: the reminders list
		}
		if _, err := s.Answer(ctx, sys, camp.ID, uai, answer(maturity, i)); err != nil {
			return fmt.Errorf("answer %s: %w", uai, err)
		}
	}
	// The demo head answers twice: the first answer stays in the history.
	if id, ok := w.users["direction.ecole@demo.socle.fr"]; ok {
		hp, err := w.auth.Principal(ctx, id)
		if err != nil {
			return err
		}
		for _, seed := range []int{0, 1} {
			if _, err := s.Answer(ctx, hp, camp.ID, head.UAI, answer(maturity, seed)); err != nil {
				return fmt.Errorf("head answer: %w", err)
			}
		}
	}
	if len(colleges) > 0 {
		eq, err := s.CreateCampaign(ctx, sys, planning.Campaign{QuestionnaireID: equipment.ID, Name: "État des lieux équipement des collèges",
			OpensOn: opens, ClosesOn: closes, Establishments: colleges})
		if err != nil {
			return fmt.Errorf("equipment campaign: %w", err)
		}
		for i, uai := range colleges {
			if i%2 == 1 {
				continue
			}
			if _, err := s.Answer(ctx, sys, eq.ID, uai, answer(equipment, i+3)); err != nil {
				return fmt.Errorf("equipment answer %s: %w", uai, err)
			}
		}
	}
	return nil
}

func schoolYearOf(t time.Time) string {
	y := t.Year()
	if t.Month() < time.September {
		y--
	}
	return fmt.Sprintf("%d-%d", y, y+1)
}

func demoDeploymentPlan(ctx context.Context, w *seeder, s *planning.Service, sys *auth.Principal) error {
	pl, err := s.CreatePlan(ctx, sys, planning.Plan{Name: "Équipement des écoles de " + w.plan.chefLieu.name, Strategy: "phases",
		Description: "Postes, tableaux interactifs et Wi-Fi, d'abord dans trois écoles, puis dix écoles pilotes, puis toutes."})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	var ecoles []string
	for _, sc := range w.plan.schools {
		if sc.commune == w.plan.chefLieu && sc.Type == territory.TypeEcole && sc.public() {
			ecoles = append(ecoles, sc.UAI)
		}
	}
	if len(ecoles) < 4 {
		return nil
	}
	exp := ecoles[:3]
	pilots := ecoles[3:min(13, len(ecoles))]
	rest := ecoles[min(13, len(ecoles)):]
	y := w.now.Year()
	d := func(yy int, m time.Month, day int) string {
		return time.Date(yy, m, day, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	waves := []planning.Wave{
		{Name: "Expérimentation", Phase: "experimentation", StartsOn: d(y, 1, 5), EndsOn: d(y, 6, 30), Establishments: exp},
		{Name: "Écoles pilotes", Phase: "pilots", StartsOn: d(y, 7, 1), EndsOn: d(y+1, 2, 28), Establishments: pilots},
	}
	if len(rest) > 0 {
		waves = append(waves, planning.Wave{Name: "Généralisation", Phase: "generalisation", StartsOn: d(y+1, 3, 1), EndsOn: d(y+2, 8, 31), Establishments: rest})
	}
	for _, wv := range waves {
		if pl, err = s.AddWave(ctx, sys, pl.ID, wv); err != nil {
			return fmt.Errorf("wave %s: %w", wv.Name, err)
		}
	}
	add := func(o planning.Operation) (int64, error) {
		op, err := s.AddOperation(ctx, sys, pl.ID, o)
		if err != nil {
			return 0, fmt.Errorf("operation %s: %w", o.Title, err)
		}
		return op.ID, nil
	}
	w1, w2 := pl.Waves[0].ID, pl.Waves[1].ID
	works, err := add(planning.Operation{WaveID: w1, Kind: planning.OpWorks, Title: "Câblage et bornes Wi-Fi (expérimentation)", StartsOn: d(y, 1, 5), EndsOn: d(y, 2, 27), Owner: "Services techniques de la Ville", Status: planning.OpDone, Establishments: exp})
	if err != nil {
		return err
	}
	buy, err := add(planning.Operation{WaveID: w1, Kind: planning.OpProcurement, Title: "Commande des postes et TNI (UGAP)", StartsOn: d(y, 1, 15), EndsOn: d(y, 3, 15), Owner: "Commande publique", Status: planning.OpDone, Establishments: exp})
	if err != nil {
		return err
	}
	dep, err := add(planning.Operation{WaveID: w1, Kind: planning.OpDeployment, Title: "Installation dans les trois écoles", StartsOn: d(y, 3, 16), EndsOn: d(y, 4, 30), Owner: "Karim Benali", Status: planning.OpInProgress, DependsOn: []int64{works, buy}, Establishments: exp})
	if err != nil {
		return err
	}
	live, err := add(planning.Operation{WaveID: w1, Kind: planning.OpGoLive, Title: "Mise en service et formation des équipes", StartsOn: d(y, 5, 2), EndsOn: d(y, 5, 31), Owner: "Conseiller numérique", DependsOn: []int64{dep}, Establishments: exp})
	if err != nil {
		return err
	}
	acc, err := add(planning.Operation{WaveID: w1, Kind: planning.OpAcceptance, Title: "Recette et bilan de l'expérimentation", StartsOn: d(y, 6, 1), EndsOn: d(y, 6, 30), Owner: "Comité de pilotage", DependsOn: []int64{live}, Establishments: exp})
	if err != nil {
		return err
	}
	buy2, err := add(planning.Operation{WaveID: w2, Kind: planning.OpProcurement, Title: "Commande pour les écoles pilotes", StartsOn: d(y, 7, 1), EndsOn: d(y, 9, 15), Owner: "Commande publique", DependsOn: []int64{acc}, Establishments: pilots})
	if err != nil {
		return err
	}
	if _, err := add(planning.Operation{WaveID: w2, Kind: planning.OpDeployment, Title: "Déploiement dans les écoles pilotes", StartsOn: d(y, 10, 19), EndsOn: d(y, 11, 30), Owner: "Karim Benali", DependsOn: []int64{buy2}, Establishments: pilots}); err != nil {
		return err
	}
	return nil
}
