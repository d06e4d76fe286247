package planning

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Table is any table of the plan, ready to export. Values are strings or
// numbers (int, int64, float64), kept as numbers in the workbook.
type Table struct {
	Name    string
	Headers []string
	Rows    [][]any
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
	case *float64:
		if x == nil {
			return ""
		}
		return cellText(*x)
	}
	return fmt.Sprint(v)
}

// WriteCSV writes the table as CSV for French spreadsheets: ';' separated,
// decimal commas, UTF-8 with a byte-order mark so accents survive.
func (t Table) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(t.Headers); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = cellText(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the table as a workbook of one sheet.
func (t Table) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Name
	if sheet == "" {
		sheet = "Tableau"
	}
	if len([]rune(sheet)) > 31 {
		sheet = string([]rune(sheet)[:31])
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	put := func(row int, vals []any) error {
		for i, v := range vals {
			cell, err := excelize.CoordinatesToCellName(i+1, row)
			if err != nil {
				return err
			}
			if p, ok := v.(*float64); ok {
				if p == nil {
					continue
				}
				v = *p
			}
			if v == nil {
				continue
			}
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				return err
			}
		}
		return nil
	}
	head := make([]any, len(t.Headers))
	for i, h := range t.Headers {
		head[i] = h
	}
	if err := put(1, head); err != nil {
		return err
	}
	for i, r := range t.Rows {
		if err := put(i+2, r); err != nil {
			return err
		}
	}
	_, err := f.WriteTo(w)
	return err
}

func euros(cents int64) float64 { return float64(cents) / 100 }

// GapTable is the gap per establishment and criterion.
func GapTable(g GapResult) Table {
	t := Table{Name: "Écart", Headers: []string{"UAI", "Établissement", "Commune", "Collectivité", "Critère", "Valeur actuelle", "Cible", "Écart", "Atteint", "Unités à acquérir", "Coût (€)", "Donnée manquante"}}
	labels := map[string]string{}
	for _, c := range g.Target.Criteria {
		labels[c.Key] = c.Label
	}
	for _, r := range g.Rows {
		for _, c := range r.Cells {
			met := "non"
			if c.Missing != "" {
				met = "inconnu"
			} else if c.Met {
				met = "oui"
			}
			t.Rows = append(t.Rows, []any{r.UAI, r.Name, r.CommuneName, r.Authority, labels[c.Criterion], c.Current, c.Target, c.Gap, met, c.Units, euros(c.CostCents), c.Missing})
		}
	}
	return t
}

// GapTotalsTable is the gap per commune, collectivité and territory.
func GapTotalsTable(g GapResult) Table {
	t := Table{Name: "Totaux", Headers: []string{"Niveau", "Code", "Nom", "Établissements", "Atteignant toute la cible", "Avec données manquantes", "Coût (€)"}}
	level := map[string]string{"commune": "Commune", "authority": "Collectivité", "territory": "Territoire"}
	for _, list := range [][]GapTotal{g.Communes, g.Authorities, {g.Territory}} {
		for _, x := range list {
			t.Rows = append(t.Rows, []any{level[x.Level], x.Code, x.Name, x.Establishments, x.MeetingAll, x.MissingData, euros(x.CostCents)})
		}
	}
	return t
}

// CriteriaTable is the share of schools meeting each criterion.
func CriteriaTable(g GapResult) Table {
	t := Table{Name: "Critères", Headers: []string{"Critère", "Établissements concernés", "Atteint", "Données manquantes", "Part atteignant le critère", "Coût (€)"}}
	for _, c := range g.Criteria {
		t.Rows = append(t.Rows, []any{c.Label, c.Applicable, c.Met, c.Missing, c.Share, euros(c.CostCents)})
	}
	return t
}

// MissingTable lists the missing data.
func MissingTable(g GapResult) Table {
	t := Table{Name: "Données manquantes", Headers: []string{"UAI", "Établissement", "Critère", "Donnée manquante"}}
	for _, m := range g.Missing {
		t.Rows = append(t.Rows, []any{m.UAI, m.Name, m.Criterion, m.Data})
	}
	return t
}

// PriorityTable is the ranked list with each factor's points.
func PriorityTable(p Priorities) Table {
	t := Table{Name: "Priorités", Headers: []string{"Rang", "UAI", "Établissement", "Commune", "Éducation prioritaire", "Score"}}
	for _, f := range factorList {
		t.Headers = append(t.Headers, f.Label()+" (points)")
	}
	t.Headers = append(t.Headers, "Coût pour atteindre la cible (€)")
	for _, r := range p.Ranked {
		row := []any{r.Rank, r.UAI, r.Name, r.CommuneName, r.Priority, r.Score}
		for _, f := range r.Factors {
			row = append(row, f.Points)
		}
		row = append(row, euros(r.CostCents))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// EquityTable compares communes with the territory.
func EquityTable(p Priorities) Table {
	t := Table{Name: "Équité", Headers: []string{"Code commune", "Commune", "Établissements", "Score moyen", "Part moyenne de critères non atteints", "Écart à la moyenne du territoire (points)", "Coût (€)"}}
	for _, e := range p.Equity {
		t.Rows = append(t.Rows, []any{e.CommuneCode, e.CommuneName, e.Establishments, e.MeanScore, e.MeanGapShare, e.Distance, euros(e.CostCents)})
	}
	return t
}

// SurveyTable is the response rate and mean level per domain.
func SurveyTable(st SurveyStats) Table {
	t := Table{Name: "Enquête", Headers: []string{"Niveau", "Code", "Nom", "Interrogés", "Répondants", "Taux de réponse"}}
	t.Headers = append(t.Headers, st.Domains...)
	level := map[string]string{"establishment": "Établissement", "commune": "Commune", "authority": "Collectivité", "total": "Ensemble"}
	for _, list := range [][]SurveyGroup{st.Schools, st.Communes, st.Authorities, {st.Total}} {
		for _, g := range list {
			row := []any{level[g.Level], g.Code, g.Name, g.Asked, g.Answered, g.Rate}
			for _, d := range st.Domains {
				if v, ok := g.Means[d]; ok {
					row = append(row, v)
				} else {
					row = append(row, "")
				}
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// PendingTable lists the establishments to remind.
func PendingTable(st SurveyStats) Table {
	t := Table{Name: "Relances", Headers: []string{"UAI", "Établissement"}}
	for _, g := range st.Pending {
		t.Rows = append(t.Rows, []any{g.Code, g.Name})
	}
	return t
}

// ProgrammeTable lists the budget lines.
func ProgrammeTable(p Programme) Table {
	t := Table{Name: "Programme", Headers: []string{"Année", "Financeur", "Nature", "Intitulé", "Prévu (€)", "Engagé (€)", "Mandaté (€)"}}
	for _, b := range p.Lines {
		t.Rows = append(t.Rows, []any{b.Year, b.Funder.Label(), NatureLabel(b.Nature), b.Label, euros(b.PlannedCents), euros(b.CommittedCents), euros(b.SpentCents)})
	}
	t.Rows = append(t.Rows, []any{"Total", "", "", "", euros(p.Total.PlannedCents), euros(p.Total.CommittedCents), euros(p.Total.SpentCents)})
	return t
}

// ScenarioTable puts the scenarios side by side, year by year.
func ScenarioTable(c ScenarioComparison) Table {
	t := Table{Name: "Scénarios", Headers: []string{"Scénario", "Année", "Rattrapage de l'écart (€)", "Renouvellement (€)", "Coût de l'année (€)", "Écart restant fin d'année (€)", "Établissements sous la cible"}}
	for _, r := range c.Results {
		for _, y := range r.Years {
			t.Rows = append(t.Rows, []any{r.Scenario.Name, y.Year, euros(y.GapClosingCents), euros(y.RenewalCents), euros(y.CostCents), euros(y.RemainingGapCents), y.SchoolsBelowTarget})
		}
		t.Rows = append(t.Rows, []any{r.Scenario.Name, "Total", "", "", euros(r.TotalCost), "", ""})
	}
	return t
}

// OperationsTable lists a plan's operations.
func OperationsTable(pl Plan) Table {
	t := Table{Name: "Opérations", Headers: []string{"Id", "Nature", "Intitulé", "Début", "Fin", "Responsable", "Statut", "Dépend de", "Établissements", "Équipements"}}
	for _, o := range pl.Operations {
		t.Rows = append(t.Rows, []any{o.ID, o.Kind.Label(), o.Title, o.StartsOn, o.EndsOn, o.Owner, o.Status.Label(), joinIDs(o.DependsOn), strings.Join(o.Establishments, " "), joinIDs(o.AssetIDs)})
	}
	return t
}

// ComparisonTable puts targets side by side per criterion.
func ComparisonTable(c Comparison) Table {
	t := Table{Name: "Comparaison des cibles", Headers: []string{"Critère"}}
	for _, tg := range c.Targets {
		t.Headers = append(t.Headers, tg.Name+" : part atteignant", tg.Name+" : coût (€)")
	}
	for _, r := range c.Rows {
		row := []any{r.Label}
		for _, cell := range r.Cells {
			if cell == nil {
				row = append(row, "", "")
				continue
			}
			row = append(row, cell.Share, euros(cell.CostCents))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// WavesTable lists a plan's waves and their establishments.
func WavesTable(pl Plan) Table {
	t := Table{Name: "Vagues", Headers: []string{"Vague", "Phase", "Début", "Fin", "UAI"}}
	for _, w := range pl.Waves {
		for _, u := range w.Establishments {
			t.Rows = append(t.Rows, []any{w.Name, PhaseLabel(w.Phase), w.StartsOn, w.EndsOn, u})
		}
	}
	return t
}
