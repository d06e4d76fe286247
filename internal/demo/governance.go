package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"socle/internal/governance"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// WithGovernance adds two years of governance: the académie's three bodies
// and their meetings, decisions on projects proposed by schools, communes,
// the DANE and an incubator, the roadmap with its indicators and their
// history (computed from the ticket history, declared with evidence), two
// months of ENT audience and a public transparency page, so that the
// committee file of the next meeting looks like one an académie sends.
func WithGovernance(g *governance.Service) Option {
	return func(w *seeder) {
		if g == nil {
			return
		}
		w.extra = append(w.extra, step{name: "governance", after: func(ctx context.Context, w *seeder) error {
			return writeGovernance(ctx, w, g)
		}})
	}
}

// govDemo carries what the governance demo writes, step after step.
type govDemo struct {
	ctx context.Context
	w   *seeder
	g   *governance.Service
	sys *auth.Principal
	err error
}

// at runs f with the governance clock set to t, so that meetings,
// decisions and values carry their real dates.
func (d *govDemo) at(t time.Time, f func() error) {
	if d.err != nil {
		return
	}
	d.g.SetClock(func() time.Time { return t })
	d.err = f()
}

func writeGovernance(ctx context.Context, w *seeder, g *governance.Service) error {
	defer g.SetClock(time.Now)
	academy, err := w.orgID(orgKey{territory.KindAcademy, academyCode})
	if err != nil {
		return err
	}
	dane, err := w.orgID(orgKey{territory.KindDANE, academyCode})
	if err != nil {
		return err
	}
	dep, err := w.orgID(orgKey{territory.KindDepartement, departementCode})
	if err != nil {
		return err
	}
	epci, err := w.orgID(orgKey{territory.KindEPCI, epciCode})
	if err != nil {
		return err
	}
	chefLieu, err := w.orgID(orgKey{territory.KindCommune, w.plan.chefLieu.code})
	if err != nil {
		return err
	}
	ecole, err := w.orgID(orgKey{territory.KindEstablishment, w.plan.demoEcole().UAI})
	if err != nil {
		return err
	}
	d := &govDemo{ctx: ctx, w: w, g: g, sys: auth.System()}
	now := w.now
	start := time.Date(now.Year()-2, now.Month(), 1, 0, 0, 0, 0, time.UTC)

	var pilotage, strategic, coordination governance.Body
	d.at(start, func() error {
		var err error
		pilotage, err = g.CreateBody(ctx, d.sys, governance.Body{OrgID: academy, Kind: governance.BodySteering,
			Name: "Comité de pilotage du numérique éducatif", Chair: "Le recteur de l'" + academyName,
			Role: "Fixe les ambitions de la feuille de route et en suit les indicateurs de réussite.", MinPerYear: 1,
			RequiredData: "Indicateurs de la feuille de route et leur tendance\nQualité de service par commune\nAvancement du plan et budget",
			Members: []governance.Member{{Name: "Recteur de région académique", Role: "Président"}, {Name: "Directrice académique au numérique", OrgID: dane, Role: "DANE"},
				{Name: "Président du Département", OrgID: dep, Role: "Collectivité"}, {Name: "Présidente de la Métropole", OrgID: epci, Role: "Collectivité"},
				{Name: "Maire de " + w.plan.chefLieu.name, OrgID: chefLieu, Role: "Collectivité"}}})
		if err != nil {
			return err
		}
		strategic, err = g.CreateBody(ctx, d.sys, governance.Body{OrgID: academy, Kind: governance.BodyStrategic,
			Name: "Comité stratégique", Chair: "Directrice académique au numérique",
			Role: "Arbitre les projets à lancer et les budgets.", MinPerYear: 2,
			RequiredData: "Projets examinés par le comité de coordination\nIndicateurs et cibles\nBudget du programme",
			Members: []governance.Member{{Name: "Directrice académique au numérique", OrgID: dane, Role: "Présidente"},
				{Name: "Directeur des services du Département", OrgID: dep, Role: "Collectivité"},
				{Name: "Directrice du numérique de la Métropole", OrgID: epci, Role: "Collectivité"}}})
		if err != nil {
			return err
		}
		coordination, err = g.CreateBody(ctx, d.sys, governance.Body{OrgID: academy, Kind: governance.BodyCoordination,
			Name: "Comité de coordination avec les collectivités", Chair: "Chef de projet ENT de la DANE",
			Role: "Coordonne les opérations, examine les projets proposés et suit la maintenance.", MinPerYear: 4,
			RequiredData: "Projets proposés\nTickets et délais par commune\nÉtat du parc",
			Members: []governance.Member{{Name: "Chef de projet ENT", OrgID: dane, Role: "DANE"},
				{Name: "Service informatique du Département", OrgID: dep, Role: "Collectivité"},
				{Name: "Service des écoles de " + w.plan.chefLieu.name, OrgID: chefLieu, Role: "Collectivité"}}})
		return err
	})

	// The roadmap and its indicators.
	var rm governance.Roadmap
	ids := map[string]int64{}
	d.at(start, func() error {
		var err error
		rm, err = g.CreateRoadmap(ctx, d.sys, governance.Roadmap{OrgID: academy, Title: "Feuille de route du numérique éducatif",
			FirstYear: start.Year(), LastYear: now.Year() + 1})
		if err != nil {
			return err
		}
		type ind struct {
			key    string
			in     governance.Indicator
			target float64
		}
		tree := []struct {
			ambition, target, objective string
			inds                        []ind
		}{
			{"Un service numérique fiable pour chaque école", "Une assistance qui tient ses délais", "Tenir les délais promis par les conventions",
				[]ind{{"sla", governance.Indicator{Name: "Tickets résolus dans le délai promis", Definition: "Part des tickets résolus dans le délai de résolution de leur convention.",
					Unit: "%", Source: "helpdesk.sla", HigherBest: true, Frequency: governance.Monthly}, 90},
					{"satisfaction", governance.Indicator{Name: "Satisfaction des demandeurs", Definition: "Note moyenne de l'enquête envoyée à la clôture des tickets.",
						Unit: "/ 5", Source: "helpdesk.satisfaction", HigherBest: true, Frequency: governance.Quarterly}, 4.2}}},
			{"Équiper les écoles pour les apprentissages", "Un parc suffisant et renouvelé", "Réduire le nombre d'élèves par équipement",
				[]ind{{"ratio", governance.Indicator{Name: "Élèves par équipement à l'usage des élèves", Definition: "Effectif des établissements équipés divisé par leurs postes, portables et tablettes affectés aux élèves.",
					Unit: "élèves par équipement", Source: "fleet.pupils_per_device", HigherBest: false, Frequency: governance.Yearly}, 5},
					{"age", governance.Indicator{Name: "Équipements au-delà de leur durée de vie", Definition: "Part des équipements en service plus vieux que la durée de vie de leur type.",
						Unit: "%", Source: "fleet.over_lifetime_share", HigherBest: false, Frequency: governance.Yearly}, 15}}},
			{"Un ENT utilisé par toute la communauté éducative", "L'ENT ouvert et utilisé dans chaque école", "Que chaque établissement utilise l'ENT chaque mois",
				[]ind{{"ent", governance.Indicator{Name: "Établissements ayant utilisé l'ENT", Definition: "Part des établissements du territoire avec au moins une visite de l'ENT dans le mois (mesure d'audience).",
					Unit: "%", Source: "audience.active_establishments", HigherBest: true, Frequency: governance.Monthly}, 80}}},
			{"Former et accompagner", "Des enseignants formés aux usages", "Tenir les journées de formation prévues",
				[]ind{{"training", governance.Indicator{Name: "Journées de formation au numérique tenues", Definition: "Journées de formation des enseignants tenues dans le trimestre (déclarées par la DANE).",
					Unit: "journées", Source: governance.SourceDeclared, HigherBest: true, Frequency: governance.Quarterly}, 40},
					{"pix", governance.Indicator{Name: "Élèves certifiés Pix en fin de cycle 3", Definition: "Part des élèves de 6e certifiés (déclarée par les collèges, attestation Pix).",
						Unit: "%", Source: governance.SourceDeclared, HigherBest: true, Frequency: governance.Yearly}, 60}}},
		}
		for _, t := range tree {
			a, err := g.AddItem(ctx, d.sys, rm.ID, governance.RoadmapItem{Title: t.ambition})
			if err != nil {
				return err
			}
			c, err := g.AddItem(ctx, d.sys, rm.ID, governance.RoadmapItem{ParentID: a.ID, Title: t.target})
			if err != nil {
				return err
			}
			o, err := g.AddItem(ctx, d.sys, rm.ID, governance.RoadmapItem{ParentID: c.ID, Title: t.objective, Year: now.Year()})
			if err != nil {
				return err
			}
			for _, x := range t.inds {
				target := x.target
				x.in.Target = &target
				in, err := g.AddIndicator(ctx, d.sys, o.ID, x.in)
				if err != nil {
					return err
				}
				ids[x.key] = in.ID
			}
		}
		_, err = g.CreateCampaign(ctx, d.sys, governance.Campaign{IndicatorID: ids["training"], OrgID: academy, RespondentRole: string(auth.RoleAcademyObserver)})
		if err != nil {
			return err
		}
		_, err = g.CreateCampaign(ctx, d.sys, governance.Campaign{IndicatorID: ids["pix"], OrgID: academy, RespondentRole: string(auth.RoleEstablishmentHead)})
		return err
	})
	d.indicatorHistory(ids, start, now)
	d.audience(now)
	d.at(now, func() error {
		for m := now.AddDate(0, -2, 0); !m.After(now); m = m.AddDate(0, 1, 0) {
			if _, err := g.MeasureAt(ctx, ids["ent"], m); err != nil {
				return err
			}
		}
		return nil
	})

	// Projects and the meetings that decided them.
	propose := func(at time.Time, org int64, kind governance.ProposerKind, title, desc, benefits string, cost int64, indicator int64) int64 {
		var id int64
		d.at(at, func() error {
			pr, err := g.Propose(ctx, d.sys, governance.Project{OrgID: academy, ProposerOrgID: org, ProposerKind: kind, Title: title,
				Description: desc, Benefits: benefits, CostCents: cost, IndicatorID: indicator,
				Feasibility: "Étude conduite avec le service informatique de la collectivité : réalisable sur une année scolaire."})
			id = pr.ID
			return err
		})
		return id
	}
	meeting := func(b governance.Body, at time.Time, title, agenda string, held bool) int64 {
		var id int64
		title += " de " + frenchMonth(at.Month()) + " " + fmt.Sprint(at.Year())
		d.at(at.Add(-30*24*time.Hour), func() error {
			m, err := g.CreateMeeting(ctx, d.sys, governance.Meeting{BodyID: b.ID, Title: title, StartsAt: at,
				Place: "Rectorat, salle du conseil", Agenda: agenda})
			id = m.ID
			return err
		})
		if held {
			d.at(at.Add(3*time.Hour), func() error {
				var present []int64
				for i, mb := range b.Members {
					if i%4 != 3 {
						present = append(present, mb.ID)
					}
				}
				_, err := g.RecordMinutes(ctx, d.sys, id, governance.Minutes{Text: "Le comité a examiné les indicateurs de la feuille de route, la qualité de service par commune et les projets inscrits à l'ordre du jour. Relevé de décisions ci-dessous.", Present: present})
				return err
			})
		}
		return id
	}
	decide := func(meetingID int64, at time.Time, kind governance.DecisionKind, project int64, summary string, amount int64) {
		d.at(at.Add(3*time.Hour+time.Minute), func() error {
			_, err := g.RecordDecision(ctx, d.sys, meetingID, governance.Decision{Kind: kind, ProjectID: project, Summary: summary, AmountCents: amount})
			return err
		})
	}
	day := func(monthsAgo, dayOfMonth int) time.Time {
		t := now.AddDate(0, -monthsAgo, 0)
		return time.Date(t.Year(), t.Month(), dayOfMonth, 9, 30, 0, 0, time.UTC)
	}
	pTablets := propose(day(23, 2), ecole, governance.ProposerSchool, "Classe mobile de tablettes pour le cycle 3",
		"Une classe mobile de 16 tablettes partagée entre les classes de CM1 et CM2.", "Productions numériques du cycle 3, moins d'élèves par équipement.", 1_200_000, ids["ratio"])
	pWifi := propose(day(22, 5), chefLieu, governance.ProposerCommune, "Wi-Fi dans toutes les écoles de "+w.plan.chefLieu.name,
		"Bornes Wi-Fi dans chaque classe des écoles de la ville.", "Usage de l'ENT en classe.", 8_500_000, ids["ent"])
	pHelp := propose(day(21, 8), dane, governance.ProposerDANE, "Assistance de niveau 1 mutualisée",
		"Un centre d'assistance unique pour les écoles des petites communes.", "Délais de résolution tenus, meilleure satisfaction.", 3_000_000, ids["sla"])
	pRobot := propose(day(14, 3), dane, governance.ProposerIncubator, "Robots de téléprésence pour élèves empêchés",
		"Prêt de robots de téléprésence aux élèves hospitalisés.", "Continuité pédagogique.", 900_000, 0)
	pPix := propose(day(8, 10), dane, governance.ProposerDANE, "Accompagnement Pix en cycle 3",
		"Parcours de préparation à la certification Pix dans les collèges.", "Plus d'élèves certifiés en fin de cycle 3.", 400_000, ids["pix"])
	pPrint := propose(day(3, 4), ecole, governance.ProposerSchool, "Imprimante 3D pour le projet sciences",
		"Une imprimante 3D et la formation des enseignants du cycle 3.", "Projets de sciences et technologie.", 250_000, 0)
	pNet := propose(day(2, 6), chefLieu, governance.ProposerCommune, "Fibre pour les écoles de quartier",
		"Raccordement en fibre des quatre écoles encore en cuivre.", "Un ENT utilisable en classe entière.", 6_000_000, ids["ent"])

	// Two years of meetings: the coordination committee examines, the
	// strategic committee decides, the steering committee reviews.
	for year := range 2 {
		base := 24 - 12*year // months ago of the cycle's start
		c1 := meeting(coordination, day(base-3, 12), "Comité de coordination", "Bilan des opérations\nProjets proposés\nQualité de service par commune", true)
		c2 := meeting(coordination, day(base-6, 14), "Comité de coordination", "Maintenance et tickets\nÉtat du parc", true)
		s1 := meeting(strategic, day(base-4, 20), "Comité stratégique", "Projets examinés\nBudget du programme", true)
		meeting(pilotage, day(base-7, 18), "Comité de pilotage", "Feuille de route et indicateurs de réussite", true)
		s2 := meeting(strategic, day(base-9, 16), "Comité stratégique", "Suivi des projets\nCibles", true)
		if year == 0 {
			decide(c1, day(base-3, 12), governance.DecisionProjectExamined, pTablets, "Avis favorable : projet cohérent avec la cible d'équipement.", 0)
			decide(c1, day(base-3, 12), governance.DecisionProjectExamined, pWifi, "Avis favorable sous réserve du chiffrage des bornes.", 0)
			decide(c1, day(base-3, 12), governance.DecisionProjectExamined, pHelp, "Avis favorable.", 0)
			decide(s1, day(base-4, 20), governance.DecisionProjectStarted, pTablets, "Lancement pour la rentrée suivante.", 0)
			decide(s1, day(base-4, 20), governance.DecisionBudgetArbitrated, pWifi, "Budget ramené à la première tranche (écoles élémentaires).", 5_000_000)
			decide(s1, day(base-4, 20), governance.DecisionProjectPostponed, pWifi, "Ajourné dans l'attente du plan de financement de la ville.", 0)
			decide(s2, day(base-9, 16), governance.DecisionProjectStarted, pHelp, "Lancement de l'assistance mutualisée.", 0)
			_ = c2
		} else {
			decide(c1, day(base-3, 12), governance.DecisionProjectExamined, pRobot, "Avis favorable, expérimentation dans deux collèges.", 0)
			decide(c1, day(base-3, 12), governance.DecisionProjectExamined, pWifi, "Réexamen avec le plan de financement de la ville.", 0)
			decide(s1, day(base-4, 20), governance.DecisionProjectRejected, pRobot, "Refusé : relève du dispositif national de la DRANE.", 0)
			decide(s1, day(base-4, 20), governance.DecisionProjectStarted, pWifi, "Lancement de la première tranche.", 0)
			decide(c2, day(base-6, 14), governance.DecisionProjectExamined, pPix, "Avis favorable.", 0)
			d.at(day(base-9, 16).Add(3*time.Hour+time.Minute), func() error {
				_, err := g.RecordDecision(ctx, d.sys, s2, governance.Decision{Kind: governance.DecisionTargetChanged, IndicatorID: ids["sla"],
					After: "92", Summary: "Cible des délais tenus portée à 92 % avec l'assistance mutualisée"})
				return err
			})
			decide(s2, day(base-9, 16), governance.DecisionBudgetArbitrated, 0, "Enveloppe de renouvellement du parc des écoles pour l'année", 25_000_000)
			d.at(day(base-5, 2), func() error {
				_, err := g.EvaluateProject(ctx, d.sys, pTablets, "Classe mobile utilisée chaque semaine par les deux classes ; ratio élèves par équipement passé de 9 à 6 dans l'école.")
				return err
			})
		}
	}
	// This year's remaining meetings: the coordination committee falls
	// behind (an alert), the strategic committee meets in three weeks with
	// decisions awaited.
	meeting(strategic, now.AddDate(0, 0, 21).Truncate(24*time.Hour).Add(9*time.Hour+30*time.Minute), "Comité stratégique",
		"Projets examinés en attente de décision\nIndicateurs de réussite\nBudget", false)
	_, _ = pPrint, pNet
	if d.err != nil {
		return fmt.Errorf("governance demo: %w", d.err)
	}
	g.SetClock(time.Now)
	if err := g.SetTransparency(ctx, d.sys, chefLieu, true); err != nil {
		return err
	}
	return nil
}

// indicatorHistory rebuilds two years of history: the helpdesk indicators
// are measured month by month from the ticket history (the months before
// it say "no data" with the reason), the fleet ones are taken over from
// the yearly inventories, the declared ones are declared with evidence
// (one without, which the file flags).
func (d *govDemo) indicatorHistory(ids map[string]int64, start, now time.Time) {
	if d.err != nil {
		return
	}
	g, ctx := d.g, d.ctx
	d.at(now, func() error {
		for m := start; m.Before(now); m = m.AddDate(0, 1, 0) {
			if _, err := g.MeasureAt(ctx, ids["sla"], m); err != nil {
				return err
			}
			if m.Month()%3 == 0 {
				if _, err := g.MeasureAt(ctx, ids["satisfaction"], m); err != nil {
					return err
				}
			}
		}
		// The fleet has no history: this year's figure is measured, the
		// two years before are taken over from the yearly inventories,
		// which found more pupils per device and older equipment.
		past := map[string][2]float64{}
		for key, grow := range map[string][2]float64{"ratio": {1.35, 1.15}, "age": {1.4, 1.2}} {
			cur, err := g.MeasureAt(ctx, ids[key], now)
			if err != nil {
				return err
			}
			if cur.Value != nil {
				past[key] = [2]float64{math.Round(*cur.Value*grow[0]*10) / 10, math.Round(*cur.Value*grow[1]*10) / 10}
			}
		}
		for i, y := range []int{now.Year() - 2, now.Year() - 1} {
			for key, vals := range past {
				v := vals[i]
				if _, err := g.RecordHistory(ctx, governance.IndicatorValue{IndicatorID: ids[key], Period: fmt.Sprint(y), Value: &v,
					Detail: "Repris de l'inventaire annuel du parc", RecordedBy: "historique", RecordedAt: time.Date(y, 12, 31, 12, 0, 0, 0, time.UTC)}); err != nil {
					return err
				}
			}
			pix := []float64{41, 52}[i]
			if _, err := g.RecordHistory(ctx, governance.IndicatorValue{IndicatorID: ids["pix"], Period: fmt.Sprint(y), Value: &pix, Origin: governance.SourceDeclared,
				Evidence: "Export des résultats Pix de l'académie", RecordedBy: "dane@demo.socle.fr", RecordedAt: time.Date(y, 12, 15, 12, 0, 0, 0, time.UTC)}); err != nil {
				return err
			}
		}
		q := 0
		for m := start; m.Before(now.AddDate(0, -3, 0)); m = m.AddDate(0, 3, 0) {
			p := governance.PeriodOf(governance.Quarterly, m)
			v := float64(22 + 3*q)
			evidence := "Feuilles d'émargement des formations, trimestre " + p.Key
			if q == 5 {
				evidence = "" // declared without evidence: the file flags it
			}
			if _, err := g.RecordHistory(ctx, governance.IndicatorValue{IndicatorID: ids["training"], Period: p.Key, Value: &v, Origin: governance.SourceDeclared,
				Evidence: evidence, RecordedBy: "dane@demo.socle.fr", RecordedAt: p.To}); err != nil {
				return err
			}
			q++
		}
		return nil
	})
}

// audience writes the last two months of ENT audience as daily counts of
// the schools' pupils and teachers (school days only), then measures the
// usage indicator for those months.
func (d *govDemo) audience(now time.Time) {
	if d.err != nil {
		return
	}
	rng := newRand("governance audience")
	d.err = d.w.db.InTx(d.ctx, func(tx *db.Tx) error {
		for day := now.AddDate(0, -2, 0); day.Before(now.Truncate(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || wd == time.Wednesday {
				continue
			}
			for i, s := range d.w.plan.schools {
				if i%5 == 4 { // a fifth of the schools do not use the ENT yet
					continue
				}
				pupils := 5 + rng.IntN(40)
				teachers := 1 + rng.IntN(8)
				for _, row := range []struct {
					svc, prof string
					n         int
				}{{"accueil", "eleve", pupils}, {"espace-documentaire", "eleve", pupils / 2}, {"accueil", "enseignant", teachers}} {
					if err := d.g.AddAudience(d.ctx, tx, day.Format(time.DateOnly), row.svc, row.prof, s.UAI, row.n*3, row.n); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// frenchMonth names a month in meeting titles.
func frenchMonth(m time.Month) string {
	return [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}[m-1]
}
