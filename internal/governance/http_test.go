package governance

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Every API route holds to the caller's scope: the académie's DANE reads
// and changes its governance; another académie's agent finds nothing (404)
// and changes nothing; a teacher, without governance rights, is refused.
func TestAPIScope(t *testing.T) {
	f := newFx(t)
	dane, other, teacher, head := f.server(f.dane), f.server(f.agent2), f.server(f.teacher), f.server(f.head1)
	post := func(path, body string, want int) map[string]any {
		t.Helper()
		rec := do(t, dane, "POST", path, body)
		if rec.Code != want {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	id := func(m map[string]any) string { return strconv.FormatInt(int64(m["id"].(float64)), 10) }
	acad := strconv.FormatInt(f.academy, 10)
	coord := post("/api/v1/governance/bodies", `{"org_id":`+acad+`,"kind":"coordination","name":"Comité de coordination","min_per_year":3,"members":[{"name":"Chef de projet","role":"DANE"}]}`, 201)
	strat := post("/api/v1/governance/bodies", `{"org_id":`+acad+`,"kind":"strategique","name":"Comité stratégique","min_per_year":2}`, 201)
	post("/api/v1/governance/bodies/"+id(strat)+"/members", `{"name":"Directrice","role":"Présidente"}`, 200)
	f.now = f.now.AddDate(0, 0, 2)
	meet := post("/api/v1/governance/meetings", `{"body_id":`+id(coord)+`,"title":"Coordination","starts_at":"2026-10-16T08:00:00Z","place":"Rectorat"}`, 201)
	post("/api/v1/governance/meetings/"+id(meet)+"/documents", `{"title":"Note","url":"https://example.test/note.pdf"}`, 200)
	// A decision before the minutes: the meeting is not held.
	if rec := do(t, dane, "POST", "/api/v1/governance/meetings/"+id(meet)+"/decisions", `{"kind":"other","summary":"x"}`); rec.Code != 409 || !strings.Contains(rec.Body.String(), "meeting_not_held") {
		t.Fatalf("decision on a meeting not held: %d %s", rec.Code, rec.Body)
	}
	post("/api/v1/governance/meetings/"+id(meet)+"/minutes", `{"minutes":"Relevé","present":[]}`, 200)
	rm := post("/api/v1/governance/roadmaps", `{"org_id":`+acad+`,"title":"Feuille de route","first_year":2026,"last_year":2027}`, 201)
	amb := post("/api/v1/governance/roadmaps/"+id(rm)+"/items", `{"title":"Ambition"}`, 201)
	tgt := post("/api/v1/governance/roadmaps/"+id(rm)+"/items", `{"parent_id":`+id(amb)+`,"title":"Cible"}`, 201)
	obj := post("/api/v1/governance/roadmaps/"+id(rm)+"/items", `{"parent_id":`+id(tgt)+`,"title":"Objectif","year":2026}`, 201)
	ind := post("/api/v1/governance/objectives/"+id(obj)+"/indicators", `{"name":"Journées de formation","unit":"jours","source":"declared","target_value":40,"frequency":"yearly"}`, 201)
	post("/api/v1/governance/indicators/"+id(ind)+"/values", `{"period":"2026","value":12}`, 201)
	post("/api/v1/governance/campaigns", `{"indicator_id":`+id(ind)+`,"respondent_role":"academy-observer"}`, 201)
	post("/api/v1/governance/roadmaps/"+id(rm)+"/refresh", ``, 200)
	proj := post("/api/v1/governance/projects", `{"org_id":`+acad+`,"proposer_org_id":`+strconv.FormatInt(f.school1, 10)+`,"proposer_kind":"school","title":"Tablettes","cost_cents":100000}`, 201)
	post("/api/v1/governance/meetings/"+id(meet)+"/decisions", `{"kind":"project_examined","project_id":`+id(proj)+`,"summary":"Avis favorable"}`, 201)

	reads := []string{"/api/v1/governance/bodies/" + id(coord), "/api/v1/governance/meetings/" + id(meet),
		"/api/v1/governance/meetings/" + id(meet) + "/file", "/api/v1/governance/projects/" + id(proj), "/api/v1/governance/roadmaps/" + id(rm)}
	for _, p := range reads {
		if rec := do(t, dane, "GET", p, ""); rec.Code != 200 {
			t.Errorf("GET %s as DANE: %d %s", p, rec.Code, rec.Body)
		}
		if rec := do(t, other, "GET", p, ""); rec.Code != 404 {
			t.Errorf("GET %s from another académie: %d, want 404", p, rec.Code)
		}
	}
	// The school head reads their own school's project, not the académie's
	// meetings.
	if rec := do(t, head, "GET", "/api/v1/governance/projects/"+id(proj), ""); rec.Code != 200 {
		t.Errorf("head reads their project: %d", rec.Code)
	}
	if rec := do(t, head, "GET", "/api/v1/governance/meetings/"+id(meet), ""); rec.Code != 404 {
		t.Errorf("head reads the académie's meeting: %d", rec.Code)
	}
	lists := []string{"/api/v1/governance/bodies", "/api/v1/governance/meetings", "/api/v1/governance/projects",
		"/api/v1/governance/roadmaps", "/api/v1/governance/indicators", "/api/v1/governance/campaigns", "/api/v1/governance/alerts"}
	for _, p := range lists {
		rec := do(t, dane, "GET", p, "")
		if rec.Code != 200 || rec.Body.String() == `{"items":[]}`+"\n" && p != "/api/v1/governance/alerts" {
			t.Errorf("GET %s as DANE: %d %s", p, rec.Code, rec.Body)
		}
		rec = do(t, other, "GET", p, "")
		if rec.Code != 200 || rec.Body.String() != `{"items":[]}`+"\n" {
			t.Errorf("GET %s from another académie leaks: %d %s", p, rec.Code, rec.Body)
		}
	}
	writes := []struct{ path, body string }{
		{"/api/v1/governance/bodies", `{"org_id":` + acad + `,"kind":"coordination","name":"Intrus"}`},
		{"/api/v1/governance/bodies/" + id(coord) + "/members", `{"name":"Intrus"}`},
		{"/api/v1/governance/meetings", `{"body_id":` + id(coord) + `,"starts_at":"2026-12-01T08:00:00Z"}`},
		{"/api/v1/governance/meetings/" + id(meet) + "/minutes", `{"minutes":"x"}`},
		{"/api/v1/governance/meetings/" + id(meet) + "/documents", `{"title":"x"}`},
		{"/api/v1/governance/meetings/" + id(meet) + "/decisions", `{"kind":"other","summary":"x"}`},
		{"/api/v1/governance/projects/" + id(proj) + "/evaluation", `{"note":"x"}`},
		{"/api/v1/governance/roadmaps", `{"org_id":` + acad + `,"title":"x","first_year":2026,"last_year":2026}`},
		{"/api/v1/governance/roadmaps/" + id(rm) + "/items", `{"title":"x"}`},
		{"/api/v1/governance/roadmaps/" + id(rm) + "/refresh", ``},
		{"/api/v1/governance/objectives/" + id(obj) + "/indicators", `{"name":"x","source":"declared","frequency":"yearly"}`},
		{"/api/v1/governance/indicators/" + id(ind) + "/values", `{"value":1}`},
		{"/api/v1/governance/campaigns", `{"indicator_id":` + id(ind) + `,"respondent_role":"teacher"}`},
		{"/api/v1/governance/projects", `{"org_id":` + acad + `,"proposer_org_id":` + strconv.FormatInt(f.school1, 10) + `,"proposer_kind":"school","title":"x"}`},
	}
	for _, wr := range writes {
		rec := do(t, other, "POST", wr.path, wr.body)
		if rec.Code != 404 && rec.Code != 400 {
			t.Errorf("POST %s from another académie: %d %s", wr.path, rec.Code, rec.Body)
		}
		rec = do(t, teacher, "POST", wr.path, wr.body)
		if rec.Code != 404 && rec.Code != 403 && rec.Code != 400 {
			t.Errorf("POST %s as teacher: %d %s", wr.path, rec.Code, rec.Body)
		}
	}
	// Nothing was written by the refused calls.
	var bodies, members int
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_bodies`).Scan(&bodies))
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_members WHERE name = 'Intrus'`).Scan(&members))
	if bodies != 2 || members != 0 {
		t.Fatalf("refused writes left %d bodies, %d intruders", bodies, members)
	}
	if rec := do(t, f.server(nil), "GET", "/api/v1/governance/bodies", ""); rec.Code != 401 {
		t.Fatalf("anonymous: %d", rec.Code)
	}
}

// The pages render for the académie's DANE, with their forms, and the
// calendar lists the meetings.
func TestPages(t *testing.T) {
	f := newFx(t)
	coord, strat := f.cycle()
	ind := f.indicator(SourceDeclared, Yearly, 40)
	f.must(f.minutesAndDeclare(coord, ind))
	pr, err := f.svc.Propose(f.ctx, f.head1, Project{OrgID: f.academy, ProposerOrgID: f.school1, ProposerKind: ProposerSchool, Title: "Tablettes pour l'école"})
	f.must(err)
	h := f.server(f.dane)
	rm, err := f.svc.Roadmaps(f.ctx, f.dane)
	f.must(err)
	ms, err := f.svc.Meetings(f.ctx, f.dane, 0)
	f.must(err)
	for path, want := range map[string]string{
		"/gouvernance": "Alertes de fréquence",
		"/gouvernance/instances/" + strconv.FormatInt(strat.ID, 10): "Programmer une séance",
		"/gouvernance/seances/" + strconv.FormatInt(ms[0].ID, 10):   "Enregistrer une décision",
		"/gouvernance/projets":                                              "Tablettes pour l&#39;école",
		"/gouvernance/projets/" + strconv.FormatInt(pr.ID, 10):              "Proposition déposée",
		"/gouvernance/feuilles-de-route/" + strconv.FormatInt(rm[0].ID, 10): "Sans justificatif",
	} {
		rec := do(t, h, "GET", path, "")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, want %q in %.500s", path, rec.Code, want, rec.Body)
		}
	}
	rec := do(t, h, "GET", "/gouvernance/seances.ics", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/calendar") || !strings.Contains(rec.Body.String(), "BEGIN:VEVENT") {
		t.Fatalf("calendar: %d %s", rec.Code, rec.Body)
	}
	// A form post: propose as the head.
	form := url.Values{"org_id": {strconv.FormatInt(f.academy, 10)}, "proposer_org_id": {strconv.FormatInt(f.school1, 10)},
		"proposer_kind": {"school"}, "title": {"Robot"}, "cost": {"1 234,50"}}
	rec = do(t, f.server(f.head1), "POST", "/gouvernance/projets", form.Encode())
	if rec.Code != 303 {
		t.Fatalf("propose form: %d %s", rec.Code, rec.Body)
	}
	var cost int64
	f.must(f.db.QueryRowContext(f.ctx, `SELECT cost_cents FROM gov_projects WHERE title = 'Robot'`).Scan(&cost))
	if cost != 123450 {
		t.Fatalf("cost from the form: %d", cost)
	}
	// A roadmap built through the forms.
	dh := f.server(f.dane)
	rec = do(t, dh, "POST", "/gouvernance/feuilles-de-route", url.Values{"org_id": {strconv.FormatInt(f.academy, 10)}, "title": {"Feuille 2027"},
		"first_year": {"2026"}, "last_year": {"2027"}}.Encode())
	if rec.Code != 303 {
		t.Fatalf("roadmap form: %d %s", rec.Code, rec.Body)
	}
	loc := strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
	item := func(parent, title, year string) int64 {
		rec := do(t, dh, "POST", loc+"/elements", url.Values{"parent_id": {parent}, "title": {title}, "year": {year}}.Encode())
		if rec.Code != 303 {
			t.Fatalf("item form: %d %s", rec.Code, rec.Body)
		}
		var id int64
		f.must(f.db.QueryRowContext(f.ctx, `SELECT id FROM gov_roadmap_items WHERE title = ?`, title).Scan(&id))
		return id
	}
	amb := item("", "Ambition 2027", "")
	tgt := item(strconv.FormatInt(amb, 10), "Cible 2027", "")
	obj := item(strconv.FormatInt(tgt, 10), "Objectif 2027", "2027")
	rec = do(t, dh, "POST", "/gouvernance/objectifs/"+strconv.FormatInt(obj, 10)+"/indicateurs", url.Values{"name": {"Délais tenus 2027"},
		"unit": {"%"}, "source": {"test.sla"}, "target": {"92,5"}, "higher": {"oui"}, "frequency": {"monthly"}}.Encode())
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), loc) {
		t.Fatalf("indicator form: %d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if rec := do(t, dh, "GET", loc, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Délais tenus 2027") || !strings.Contains(rec.Body.String(), "92,5 %") {
		t.Fatalf("roadmap page after the forms: %d", rec.Code)
	}
	if rec := do(t, f.server(f.teacher), "GET", "/gouvernance", ""); rec.Code != 403 {
		t.Fatalf("teacher: %d", rec.Code)
	}
}

// minutesAndDeclare prepares the pages' test: a held meeting and a
// declared value without evidence.
func (f *fx) minutesAndDeclare(b Body, ind Indicator) error {
	f.heldMeeting(b, "Coordination")
	_, err := f.svc.Declare(f.ctx, f.dane, ind.ID, Declaration{Period: "2026", Value: 12})
	return err
}
