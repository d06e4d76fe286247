package catalog

import (
	"net/http"
	"testing"
	"time"
)

func TestCoverageOfListedSchools(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-2025-01", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatalf("CreateAgreement: %v", err)
	}
	cases := []struct {
		name   string
		school int64
		at     time.Time
		want   bool
	}{
		{"listed school, inside", f.ecoleA.ID, parisTime(t, "2025-06-02 10:00"), true},
		{"first day", f.ecoleA.ID, parisTime(t, "2025-01-01 00:00"), true},
		// valid_until is inclusive, and days are Paris days: 23:30 in
		// Paris on 31 December is still covered, 00:30 on 1 January not,
		// though both are 31 December in UTC.
		{"last evening in Paris", f.ecoleA.ID, parisTime(t, "2025-12-31 23:30"), true},
		{"next day in Paris", f.ecoleA.ID, time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC), false},
		{"before", f.ecoleA.ID, parisTime(t, "2024-12-31 12:00"), false},
		{"school not listed", f.ecoleB.ID, parisTime(t, "2025-06-02 10:00"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cov, err := f.svc.Coverage(f.ctx, c.school, svc, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if (cov != nil) != c.want {
				t.Fatalf("covered = %v, want %v", cov != nil, c.want)
			}
			if cov == nil {
				return
			}
			if cov.AgreementID != a.ID || cov.AgreementReference != "CONV-2025-01" || cov.CalendarID != cal || cov.Calendar == nil || !cov.SurveyEnabled {
				t.Errorf("coverage %+v", cov)
			}
			tto, ttr, ok := cov.Targets(KindIncident, 1)
			if !ok || tto.String() != "1h" || ttr.String() != "4h" {
				t.Errorf("incident P1 = %v %v %v, want 1h 4h", tto, ttr, ok)
			}
			if tto, ttr, ok := cov.Targets(KindRequest, 3); !ok || tto.Days != 1 || ttr.Days != 5 {
				t.Errorf("request P3 = %v %v %v, want 1d 5d", tto, ttr, ok)
			}
			if _, _, ok := cov.Targets(KindRequest, 1); ok {
				t.Error("request P1 has no level, Targets must say so")
			}
		})
	}
	// A draft promises nothing yet.
	svc2 := f.service("RESEAU")
	if _, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-DRAFT", AgreementDraft, "2025-01-01", "2025-12-31", svc2, cal, f.ecoleA.UAI)); err != nil {
		t.Fatal(err)
	}
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleA.ID, svc2, parisTime(t, "2025-06-02 10:00")); err != nil || cov != nil {
		t.Fatalf("draft covers: %+v %v", cov, err)
	}
}

func TestCoverageOfMaintainedSchools(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("ENT")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, AgreementInput{Reference: "CONV-MAINT", Title: "Toutes les écoles de Rennes",
		ProviderID: f.rennes, BeneficiaryID: f.academy, ValidFrom: "2025-01-01", ValidUntil: "2026-12-31", Status: AgreementSigned,
		Coverage: CoverageMaintained, CoverageAuthorityID: f.rennes,
		Services: []CoveredServiceInput{{ServiceID: svc, CalendarID: cal, Levels: levels()}}})
	if err != nil {
		t.Fatalf("CreateAgreement: %v", err)
	}
	at := parisTime(t, "2025-09-01 09:00")
	for _, school := range []int64{f.ecoleA.ID, f.ecoleB.ID} {
		if cov, err := f.svc.Coverage(f.ctx, school, svc, at); err != nil || cov == nil || cov.AgreementID != a.ID {
			t.Fatalf("school %d: %+v %v", school, cov, err)
		}
	}
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleBrest.ID, svc, at); err != nil || cov != nil {
		t.Fatalf("Brest school covered by Rennes: %+v %v", cov, err)
	}
	// A school Rennes takes over after the signature is covered without
	// touching the convention.
	later := f.addSchool(10350009, "École nouvelle", f.rennes)
	if cov, err := f.svc.Coverage(f.ctx, later.ID, svc, at); err != nil || cov == nil || cov.AgreementID != a.ID {
		t.Fatalf("school added later: %+v %v", cov, err)
	}
	// Its catalogue page shows the subscription.
	_, subs, err := f.svc.EstablishmentCatalog(f.ctx, f.agent, later.UAI)
	if err != nil || len(subs) != 1 || subs[0].AgreementID != a.ID {
		t.Fatalf("catalogue of the new school: %+v %v", subs, err)
	}
	// Terminated: nothing is covered any more.
	if _, err := f.svc.SetAgreementStatus(f.ctx, f.agent, a.ID, AgreementTerminated); err != nil {
		t.Fatal(err)
	}
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleA.ID, svc, at); err != nil || cov != nil {
		t.Fatalf("terminated convention covers: %+v %v", cov, err)
	}
}

func TestExpiredConventionDoesNotCover(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-OLD", AgreementSigned, "2023-01-01", "2023-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != AgreementExpired {
		t.Errorf("signed convention ended in 2023 shows %s, want expired", a.Status)
	}
	if _, err := f.svc.SetAgreementStatus(f.ctx, f.agent, a.ID, AgreementExpired); err != nil {
		t.Fatal(err)
	}
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleA.ID, svc, parisTime(t, "2023-06-01 10:00")); err != nil || cov != nil {
		t.Fatalf("expired convention covers: %+v %v", cov, err)
	}
}

func TestAgreementDatesAndOverlaps(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	other := f.service("RESEAU")

	_, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-BAD", AgreementDraft, "2025-12-31", "2025-01-01", svc, cal, f.ecoleA.UAI))
	p := wantProblem(t, err, http.StatusBadRequest, "agreement_dates_invalid")
	if p.Fields["valid_until"] == "" {
		t.Errorf("no message on valid_until: %+v", p.Fields)
	}
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-BAD", AgreementDraft, "2025-02-30", "2025-12-31", svc, cal, f.ecoleA.UAI))
	wantProblem(t, err, http.StatusBadRequest, "agreement_invalid")
	bad := f.listed("CONV-BAD", AgreementDraft, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI)
	bad.Services[0].Levels[0].TTO = "4 heures"
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, bad)
	if p := wantProblem(t, err, http.StatusBadRequest, "agreement_invalid"); p.Fields["services[0].levels[0].tto"] == "" {
		t.Errorf("bad delay not reported on its field: %+v", p.Fields)
	}

	if _, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-1", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI)); err != nil {
		t.Fatal(err)
	}
	tables := []string{"agreements", "agreement_services", "service_levels", "agreement_establishments"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = countRows(t, f.db, tb)
	}
	// Same school and service, overlapping by six months: refused, and
	// nothing of it is written.
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-2", AgreementDraft, "2025-07-01", "2026-06-30", svc, cal, f.ecoleB.UAI, f.ecoleA.UAI))
	wantProblem(t, err, http.StatusConflict, "agreement_overlap")
	// "Every school of Rennes" overlaps the listed one too.
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, AgreementInput{Reference: "CONV-3", Title: "Rennes", ProviderID: f.rennes, BeneficiaryID: f.academy,
		ValidFrom: "2025-12-31", ValidUntil: "2026-12-31", Coverage: CoverageMaintained, CoverageAuthorityID: f.rennes,
		Services: []CoveredServiceInput{{ServiceID: svc, CalendarID: cal, Levels: levels()}}})
	wantProblem(t, err, http.StatusConflict, "agreement_overlap")
	for _, tb := range tables {
		if n := countRows(t, f.db, tb); n != before[tb] {
			t.Errorf("%s: %d rows after refused conventions, want %d", tb, n, before[tb])
		}
	}
	// Touching periods, another school, or another service do not clash.
	for _, in := range []AgreementInput{
		f.listed("CONV-4", AgreementDraft, "2026-01-01", "2026-12-31", svc, cal, f.ecoleA.UAI),
		f.listed("CONV-5", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleB.UAI),
		f.listed("CONV-6", AgreementSigned, "2025-01-01", "2025-12-31", other, cal, f.ecoleA.UAI),
	} {
		if _, err := f.svc.CreateAgreement(f.ctx, f.agent, in); err != nil {
			t.Errorf("%s: %v", in.Reference, err)
		}
	}
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-1", AgreementDraft, "2030-01-01", "2030-12-31", svc, cal, f.ecoleA.UAI))
	wantProblem(t, err, http.StatusConflict, "agreement_reference_taken")
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-7", AgreementDraft, "2030-01-01", "2030-12-31", svc, cal, "0000000X"))
	wantProblem(t, err, http.StatusBadRequest, "unknown_establishment")
}

func TestTerminatedConventionFreesThePeriod(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-1", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetAgreementStatus(f.ctx, f.agent, a.ID, AgreementTerminated); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-2", AgreementSigned, "2025-06-01", "2026-05-31", svc, cal, f.ecoleA.UAI)); err != nil {
		t.Fatalf("a terminated convention still blocks: %v", err)
	}
	_, err = f.svc.SetAgreementStatus(f.ctx, f.agent, a.ID, AgreementSigned)
	wantProblem(t, err, http.StatusConflict, "status_transition")
}

func TestNearExpiry(t *testing.T) {
	f := newFx(t)
	f.svc.now = func() time.Time { return parisTime(t, "2025-10-15 12:00") }
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	svc2 := f.service("RESEAU")
	soon, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("SOON", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	far, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("FAR", AgreementSigned, "2025-01-01", "2026-12-31", svc2, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	if !soon.NearExpiry || far.NearExpiry {
		t.Errorf("near expiry: ending 2025-12-31 %v (want true), ending 2026-12-31 %v (want false)", soon.NearExpiry, far.NearExpiry)
	}
}

func TestScope(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-1", AgreementSigned, "2025-01-01", "2099-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	// Another collectivité's agent sees none of it.
	_, err = f.svc.Agreement(f.ctx, f.brestAgent, a.ID)
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, err = f.svc.Offering(f.ctx, f.brestAgent, svc)
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, _, err = f.svc.BusinessCalendar(f.ctx, f.brestAgent, cal)
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, _, err = f.svc.EstablishmentCatalog(f.ctx, f.brestAgent, f.ecoleA.UAI)
	wantProblem(t, err, http.StatusNotFound, "not_found")
	if list, err := f.svc.Agreements(f.ctx, f.brestAgent); err != nil || len(list) != 0 {
		t.Errorf("Brest lists %d conventions (%v)", len(list), err)
	}
	_, err = f.svc.CreateService(f.ctx, f.brestAgent, ServiceInput{OwnerID: f.rennes, Family: "X", Code: "X", Name: "X"})
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, err = f.svc.SetAgreementStatus(f.ctx, f.brestAgent, a.ID, AgreementTerminated)
	wantProblem(t, err, http.StatusNotFound, "not_found")

	// The head of a covered school reads the convention, its service and
	// calendar, but cannot change them.
	if _, err := f.svc.Agreement(f.ctx, f.head, a.ID); err != nil {
		t.Errorf("head reads the convention: %v", err)
	}
	if _, err := f.svc.Offering(f.ctx, f.head, svc); err != nil {
		t.Errorf("head reads the service: %v", err)
	}
	if _, _, err := f.svc.BusinessCalendar(f.ctx, f.head, cal); err != nil {
		t.Errorf("head reads the calendar: %v", err)
	}
	if _, _, err := f.svc.EstablishmentCatalog(f.ctx, f.head, f.ecoleB.UAI); err == nil {
		t.Error("head reads another school's catalogue")
	}
	_, err = f.svc.SetAgreementStatus(f.ctx, f.head, a.ID, AgreementTerminated)
	wantProblem(t, err, http.StatusForbidden, "forbidden")
}

func TestCalendarWithSchoolHolidays(t *testing.T) {
	f := newFx(t)
	// Two académies of zone B carry the same Toussaint; the teachers'
	// row, which ends later, must be ignored.
	for _, row := range [][]string{
		{"Vacances de la Toussaint", "", "Rennes"},
		{"Vacances de la Toussaint", "Élèves", "Nantes"},
		{"Vacances de la Toussaint", "Enseignants", "Rennes"},
	} {
		end := "2025-11-02T23:00:00Z"
		if row[1] == "Enseignants" {
			end = "2025-11-04T23:00:00Z"
		}
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO school_holidays (description, population, starts_at, ends_at, academy, zone, school_year)
			VALUES (?, ?, ?, ?, ?, 'Zone B', '2025-2026')`, row[0], row[1], "2025-10-17T22:00:00Z", end, row[2]); err != nil {
			t.Fatal(err)
		}
	}
	periods, err := f.svc.store.SchoolHolidays(f.ctx, "Zone B")
	if err != nil || len(periods) != 1 {
		t.Fatalf("periods of zone B: %+v %v", periods, err)
	}
	id := f.calendar("Écoles zone B", "Zone B")
	cal, err := f.svc.Calendar(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Friday 17 October 16:00 + 4h: 1h30 that evening, then the holidays
	// (18 October – 2 November), then 2h30 from Monday 3 November 08:00.
	due, _, err := cal.Deadline(parisTime(t, "2025-10-17 16:00"), 4*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := parisTime(t, "2025-11-03 10:30"); !due.Equal(want) {
		t.Errorf("due %v, want %v", due, want)
	}
	// A zone without any known holidays cannot close for them.
	_, _, err = f.svc.CreateCalendar(f.ctx, f.agent, CalendarInput{OwnerID: f.rennes, Name: "Zone inconnue", Hours: office(), SchoolHolidayZone: "Zone Z"})
	wantProblem(t, err, http.StatusBadRequest, "calendar_invalid")
	// Overlapping ranges are refused by the calendar itself.
	bad := office()
	bad["lundi"] = []TimeRange{{"08:00", "12:00"}, {"11:00", "14:00"}}
	_, _, err = f.svc.CreateCalendar(f.ctx, f.agent, CalendarInput{OwnerID: f.rennes, Name: "Chevauchement", Hours: bad})
	wantProblem(t, err, http.StatusBadRequest, "calendar_invalid")
	if n := countRows(t, f.db, "business_calendars"); n != 1 {
		t.Errorf("%d calendars stored, want 1", n)
	}
}

func TestDeliveryModel(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	var ids [3]int64
	for i, tm := range []Team{{Name: "Hotline", Level: "N1"}, {Name: "Techniciens de proximité", Level: "N2"}, {Name: "Prestataire réseau", Level: "N3", Contractor: true}} {
		tm.OrgID = f.rennes
		created, err := f.svc.CreateTeam(f.ctx, f.agent, tm)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = created.ID
	}
	_, err := f.svc.CreateTeam(f.ctx, f.brestAgent, Team{OrgID: f.rennes, Name: "Intrus", Level: "N1"})
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, err = f.svc.CreateTeam(f.ctx, f.agent, Team{OrgID: f.rennes, Name: "Sans niveau"})
	wantProblem(t, err, http.StatusBadRequest, "team_invalid")

	in := f.listed("CONV-TEAMS", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI)
	in.Services[0].N1TeamID, in.Services[0].N2TeamID, in.Services[0].N3TeamID = ids[0], ids[1], ids[2]
	in.SurveyEnabled = new(bool)
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, in)
	if err != nil {
		t.Fatal(err)
	}
	if cs := a.Services[0]; cs.N1 == nil || cs.N1.Name != "Hotline" || cs.N3 == nil || !cs.N3.Contractor {
		t.Errorf("covered service teams %+v %+v %+v", cs.N1, cs.N2, cs.N3)
	}
	cov, err := f.svc.Coverage(f.ctx, f.ecoleA.ID, svc, parisTime(t, "2025-03-03 09:00"))
	if err != nil || cov == nil {
		t.Fatalf("coverage %+v %v", cov, err)
	}
	if cov.N1TeamID != ids[0] || cov.N2TeamID != ids[1] || cov.N3TeamID != ids[2] || cov.SurveyEnabled {
		t.Errorf("coverage teams %d %d %d survey %v, want %v and no survey", cov.N1TeamID, cov.N2TeamID, cov.N3TeamID, cov.SurveyEnabled, ids)
	}
	in = f.listed("CONV-BADTEAM", AgreementDraft, "2027-01-01", "2027-12-31", svc, cal, f.ecoleA.UAI)
	in.Services[0].N1TeamID = 999999
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, in)
	wantProblem(t, err, http.StatusBadRequest, "agreement_invalid")
	if teams, err := f.svc.Teams(f.ctx, f.brestAgent); err != nil || len(teams) != 0 {
		t.Errorf("Brest sees %d teams (%v)", len(teams), err)
	}
}

func TestFrameworkAndServiceConventions(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	fw := AgreementInput{Kind: KindFramework, Reference: "CADRE-2025", Title: "Convention-cadre", ProviderID: f.rennes, BeneficiaryID: f.academy,
		ValidFrom: "2025-01-01", ValidUntil: "2027-12-31", Status: AgreementSigned, Coverage: CoverageMaintained, CoverageAuthorityID: f.rennes,
		Services: []CoveredServiceInput{{ServiceID: svc, CalendarID: cal, Levels: []LevelInput{{RequestKind: KindIncident, Priority: 1, TTO: "8h", TTR: "5d"}}}}}
	cadre, err := f.svc.CreateAgreement(f.ctx, f.agent, fw)
	if err != nil {
		t.Fatal(err)
	}
	child := f.listed("CONV-SOUS-CADRE", AgreementSigned, "2025-01-01", "2025-12-31", svc, cal, f.ecoleA.UAI)
	child.FrameworkID = cadre.ID
	sub, err := f.svc.CreateAgreement(f.ctx, f.agent, child)
	if err != nil {
		t.Fatalf("a service convention under its framework is refused: %v", err)
	}
	at := parisTime(t, "2025-05-05 09:00")
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleA.ID, svc, at); err != nil || cov == nil || cov.AgreementID != sub.ID {
		t.Fatalf("école A: %+v %v, want the service convention", cov, err)
	}
	if cov, err := f.svc.Coverage(f.ctx, f.ecoleB.ID, svc, at); err != nil || cov == nil || cov.AgreementID != cadre.ID {
		t.Fatalf("école B: %+v %v, want the framework", cov, err)
	}
	// A convention outside the framework still clashes with it.
	stray := f.listed("CONV-HORS-CADRE", AgreementDraft, "2025-06-01", "2025-12-31", svc, cal, f.ecoleB.UAI)
	_, err = f.svc.CreateAgreement(f.ctx, f.agent, stray)
	wantProblem(t, err, http.StatusConflict, "agreement_overlap")
}
