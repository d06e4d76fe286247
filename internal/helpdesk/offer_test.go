package helpdesk

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
)

// TestNewTicketOffer: the new-ticket form offers the services and request
// types the establishment subscribes to through a signed convention, says
// which have a deadline, says "sans délai garanti" for a school no
// convention covers, and a ticket opened with a chosen type gets its
// service, its kind and the convention's deadlines.
func TestNewTicketOffer(t *testing.T) {
	f := newFixture(t)
	cat := catalog.NewService(f.db, t.TempDir(), f.svc.log)
	f.svc.levels = CatalogLevels{Catalog: cat}
	agent := &auth.Principal{User: auth.User{ID: f.admin.id, Email: f.admin.email},
		Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: f.authority, Recursive: true}}}
	svc, err := cat.CreateService(f.ctx, agent, catalog.ServiceInput{OwnerID: f.authority, Family: "Réseau", Code: "WIFI", Name: "Wi-Fi",
		Status: catalog.StatusProduction, RequestTypes: []catalog.RequestTypeInput{
			{Kind: catalog.KindIncident, Name: "Borne en panne"}, {Kind: catalog.KindRequest, IMAC: "add", Name: "Nouvelle borne"}}})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	day := []catalog.TimeRange{{Start: "08:00", End: "12:00"}, {Start: "13:30", End: "17:30"}}
	bc, _, err := cat.CreateCalendar(f.ctx, agent, catalog.CalendarInput{OwnerID: f.authority, Name: "Bureau",
		Hours: map[string][]catalog.TimeRange{"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day}})
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	var levels []catalog.LevelInput
	for p := 1; p <= 5; p++ {
		levels = append(levels, catalog.LevelInput{RequestKind: catalog.KindIncident, Priority: p, TTO: "4h", TTR: "2d"})
	}
	if _, err := cat.CreateAgreement(f.ctx, agent, catalog.AgreementInput{Kind: catalog.KindService, Reference: "CONV-WIFI", Title: "Wi-Fi des écoles",
		ProviderID: f.authority, BeneficiaryID: f.estA, ValidFrom: "2026-01-01", ValidUntil: "2027-12-31", Status: catalog.AgreementSigned,
		SignedOn: "2025-12-15", Coverage: catalog.CoverageListed, Establishments: []string{f.uaiA},
		Services: []catalog.CoveredServiceInput{{ServiceID: svc.ID, CalendarID: bc.ID, Levels: levels}}}); err != nil {
		t.Fatalf("convention: %v", err)
	}
	var incident, request int64
	for _, rt := range svc.RequestTypes {
		if rt.Kind == catalog.KindIncident {
			incident = rt.ID
		} else {
			request = rt.ID
		}
	}

	// The teacher's only school comes first, with its offer.
	code, body := f.page(f.teacher, "GET", "/tickets/nouveau", nil)
	if code != http.StatusOK || !strings.Contains(body, `value="`+f.uaiA+`"`) || !strings.Contains(body, "Wi-Fi (convention CONV-WIFI)") ||
		!strings.Contains(body, "Borne en panne – Incident – délai garanti") || !strings.Contains(body, "Nouvelle borne – Demande – pas de délai garanti") {
		t.Fatalf("form: %d\n%s", code, body)
	}
	// Another school is out of the teacher's scope.
	if _, body := f.page(f.teacher, "GET", "/tickets/nouveau?uai="+f.uaiB, nil); !strings.Contains(body, "hors de votre périmètre") || strings.Contains(body, "CONV-WIFI") {
		t.Fatal("out-of-scope school offered")
	}
	// School B has no convention.
	if _, body := f.page(f.headB, "GET", "/tickets/nouveau?uai="+f.uaiB, nil); !strings.Contains(body, "Aucune convention en vigueur") || strings.Contains(body, "Borne en panne") {
		t.Fatal("school without convention: no 'sans délai garanti'")
	}

	choice := strconv.FormatInt(svc.ID, 10) + ":"
	code, loc := f.page(f.teacher, "POST", "/tickets", url.Values{"uai": {f.uaiA}, "title": {"Borne muette"}, "kind": {"request"},
		"service_request": {choice + strconv.FormatInt(incident, 10)}, "urgency": {"3"}, "impact": {"3"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", code, loc)
	}
	d := f.detail(f.teacher, strings.TrimPrefix(loc, "/tickets/"))
	if d.ServiceID != svc.ID || d.RequestTypeID != incident || d.Kind != KindIncident || !d.Clocks.Engagement || d.TTRDue.IsZero() {
		t.Fatalf("ticket with an incident type: %+v %+v", d.Ticket, d.Clocks)
	}
	// A request type the convention sets no level for: no deadline.
	code, loc = f.page(f.teacher, "POST", "/tickets", url.Values{"uai": {f.uaiA}, "title": {"Une borne de plus"}, "kind": {"incident"},
		"service_request": {choice + strconv.FormatInt(request, 10)}})
	if code != http.StatusSeeOther {
		t.Fatalf("create request: %d %s", code, loc)
	}
	if d := f.detail(f.teacher, strings.TrimPrefix(loc, "/tickets/")); d.Kind != KindRequest || !d.TTRDue.IsZero() {
		t.Fatalf("request without levels: %+v", d.Ticket)
	}
}
