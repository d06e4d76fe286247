package helpdesk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Promise is what a convention promises for a service, as the quality page
// states it: the targets of a normal-priority incident and request.
type Promise struct {
	AgreementReference string `json:"agreement_reference,omitempty"`
	IncidentTTO        string `json:"incident_tto,omitempty"`
	IncidentTTR        string `json:"incident_ttr,omitempty"`
	RequestTTO         string `json:"request_tto,omitempty"`
	RequestTTR         string `json:"request_ttr,omitempty"`
	Priority           int    `json:"priority,omitempty"`
}

// QualityPeriod is the measure of one service over one window.
type QualityPeriod struct {
	Months    int       `json:"months"`
	From, To  string    `json:"-"`
	Incidents ReportRow `json:"incidents"`
	All       ReportRow `json:"all"`
	Sentences []string  `json:"sentences"`
}

// QualityService is one service of the quality page.
type QualityService struct {
	ServiceID int64           `json:"service_id"`
	Name      string          `json:"name"`
	Promise   Promise         `json:"promise"`
	Periods   []QualityPeriod `json:"periods"`
}

// Quality is the "quality of service" of a commune, a collectivité or a
// school: what was promised and what was measured, in sentences a
// non-technician reads.
type Quality struct {
	OrgID    int64            `json:"org_id"`
	OrgName  string           `json:"org_name"`
	Services []QualityService `json:"services"`
}

// delayText writes a target in words: "4 h ouvrées", "2 jours ouvrés".
func delayText(s string) string {
	d, err := catalog.ParseDelay(s)
	if err != nil || d.IsZero() {
		return ""
	}
	if d.Days > 0 {
		if d.Days == 1 {
			return "1 jour ouvré"
		}
		return strconv.Itoa(d.Days) + " jours ouvrés"
	}
	h, m := int(d.Open/time.Hour), int(d.Open%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d min ouvrées", m)
	case m == 0 && h == 1:
		return "1 h ouvrée"
	case m == 0:
		return fmt.Sprintf("%d h ouvrées", h)
	}
	return fmt.Sprintf("%d h %02d ouvrées", h, m)
}

func pctText(v float64) string {
	return strings.Replace(strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64), ".", ",", 1) + " %"
}

// QualityOfService measures every service of an organization's tickets
// over the last 3 and 12 months (the current month included) against the
// targets of the convention in force.
func (s *Service) QualityOfService(ctx context.Context, p *auth.Principal, orgID int64) (Quality, error) {
	if p.IsAnonymous() {
		return Quality{}, problem.Unauthenticated()
	}
	ok, err := s.auth.Allowed(ctx, p, auth.PermReportRead, orgID)
	if err != nil {
		return Quality{}, err
	}
	if !ok {
		return Quality{}, problem.NotFound("Organisation")
	}
	q := Quality{OrgID: orgID, Services: []QualityService{}}
	err = s.db.QueryRowContext(ctx, `SELECT name FROM organizations WHERE id = ?`, orgID).Scan(&q.OrgName)
	if errors.Is(err, sql.ErrNoRows) {
		return q, problem.NotFound("Organisation")
	}
	if err != nil {
		return q, fmt.Errorf("quality of %d: %w", orgID, err)
	}
	now := s.now()
	byService := map[int64]*QualityService{}
	var order []int64
	for _, months := range []int{3, 12} {
		from := monthStart(now).AddDate(0, -(months - 1), 0)
		all, err := s.Report(ctx, p, ReportQuery{Group: GroupService, From: from, To: now, OrgID: orgID})
		if err != nil {
			return q, err
		}
		inc, err := s.Report(ctx, p, ReportQuery{Group: GroupService, From: from, To: now, OrgID: orgID, Kind: KindIncident})
		if err != nil {
			return q, err
		}
		incBy := map[string]ReportRow{}
		for _, r := range inc.Rows {
			incBy[r.Key] = r
		}
		for _, r := range all.Rows {
			id, _ := strconv.ParseInt(r.Key, 10, 64)
			if id == 0 {
				continue // tickets without a service have no convention
			}
			qs := byService[id]
			if qs == nil {
				qs = &QualityService{ServiceID: id, Name: r.Label}
				byService[id] = qs
				order = append(order, id)
			}
			i := incBy[r.Key]
			i.Label = r.Label
			qs.Periods = append(qs.Periods, QualityPeriod{Months: months, From: all.From, To: all.To, Incidents: i, All: r})
		}
	}
	if err := s.promises(ctx, p, orgID, monthStart(now).AddDate(0, -11, 0), byService); err != nil {
		return q, err
	}
	for _, id := range order {
		qs := byService[id]
		for i := range qs.Periods {
			qs.Periods[i].Sentences = sentences(qs.Periods[i], qs.Promise)
		}
		q.Services = append(q.Services, *qs)
	}
	return q, nil
}

// promises reads the targets of the convention the latest tickets of each
// service were measured against.
func (s *Service) promises(ctx context.Context, p *auth.Principal, orgID int64, since time.Time, services map[int64]*QualityService) error {
	scope, args := reportScope(p, orgID)
	rows, err := s.db.QueryContext(ctx, `SELECT t.service_id, MAX(t.agreement_service_id) FROM tickets t WHERE `+scope+`
		AND t.created_at >= ? AND t.agreement_service_id IS NOT NULL AND t.service_id IS NOT NULL GROUP BY t.service_id`,
		append(args, since.UTC())...)
	if err != nil {
		return fmt.Errorf("quality promises: %w", err)
	}
	agsOf := map[int64]int64{}
	for rows.Next() {
		var svc, ags int64
		if err := rows.Scan(&svc, &ags); err != nil {
			rows.Close()
			return err
		}
		agsOf[ags] = svc
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(agsOf) == 0 {
		return err
	}
	ids := make([]any, 0, len(agsOf))
	for id := range agsOf {
		ids = append(ids, id)
	}
	// The normal priority (3) when the convention sets it, else the
	// nearest one.
	rows, err = s.db.QueryContext(ctx, `SELECT sl.agreement_service_id, a.reference, sl.request_kind, sl.priority, sl.tto, sl.ttr
		FROM service_levels sl JOIN agreement_services ags ON ags.id = sl.agreement_service_id JOIN agreements a ON a.id = ags.agreement_id
		WHERE sl.agreement_service_id IN (`+db.Placeholders(len(ids))+`)
		ORDER BY sl.agreement_service_id, ABS(sl.priority - 3), sl.priority`, ids...)
	if err != nil {
		return fmt.Errorf("quality promises: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var ags int64
		var ref, kind, tto, ttr string
		var prio int
		if err := rows.Scan(&ags, &ref, &kind, &prio, &tto, &ttr); err != nil {
			return err
		}
		qs := services[agsOf[ags]]
		k := strconv.FormatInt(ags, 10) + kind
		if qs == nil || seen[k] {
			continue
		}
		seen[k] = true
		qs.Promise.AgreementReference = ref
		switch kind {
		case string(KindIncident):
			qs.Promise.IncidentTTO, qs.Promise.IncidentTTR, qs.Promise.Priority = delayText(tto), delayText(ttr), prio
		case string(KindRequest):
			qs.Promise.RequestTTO, qs.Promise.RequestTTR = delayText(tto), delayText(ttr)
		}
	}
	return rows.Err()
}

func periodText(qp QualityPeriod) string {
	f, _ := time.Parse("2006-01", qp.From)
	t, _ := time.Parse("2006-01", qp.To)
	return fmt.Sprintf("Sur les %d derniers mois (de %s à %s)", qp.Months, frMonth(f), frMonth(t))
}

// sentences says a period's figures in plain French.
func sentences(qp QualityPeriod, pr Promise) []string {
	head := periodText(qp)
	objective := func(target string) string {
		if target == "" {
			return ""
		}
		return " (objectif : " + target + ")"
	}
	var out []string
	inc := qp.Incidents
	if inc.TTRCompliance != nil {
		out = append(out, fmt.Sprintf("%s, %s des incidents ont été résolus dans le délai promis%s.", head, pctText(*inc.TTRCompliance), objective(pr.IncidentTTR)))
	} else {
		out = append(out, head+", aucun incident résolu n'a pu être comparé à un délai promis.")
	}
	if inc.openN > 0 {
		out = append(out, fmt.Sprintf("En moyenne, un incident a été résolu en %s de temps ouvré ; 9 incidents sur 10 l'ont été en %s ou moins.",
			duration(time.Duration(inc.MeanOpen)), duration(time.Duration(inc.P90Open))))
	}
	all := qp.All
	if all.TTOCompliance != nil {
		target := pr.IncidentTTO
		if target == "" {
			target = pr.RequestTTO
		}
		out = append(out, fmt.Sprintf("%s des demandes et incidents ont été pris en charge dans le délai promis%s.", pctText(*all.TTOCompliance), objective(target)))
	}
	out = append(out, fmt.Sprintf("%s tickets ouverts, %s résolus ; %s restaient en cours à la fin de la période.",
		plural(all.Opened), plural(all.Solved), plural(all.Backlog)))
	if all.Satisfaction != nil {
		out = append(out, fmt.Sprintf("Satisfaction des usagers : %s sur 5 (%d réponse%s à l'enquête).",
			strings.Replace(strconv.FormatFloat(*all.Satisfaction, 'f', 1, 64), ".", ",", 1), all.SurveyAnswers, pluralS(all.SurveyAnswers)))
	}
	return out
}

func plural(n int) string { return web.FormatNumber(n) }

func pluralS(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}
