package app

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"socle/internal/fleet"
	"socle/internal/governance"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// The governance's indicators read the other domains through these
// adapters: governance knows only its Source interface, the domains know
// nothing of governance. Each adapter measures everything under an
// organization as the system would (the governance service has already
// checked the reader's scope on the roadmap, the file or the page).

// systemReader reads the planning's figures for the indicators: the
// platform role, under an account id no person has (services refuse
// principals without one as anonymous).
func systemReader() *auth.Principal {
	return &auth.Principal{User: auth.User{ID: -1, Email: "indicateurs"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
}

// The helpdesk indicators read the tickets with lean aggregates of their
// own rather than helpdesk.Report: the report computes every figure of a
// quality review (percentiles, request types, backlog) and over a whole
// académie of 3,000 establishments that takes seconds per call, where an
// indicator needs two sums. The definitions are the report's, and
// TestGovernanceEndToEnd holds the two to the same figures: compliance is
// over the tickets solved in the period with a measured resolution delay,
// satisfaction over the answers received in the period.

// underOrg selects the tickets of an organization's establishments (or of
// the establishment itself), the same IN over the closure as the reports.
const underOrg = `t.establishment_id IN (SELECT oc.descendant_id FROM org_closure oc WHERE oc.ancestor_id = ? UNION SELECT CAST(? AS BIGINT))`

// solvedFigures counts the tickets solved in the period and those solved
// within their resolution delay.
func solvedFigures(ctx context.Context, d *db.DB, orgID int64, from, to time.Time) (measured, met int, err error) {
	err = d.QueryRowContext(ctx, `SELECT COUNT(t.ttr_met), COALESCE(SUM(CASE WHEN t.ttr_met THEN 1 ELSE 0 END), 0)
		FROM tickets t WHERE `+underOrg+` AND t.solved_at >= ? AND t.solved_at < ?`, orgID, orgID, from.UTC(), to.UTC()).Scan(&measured, &met)
	if err != nil {
		return 0, 0, fmt.Errorf("tickets solved: %w", err)
	}
	return measured, met, nil
}

// satisfactionFigures counts the survey answers received in the period
// and sums their scores.
func satisfactionFigures(ctx context.Context, d *db.DB, orgID int64, from, to time.Time) (answers int, scoreSum int64, err error) {
	// CROSS JOIN keeps SQLite reading the answers of the period first
	// (the planner would otherwise walk every ticket of the territory);
	// for PostgreSQL it is the inner join it reads.
	err = d.QueryRowContext(ctx, `SELECT COUNT(sv.score), COALESCE(SUM(sv.score), 0) FROM satisfaction_surveys sv CROSS JOIN tickets t
		WHERE t.id = sv.ticket_id AND sv.answered_at >= ? AND sv.answered_at < ? AND `+underOrg, from.UTC(), to.UTC(), orgID, orgID).Scan(&answers, &scoreSum)
	if err != nil {
		return 0, 0, fmt.Errorf("satisfaction answers: %w", err)
	}
	return answers, scoreSum, nil
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// HelpdeskSources are the indicators computed from the helpdesk's tickets:
// the share solved within the convention's delay, and satisfaction.
func HelpdeskSources(d *db.DB) []governance.SourceInfo {
	return []governance.SourceInfo{
		{Key: "helpdesk.sla", Label: "Assistance : tickets résolus dans le délai promis", Unit: "%",
			Source: governance.SourceFunc(func(ctx context.Context, orgID int64, p governance.Period) (governance.Value, error) {
				measured, met, err := solvedFigures(ctx, d, orgID, p.From, p.To)
				if err != nil {
					return governance.Value{}, err
				}
				if measured == 0 {
					return governance.NoData("Aucun ticket résolu avec un délai de résolution mesuré sur la période."), nil
				}
				return governance.Measured(round2(100*float64(met)/float64(measured)),
					fmt.Sprintf("%d tickets sur %d résolus dans le délai", met, measured)), nil
			})},
		{Key: "helpdesk.satisfaction", Label: "Assistance : satisfaction moyenne des demandeurs", Unit: "/ 5",
			Source: governance.SourceFunc(func(ctx context.Context, orgID int64, p governance.Period) (governance.Value, error) {
				answers, sum, err := satisfactionFigures(ctx, d, orgID, p.From, p.To)
				if err != nil {
					return governance.Value{}, err
				}
				if answers == 0 {
					return governance.NoData("Aucune réponse à l'enquête de satisfaction sur la période."), nil
				}
				return governance.Measured(round2(float64(sum)/float64(answers)), fmt.Sprintf("%d réponses", answers)), nil
			})},
	}
}

// fleetTotals sums the equipment of the establishments under an
// organization with the fleet's rules (fleet.Ratios: active devices, pupil
// devices, boards, devices past their type's lifetime; the latest school
// year's enrolment of each equipped establishment). It reads the rows
// itself rather than calling Ratios, which resolves communes and
// collectivités an indicator does not need and, over an académie, takes a
// second per call; TestGovernanceEndToEnd holds both to the same figures.
// The fleet has no history: it is measured as it stands.
func fleetTotals(ctx context.Context, d *db.DB, orgID int64) (fleet.Ratio, int, error) {
	var t fleet.Ratio
	rows, err := d.QueryContext(ctx, `SELECT a.establishment_id, a.type, a.assigned_use, a.state, a.purchase_date FROM assets a
		WHERE a.establishment_id IN (SELECT oc.descendant_id FROM org_closure oc WHERE oc.ancestor_id = ? UNION SELECT CAST(? AS BIGINT))`, orgID, orgID)
	if err != nil {
		return t, 0, fmt.Errorf("assets: %w", err)
	}
	lifetimes := fleet.DefaultLifetimes()
	now := time.Now()
	equipped := map[int64]bool{}
	for rows.Next() {
		var est int64
		var typ fleet.Type
		var use fleet.Use
		var state fleet.State
		var bought string
		if err := rows.Scan(&est, &typ, &use, &state, &bought); err != nil {
			rows.Close()
			return t, 0, err
		}
		equipped[est] = true
		if !state.Active() {
			continue
		}
		t.Devices++
		if (typ == fleet.TypeWorkstation || typ == fleet.TypeLaptop || typ == fleet.TypeTablet) && use == fleet.UsePupils {
			t.PupilDevices++
		}
		if typ == fleet.TypeBoard {
			t.Boards++
		}
		if b, err := time.Parse(time.DateOnly, bought); err == nil && !now.Before(b.AddDate(lifetimes[typ], 0, 0)) {
			t.OverLifetime++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t, 0, err
	}
	if len(equipped) == 0 {
		return t, 0, nil
	}
	// The latest school year of each establishment; the source files
	// overlap, so the largest figure of that year is kept (as Ratios does).
	rows, err = d.QueryContext(ctx, `SELECT e.org_id, en.school_year, MAX(en.pupils), COALESCE(MAX(en.classes), 0) FROM enrolments en
		JOIN establishments e ON e.uai = en.uai
		WHERE e.org_id IN (SELECT oc.descendant_id FROM org_closure oc WHERE oc.ancestor_id = ? UNION SELECT CAST(? AS BIGINT))
		GROUP BY e.org_id, en.school_year`, orgID, orgID)
	if err != nil {
		return t, 0, fmt.Errorf("enrolments: %w", err)
	}
	type latest struct {
		year            string
		pupils, classes int
	}
	best := map[int64]latest{}
	for rows.Next() {
		var est int64
		var l latest
		if err := rows.Scan(&est, &l.year, &l.pupils, &l.classes); err != nil {
			rows.Close()
			return t, 0, err
		}
		if equipped[est] && l.year > best[est].year {
			best[est] = l
		}
	}
	rows.Close()
	for _, l := range best {
		t.Pupils += l.pupils
		t.Classes += l.classes
	}
	return t, len(equipped), rows.Err()
}

// FleetSources are the indicators computed from the fleet: pupils per
// pupil device, boards per class, share of devices past their lifetime.
func FleetSources(d *db.DB) []governance.SourceInfo {
	noFleet := governance.NoData("Aucun équipement inventorié dans ce territoire.")
	return []governance.SourceInfo{
		{Key: "fleet.pupils_per_device", Label: "Parc : élèves par équipement à l'usage des élèves", Unit: "élèves par équipement",
			Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
				t, n, err := fleetTotals(ctx, d, orgID)
				switch {
				case err != nil:
					return governance.Value{}, err
				case n == 0:
					return noFleet, nil
				case t.PupilDevices == 0:
					return governance.NoData("Aucun équipement affecté aux élèves dans ce territoire."), nil
				case t.Pupils == 0:
					return governance.NoData("Effectifs inconnus pour les établissements équipés."), nil
				}
				return governance.Measured(float64(t.Pupils)/float64(t.PupilDevices),
					fmt.Sprintf("%d élèves, %d équipements, %d établissements", t.Pupils, t.PupilDevices, n)), nil
			})},
		{Key: "fleet.boards_per_class", Label: "Parc : tableaux numériques (TNI/VPI) par classe", Unit: "par classe",
			Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
				t, n, err := fleetTotals(ctx, d, orgID)
				switch {
				case err != nil:
					return governance.Value{}, err
				case n == 0:
					return noFleet, nil
				case t.Classes == 0:
					return governance.NoData("Nombre de classes inconnu pour les établissements équipés."), nil
				}
				return governance.Measured(float64(t.Boards)/float64(t.Classes), fmt.Sprintf("%d tableaux, %d classes", t.Boards, t.Classes)), nil
			})},
		{Key: "fleet.over_lifetime_share", Label: "Parc : part des équipements en service au-delà de leur durée de vie", Unit: "%",
			Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
				t, n, err := fleetTotals(ctx, d, orgID)
				switch {
				case err != nil:
					return governance.Value{}, err
				case n == 0 || t.Devices == 0:
					return noFleet, nil
				}
				return governance.Measured(100*float64(t.OverLifetime)/float64(t.Devices),
					fmt.Sprintf("%d équipements hors d'âge sur %d", t.OverLifetime, t.Devices)), nil
			})},
	}
}

// ticketQuality is the governance's quality board: the tickets of the
// period grouped by commune or by service, with the reports' definitions
// (opened in the period; solved and delays over those solved in it;
// satisfaction over the answers received in it).
type ticketQuality struct{ db *db.DB }

// rows aggregates per establishment, which the reports' covering indexes
// (establishment, created or solved) answer without reading the tickets,
// then folds the establishments into groups with group (commune, service).
func (q ticketQuality) rows(ctx context.Context, key string, group func(k string) (code, name string), orgID int64, from, to time.Time) ([]governance.QualityRow, error) {
	byKey := map[string]*governance.QualityRow{}
	get := func(k string) *governance.QualityRow {
		code, name := group(k)
		r := byKey[code]
		if r == nil {
			r = &governance.QualityRow{Code: code, Name: name}
			byKey[code] = r
		}
		return r
	}
	type acc struct{ met, measured, scoreSum, answers int64 }
	sums := map[*governance.QualityRow]*acc{}
	accOf := func(r *governance.QualityRow) *acc {
		if sums[r] == nil {
			sums[r] = &acc{}
		}
		return sums[r]
	}
	scan := func(query string, args []any, fn func(k string, a, b, c int64)) error {
		rows, err := q.db.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var a, b, c int64
			if err := rows.Scan(&k, &a, &b, &c); err != nil {
				return err
			}
			fn(k, a, b, c)
		}
		return rows.Err()
	}
	period := []any{orgID, orgID, from.UTC(), to.UTC()}
	err := scan(`SELECT `+key+`, COUNT(*), 0, 0 FROM tickets t WHERE `+underOrg+` AND t.created_at >= ? AND t.created_at < ? GROUP BY 1`, period,
		func(k string, n, _, _ int64) { get(k).Opened += int(n) })
	if err != nil {
		return nil, fmt.Errorf("tickets opened: %w", err)
	}
	err = scan(`SELECT `+key+`, COUNT(*), COUNT(t.ttr_met), COALESCE(SUM(CASE WHEN t.ttr_met THEN 1 ELSE 0 END), 0) FROM tickets t
		WHERE `+underOrg+` AND t.solved_at >= ? AND t.solved_at < ? GROUP BY 1`, period,
		func(k string, n, measured, ok int64) {
			r := get(k)
			r.Solved += int(n)
			a := accOf(r)
			a.met, a.measured = a.met+ok, a.measured+measured
		})
	if err != nil {
		return nil, fmt.Errorf("tickets solved: %w", err)
	}
	err = scan(`SELECT `+key+`, COUNT(sv.score), COALESCE(SUM(sv.score), 0), 0 FROM satisfaction_surveys sv CROSS JOIN tickets t
		WHERE t.id = sv.ticket_id AND sv.answered_at >= ? AND sv.answered_at < ? AND `+underOrg+` GROUP BY 1`,
		[]any{from.UTC(), to.UTC(), orgID, orgID},
		func(k string, n, sum, _ int64) {
			a := accOf(get(k))
			a.answers, a.scoreSum = a.answers+n, a.scoreSum+sum
		})
	if err != nil {
		return nil, fmt.Errorf("satisfaction: %w", err)
	}
	out := make([]governance.QualityRow, 0, len(byKey))
	for _, r := range byKey {
		if a := sums[r]; a != nil {
			if a.measured > 0 {
				v := round2(100 * float64(a.met) / float64(a.measured))
				r.SLA = &v
			}
			if a.answers > 0 {
				v := round2(float64(a.scoreSum) / float64(a.answers))
				r.Satisfaction = &v
			}
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// names reads a two-column id → label table.
func (q ticketQuality) names(ctx context.Context, query string) (map[string][2]string, error) {
	rows, err := q.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var k, code, name string
		if err := rows.Scan(&k, &code, &name); err != nil {
			return nil, err
		}
		out[k] = [2]string{code, name}
	}
	return out, rows.Err()
}

func (q ticketQuality) QualityByCommune(ctx context.Context, orgID int64, from, to time.Time) ([]governance.QualityRow, error) {
	communes, err := q.names(ctx, `SELECT CAST(org_id AS TEXT), commune_code, commune_name || ' (' || commune_code || ')' FROM establishments`)
	if err != nil {
		return nil, fmt.Errorf("communes of establishments: %w", err)
	}
	return q.rows(ctx, "CAST(t.establishment_id AS TEXT)", func(k string) (string, string) {
		c := communes[k]
		return c[0], c[1]
	}, orgID, from, to)
}

func (q ticketQuality) QualityByService(ctx context.Context, orgID int64, from, to time.Time) ([]governance.QualityRow, error) {
	services, err := q.names(ctx, `SELECT CAST(id AS TEXT), CAST(id AS TEXT), name FROM services`)
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	return q.rows(ctx, "CAST(COALESCE(t.service_id, 0) AS TEXT)", func(k string) (string, string) {
		if s, ok := services[k]; ok {
			return s[0], s[1]
		}
		return "0", "Sans service"
	}, orgID, from, to)
}

// planningIndicators is what the planning domain exposes for indicators
// (its contract); the lead passes the planning service once it is wired.
type planningIndicators interface {
	CriterionShare(ctx context.Context, p *auth.Principal, targetID int64, criterionKey string, orgID int64) (met, total int, err error)
	SurveyResponseRate(ctx context.Context, p *auth.Principal, campaignID int64, orgID int64) (answered, asked int, err error)
}

// PlanningCriterionSource is the share of establishments meeting a
// criterion of a planning target ("share of schools meeting the target",
// "schools with an ENT").
func PlanningCriterionSource(pl planningIndicators, key, label string, targetID int64, criterion string) governance.SourceInfo {
	return governance.SourceInfo{Key: key, Label: label, Unit: "%",
		Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
			met, total, err := pl.CriterionShare(ctx, systemReader(), targetID, criterion, orgID)
			if err != nil {
				return governance.Value{}, err
			}
			if total == 0 {
				return governance.NoData("Aucun établissement évalué sur ce critère dans ce territoire."), nil
			}
			return governance.Measured(100*float64(met)/float64(total), strconv.Itoa(met)+" sur "+strconv.Itoa(total)), nil
		})}
}

// PlanningSurveySource is the response rate of a survey campaign.
func PlanningSurveySource(pl planningIndicators, key, label string, campaignID int64) governance.SourceInfo {
	return governance.SourceInfo{Key: key, Label: label, Unit: "%",
		Source: governance.SourceFunc(func(ctx context.Context, orgID int64, _ governance.Period) (governance.Value, error) {
			answered, asked, err := pl.SurveyResponseRate(ctx, systemReader(), campaignID, orgID)
			if err != nil {
				return governance.Value{}, err
			}
			if asked == 0 {
				return governance.NoData("Personne n'a été sollicité par cette campagne dans ce territoire."), nil
			}
			return governance.Measured(100*float64(answered)/float64(asked), strconv.Itoa(answered)+" réponses sur "+strconv.Itoa(asked)), nil
		})}
}

// governanceOptions wires the sources of indicators available today.
func governanceOptions(d *db.DB) governance.Options {
	return governance.Options{
		Sources: append(HelpdeskSources(d), FleetSources(d)...),
		Quality: ticketQuality{db: d},
	}
}
