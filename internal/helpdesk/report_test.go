package helpdesk

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// handTicket is a ticket written straight into the table, with the clock
// results the workflow would have recorded.
type handTicket struct {
	est            int64
	created        string // UTC, "2006-01-02 15:04"
	solved         string
	tto, ttr       *bool
	openSecs       int64
	requestTypeID  int64
	score          int
	answered       string
	kind           string
	status         string
	communeCode    string
	authority      int64
	serviceID      int64
	agreementSvcID int64
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatalf("bad instant %q", s)
	}
	return v
}

func bp(b bool) *bool { return &b }

func (f *fixture) insertHand(n int, h handTicket) int64 {
	f.t.Helper()
	if h.kind == "" {
		h.kind = "incident"
	}
	if h.status == "" {
		h.status = "new"
		if h.solved != "" {
			h.status = "solved"
		}
	}
	var open any
	if h.openSecs > 0 {
		open = h.openSecs
	}
	var id int64
	created := utc(f.t, h.created)
	err := f.db.QueryRowContext(f.ctx, `INSERT INTO tickets (reference, kind, title, establishment_id, authority_id, commune_code,
		service_id, request_type_id, status, tto_met, ttr_met, resolve_open_seconds, solved_at, agreement_service_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		"T-HAND-"+string(rune('A'+n)), h.kind, "Ticket fait main", h.est, db.NullID(h.authority), h.communeCode, db.NullID(h.serviceID),
		db.NullID(h.requestTypeID), h.status, nullBool(h.tto), nullBool(h.ttr), open, nullTime(utc(f.t, h.solved)), db.NullID(h.agreementSvcID),
		created, created).Scan(&id)
	if err != nil {
		f.t.Fatalf("insert hand ticket: %v", err)
	}
	if h.score > 0 {
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO satisfaction_surveys (ticket_id, token_hash, sent_at, answered_at, score)
			VALUES (?, ?, ?, ?, ?)`, id, "h"+string(rune('A'+n)), utc(f.t, h.answered), utc(f.t, h.answered), h.score); err != nil {
			f.t.Fatalf("insert survey: %v", err)
		}
	}
	return id
}

// reportData is the hand-made data set: four incidents of école A solved
// in October 2026 (3 within the resolution target, 1 not; 3 owned in time,
// 1 not), one of école B still open, and one of another commune.
type reportData struct {
	other       int64 // the other commune
	otherEst    int64
	otherAgent  account
	requestType int64
	agsID       int64
}

func (f *fixture) reportData() reportData {
	f.t.Helper()
	var d reportData
	now := time.Now().UTC()
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO request_types (service_id, kind, name) VALUES (?, 'incident', 'Panne de poste') RETURNING id`,
		f.serviceID).Scan(&d.requestType); err != nil {
		f.t.Fatalf("request type: %v", err)
	}
	var agr int64
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO agreements (kind, reference, title, party_a_id, party_b_id, valid_from, valid_until, status, created_at, updated_at)
		VALUES ('service', 'CONV-2026-07', 'Assistance des écoles', ?, ?, '2026-01-01', '2028-12-31', 'active', ?, ?) RETURNING id`,
		f.authority, f.estA, now, now).Scan(&agr); err != nil {
		f.t.Fatalf("agreement: %v", err)
	}
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO agreement_services (agreement_id, service_id) VALUES (?, ?) RETURNING id`,
		agr, f.serviceID).Scan(&d.agsID); err != nil {
		f.t.Fatalf("agreement service: %v", err)
	}
	for _, l := range []struct {
		kind     string
		prio     int
		tto, ttr string
	}{{"incident", 3, "1h", "4h"}, {"incident", 1, "30m", "2h"}, {"request", 3, "4h", "3d"}} {
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO service_levels (agreement_service_id, request_kind, priority, tto, ttr) VALUES (?, ?, ?, ?, ?)`,
			d.agsID, l.kind, l.prio, l.tto, l.ttr); err != nil {
			f.t.Fatalf("service level: %v", err)
		}
	}
	base := handTicket{est: f.estA, authority: f.authority, communeCode: "35238", serviceID: f.serviceID, agreementSvcID: d.agsID}
	with := func(h handTicket) handTicket {
		h.est, h.authority, h.communeCode, h.serviceID, h.agreementSvcID = base.est, base.authority, base.communeCode, base.serviceID, base.agreementSvcID
		return h
	}
	f.insertHand(0, with(handTicket{created: "2026-10-05 10:00", solved: "2026-10-05 12:00", tto: bp(true), ttr: bp(true), openSecs: 7200,
		requestTypeID: d.requestType, score: 4, answered: "2026-10-10 10:00"}))
	f.insertHand(1, with(handTicket{created: "2026-10-06 08:00", solved: "2026-10-06 09:00", tto: bp(true), ttr: bp(true), openSecs: 3600,
		requestTypeID: d.requestType, score: 5, answered: "2026-10-11 10:00"}))
	f.insertHand(2, with(handTicket{created: "2026-10-07 08:00", solved: "2026-10-08 08:00", tto: bp(false), ttr: bp(true), openSecs: 28800}))
	f.insertHand(3, with(handTicket{created: "2026-10-09 08:00", solved: "2026-10-13 08:00", tto: bp(true), ttr: bp(false), openSecs: 57600}))
	f.insertHand(4, handTicket{est: f.estB, authority: f.authority, communeCode: "35238", serviceID: f.serviceID, created: "2026-10-20 08:00"})

	org := func(kind, code, name string) int64 {
		var id int64
		if err := f.db.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			kind, code, name, now, now).Scan(&id); err != nil {
			f.t.Fatalf("insert organization: %v", err)
		}
		return id
	}
	d.other = org("commune", "35047", "Bruz")
	uai := uaiOf(10350099)
	d.otherEst = org("establishment", uai, "École de Bruz")
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO establishments (org_id, uai, commune_code) VALUES (?, ?, '35047')`, d.otherEst, uai); err != nil {
		f.t.Fatalf("insert establishment: %v", err)
	}
	if err := f.db.InTx(f.ctx, func(tx *db.Tx) error {
		if err := auth.SetParents(f.ctx, tx, d.otherEst, d.other); err != nil {
			return err
		}
		return auth.RebuildClosure(f.ctx, tx)
	}); err != nil {
		f.t.Fatal(err)
	}
	f.insertHand(5, handTicket{est: d.otherEst, authority: d.other, communeCode: "35047", created: "2026-10-21 08:00", solved: "2026-10-21 09:00",
		tto: bp(true), ttr: bp(true), openSecs: 3600})
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: "agent@bruz.test", DisplayName: "Agent de Bruz", Password: "motdepasse-solide",
		Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: d.other, Recursive: true}}})
	if err != nil {
		f.t.Fatal(err)
	}
	tok, _, err := f.auth.IssueToken(f.ctx, id, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	d.otherAgent = account{id: id, email: "agent@bruz.test", token: tok}
	return d
}

func pctIs(v *float64, want float64) bool { return v != nil && *v == want }

// The figures of the hand-made set, computed by hand:
// TTO 3 met of 4 measured = 75 %; TTR 3 of 4 = 75 %;
// open times 2 h, 1 h, 8 h, 16 h: mean 6 h 45 (24 300 s), p90 = rank
// ceil(0.9 × 4) = 4th = 16 h; wall times 2 h, 1 h, 24 h, 96 h: mean
// 30 h 45 (110 700 s), p90 96 h; satisfaction (4 + 5) / 2 = 4.5.
func TestReportFiguresByHand(t *testing.T) {
	f := newFixture(t)
	d := f.reportData()
	p := f.principal(f.tech)
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, f.paris)
	rep, err := f.svc.Report(f.ctx, p, ReportQuery{Group: GroupEstablishment, From: oct, To: oct, OrgID: f.authority})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	a := rep.Rows[0]
	if a.Key != itoa(f.estA) {
		a = rep.Rows[1]
	}
	if a.Opened != 4 || a.Solved != 4 || a.Backlog != 0 || !pctIs(a.TTOCompliance, 75) || !pctIs(a.TTRCompliance, 75) {
		t.Errorf("école A: %+v", a)
	}
	if a.MeanOpen.Duration() != 24300*time.Second || a.P90Open.Duration() != 16*time.Hour {
		t.Errorf("open times: mean %v p90 %v", a.MeanOpen.Duration(), a.P90Open.Duration())
	}
	if a.MeanWall.Duration() != 110700*time.Second || a.P90Wall.Duration() != 96*time.Hour {
		t.Errorf("wall times: mean %v p90 %v", a.MeanWall.Duration(), a.P90Wall.Duration())
	}
	if !pctIs(a.Satisfaction, 4.5) || a.SurveyAnswers != 2 {
		t.Errorf("satisfaction: %v (%d)", a.Satisfaction, a.SurveyAnswers)
	}
	if len(a.TopTypes) != 1 || a.TopTypes[0].Name != "Panne de poste" || a.TopTypes[0].Tickets != 2 {
		t.Errorf("top types: %+v", a.TopTypes)
	}
	if !strings.Contains(a.Label, "École Jules Ferry") {
		t.Errorf("label %q", a.Label)
	}
	tot := rep.Total
	if tot.Opened != 5 || tot.Solved != 4 || tot.Backlog != 1 || !pctIs(tot.TTOCompliance, 75) || tot.P90Open.Duration() != 16*time.Hour {
		t.Errorf("total: %+v", tot)
	}

	// By month: September empty, October as above, the open ticket of
	// école B still in the backlog at the end of November.
	rep, err = f.svc.Report(f.ctx, p, ReportQuery{Group: GroupMonth, From: oct.AddDate(0, -1, 0), To: oct.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 || rep.Rows[0].Opened != 0 || rep.Rows[1].Opened != 5 || rep.Rows[1].Backlog != 1 || rep.Rows[2].Backlog != 1 ||
		rep.Rows[1].Label != "octobre 2026" || !pctIs(rep.Rows[1].TTRCompliance, 75) {
		t.Errorf("by month: %+v", rep.Rows)
	}

	// By commune and by service and agreement: one group each for Rennes.
	for _, g := range []string{GroupCommune, GroupService, GroupAgreement, GroupAuthority, GroupTeam} {
		rep, err = f.svc.Report(f.ctx, p, ReportQuery{Group: g, From: oct, To: oct})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if rep.Total.Opened != 5 {
			t.Errorf("%s: total %+v", g, rep.Total)
		}
		if g == GroupCommune && (len(rep.Rows) != 1 || rep.Rows[0].Label != "Rennes (35238)") {
			t.Errorf("by commune: %+v", rep.Rows)
		}
		if g == GroupAgreement && rep.Rows[len(rep.Rows)-1].Label != "CONV-2026-07 — Assistance des écoles" {
			t.Errorf("by agreement: %+v", rep.Rows)
		}
	}
	_ = d
}

// An agent of another commune sees none of Rennes' figures: not in its own
// report, and Rennes asked by name is not found.
func TestReportScope(t *testing.T) {
	f := newFixture(t)
	d := f.reportData()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, f.paris)
	other := f.principal(d.otherAgent)
	rep, err := f.svc.Report(f.ctx, other, ReportQuery{Group: GroupCommune, From: oct, To: oct})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Opened != 1 || len(rep.Rows) != 1 || rep.Rows[0].Key != "35047" {
		t.Errorf("other commune sees %+v", rep)
	}
	if _, err := f.svc.Report(f.ctx, other, ReportQuery{Group: GroupMonth, From: oct, To: oct, OrgID: f.authority}); err == nil {
		t.Error("Rennes by name: no error")
	}
	if code := f.call(d.otherAgent, "GET", "/api/v1/helpdesk/reports?group=establishment&from=2026-10&to=2026-10&org="+itoa(f.authority), nil, nil); code != http.StatusNotFound {
		t.Errorf("API, Rennes by name: %d", code)
	}
	// Rennes' technician does not see Bruz either.
	rep, err = f.svc.Report(f.ctx, f.principal(f.tech), ReportQuery{Group: GroupCommune, From: oct, To: oct})
	if err != nil || rep.Total.Opened != 5 {
		t.Errorf("Rennes: %+v %v", rep.Total, err)
	}
	// A head of école B sees école B only; a teacher has no reports.
	rep, err = f.svc.Report(f.ctx, f.principal(f.headB), ReportQuery{Group: GroupEstablishment, From: oct, To: oct})
	if err != nil || rep.Total.Opened != 1 || len(rep.Rows) != 1 {
		t.Errorf("head of B: %+v %v", rep, err)
	}
	if _, err := f.svc.Report(f.ctx, f.principal(f.teacher), ReportQuery{Group: GroupMonth}); err == nil {
		t.Error("teacher: no error")
	}
	if q, err := f.svc.QualityOfService(f.ctx, other, f.authority); err == nil {
		t.Errorf("quality of Rennes for Bruz: %+v", q)
	}
}

func TestReportExports(t *testing.T) {
	f := newFixture(t)
	f.reportData()
	req, _ := http.NewRequest("GET", f.api.URL+"/api/v1/helpdesk/reports?group=establishment&from=2026-10&to=2026-10&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+f.tech.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", resp.StatusCode, body)
	}
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("csv without BOM")
	}
	cr := csv.NewReader(bytes.NewReader(body[3:]))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("csv parse: %v", err)
	}
	if len(recs) != 4 || recs[0][0] != "Regroupement" || recs[3][0] != "Total" {
		t.Fatalf("csv: %q", recs)
	}
	// Total: 5 opened, 4 solved, 1 open, 75 % and 75 %, mean open 6,75 h.
	if got := recs[3][1:8]; strings.Join(got, "|") != "5|4|1|75|75|6,75|16" {
		t.Errorf("csv total: %q", got)
	}

	req, _ = http.NewRequest("GET", f.api.URL+"/api/v1/helpdesk/reports?group=month&from=2026-09&to=2026-11&format=xlsx", nil)
	req.Header.Set("Authorization", "Bearer "+f.tech.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("xlsx: %d %s", resp.StatusCode, body)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("xlsx parse: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows("Rapport")
	if err != nil {
		t.Fatal(err)
	}
	// Title, blank, header, 3 months, total.
	if len(rows) != 7 || rows[2][0] != "Regroupement" || rows[4][0] != "octobre 2026" || rows[4][1] != "5" || rows[4][5] != "75" || rows[6][0] != "Total" {
		t.Errorf("xlsx: %q", rows)
	}
	if code := f.call(f.tech, "GET", "/api/v1/helpdesk/reports?format=pdf", nil, nil); code != http.StatusBadRequest {
		t.Errorf("unknown format: %d", code)
	}
	if code := f.call(f.tech, "GET", "/api/v1/helpdesk/reports?group=nope", nil, nil); code != http.StatusBadRequest {
		t.Errorf("unknown group: %d", code)
	}
	var rep GroupReport
	f.mustCall(f.tech, "GET", "/api/v1/helpdesk/reports?group=service&from=2026-10&to=2026-10", nil, &rep, 200)
	if rep.Total.Opened != 5 || len(rep.Rows) != 1 || rep.Rows[0].Label != "Postes de travail" {
		t.Errorf("json: %+v", rep)
	}
}

func TestReportPages(t *testing.T) {
	f := newFixture(t)
	f.reportData()
	code, body := f.page(f.tech, "GET", "/rapports?group=month&from=2026-09&to=2026-11", nil)
	if code != 200 || !strings.Contains(body, `role="img"`) || !strings.Contains(body, "<title id=\"chart-volume-t\">") ||
		!strings.Contains(body, "octobre 2026") || !strings.Contains(body, "75 %") || !strings.Contains(body, "format=xlsx") {
		t.Fatalf("report page: %d\n%s", code, body)
	}
	code, body = f.page(f.tech, "GET", "/rapports?group=establishment&from=2026-10&to=2026-10&format=csv", nil)
	if code != 200 || !strings.HasPrefix(body, "\uFEFFRegroupement;") {
		t.Fatalf("report page csv: %d %q", code, body[:min(len(body), 80)])
	}
	// The clock is 16 November 2026: the last 3 months are September to
	// November, and October's incidents are in them.
	code, body = f.page(f.tech, "GET", "/qualite-de-service?org="+itoa(f.authority), nil)
	want := "Sur les 3 derniers mois (de septembre 2026 à novembre 2026), 75 % des incidents ont été résolus dans le délai promis (objectif : 4 h ouvrées)."
	if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, "CONV-2026-07") || !strings.Contains(body, "Sur les 12 derniers mois") {
		t.Fatalf("quality page: %d\n%s", code, body)
	}
	if code, _ := f.page(f.teacher, "GET", "/qualite-de-service?org="+itoa(f.authority), nil); code != http.StatusNotFound && code != http.StatusForbidden {
		t.Errorf("teacher on quality page: %d", code)
	}
}

// MeasuredLevels, as the catalogue page shows it: owning measured on the
// tickets opened in the window, resolving on those solved in it.
func TestMeasuredLevels(t *testing.T) {
	f := newFixture(t)
	f.reportData()
	from, to := time.Date(2026, 10, 1, 0, 0, 0, 0, f.paris), time.Date(2026, 11, 1, 0, 0, 0, 0, f.paris)
	m, err := f.svc.MeasuredLevels(f.ctx, f.estA, f.serviceID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tickets != 4 || m.TTOMet != 0.75 || m.TTRMet != 0.75 {
		t.Errorf("measure: %+v", m)
	}
	m, err = f.svc.MeasuredLevels(f.ctx, f.estA, f.serviceID, from.AddDate(0, 1, 0), to.AddDate(0, 1, 0))
	if err != nil || m.Tickets != 0 || m.TTRMet != 0 {
		t.Errorf("empty window: %+v %v", m, err)
	}
}
