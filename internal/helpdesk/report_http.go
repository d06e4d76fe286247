package helpdesk

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// reportRoutes mounts the reports' pages (their API routes are with the
// others in apiRoutes).
func (h *Handler) reportRoutes(r *web.Router) {
	r.Handle("GET /rapports", h.reportPage)
	r.Handle("GET /qualite-de-service", h.qualityPage)
}

func monthParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01", s, web.Paris())
	if err != nil {
		return t, problem.Invalid("invalid_parameter", "Mois "+name+" invalide : AAAA-MM attendu.").Field(name, "Mois AAAA-MM.")
	}
	return t, nil
}

// reportQueryFrom reads group, from, to, org and kind.
func reportQueryFrom(q url.Values) (ReportQuery, error) {
	rq := ReportQuery{Group: q.Get("group"), Kind: Kind(q.Get("kind"))}
	if rq.Group == "" {
		rq.Group = GroupMonth
	}
	var err error
	if rq.From, err = monthParam(q, "from"); err != nil {
		return rq, err
	}
	if rq.To, err = monthParam(q, "to"); err != nil {
		return rq, err
	}
	if rq.OrgID, err = web.IntParam(q, "org", 1, 1<<62); err != nil {
		return rq, err
	}
	return rq, nil
}

// writeExport answers a report as a file when format asks for one; done is
// false for format "" or "json".
func writeExport(w http.ResponseWriter, format string, rep GroupReport) (done bool, err error) {
	name := fmt.Sprintf("rapport-%s-%s-%s", rep.Group, rep.From, rep.To)
	switch format {
	case "", "json":
		return false, nil
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return true, WriteReportCSV(w, rep)
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		return true, WriteReportXLSX(w, rep)
	}
	return false, problem.Invalid("invalid_format", "Format inconnu (json, csv, xlsx).").Field("format", "Format inconnu.")
}

func (h *Handler) apiReport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rq, err := reportQueryFrom(q)
	if err != nil {
		return err
	}
	if f := q.Get("format"); f != "" && f != "json" && f != "csv" && f != "xlsx" {
		_, err := writeExport(w, f, GroupReport{})
		return err
	}
	rep, err := h.svc.Report(r.Context(), p, rq)
	if err != nil {
		return err
	}
	if done, err := writeExport(w, q.Get("format"), rep); done || err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, rep)
}

// defaultOrg is the organization a page opens on when none is asked: the
// first one the caller reads reports for.
func defaultOrg(p *auth.Principal) int64 {
	for _, g := range p.Grants {
		if g.OrgID != 0 && g.Role.Allows(auth.PermReportRead) {
			return g.OrgID
		}
	}
	return 0
}

func (h *Handler) apiQuality(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	org, err := web.IntParam(r.URL.Query(), "org", 1, 1<<62)
	if err != nil {
		return err
	}
	if org == 0 {
		if org = defaultOrg(p); org == 0 {
			return problem.Invalid("org_required", "Indiquez l'organisation (paramètre org).").Field("org", "Requis.")
		}
	}
	qs, err := h.svc.QualityOfService(r.Context(), p, org)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, qs)
}

type reportCell struct {
	Label, Opened, Solved, Backlog, TTO, TTR, MeanOpen, P90Open, MeanWall, P90Wall, Satisfaction, Types string
}

func pctCell(v *float64) string {
	if v == nil {
		return "—"
	}
	return pctText(*v)
}

func reportCellOf(r ReportRow) reportCell {
	c := reportCell{Label: r.Label, Opened: web.FormatNumber(r.Opened), Solved: web.FormatNumber(r.Solved), Backlog: web.FormatNumber(r.Backlog),
		TTO: pctCell(r.TTOCompliance), TTR: pctCell(r.TTRCompliance), MeanOpen: "—", P90Open: "—", MeanWall: "—", P90Wall: "—", Satisfaction: "—",
		Types: topTypesText(r.TopTypes)}
	if r.openN > 0 {
		c.MeanOpen, c.P90Open = duration(time.Duration(r.MeanOpen)), duration(time.Duration(r.P90Open))
	}
	if r.Solved > 0 {
		c.MeanWall, c.P90Wall = duration(time.Duration(r.MeanWall)), duration(time.Duration(r.P90Wall))
	}
	if r.Satisfaction != nil {
		c.Satisfaction = strings.Replace(strconv.FormatFloat(*r.Satisfaction, 'f', 2, 64), ".", ",", 1) + " / 5 (" + strconv.Itoa(r.SurveyAnswers) + ")"
	}
	return c
}

type reportView struct {
	Groups          []option
	From, To, Org   string
	Report          GroupReport
	Rows            []reportCell
	Total           reportCell
	VolumeChart     template.HTML
	ComplianceChart template.HTML
	CSVURL, XLSXURL string
	GroupLabel      string
	Truncated       bool
}

// maxChartBars bounds the charts; the table always has every row.
const maxChartBars = 40

func (h *Handler) reportPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rq, err := reportQueryFrom(q)
	if err != nil {
		return err
	}
	rep, err := h.svc.Report(r.Context(), p, rq)
	if err != nil {
		return err
	}
	if done, err := writeExport(w, q.Get("format"), rep); done || err != nil {
		return err
	}
	v := reportView{From: rep.From, To: rep.To, Report: rep, Total: reportCellOf(rep.Total)}
	if rq.OrgID != 0 {
		v.Org = strconv.FormatInt(rq.OrgID, 10)
	}
	pairs := []string{}
	for _, g := range ReportGroups {
		pairs = append(pairs, g.Value, g.Label)
		if g.Value == rep.Group {
			v.GroupLabel = g.Label
		}
	}
	v.Groups = options(rep.Group, pairs...)
	var volume, compliance []chartBar
	for i, row := range rep.Rows {
		v.Rows = append(v.Rows, reportCellOf(row))
		if i >= maxChartBars {
			v.Truncated = true
			continue
		}
		volume = append(volume, chartBar{Label: row.Label, Values: []float64{float64(row.Opened), float64(row.Solved)},
			Texts: []string{web.FormatNumber(row.Opened), web.FormatNumber(row.Solved)}})
		cb := chartBar{Label: row.Label, Values: []float64{0, 0}, Texts: []string{"—", "—"}}
		if row.TTOCompliance != nil {
			cb.Values[0], cb.Texts[0] = *row.TTOCompliance, pctText(*row.TTOCompliance)
		}
		if row.TTRCompliance != nil {
			cb.Values[1], cb.Texts[1] = *row.TTRCompliance, pctText(*row.TTRCompliance)
		}
		compliance = append(compliance, cb)
	}
	period := fmt.Sprintf("de %s à %s, par %s", rep.From, rep.To, strings.ToLower(v.GroupLabel))
	v.VolumeChart = hbarChart("chart-volume", "Tickets ouverts et résolus, "+period,
		"Barres horizontales : pour chaque ligne, le nombre de tickets ouverts puis résolus. Les mêmes chiffres figurent dans le tableau.",
		[]chartSeries{{Name: "Ouverts", Class: "a", Fill: "#000091"}, {Name: "Résolus", Class: "b", Fill: "#6a6af4"}}, volume, 0)
	v.ComplianceChart = hbarChart("chart-compliance", "Respect des délais promis (%), "+period,
		"Barres horizontales de 0 à 100 % : part des tickets pris en charge, puis résolus, dans le délai promis. Les mêmes chiffres figurent dans le tableau.",
		[]chartSeries{{Name: "Prise en charge", Class: "a", Fill: "#000091"}, {Name: "Résolution", Class: "b", Fill: "#6a6af4"}}, compliance, 100)
	eq := url.Values{}
	for k, vs := range q {
		if k != "format" {
			eq[k] = vs
		}
	}
	eq.Set("format", "csv")
	v.CSVURL = "/rapports?" + eq.Encode()
	eq.Set("format", "xlsx")
	v.XLSXURL = "/rapports?" + eq.Encode()
	return h.render.Render(w, r, http.StatusOK, "helpdesk/report", "Rapports de qualité de service", v)
}

func (h *Handler) qualityPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	org, err := web.IntParam(r.URL.Query(), "org", 1, 1<<62)
	if err != nil {
		return err
	}
	if org == 0 {
		if org = defaultOrg(p); org == 0 {
			return problem.NotFound("Organisation")
		}
	}
	qs, err := h.svc.QualityOfService(r.Context(), p, org)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "helpdesk/report_quality", "Qualité de service — "+qs.OrgName, qs)
}
