package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Report groups: what the rows of a report are.
const (
	GroupService       = "service"
	GroupAgreement     = "agreement"
	GroupEstablishment = "establishment"
	GroupCommune       = "commune"
	GroupAuthority     = "authority"
	GroupTeam          = "team"
	GroupMonth         = "month"
)

// ReportGroups lists the groups in the order forms show them, with their
// French names.
var ReportGroups = []struct{ Value, Label string }{
	{GroupMonth, "Mois"}, {GroupService, "Service"}, {GroupAgreement, "Convention"},
	{GroupEstablishment, "Établissement"}, {GroupCommune, "Commune"}, {GroupAuthority, "Collectivité"}, {GroupTeam, "Équipe"},
}

// maxReportMonths bounds a report's period (the month grouping writes one
// CASE branch per month).
const maxReportMonths = 120

// ReportQuery selects a report.
type ReportQuery struct {
	Group string
	// From and To are the first and last months, inclusive (any instant in
	// the month; months are read in Paris time).
	From, To time.Time
	// OrgID narrows to an establishment or everything under an
	// organization; 0 is the caller's whole scope.
	OrgID int64
	// Kind narrows to one kind of ticket; empty is every kind.
	Kind Kind
}

// TypeCount is a request type and how many tickets were opened for it.
type TypeCount struct {
	RequestTypeID int64  `json:"request_type_id"`
	Name          string `json:"name"`
	Tickets       int    `json:"tickets"`
}

// ReportRow is the quality of service of one group over the period.
//
// Times to resolve are given twice: "open" is the business time the
// convention's calendar counts (resolve_open_seconds, pauses excluded),
// the one the targets are expressed in; "wall" is the calendar time from
// opening to solution, what a requester lives. Both are over the tickets
// solved in the period; the 90th percentile is the nearest rank (the
// smallest time at least 90 % of tickets stay within).
type ReportRow struct {
	Key           string      `json:"key"`
	Label         string      `json:"label"`
	Opened        int         `json:"opened"`
	Solved        int         `json:"solved"`
	Backlog       int         `json:"backlog"`
	TTOMeasured   int         `json:"tto_measured"`
	TTOMet        int         `json:"tto_met"`
	TTOCompliance *float64    `json:"tto_compliance_percent"`
	TTRMeasured   int         `json:"ttr_measured"`
	TTRMet        int         `json:"ttr_met"`
	TTRCompliance *float64    `json:"ttr_compliance_percent"`
	MeanOpen      Seconds     `json:"mean_resolve_open_seconds"`
	P90Open       Seconds     `json:"p90_resolve_open_seconds"`
	MeanWall      Seconds     `json:"mean_resolve_wall_seconds"`
	P90Wall       Seconds     `json:"p90_resolve_wall_seconds"`
	Satisfaction  *float64    `json:"satisfaction"`
	SurveyAnswers int         `json:"survey_answers"`
	TopTypes      []TypeCount `json:"top_request_types"`

	openSum, openN, wallSum, scoreSum int64
	allTypes                          []TypeCount
}

// GroupReport is a report: one row per group, and the whole.
type GroupReport struct {
	Group string      `json:"group"`
	From  string      `json:"from"`
	To    string      `json:"to"`
	OrgID int64       `json:"org_id,omitempty"`
	Kind  string      `json:"kind,omitempty"`
	Rows  []ReportRow `json:"rows"`
	Total ReportRow   `json:"total"`
}

func monthStart(t time.Time) time.Time {
	m := t.In(web.Paris())
	return time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, web.Paris())
}

// reportScope is the condition on t for the caller's scope and the chosen
// organization. ScopeSQL decides what may be read; its recursive part is
// a correlated EXISTS, tested ticket by ticket, so the same scope is also
// written as an IN over the closure (implied by ScopeSQL, it can only
// narrow): both engines then read the (establishment_id, …) indexes
// establishment by establishment instead of testing every ticket.
func reportScope(p *auth.Principal, orgID int64) (string, []any) {
	return scopeFor(p, auth.PermReportRead, orgID)
}

func scopeFor(p *auth.Principal, perm auth.Permission, orgID int64) (string, []any) {
	cond, args := p.ScopeSQL(perm, "t.establishment_id")
	if !p.Global(perm) {
		var named, recursive []any
		for _, g := range p.Grants {
			if g.OrgID != 0 && g.Role.Allows(perm) {
				named = append(named, g.OrgID)
				if g.Recursive {
					recursive = append(recursive, g.OrgID)
				}
			}
		}
		if len(named) > 0 {
			hint := "t.establishment_id IN (SELECT CAST(o.id AS BIGINT) FROM organizations o WHERE o.id IN (" + db.Placeholders(len(named)) + ")"
			hargs := slices.Clone(named)
			if len(recursive) > 0 {
				hint += " UNION SELECT hc.descendant_id FROM org_closure hc WHERE hc.ancestor_id IN (" + db.Placeholders(len(recursive)) + ")"
				hargs = append(hargs, recursive...)
			}
			cond = "(" + cond + ") AND " + hint + ")"
			args = append(slices.Clone(args), hargs...)
		}
	}
	if orgID != 0 {
		cond = "(" + cond + ") AND t.establishment_id IN (SELECT oc.descendant_id FROM org_closure oc WHERE oc.ancestor_id = ? UNION SELECT CAST(? AS BIGINT))"
		args = append(slices.Clone(args), orgID, orgID)
	}
	return cond, args
}

// wallSeconds is the calendar time between two timestamps, in whole
// seconds: the one date arithmetic the reports need, engine by engine.
func wallSeconds(d db.Dialect, from, to string) string {
	if d == db.Postgres {
		return "CAST(EXTRACT(EPOCH FROM (" + to + " - " + from + ")) AS BIGINT)"
	}
	return "CAST(ROUND((julianday(" + to + ") - julianday(" + from + ")) * 86400) AS INTEGER)"
}

// groupKey is the SQL expression of a row's group, as text. For months it
// is a CASE over the month boundaries in Paris time, computed here, so
// both engines share it and no time-zone function is needed in SQL.
func groupKey(group, timeCol string, months []time.Time) (string, []any) {
	switch group {
	case GroupService:
		return "CAST(COALESCE(t.service_id, 0) AS TEXT)", nil
	case GroupAgreement:
		return "CAST(COALESCE((SELECT ags.agreement_id FROM agreement_services ags WHERE ags.id = t.agreement_service_id), 0) AS TEXT)", nil
	case GroupEstablishment:
		return "CAST(t.establishment_id AS TEXT)", nil
	case GroupCommune:
		return "t.commune_code", nil
	case GroupAuthority:
		return "CAST(COALESCE(t.authority_id, 0) AS TEXT)", nil
	case GroupTeam:
		return "CAST(COALESCE(t.team_id, 0) AS TEXT)", nil
	case GroupMonth:
		var b strings.Builder
		var args []any
		b.WriteString("CASE")
		for _, m := range months {
			b.WriteString(" WHEN " + timeCol + " < ? THEN ?")
			args = append(args, m.AddDate(0, 1, 0).UTC(), m.Format("2006-01"))
		}
		b.WriteString(" ELSE '' END")
		return b.String(), args
	}
	return "'all'", nil
}

// Report computes the quality of service over a period, grouped, within
// the caller's scope: figures of establishments out of scope are simply
// not counted. Every figure is aggregated in SQL.
func (s *Service) Report(ctx context.Context, p *auth.Principal, q ReportQuery) (GroupReport, error) {
	if p.IsAnonymous() {
		return GroupReport{}, problem.Unauthenticated()
	}
	if !p.Has(auth.PermReportRead) {
		return GroupReport{}, problem.Forbidden()
	}
	if !slices.ContainsFunc(ReportGroups, func(g struct{ Value, Label string }) bool { return g.Value == q.Group }) {
		return GroupReport{}, problem.Invalid("invalid_group", "Regroupement inconnu (service, agreement, establishment, commune, authority, team, month).").Field("group", "Regroupement inconnu.")
	}
	if q.Kind != "" && !q.Kind.valid() {
		return GroupReport{}, problem.Invalid("invalid_kind", "Type de ticket inconnu.").Field("kind", "Type inconnu.")
	}
	if q.OrgID != 0 {
		ok, err := s.auth.Allowed(ctx, p, auth.PermReportRead, q.OrgID)
		if err != nil {
			return GroupReport{}, err
		}
		if !ok {
			return GroupReport{}, problem.NotFound("Organisation")
		}
	}
	now := s.now()
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = monthStart(q.To).AddDate(0, -11, 0)
	}
	from, last := monthStart(q.From), monthStart(q.To)
	if last.Before(from) {
		return GroupReport{}, problem.Invalid("invalid_period", "Le mois de fin précède le mois de début.").Field("to", "Mois de fin avant le début.")
	}
	var months []time.Time
	for m := from; !m.After(last); m = m.AddDate(0, 1, 0) {
		months = append(months, m)
	}
	if len(months) > maxReportMonths {
		return GroupReport{}, problem.Invalid("invalid_period", "La période ne doit pas dépasser 120 mois.").Field("from", "Période trop longue.")
	}
	to := last.AddDate(0, 1, 0)
	rep := GroupReport{Group: q.Group, From: from.Format("2006-01"), To: last.Format("2006-01"), OrgID: q.OrgID, Kind: string(q.Kind), Rows: []ReportRow{}}
	scope, scopeArgs := reportScope(p, q.OrgID)
	if q.Kind != "" {
		scope += " AND t.kind = ?"
		scopeArgs = append(slices.Clone(scopeArgs), string(q.Kind))
	}
	rows, err := s.reportRows(ctx, q.Group, months, from, to, scope, scopeArgs)
	if err != nil {
		return rep, err
	}
	total, err := s.reportTotal(ctx, q.Group, rows, months, from, to, scope, scopeArgs)
	if err != nil {
		return rep, err
	}
	if q.Group == GroupMonth {
		// Every month is shown, even an empty one: a chart with holes
		// would read as a fall to zero anyway, but a table must say so.
		byKey := map[string]ReportRow{}
		for _, r := range rows {
			byKey[r.Key] = r
		}
		rows = rows[:0]
		for _, m := range months {
			k := m.Format("2006-01")
			r, ok := byKey[k]
			if !ok {
				r = ReportRow{Key: k}
			}
			rows = append(rows, r)
		}
	}
	if err := s.reportLabels(ctx, q.Group, rows); err != nil {
		return rep, err
	}
	rep.Rows = rows
	rep.Total = total
	rep.Total.Key, rep.Total.Label = "", "Total"
	return rep, nil
}

// reportRows runs the aggregates of one grouping ("" for the whole).
func (s *Service) reportRows(ctx context.Context, group string, months []time.Time, from, to time.Time, scope string, scopeArgs []any) ([]ReportRow, error) {
	byKey := map[string]*ReportRow{}
	get := func(k string) *ReportRow {
		r := byKey[k]
		if r == nil {
			r = &ReportRow{Key: k}
			byKey[k] = r
		}
		return r
	}
	fu, tu := from.UTC(), to.UTC()
	d := s.db.Dialect()
	args := func(keyArgs []any, rest ...any) []any {
		out := append(slices.Clone(keyArgs), scopeArgs...)
		return append(out, rest...)
	}

	// Opened in the period: counts and time-to-own compliance.
	key, kargs := groupKey(group, "t.created_at", months)
	err := s.scanRows(ctx, `SELECT `+key+` AS k, COUNT(*), COALESCE(SUM(CASE WHEN t.tto_met THEN 1 ELSE 0 END), 0), COUNT(t.tto_met)
		FROM tickets t WHERE `+scope+` AND t.created_at >= ? AND t.created_at < ? GROUP BY 1`, args(kargs, fu, tu),
		3, func(k string, v []*int64) {
			r := get(k)
			r.Opened, r.TTOMet, r.TTOMeasured = int(iv(v[0])), int(iv(v[1])), int(iv(v[2]))
		})
	if err != nil {
		return nil, fmt.Errorf("report opened: %w", err)
	}

	// Solved in the period: resolution compliance and times.
	key, kargs = groupKey(group, "t.solved_at", months)
	wall := wallSeconds(d, "t.created_at", "t.solved_at")
	err = s.scanRows(ctx, `SELECT `+key+` AS k, COUNT(*), COALESCE(SUM(CASE WHEN t.ttr_met THEN 1 ELSE 0 END), 0), COUNT(t.ttr_met),
		COALESCE(SUM(t.resolve_open_seconds), 0), COUNT(t.resolve_open_seconds), COALESCE(SUM(`+wall+`), 0)
		FROM tickets t WHERE `+scope+` AND t.solved_at >= ? AND t.solved_at < ? GROUP BY 1`, args(kargs, fu, tu),
		6, func(k string, v []*int64) {
			r := get(k)
			r.Solved, r.TTRMet, r.TTRMeasured = int(iv(v[0])), int(iv(v[1])), int(iv(v[2]))
			r.openSum, r.openN, r.wallSum = iv(v[3]), iv(v[4]), iv(v[5])
		})
	if err != nil {
		return nil, fmt.Errorf("report solved: %w", err)
	}

	// 90th percentiles (see p90SQL).
	err = s.scanRows(ctx, p90SQL(key, wall, scope), args(kargs, fu, tu),
		2, func(k string, v []*int64) {
			r := get(k)
			r.P90Open = Seconds(time.Duration(iv(v[0])) * time.Second)
			r.P90Wall = Seconds(time.Duration(iv(v[1])) * time.Second)
		})
	if err != nil {
		return nil, fmt.Errorf("report percentiles: %w", err)
	}

	// Backlog: tickets opened and not yet solved (or closed) at the end of
	// the period, or of each month.
	done := "COALESCE(t.solved_at, t.closed_at)"
	if group == GroupMonth {
		var sums []string
		var bargs []any
		for _, m := range months {
			sums = append(sums, "COALESCE(SUM(CASE WHEN t.created_at < ? AND ("+done+" IS NULL OR "+done+" >= ?) THEN 1 ELSE 0 END), 0)")
			e := m.AddDate(0, 1, 0).UTC()
			bargs = append(bargs, e, e)
		}
		vals := make([]int, len(months))
		ptrs := make([]any, len(months))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err = s.db.QueryRowContext(ctx, `SELECT `+strings.Join(sums, ", ")+` FROM tickets t WHERE `+scope+
			` AND t.created_at < ? AND (`+done+` IS NULL OR `+done+` >= ?)`, args(bargs, tu, fu)...).Scan(ptrs...)
		if err != nil {
			return nil, fmt.Errorf("report backlog: %w", err)
		}
		for i, m := range months {
			if vals[i] > 0 {
				get(m.Format("2006-01")).Backlog = vals[i]
			}
		}
	} else {
		key, kargs = groupKey(group, "", nil)
		err = s.scanRows(ctx, `SELECT `+key+` AS k, COUNT(*) FROM tickets t WHERE `+scope+
			` AND t.created_at < ? AND (`+done+` IS NULL OR `+done+` >= ?) GROUP BY 1`, args(kargs, tu, tu),
			1, func(k string, v []*int64) { get(k).Backlog = int(iv(v[0])) })
		if err != nil {
			return nil, fmt.Errorf("report backlog: %w", err)
		}
	}

	// Satisfaction of the answers received in the period.
	key, kargs = groupKey(group, "sv.answered_at", months)
	err = s.scanRows(ctx, `SELECT `+key+` AS k, COALESCE(SUM(sv.score), 0), COUNT(sv.score) FROM satisfaction_surveys sv
		JOIN tickets t ON t.id = sv.ticket_id WHERE `+scope+` AND sv.answered_at >= ? AND sv.answered_at < ? GROUP BY 1`,
		args(kargs, fu, tu), 2, func(k string, v []*int64) {
			r := get(k)
			r.scoreSum, r.SurveyAnswers = iv(v[0]), int(iv(v[1]))
		})
	if err != nil {
		return nil, fmt.Errorf("report satisfaction: %w", err)
	}

	// Top request types of the tickets opened in the period.
	key, kargs = groupKey(group, "t.created_at", months)
	err = s.scanRows(ctx, `SELECT `+key+` AS k, t.request_type_id, COUNT(*) FROM tickets t WHERE `+scope+`
		AND t.created_at >= ? AND t.created_at < ? AND t.request_type_id IS NOT NULL GROUP BY 1, 2`, args(kargs, fu, tu),
		2, func(k string, v []*int64) {
			r := get(k)
			r.TopTypes = append(r.TopTypes, TypeCount{RequestTypeID: iv(v[0]), Tickets: int(iv(v[1]))})
		})
	if err != nil {
		return nil, fmt.Errorf("report request types: %w", err)
	}

	out := make([]ReportRow, 0, len(byKey))
	names := map[int64]string{}
	for _, r := range byKey {
		finish(r)
		for _, tc := range r.TopTypes {
			names[tc.RequestTypeID] = ""
		}
		out = append(out, *r)
	}
	if err := s.labels(ctx, `SELECT id, name FROM request_types WHERE id IN `, names); err != nil {
		return nil, err
	}
	for i := range out {
		for j := range out[i].TopTypes {
			out[i].TopTypes[j].Name = names[out[i].TopTypes[j].RequestTypeID]
		}
	}
	slices.SortFunc(out, func(a, b ReportRow) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// reportTotal sums the rows of a grouping into the whole: every ticket
// is in exactly one group, so counts and sums add up; the backlog of a
// month grouping is the last month's. Only the 90th percentiles need one
// more query.
func (s *Service) reportTotal(ctx context.Context, group string, rows []ReportRow, months []time.Time, from, to time.Time, scope string, scopeArgs []any) (ReportRow, error) {
	var t ReportRow
	types := map[int64]*TypeCount{}
	for _, r := range rows {
		t.Opened += r.Opened
		t.Solved += r.Solved
		if group == GroupMonth {
			if r.Key == months[len(months)-1].Format("2006-01") {
				t.Backlog = r.Backlog
			}
		} else {
			t.Backlog += r.Backlog
		}
		t.TTOMet += r.TTOMet
		t.TTOMeasured += r.TTOMeasured
		t.TTRMet += r.TTRMet
		t.TTRMeasured += r.TTRMeasured
		t.openSum += r.openSum
		t.openN += r.openN
		t.wallSum += r.wallSum
		t.scoreSum += r.scoreSum
		t.SurveyAnswers += r.SurveyAnswers
		for _, tc := range r.allTypes {
			if types[tc.RequestTypeID] == nil {
				c := tc
				c.Tickets = 0
				types[tc.RequestTypeID] = &c
			}
			types[tc.RequestTypeID].Tickets += tc.Tickets
		}
	}
	for _, tc := range types {
		t.TopTypes = append(t.TopTypes, *tc)
	}
	finish(&t)
	fu, tu := from.UTC(), to.UTC()
	wall := wallSeconds(s.db.Dialect(), "t.created_at", "t.solved_at")
	err := s.scanRows(ctx, p90SQL("'all'", wall, scope), append(slices.Clone(scopeArgs), fu, tu), 2, func(_ string, v []*int64) {
		t.P90Open = Seconds(time.Duration(iv(v[0])) * time.Second)
		t.P90Wall = Seconds(time.Duration(iv(v[1])) * time.Second)
	})
	if err != nil {
		return t, fmt.Errorf("report percentiles: %w", err)
	}
	return t, nil
}

// p90SQL gives the 90th percentiles of the open and wall times of the
// tickets solved in [?, ?), per key, nearest rank, with window functions
// both engines have: the row whose rank is ceil(0.9 n), written
// (9n + 9) / 10 in integers. NULL open times (no calendar) sort last and
// are not counted.
func p90SQL(key, wall, scope string) string {
	return `SELECT k, MAX(CASE WHEN ro = (9 * n_o + 9) / 10 THEN o END), MAX(CASE WHEN rw = (9 * n_w + 9) / 10 THEN w END)
		FROM (SELECT k, o, w,
			ROW_NUMBER() OVER (PARTITION BY k ORDER BY CASE WHEN o IS NULL THEN 1 ELSE 0 END, o) AS ro, COUNT(o) OVER (PARTITION BY k) AS n_o,
			ROW_NUMBER() OVER (PARTITION BY k ORDER BY w) AS rw, COUNT(*) OVER (PARTITION BY k) AS n_w
			FROM (SELECT ` + key + ` AS k, t.resolve_open_seconds AS o, ` + wall + ` AS w
				FROM tickets t WHERE ` + scope + ` AND t.solved_at >= ? AND t.solved_at < ?) s0) s1
		GROUP BY k`
}

// finish turns the sums of a row into its figures.
func finish(r *ReportRow) {
	r.TTOCompliance = percent(r.TTOMet, r.TTOMeasured)
	r.TTRCompliance = percent(r.TTRMet, r.TTRMeasured)
	if r.openN > 0 {
		r.MeanOpen = Seconds(time.Duration(r.openSum/r.openN) * time.Second)
	}
	if r.Solved > 0 {
		r.MeanWall = Seconds(time.Duration(r.wallSum/int64(r.Solved)) * time.Second)
	}
	if r.SurveyAnswers > 0 {
		v := math.Round(float64(r.scoreSum)*100/float64(r.SurveyAnswers)) / 100
		r.Satisfaction = &v
	}
	slices.SortFunc(r.TopTypes, func(a, b TypeCount) int {
		if a.Tickets != b.Tickets {
			return b.Tickets - a.Tickets
		}
		return int(a.RequestTypeID - b.RequestTypeID)
	})
	r.allTypes = r.TopTypes
	if len(r.TopTypes) > 3 {
		r.TopTypes = slices.Clone(r.TopTypes[:3])
	}
}

// scanRows runs a grouped query whose first column is the group's key and
// the n others integers (NULL reads as nil).
func (s *Service) scanRows(ctx context.Context, query string, args []any, n int, fn func(k string, v []*int64)) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]sql.NullInt64, n)
	dst := make([]any, n+1)
	for i := range vals {
		dst[i+1] = &vals[i]
	}
	for rows.Next() {
		var k string
		dst[0] = &k
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		out := make([]*int64, n)
		for i, v := range vals {
			if v.Valid {
				x := v.Int64
				out[i] = &x
			}
		}
		fn(k, out)
	}
	return rows.Err()
}

func iv(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// labels fills names (id → "") from a query "SELECT id, name … WHERE id IN ".
func (s *Service) labels(ctx context.Context, prefix string, names map[int64]string) error {
	if len(names) == 0 {
		return nil
	}
	ids := make([]any, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	rows, err := s.db.QueryContext(ctx, prefix+"("+db.Placeholders(len(ids))+")", ids...)
	if err != nil {
		return fmt.Errorf("report labels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		names[id] = name
	}
	return rows.Err()
}

// reportLabels names the groups of a report.
func (s *Service) reportLabels(ctx context.Context, group string, rows []ReportRow) error {
	if group == GroupMonth {
		for i := range rows {
			m, _ := time.Parse("2006-01", rows[i].Key)
			rows[i].Label = frMonth(m)
		}
		return nil
	}
	if group == GroupCommune {
		codes := map[string]string{}
		for _, r := range rows {
			codes[r.Key] = ""
		}
		qr, err := s.db.QueryContext(ctx, `SELECT code, name FROM organizations WHERE kind = 'commune'`)
		if err != nil {
			return fmt.Errorf("report labels: %w", err)
		}
		defer qr.Close()
		for qr.Next() {
			var c, n string
			if err := qr.Scan(&c, &n); err != nil {
				return err
			}
			if _, ok := codes[c]; ok {
				codes[c] = n
			}
		}
		if err := qr.Err(); err != nil {
			return err
		}
		for i := range rows {
			switch n := codes[rows[i].Key]; {
			case rows[i].Key == "":
				rows[i].Label = "Commune inconnue"
			case n != "":
				rows[i].Label = n + " (" + rows[i].Key + ")"
			default:
				rows[i].Label = rows[i].Key
			}
		}
		return nil
	}
	prefix := map[string]string{
		GroupService:       `SELECT id, name FROM services WHERE id IN `,
		GroupAgreement:     `SELECT id, reference || ' — ' || title FROM agreements WHERE id IN `,
		GroupEstablishment: `SELECT o.id, o.name || COALESCE(' (' || e.uai || ')', '') FROM organizations o LEFT JOIN establishments e ON e.org_id = o.id WHERE o.id IN `,
		GroupAuthority:     `SELECT id, name FROM organizations WHERE id IN `,
		GroupTeam:          `SELECT id, name FROM teams WHERE id IN `,
	}[group]
	none := map[string]string{GroupService: "Sans service", GroupAgreement: "Hors convention", GroupAuthority: "Sans collectivité",
		GroupTeam: "Sans équipe", GroupEstablishment: "?"}[group]
	names := map[int64]string{}
	for _, r := range rows {
		if id, _ := strconv.ParseInt(r.Key, 10, 64); id != 0 {
			names[id] = ""
		}
	}
	if err := s.labels(ctx, prefix, names); err != nil {
		return err
	}
	for i := range rows {
		id, _ := strconv.ParseInt(rows[i].Key, 10, 64)
		if rows[i].Label = names[id]; id == 0 || rows[i].Label == "" {
			rows[i].Label = none
			if id != 0 {
				rows[i].Label = "n° " + rows[i].Key
			}
		}
	}
	return nil
}

var frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func frMonth(m time.Time) string { return frMonths[m.Month()-1] + " " + strconv.Itoa(m.Year()) }
