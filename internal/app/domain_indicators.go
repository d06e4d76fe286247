package app

import (
	"context"
	"fmt"
	"strconv"

	"socle/internal/ent/production"
	"socle/internal/governance"
	"socle/internal/planning"
)

// planningSources are the governance indicators read from the deployment
// plan: how much of the current target the territory meets.
func planningSources(pl *planning.Service) []governance.SourceInfo {
	return []governance.SourceInfo{{Key: "plan.target_criteria_met", Label: "Critères de la cible en cours atteints (établissements × critères)", Unit: "%",
		Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
			p := systemReader()
			t, ok, err := pl.CurrentTarget(ctx, p)
			if err != nil {
				return governance.Value{}, err
			}
			if !ok {
				return governance.NoData("Aucune cible n'est marquée « en cours » dans le plan de déploiement."), nil
			}
			met, total := 0, 0
			for _, c := range t.Criteria {
				m, n, err := pl.CriterionShare(ctx, p, t.ID, c.Key, orgID)
				if err != nil {
					return governance.Value{}, fmt.Errorf("criterion %s: %w", c.Key, err)
				}
				met, total = met+m, total+n
			}
			if total == 0 {
				return governance.NoData("Aucun établissement de ce territoire n'est évalué par la cible en cours."), nil
			}
			return governance.Measured(100*float64(met)/float64(total), strconv.Itoa(met)+" sur "+strconv.Itoa(total)), nil
		})}}
}

// planProgress gives the committee file the progress of the deployment
// plans: per plan and kind of operation, how many are done. Plans are the
// territory's (every plan.read holder sees them), so the scope does not
// narrow them.
type planProgress struct{ pl *planning.Service }

func (pp planProgress) PlanProgress(ctx context.Context, _ int64) ([]governance.PlanStep, string, error) {
	p := systemReader()
	plans, err := pp.pl.Plans(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if len(plans) == 0 {
		return nil, "Aucun plan de déploiement n'est encore saisi.", nil
	}
	var steps []governance.PlanStep
	for _, summary := range plans {
		plan, err := pp.pl.Plan(ctx, p, summary.ID)
		if err != nil {
			return nil, "", err
		}
		kinds := []planning.OperationKind{planning.OpWorks, planning.OpProcurement, planning.OpDeployment, planning.OpGoLive, planning.OpAcceptance}
		for _, k := range kinds {
			done, total := 0, 0
			for _, o := range plan.Operations {
				if o.Kind != k || o.Status == planning.OpCancelled {
					continue
				}
				total++
				if o.Status == planning.OpDone {
					done++
				}
			}
			if total == 0 {
				continue
			}
			steps = append(steps, governance.PlanStep{Label: plan.Name + " — " + k.Label(), Done: done, Total: total,
				Progress: fmt.Sprintf("%d opération(s) terminée(s) sur %d", done, total)})
		}
	}
	if len(steps) == 0 {
		return nil, "Les plans de déploiement n'ont encore aucune opération.", nil
	}
	return steps, "", nil
}

// productionSources are the indicators read from the collaborative
// productions: the académie's "nombre de productions collectives cycle 3".
// The figures are the territory's (the productions belong to people, not
// to an organization), said so in the value's detail.
func productionSources(pr *production.Service) []governance.SourceInfo {
	return []governance.SourceInfo{{Key: "production.cycle3_collective", Label: "Productions collectives du cycle 3 (CM1, CM2, 6e)", Unit: "productions",
		Source: governance.SourceFunc(func(ctx context.Context, _ int64, _ governance.Period) (governance.Value, error) {
			u, err := pr.Usage(ctx)
			if err != nil {
				return governance.Value{}, err
			}
			if u.Total == 0 {
				return governance.NoData("Aucune production collaborative n'a encore été créée."), nil
			}
			return governance.Measured(float64(u.Cycle3), fmt.Sprintf("sur tout le territoire : %d productions collectives dont %d entre plusieurs établissements", u.Collective, u.CrossSchool)), nil
		})}}
}
