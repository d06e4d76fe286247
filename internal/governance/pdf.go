package governance

import (
	"fmt"
	"io"
	"socle/internal/platform/web"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
)

// WritePDF writes the committee file as a PDF ready to send. The core
// Helvetica font and the cp1252 encoding cover French (accents, œ, «»,
// €); the characters cp1252 lacks (the narrow no-break space of French
// numbers) are replaced before encoding.
func WritePDF(w io.Writer, d Dossier) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(d.GeneratedAt)
	pdf.SetModificationDate(d.GeneratedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	t := func(s string) string {
		return tr(strings.NewReplacer("\u202f", " ", "\u00a0", " ", "’", "'", "—", "-", "–", "-", "…", "...").Replace(s))
	}
	title := "Dossier de séance — " + d.Body.Name
	pdf.SetTitle(title, true)
	pdf.SetAuthor("Socle", true)
	pdf.SetAutoPageBreak(true, 15)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, t(fmt.Sprintf("%s — page %d / {nb}", d.Body.Name, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, t(title), "", "L", false)
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, t(fmt.Sprintf("%s — séance du %s%s. Territoire : %s. Dossier établi le %s.",
		d.Meeting.Title, d.Meeting.StartsAt.In(web.Paris()).Format("02/01/2006 à 15:04"), placeSuffix(d.Meeting.Place),
		d.Territory, d.GeneratedAt.In(web.Paris()).Format("02/01/2006 à 15:04"))), "", "L", false)
	if d.Meeting.Agenda != "" {
		section(pdf, t, "Ordre du jour")
		pdf.MultiCell(0, 5, t(d.Meeting.Agenda), "", "L", false)
	}
	for _, a := range d.Alerts {
		pdf.SetTextColor(160, 40, 0)
		pdf.MultiCell(0, 5, t("Alerte : "+a.Message), "", "L", false)
		pdf.SetTextColor(0, 0, 0)
	}

	section(pdf, t, "Avancement des feuilles de route")
	table(pdf, t, []string{"Feuille de route", "Atteints", "Non atteints", "Sans données", "Avancement"}, []float64{80, 22, 25, 25, 28},
		func(row func(...string)) {
			for _, p := range d.Progress {
				pc := "pas de données"
				if p.Percent != nil {
					pc = formatValue(*p.Percent) + " %"
				}
				row(p.Roadmap.Title, strconv.Itoa(p.Met), strconv.Itoa(p.Missed), strconv.Itoa(p.NoData), pc)
			}
		})

	section(pdf, t, "Indicateurs de réussite")
	for _, v := range d.Indicators {
		if pdf.GetY() > 235 {
			pdf.AddPage()
		}
		pdf.SetFont("Helvetica", "B", 10)
		pdf.MultiCell(0, 5, t(v.Name+" ("+v.Objective+")"), "", "L", false)
		pdf.SetFont("Helvetica", "", 9)
		target := "sans cible"
		if v.Target != nil {
			target = "cible " + formatValue(*v.Target) + " " + v.Unit
		}
		latest := "jamais mesuré"
		if v.Latest != nil {
			if v.Latest.Value != nil {
				latest = formatValue(*v.Latest.Value) + " " + v.Unit + " (" + v.Latest.Period + ")"
			} else {
				latest = "pas de données (" + v.Latest.Period + ") : " + v.Latest.NoDataReason
			}
		}
		line := "Dernière valeur : " + latest + " — " + target + " — " + v.StatusText() + ". Source : " + v.SourceLabel + "."
		if v.Unproven > 0 {
			line += fmt.Sprintf(" %d valeur(s) déclarée(s) sans justificatif.", v.Unproven)
		}
		pdf.MultiCell(0, 4.5, t(line), "", "L", false)
		trendPDF(pdf, t, v)
	}

	section(pdf, t, "Décisions attendues (projets examinés par le comité de coordination)")
	projects(pdf, t, d.Awaiting)
	section(pdf, t, "Projets à examiner")
	projects(pdf, t, d.ToExamine)

	section(pdf, t, "Qualité de service par commune (trois derniers mois)")
	if len(d.Quality) == 0 {
		pdf.MultiCell(0, 5, t("Pas de données : aucun ticket sur la période pour ce territoire."), "", "L", false)
	} else {
		table(pdf, t, []string{"Commune", "Ouverts", "Résolus", "Délais tenus", "Satisfaction"}, []float64{70, 25, 25, 30, 30},
			func(row func(...string)) {
				for _, q := range d.Quality {
					row(q.Name, strconv.Itoa(q.Opened), strconv.Itoa(q.Solved), pctOrNone(q.SLA, " %"), pctOrNone(q.Satisfaction, " / 5"))
				}
			})
	}

	section(pdf, t, "Avancement du plan de déploiement")
	if d.PlanUnavailable != "" {
		pdf.MultiCell(0, 5, t(d.PlanUnavailable), "", "L", false)
	} else {
		table(pdf, t, []string{"Étape", "Réalisé", "Prévu", "Budget"}, []float64{90, 25, 25, 40}, func(row func(...string)) {
			for _, s := range d.Plan {
				row(s.Label, strconv.Itoa(s.Done), strconv.Itoa(s.Total), s.Budget)
			}
		})
	}

	if len(d.LastDecisions) > 0 {
		section(pdf, t, "Décisions de la séance précédente")
		for _, dec := range d.LastDecisions {
			pdf.MultiCell(0, 5, t("• "+dec.Kind.Label()+" : "+dec.Summary+changeText(dec)), "", "L", false)
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("committee pdf: %w", err)
	}
	return pdf.Output(w)
}

func placeSuffix(p string) string {
	if p == "" {
		return ""
	}
	return ", " + p
}

func pctOrNone(v *float64, unit string) string {
	if v == nil {
		return "pas de données"
	}
	return formatValue(*v) + unit
}

// changeText says what a decision changed, for files and pages.
func changeText(d Decision) string {
	if d.Before == "" && d.After == "" {
		return ""
	}
	label := func(s string) string {
		if st := ProjectStatus(s); st.Label() != s {
			return st.Label()
		}
		if d.Kind == DecisionBudgetArbitrated {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return formatValue(float64(n)/100) + " €"
			}
		}
		if s == "" {
			return "aucune"
		}
		return s
	}
	return " (" + label(d.Before) + " → " + label(d.After) + ")"
}

func section(pdf *fpdf.Fpdf, t func(string) string, title string) {
	if pdf.GetY() > 250 {
		pdf.AddPage()
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.MultiCell(0, 7, t(title), "B", "L", false)
	pdf.Ln(1)
	pdf.SetFont("Helvetica", "", 9)
}

func table(pdf *fpdf.Fpdf, t func(string) string, head []string, widths []float64, rows func(func(...string))) {
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetFillColor(230, 235, 245)
	for i, h := range head {
		pdf.CellFormat(widths[i], 6, t(h), "1", 0, "L", true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
	rows(func(cells ...string) {
		if pdf.GetY() > 270 {
			pdf.AddPage()
		}
		for i, c := range cells {
			txt := t(c)
			// One line per cell: long names are cut, the HTML file has them whole.
			if lines := pdf.SplitLines([]byte(txt), widths[i]-2); len(lines) > 1 {
				txt = string(lines[0]) + "..."
			}
			pdf.CellFormat(widths[i], 5.5, txt, "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	})
}

func projects(pdf *fpdf.Fpdf, t func(string) string, ps []Project) {
	if len(ps) == 0 {
		pdf.MultiCell(0, 5, t("Aucun projet."), "", "L", false)
		return
	}
	for _, p := range ps {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.MultiCell(0, 5, t(fmt.Sprintf("%s — porté par %s (%s), coût estimé %s", p.Title, p.ProposerName,
			p.ProposerKind.Label(), formatValue(float64(p.CostCents)/100)+" €")), "", "L", false)
		pdf.SetFont("Helvetica", "", 9)
		text := p.Description
		if p.Benefits != "" {
			text += " Bénéfices attendus : " + p.Benefits
		}
		if p.Feasibility != "" {
			text += " Faisabilité : " + p.Feasibility
		}
		if strings.TrimSpace(text) != "" {
			pdf.MultiCell(0, 4.5, t(strings.TrimSpace(text)), "", "L", false)
		}
		pdf.Ln(1)
	}
}

// trendPDF draws the trend of an indicator: its values as a line, periods
// without data as hollow marks on the axis, the target dashed.
func trendPDF(pdf *fpdf.Fpdf, t func(string) string, v IndicatorView) {
	pts := seriesPoints(v)
	if len(pts) == 0 {
		return
	}
	const x0, w, h = 35.0, 120.0, 28.0
	y0 := pdf.GetY() + 2
	lo, hi := bounds(pts, v.Target)
	x := func(i int) float64 {
		if len(pts) == 1 {
			return x0 + w/2
		}
		return x0 + float64(i)*w/float64(len(pts)-1)
	}
	y := func(val float64) float64 { return y0 + h*(1-(val-lo)/(hi-lo)) }
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.2)
	pdf.Line(x0, y0+h, x0+w, y0+h)
	pdf.SetFont("Helvetica", "", 7)
	pdf.Text(x0-12, y(hi)+1, t(formatValue(hi)))
	pdf.Text(x0-12, y(lo)+1, t(formatValue(lo)))
	if v.Target != nil {
		pdf.SetDrawColor(180, 70, 0)
		pdf.SetDashPattern([]float64{1.5, 1}, 0)
		pdf.Line(x0, y(*v.Target), x0+w, y(*v.Target))
		pdf.SetDashPattern([]float64{}, 0)
		pdf.Text(x0+w+1, y(*v.Target)+1, "cible")
	}
	pdf.SetDrawColor(31, 78, 140)
	pdf.SetLineWidth(0.5)
	prev := -1
	for i, p := range pts {
		if !p.OK {
			prev = -1
			continue
		}
		if prev >= 0 {
			pdf.Line(x(prev), y(pts[prev].V), x(i), y(p.V))
		}
		prev = i
	}
	pdf.SetLineWidth(0.2)
	for i, p := range pts {
		if p.OK {
			pdf.SetFillColor(31, 78, 140)
			pdf.Circle(x(i), y(p.V), 0.8, "F")
		} else {
			pdf.SetDrawColor(120, 120, 120)
			pdf.Circle(x(i), y0+h, 0.8, "D")
		}
	}
	pdf.Text(x0, y0+h+4, t(pts[0].Label))
	if len(pts) > 1 {
		pdf.Text(x0+w-10, y0+h+4, t(pts[len(pts)-1].Label))
	}
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetY(y0 + h + 7)
}
