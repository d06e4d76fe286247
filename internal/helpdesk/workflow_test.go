package helpdesk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func (f *fixture) open(who account, title string) Ticket {
	f.t.Helper()
	var tk Ticket
	f.mustCall(who, "POST", "/api/v1/tickets", map[string]any{"uai": f.uaiA, "service_id": f.serviceID, "title": title}, &tk, http.StatusCreated)
	return tk
}

func (f *fixture) status(who account, ref, status, reason string) {
	f.t.Helper()
	f.mustCall(who, "POST", "/api/v1/tickets/"+ref+"/status", map[string]any{"status": status, "reason": reason}, nil, http.StatusOK)
}

// A pending ticket pauses both clocks and is never shown late, even long
// past its due instant; the periodic check leaves it alone.
func TestPendingPausesBothClocksAndIsNeverLate(t *testing.T) {
	f := newFixture(t)
	tk := f.open(f.teacher, "Imprimante hors ligne")
	f.set("2026-11-16 10:00")
	f.status(f.tech, tk.Reference, "pending", "requester")
	f.set("2026-11-30 10:00") // two weeks later
	d := f.detail(f.tech, tk.Reference)
	if d.Clocks.TTO.State != ClockPaused || d.Clocks.TTR.State != ClockPaused {
		t.Fatalf("clocks of a pending ticket: tto %s ttr %s", d.Clocks.TTO.State, d.Clocks.TTR.State)
	}
	if got := d.Clocks.TTR.Consumed.Duration(); got != time.Hour {
		t.Fatalf("consumed %s, want the hour before the pause", got)
	}
	if !d.Clocks.TTR.Due.After(f.clock.now()) {
		t.Fatalf("a paused clock's due instant %s should be ahead of now", d.Clocks.TTR.Due)
	}
	if n, err := f.svc.CheckClocks(f.ctx, f.clock.now()); err != nil || n != 0 {
		t.Fatalf("CheckClocks on a pending ticket: %d notices, %v", n, err)
	}
	r := row(d.Ticket, f.clock.now())
	if r.Late {
		t.Fatal("a pending ticket is shown late in the list")
	}
	// Waiting for a third party: a reply of the requester does not resume.
	f.status(f.tech, tk.Reference, "pending", "third_party")
	if _, err := f.svc.AddFollowup(f.ctx, f.principal(f.teacher), tk.Reference, "Des nouvelles ?", false); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(f.tech, tk.Reference); d.Status != StatusPending {
		t.Fatalf("a third-party wait resumed on the requester's message: %s", d.Status)
	}
	// Pending needs a reason.
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "pending"}, nil); got != http.StatusBadRequest {
		t.Fatalf("pending without reason: %d", got)
	}
}

// A new service level during a pause changes the budget, not the paused
// time nor the time already consumed.
func TestLevelChangeDuringPauseKeepsPausedTime(t *testing.T) {
	f := newFixture(t)
	tk := f.open(f.teacher, "Réseau lent") // 09:00, TTR 16h
	f.set("2026-11-16 10:00")
	f.status(f.tech, tk.Reference, "pending", "requester")
	f.set("2026-11-16 11:00")
	f.levels.setTargets("4h", "8h") // the convention is amended
	if _, err := f.svc.AddFollowup(f.ctx, f.principal(f.tech), tk.Reference, "Avenant appliqué.", true); err != nil {
		t.Fatal(err)
	}
	f.set("2026-11-16 14:00")
	f.status(f.tech, tk.Reference, "assigned", "")
	d := f.detail(f.tech, tk.Reference)
	c := d.Clocks.TTR
	if c.Budget.Duration() != 8*time.Hour || c.Consumed.Duration() != time.Hour || c.PausedOpen.Duration() != 2*time.Hour+30*time.Minute {
		t.Fatalf("after the change: budget %s consumed %s paused %s", c.Budget.Duration(), c.Consumed.Duration(), c.PausedOpen.Duration())
	}
	// 7 open hours remain from 14:00: Monday 14:00–17:30, Tuesday 08:00–11:30.
	want := time.Date(2026, 11, 17, 11, 30, 0, 0, f.paris)
	if !c.Due.Equal(want) {
		t.Fatalf("due %s, want %s", c.Due.In(f.paris), want)
	}
	var levels int
	for _, e := range d.Events {
		if e.Type == evLevel {
			levels++
		}
	}
	if levels != 2 {
		t.Fatalf("%d level events, want 2 (creation and amendment)", levels)
	}
	// Private notes stay with technicians.
	if d := f.detail(f.teacher, tk.Reference); len(d.Followups) != 0 {
		t.Fatalf("the requester sees %d follow-ups, the only one is private", len(d.Followups))
	}
}

// Reopening resumes the resolution clock; the time between solution and
// reopening is not counted.
func TestReopenResumes(t *testing.T) {
	f := newFixture(t)
	tk := f.open(f.teacher, "Session bloquée")
	f.set("2026-11-16 09:30")
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/assign", map[string]any{}, nil, http.StatusOK)
	f.set("2026-11-16 10:00")
	f.status(f.tech, tk.Reference, "solved", "")
	f.set("2026-11-16 11:00")
	// The requester refuses the solution.
	f.status(f.teacher, tk.Reference, "reopened", "")
	f.set("2026-11-16 11:30")
	d := f.detail(f.tech, tk.Reference)
	if d.Status != StatusAssigned || d.Clocks.TTR.State != ClockRunning {
		t.Fatalf("after reopening: %s, TTR %s", d.Status, d.Clocks.TTR.State)
	}
	if got := d.Clocks.TTR.Consumed.Duration(); got != 90*time.Minute {
		t.Fatalf("consumed %s, want 1h30 (09:00–10:00, 11:00–11:30)", got)
	}
	if len(d.Clocks.TTR.Solved) != 1 {
		t.Fatalf("solved intervals %v", d.Clocks.TTR.Solved)
	}
	// A requester may not move an open ticket.
	if got := f.call(f.teacher, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "solved"}, nil); got != http.StatusForbidden {
		t.Fatalf("requester solving: %d", got)
	}
	// Nor may anyone jump from new to nowhere.
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "bogus"}, nil); got != http.StatusBadRequest {
		t.Fatalf("unknown status: %d", got)
	}
}

// The periodic check warns at 75 % and, at 100 %, notifies and escalates,
// once each.
func TestCheckClocksWarnsAndEscalatesOnce(t *testing.T) {
	f := newFixture(t)
	f.levels.setTargets("4h", "16h")
	tk := f.open(f.teacher, "Tableau numérique muet") // 09:00, TTO 4h → due 14:30
	before := len(f.out.all())
	// 75 % of 4 open hours is 3h: 12:00 (08–12 open, 09:00 + 3h).
	at := f.set("2026-11-16 12:05")
	if n, err := f.svc.CheckClocks(f.ctx, at); err != nil || n != 1 {
		t.Fatalf("warning check: %d notices, %v", n, err)
	}
	if n, _ := f.svc.CheckClocks(f.ctx, at.Add(time.Minute)); n != 0 {
		t.Fatalf("the warning repeated: %d", n)
	}
	sent := f.out.all()[before:]
	if len(sent) != 1 || sent[0].To[0] != "assistance@rennes.test" {
		t.Fatalf("warning went to %+v", sent)
	}
	at = f.set("2026-11-16 14:45")
	if n, err := f.svc.CheckClocks(f.ctx, at); err != nil || n != 1 {
		t.Fatalf("breach check: %d notices, %v", n, err)
	}
	if n, _ := f.svc.CheckClocks(f.ctx, at.Add(time.Minute)); n != 0 {
		t.Fatalf("the breach repeated: %d", n)
	}
	d := f.detail(f.tech, tk.Reference)
	if d.Level != LevelN2 || d.TeamID != f.teamN2 {
		t.Fatalf("after the breach: level %s team %d", d.Level, d.TeamID)
	}
	if d.Clocks.TTO.State != ClockBreached {
		t.Fatalf("TTO %s", d.Clocks.TTO.State)
	}
	if len(d.Holdings) != 2 || d.Holdings[0].Level != LevelN1 || d.Holdings[0].Seconds.Duration() != 5*time.Hour+45*time.Minute {
		t.Fatalf("holdings %+v", d.Holdings)
	}
	// A ticket goes only to someone who may work it.
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/assign", map[string]any{"technician_id": f.teacher.id}, nil); got != http.StatusBadRequest {
		t.Fatalf("assigning to a teacher: %d", got)
	}
	// Escalation by hand goes on to N3, then no further.
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/escalate", map[string]any{"reason": "matériel"}, nil, http.StatusOK)
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/escalate", map[string]any{}, nil); got != http.StatusConflict {
		t.Fatalf("escalating past N3: %d", got)
	}
}

// A ticket no convention covers says so.
func TestNoEngagement(t *testing.T) {
	f := newFixture(t)
	var tk Ticket
	f.mustCall(f.tech, "POST", "/api/v1/tickets", map[string]any{"kind": "problem", "uai": f.uaiA, "title": "Coupures réseau récurrentes"}, &tk, http.StatusCreated)
	d := f.detail(f.tech, tk.Reference)
	if d.Clocks.Engagement || !strings.Contains(d.Clocks.Message, "Pas d'engagement de service") {
		t.Fatalf("clocks %+v", d.Clocks)
	}
	inc := f.open(f.teacher, "Pas de réseau en salle 2")
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+inc.Reference+"/links", map[string]any{"reference": tk.Reference, "kind": "problem"}, nil, http.StatusCreated)
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/links", map[string]any{"reference": inc.Reference, "kind": "problem"}, nil); got != http.StatusBadRequest {
		t.Fatalf("problem → incident link accepted: %d", got)
	}
	if d := f.detail(f.tech, tk.Reference); len(d.Links) != 1 || d.Links[0].Reference != inc.Reference || d.Links[0].Outgoing {
		t.Fatalf("links %+v", d.Links)
	}
	var in Intervention
	f.mustCall(f.tech, "POST", "/api/v1/tickets/"+inc.Reference+"/interventions", map[string]any{
		"starts_at": "2026-11-17T09:00:00+01:00", "duration_minutes": 45, "travel_minutes": 20}, &in, http.StatusCreated)
	if in.ID == 0 || in.TechnicianID != f.tech.id {
		t.Fatalf("intervention %+v", in)
	}
}

// Priorities follow GLPI's default matrix until an organization sets its
// own; assignment rules apply the first match by position.
func TestPriorityMatrixAndRules(t *testing.T) {
	m := DefaultMatrix()
	if m.Priority(1, 1) != 1 || m.Priority(3, 3) != 3 || m.Priority(5, 5) != 5 || m.Priority(1, 5) != 4 || m.Priority(5, 1) != 4 {
		t.Fatalf("default matrix %v", m)
	}
	f := newFixture(t)
	custom := DefaultMatrix()
	custom[2][2] = 2
	if err := f.svc.SetMatrix(f.ctx, f.principal(f.tech), f.authority, custom); err == nil {
		t.Fatal("a technician changed the matrix")
	}
	f.mustCall(f.admin, "PUT", "/api/v1/organizations/"+itoa(f.authority)+"/priority-matrix", map[string]any{"matrix": custom}, nil, http.StatusOK)
	for _, r := range []Rule{
		{OrgID: f.authority, Position: 2, TeamID: f.teamN1},
		{OrgID: f.authority, Position: 1, ServiceID: f.serviceID, TeamID: f.teamN2, TechnicianID: f.tech.id},
	} {
		f.mustCall(f.admin, "POST", "/api/v1/helpdesk/assignment-rules", r, nil, http.StatusCreated)
	}
	if got := f.call(f.tech, "POST", "/api/v1/helpdesk/assignment-rules", Rule{OrgID: f.authority, TeamID: f.teamN1}, nil); got != http.StatusNotFound {
		t.Fatalf("technician adding a rule: %d", got)
	}
	var rules struct{ Items []Rule }
	f.mustCall(f.tech, "GET", "/api/v1/helpdesk/assignment-rules?org="+itoa(f.authority), nil, &rules, http.StatusOK)
	if len(rules.Items) != 2 || rules.Items[0].Position != 1 {
		t.Fatalf("rules %+v", rules.Items)
	}
	var got struct {
		Matrix Matrix
		Own    bool
	}
	f.mustCall(f.tech, "GET", "/api/v1/organizations/"+itoa(f.authority)+"/priority-matrix", nil, &got, http.StatusOK)
	if !got.Own || got.Matrix != custom {
		t.Fatalf("matrix %+v", got)
	}
	tk := f.open(f.teacher, "Poste lent")
	if tk.Priority != 2 || tk.TeamID != f.teamN2 || tk.TechnicianID != f.tech.id || tk.Status != StatusAssigned {
		t.Fatalf("ticket %+v", tk)
	}
	var other Ticket
	f.mustCall(f.teacher, "POST", "/api/v1/tickets", map[string]any{"uai": f.uaiA, "title": "Sans service"}, &other, http.StatusCreated)
	if other.TeamID != f.teamN1 || other.Status != StatusNew {
		t.Fatalf("ticket without service %+v", other)
	}
	// A request type names its service and kind.
	var rt int64
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO request_types (service_id, kind, imac, name) VALUES (?, 'request', 'install', 'Installation de logiciel') RETURNING id`, f.serviceID).Scan(&rt); err != nil {
		t.Fatal(err)
	}
	var imac Ticket
	f.mustCall(f.teacher, "POST", "/api/v1/tickets", map[string]any{"uai": f.uaiA, "request_type_id": rt, "title": "Installer GeoGebra"}, &imac, http.StatusCreated)
	if imac.ServiceID != f.serviceID || imac.RequestTypeID != rt || imac.Kind != KindRequest {
		t.Fatalf("IMAC request %+v", imac)
	}
	if got := f.call(f.teacher, "POST", "/api/v1/tickets", map[string]any{"kind": "incident", "uai": f.uaiA, "request_type_id": rt, "title": "x"}, nil); got != http.StatusBadRequest {
		t.Fatalf("incident with a request's type: %d", got)
	}
	if got := f.call(f.teacher, "POST", "/api/v1/tickets", map[string]any{"uai": f.uaiA, "service_id": 999999, "title": "x"}, nil); got != http.StatusBadRequest {
		t.Fatalf("unknown service: %d", got)
	}
	// References are unique and follow each other.
	if other.Reference <= tk.Reference {
		t.Fatalf("references %s then %s", tk.Reference, other.Reference)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Attachments stream to disk with their SHA-256, within a bound.
func TestAttachments(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.MaxAttachmentBytes = 1024
	tk := f.open(f.teacher, "Capture d'écran")
	content := bytes.Repeat([]byte("écran "), 100)
	req, _ := http.NewRequest("POST", f.api.URL+"/api/v1/tickets/"+tk.Reference+"/attachments?name=../../capture.txt", bytes.NewReader(content))
	req.Header.Set("Authorization", "Bearer "+f.teacher.token)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	d := f.detail(f.teacher, tk.Reference)
	sum := sha256.Sum256(content)
	if len(d.Attachments) != 1 || d.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) || d.Attachments[0].Name != "capture.txt" {
		t.Fatalf("attachments %+v", d.Attachments)
	}
	req, _ = http.NewRequest("GET", f.api.URL+"/api/v1/tickets/"+tk.Reference+"/attachments/"+itoa(d.Attachments[0].ID), nil)
	req.Header.Set("Authorization", "Bearer "+f.head.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, content) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d bytes, disposition %q", len(got), resp.Header.Get("Content-Disposition"))
	}
	req, _ = http.NewRequest("POST", f.api.URL+"/api/v1/tickets/"+tk.Reference+"/attachments?name=big.bin", bytes.NewReader(make([]byte, 2048)))
	req.Header.Set("Authorization", "Bearer "+f.teacher.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("big upload: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}
