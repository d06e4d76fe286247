package catalog

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// post sends a form as the bearer of token and returns the recorder.
func (f *fx) post(path, token string, form url.Values) (int, string, string) {
	f.t.Helper()
	rec := f.request(http.MethodPost, path, token, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	return rec.Code, rec.Body.String(), rec.Header().Get("Location")
}

func (f *fx) get(path, token string) (int, string) {
	f.t.Helper()
	rec := f.request(http.MethodGet, path, token, nil, "")
	return rec.Code, rec.Body.String()
}

// idAfter reads the id at the end of a redirect.
func idAfter(t *testing.T, loc, prefix string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, prefix), 10, 64)
	if err != nil || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("redirect %q, want %s<id>", loc, prefix)
	}
	return id
}

// TestServiceForms: a manager creates a service with its request types
// and edits it through the pages; faults come back next to their field;
// whoever does not manage the catalogue gets 403 or 404.
func TestServiceForms(t *testing.T) {
	f := newFx(t)
	if code, body := f.get("/catalogue/services/nouveau", f.agentToken); code != http.StatusOK || !strings.Contains(body, ">Rennes</option>") || strings.Contains(body, ">Brest</option>") {
		t.Fatalf("form: %d", code)
	}
	if code, _ := f.get("/catalogue/services/nouveau", f.headToken); code != http.StatusForbidden {
		t.Fatalf("form for a school head: %d", code)
	}
	owner := strconv.FormatInt(f.rennes, 10)
	form := url.Values{"owner_id": {owner}, "family": {"Réseau"}, "code": {"WIFI"}, "name": {""}, "status": {"production"},
		"rt_name_0": {"Panne"}, "rt_kind_0": {"incident"}, "rt_name_3": {"Panne"}, "rt_kind_3": {"incident"}}
	code, body, _ := f.post("/catalogue/services/nouveau", f.agentToken, form)
	if code != http.StatusBadRequest || !strings.Contains(body, `id="name-err"`) || !strings.Contains(body, `id="rt_name_3-err"`) ||
		!strings.Contains(body, "en double") || !strings.Contains(body, `value="WIFI"`) {
		t.Fatalf("invalid service: %d\n%s", code, body)
	}
	form.Set("name", "Wi-Fi des écoles")
	form.Set("rt_name_3", "Nouvelle borne")
	form.Set("rt_kind_3", "request")
	form.Set("rt_imac_3", "add")
	code, _, loc := f.post("/catalogue/services/nouveau", f.agentToken, form)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	id := idAfter(t, loc, "/catalogue/services/")
	o, err := f.svc.Offering(f.ctx, f.agent, id)
	if err != nil || o.Name != "Wi-Fi des écoles" || len(o.RequestTypes) != 2 || o.FamilyName != "Réseau" {
		t.Fatalf("created %+v %v", o, err)
	}
	var panne, borne RequestType
	for _, rt := range o.RequestTypes {
		if rt.Name == "Panne" {
			panne = rt
		} else {
			borne = rt
		}
	}
	if borne.Kind != KindRequest || borne.IMAC != "add" || panne.Kind != KindIncident {
		t.Fatalf("request types %+v", o.RequestTypes)
	}

	// Edit: the form starts from the service; "Panne" is turned off and
	// a type added; a duplicate name is refused next to its row.
	edit := fmt.Sprintf("/catalogue/services/%d/modifier", id)
	if code, body := f.get(edit, f.agentToken); code != http.StatusOK || !strings.Contains(body, `value="Wi-Fi des écoles"`) ||
		!strings.Contains(body, fmt.Sprintf(`name="active_%d" value="1" checked`, panne.ID)) {
		t.Fatalf("edit form: %d\n%s", code, body)
	}
	upd := url.Values{"family": {"Réseau"}, "name": {"Wi-Fi"}, "description": {"Bornes et couverture"}, "status": {"production"},
		fmt.Sprintf("active_%d", borne.ID): {"1"}, "add_name_1": {"Nouvelle borne"}, "add_kind_1": {"request"}}
	if code, body, _ := f.post(edit, f.agentToken, upd); code != http.StatusBadRequest || !strings.Contains(body, `id="add_name_1-err"`) {
		t.Fatalf("duplicate added type: %d\n%s", code, body)
	}
	upd.Set("add_name_1", "Déplacement d'une borne")
	upd.Set("add_imac_1", "move")
	if code, _, loc := f.post(edit, f.agentToken, upd); code != http.StatusSeeOther || loc != fmt.Sprintf("/catalogue/services/%d", id) {
		t.Fatalf("edit: %d %s", code, loc)
	}
	o, _ = f.svc.Offering(f.ctx, f.agent, id)
	active := map[string]bool{}
	for _, rt := range o.RequestTypes {
		active[rt.Name] = rt.Active
	}
	if o.Name != "Wi-Fi" || o.Description != "Bornes et couverture" || len(o.RequestTypes) != 3 || active["Panne"] || !active["Nouvelle borne"] || !active["Déplacement d'une borne"] {
		t.Fatalf("after edit %+v", o)
	}
	// Brest's agent cannot edit Rennes' service.
	if code, _, _ := f.post(edit, f.brestToken, upd); code != http.StatusNotFound {
		t.Fatalf("edit by another collectivité: %d", code)
	}
	if _, err := f.svc.UpdateService(f.ctx, f.brestAgent, id, ServiceUpdate{Family: "x", Name: "x", Status: StatusStudy}); err == nil {
		t.Fatal("another collectivité edited the service")
	}
}

// TestTeamAndCalendarForms: teams and business calendars through the
// pages, with the faults of a calendar (overlapping ranges, a closure
// ending before it starts) shown next to their fields.
func TestTeamAndCalendarForms(t *testing.T) {
	f := newFx(t)
	org := strconv.FormatInt(f.rennes, 10)
	if code, body, _ := f.post("/equipes", f.agentToken, url.Values{"org_id": {org}, "name": {" "}, "level": {"N2"}}); code != http.StatusBadRequest || !strings.Contains(body, `id="name-err"`) {
		t.Fatalf("team without name: %d", code)
	}
	if code, _, loc := f.post("/equipes", f.agentToken, url.Values{"org_id": {org}, "name": {"Proximité Nord"}, "level": {"N2"}, "contractor": {"1"}, "email": {"nord@rennes.test"}}); code != http.StatusSeeOther || loc != "/equipes?ok=1" {
		t.Fatalf("team: %d %s", code, loc)
	}
	if code, body := f.get("/equipes?ok=1", f.agentToken); code != http.StatusOK || !strings.Contains(body, "Proximité Nord") || !strings.Contains(body, "Équipe créée.") {
		t.Fatalf("teams page: %d", code)
	}
	if code, _, _ := f.post("/equipes", f.brestToken, url.Values{"org_id": {org}, "name": {"Intrus"}, "level": {"N1"}}); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Fatalf("team in another collectivité: %d", code)
	}
	teams, _ := f.svc.Teams(f.ctx, f.agent)
	if len(teams) != 1 {
		t.Fatalf("teams %+v", teams)
	}
	edit := fmt.Sprintf("/equipes/%d/modifier", teams[0].ID)
	if code, body := f.get(edit, f.agentToken); code != http.StatusOK || !strings.Contains(body, `value="Proximité Nord"`) || !strings.Contains(body, `name="contractor" value="1" checked`) {
		t.Fatalf("team edit form: %d", code)
	}
	if code, body, _ := f.post(edit, f.agentToken, url.Values{"name": {""}, "level": {"N2"}}); code != http.StatusBadRequest || !strings.Contains(body, `id="name-err"`) {
		t.Fatalf("team edit without name: %d", code)
	}
	if code, _, _ := f.post(edit, f.agentToken, url.Values{"name": {"Proximité Nord-Est"}, "level": {"N3"}, "email": {"ne@rennes.test"}}); code != http.StatusSeeOther {
		t.Fatalf("team edit: %d", code)
	}
	if teams, _ = f.svc.Teams(f.ctx, f.agent); teams[0].Name != "Proximité Nord-Est" || teams[0].Level != "N3" || teams[0].Contractor || teams[0].Email != "ne@rennes.test" {
		t.Fatalf("edited team %+v", teams[0])
	}
	if code, _, _ := f.post(edit, f.brestToken, url.Values{"name": {"Intrus"}, "level": {"N1"}}); code != http.StatusNotFound {
		t.Fatalf("team edit by another collectivité: %d", code)
	}

	if code, body := f.get("/calendriers/nouveau", f.agentToken); code != http.StatusOK || !strings.Contains(body, `name="h_lundi_0_start" type="time" value="08:00"`) {
		t.Fatalf("calendar form: %d", code)
	}
	form := url.Values{"owner_id": {org}, "name": {"Proximité"}, "public_holidays": {"1"},
		"h_lundi_0_start": {"08:00"}, "h_lundi_0_end": {"12:00"}, "h_lundi_1_start": {"13:30"}, "h_lundi_1_end": {"17:30"},
		"h_mardi_0_start": {"08:00"}, "h_mardi_0_end": {"12:00"}, "h_mardi_1_start": {"11:00"}, "h_mardi_1_end": {"13:00"},
		"cl_from_2": {"2026-05-10"}, "cl_to_2": {"2026-05-08"}, "cl_label_2": {"Inventaire"}}
	code, body, _ := f.post("/calendriers/nouveau", f.agentToken, form)
	if code != http.StatusBadRequest || !strings.Contains(body, `id="err-mardi"`) || !strings.Contains(body, "se chevauchent") ||
		!strings.Contains(body, `id="cl_from_2-err"`) || strings.Contains(body, `id="err-lundi"`) {
		t.Fatalf("invalid calendar: %d\n%s", code, body)
	}
	form.Set("h_mardi_1_start", "13:30")
	form.Set("h_mardi_1_end", "17:30")
	form.Set("cl_to_2", "2026-05-12")
	code, _, loc := f.post("/calendriers/nouveau", f.agentToken, form)
	if code != http.StatusSeeOther {
		t.Fatalf("calendar: %d", code)
	}
	id := idAfter(t, loc, "/calendriers/")
	bc, _, err := f.svc.BusinessCalendar(f.ctx, f.agent, id)
	if err != nil || len(bc.Spec.Hours["lundi"]) != 2 || len(bc.Spec.Hours["mardi"]) != 2 || len(bc.Spec.Hours) != 2 ||
		len(bc.Spec.Closures) != 1 || bc.Spec.Closures[0].Label != "Inventaire" || bc.Spec.OpenOnPublicHolidays {
		t.Fatalf("calendar %+v %v", bc, err)
	}
	// The deadline simulator is on the calendar's page.
	if code, body := f.get(loc, f.agentToken); code != http.StatusOK || !strings.Contains(body, `name="duration"`) {
		t.Fatalf("calendar page: %d", code)
	}
	// The school-holiday option offers the zones of the imported
	// calendar, and closes the calendar during their holidays.
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO school_holidays (description, population, starts_at, ends_at, academy, zone, school_year)
		VALUES ('Vacances de Noël', 'Élèves', '2025-12-19T23:00:00Z', '2026-01-04T23:00:00Z', 'Rennes', 'Zone B', '2025-2026')`); err != nil {
		t.Fatal(err)
	}
	if _, body := f.get("/calendriers/nouveau", f.agentToken); !strings.Contains(body, `<option value="Zone B">Fermé pendant les vacances de la Zone B</option>`) {
		t.Fatal("zone not offered")
	}
	form.Set("name", "Écoles zone B")
	form.Set("zone", "Zone B")
	code, _, loc = f.post("/calendriers/nouveau", f.agentToken, form)
	if code != http.StatusSeeOther {
		t.Fatalf("calendar with zone: %d", code)
	}
	bc, _, err = f.svc.BusinessCalendar(f.ctx, f.agent, idAfter(t, loc, "/calendriers/"))
	if err != nil || bc.SchoolHolidayZone != "Zone B" || !bc.Spec.ClosedDuringSchoolHolidays {
		t.Fatalf("calendar with zone %+v %v", bc, err)
	}
	// Editing: the form starts from the calendar; Wednesday opens, the
	// zone is dropped; another collectivité's agent gets 404.
	editCal := fmt.Sprintf("/calendriers/%d/modifier", bc.ID)
	code, body = f.get(editCal, f.agentToken)
	if code != http.StatusOK || !strings.Contains(body, `value="Écoles zone B"`) || !strings.Contains(body, `name="h_mardi_1_end" type="time" value="17:30"`) ||
		!strings.Contains(body, `<option value="Zone B" selected>`) || !strings.Contains(body, `name="cl_label_0" value="Inventaire"`) {
		t.Fatalf("calendar edit form: %d\n%s", code, body)
	}
	upd := url.Values{"name": {"Écoles"}, "public_holidays": {"1"}, "h_mercredi_0_start": {"09:00"}, "h_mercredi_0_end": {"08:00"}}
	if code, body, _ := f.post(editCal, f.agentToken, upd); code != http.StatusBadRequest || !strings.Contains(body, `id="err-mercredi"`) {
		t.Fatalf("calendar edit with a bad range: %d", code)
	}
	upd.Set("h_mercredi_0_end", "12:00")
	if code, _, loc := f.post(editCal, f.agentToken, upd); code != http.StatusSeeOther || loc != fmt.Sprintf("/calendriers/%d", bc.ID) {
		t.Fatalf("calendar edit: %d %s", code, loc)
	}
	bc, _, err = f.svc.BusinessCalendar(f.ctx, f.agent, bc.ID)
	if err != nil || bc.Name != "Écoles" || len(bc.Spec.Hours) != 1 || len(bc.Spec.Hours["mercredi"]) != 1 || bc.SchoolHolidayZone != "" || len(bc.Spec.Closures) != 0 {
		t.Fatalf("edited calendar %+v %v", bc, err)
	}
	if code, _, _ := f.post(editCal, f.brestToken, upd); code != http.StatusNotFound {
		t.Fatalf("calendar edit by another collectivité: %d", code)
	}
	if code, _ := f.get("/calendriers/nouveau", f.headToken); code != http.StatusForbidden {
		t.Fatalf("calendar form for a head: %d", code)
	}
}

// TestAgreementForm: a convention with a covered service, its levels and
// teams, through the page; bad dates and delays come back next to their
// fields, and nothing is written.
func TestAgreementForm(t *testing.T) {
	f := newFx(t)
	svc, cal := f.service("PDT"), f.calendar("Bureau", "")
	team, err := f.svc.CreateTeam(f.ctx, f.agent, Team{OrgID: f.rennes, Name: "Assistance", Level: "N1"})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := f.get("/conventions/nouvelle", f.agentToken); code != http.StatusOK || !strings.Contains(body, "Service PDT") || !strings.Contains(body, "Assistance (N1)") {
		t.Fatalf("form: %d", code)
	}
	form := url.Values{"kind": {"service"}, "reference": {"CONV-FORM"}, "title": {"Postes des écoles"}, "provider_id": {strconv.FormatInt(f.rennes, 10)},
		"beneficiary_code": {f.ecoleA.UAI}, "valid_from": {"2026-09-01"}, "valid_until": {"2026-08-31"}, "status": {"signed"}, "signed_on": {"2026-07-01"},
		"coverage": {"listed"}, "establishments": {f.ecoleA.UAI + ", " + f.ecoleB.UAI}, "survey_enabled": {"1"},
		"s_0_service": {strconv.FormatInt(svc, 10)}, "s_0_calendar": {strconv.FormatInt(cal, 10)}, "s_0_n1": {strconv.FormatInt(team.ID, 10)},
		"l_0_incident_1_tto": {"1h"}, "l_0_incident_1_ttr": {"quatre heures"}, "l_0_request_3_tto": {"1j"}, "l_0_request_3_ttr": {"5j"}}
	code, body, _ := f.post("/conventions/nouvelle", f.agentToken, form)
	if code != http.StatusBadRequest || !strings.Contains(body, `id="valid_until-err"`) || !strings.Contains(body, `id="l_0_incident_1_ttr-err"`) ||
		strings.Contains(body, `id="l_0_incident_1_tto-err"`) || !strings.Contains(body, `value="CONV-FORM"`) {
		t.Fatalf("invalid convention: %d\n%s", code, body)
	}
	if list, _ := f.svc.Agreements(f.ctx, f.agent); len(list) != 0 {
		t.Fatalf("a refused convention was written: %+v", list)
	}
	if code, body, _ := f.post("/conventions/nouvelle", f.agentToken, url.Values{"beneficiary_code": {"ZZZ"}, "kind": {"service"}}); code != http.StatusBadRequest || !strings.Contains(body, `id="beneficiary_code-err"`) {
		t.Fatalf("unknown beneficiary: %d", code)
	}
	form.Set("valid_until", "2027-08-31")
	form.Set("l_0_incident_1_ttr", "4h")
	code, _, loc := f.post("/conventions/nouvelle", f.agentToken, form)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	id := idAfter(t, loc, "/conventions/")
	a, err := f.svc.Agreement(f.ctx, f.agent, id)
	if err != nil || a.Status != AgreementSigned || len(a.Services) != 1 || len(a.Services[0].Levels) != 2 || a.Services[0].N1 == nil ||
		a.Services[0].N1.ID != team.ID || a.Services[0].CalendarID != cal || a.Beneficiary.ID != f.ecoleA.ID || len(a.Establishments) != 2 {
		t.Fatalf("created %+v %v", a, err)
	}
	// The page offers the document upload and the status changes.
	if code, body := f.get(loc, f.agentToken); code != http.StatusOK || !strings.Contains(body, `action="/conventions/`+strconv.FormatInt(id, 10)+`/document"`) || !strings.Contains(body, "Résilier") {
		t.Fatalf("convention page: %d", code)
	}
	if code, _, _ := f.post("/conventions/nouvelle", f.headToken, form); code != http.StatusForbidden {
		t.Fatalf("convention by a head: %d", code)
	}
}
