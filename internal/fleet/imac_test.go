package fleet

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/catalog"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	"socle/internal/territory"
	assets "socle/web"
)

// imacFx is the fleet beside a real helpdesk, wired as the application
// wires them.
type imacFx struct {
	*fx
	hd                     *helpdesk.Service
	authSvc                *auth.Service
	tech, teacher, head    *auth.Principal
	techB                  *auth.Principal
	serviceID              int64
	moveType, changeType   int64
	installType, plainType int64
}

func newIMACFx(t *testing.T) *imacFx {
	t.Helper()
	f := newFx(t)
	// The same schema as the application: the fleet and the helpdesk
	// with what the helpdesk references.
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), catalog.Migrations(), helpdesk.Migrations(), Migrations())
	f.db = d
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = NewService(d, log)
	f.svc.now = func() time.Time { return time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC) }
	f.commune = f.org("commune", "35238", "Rennes", 0)
	f.schoolA = f.school(uaiA, "École des Tilleuls", f.commune, "35238", "Rennes")
	f.schoolB = f.school(uaiB, "École des Ormes", f.commune, "35238", "Rennes")
	f.schoolC = f.school(uaiC, "École du Port", 0, "29019", "Brest")
	m := &imacFx{fx: f, authSvc: auth.NewService(d, auth.DefaultSettings(), log)}
	m.hd = helpdesk.NewService(d, m.authSvc, nil, helpdesk.Options{FilesRoot: t.TempDir()}, log)
	m.hd.SetFleet(f.svc)
	f.svc.SetTickets(m.hd)
	user := func(email string, role auth.Role, org int64) *auth.Principal {
		id, err := m.authSvc.CreateUser(f.ctx, auth.NewUser{Email: email, DisplayName: email, Password: "motdepasse-solide",
			Grants: []auth.Grant{{Role: role, OrgID: org}}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.authSvc.Principal(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	m.tech = user("tech@rennes.test", auth.RoleTechnician, f.schoolA)
	m.techB = user("tech-b@rennes.test", auth.RoleTechnician, f.schoolB)
	m.teacher = user("prof@tilleuls.test", auth.RoleTeacher, f.schoolA)
	m.head = user("direction@tilleuls.test", auth.RoleEstablishmentHead, f.schoolA)
	now := time.Now().UTC()
	var fam int64
	if err := d.QueryRowContext(f.ctx, `INSERT INTO service_families (owner_id, name) VALUES (?, ?) RETURNING id`, f.commune, "Parc").Scan(&fam); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRowContext(f.ctx, `INSERT INTO services (family_id, owner_id, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		fam, f.commune, "PDT", "Postes de travail", now, now).Scan(&m.serviceID); err != nil {
		t.Fatal(err)
	}
	rt := func(imac, name string) int64 {
		var id int64
		if err := d.QueryRowContext(f.ctx, `INSERT INTO request_types (service_id, kind, imac, name) VALUES (?, 'request', ?, ?) RETURNING id`,
			m.serviceID, imac, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	m.moveType, m.changeType, m.installType, m.plainType = rt("move", "Déménagement"), rt("change", "Modification"), rt("install", "Installation"), rt("", "Autre demande")
	return m
}

// server serves the fleet and the helpdesk as p.
func (m *imacFx) server(t *testing.T, p *auth.Principal) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	NewHandler(m.svc, rd, AgentOptions{}).Routes(router)
	helpdesk.NewHandler(m.hd, rd).Routes(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		router.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}

func (m *imacFx) asset(t *testing.T, uai, name, state string) int64 {
	t.Helper()
	d, err := m.svc.Create(m.ctx, m.admin, Asset{UAI: uai, Type: TypeWorkstation, Name: name, State: State(state), Building: "A", Room: "101"})
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func (m *imacFx) ticket(t *testing.T, p *auth.Principal, kind helpdesk.Kind, requestType int64, title string) string {
	t.Helper()
	nt := helpdesk.NewTicket{Kind: kind, UAI: uaiA, Title: title, Description: "Voir les équipements."}
	if requestType != 0 {
		nt.ServiceID, nt.RequestTypeID = m.serviceID, requestType
	}
	tk, err := m.hd.Create(m.ctx, p, nt)
	if err != nil {
		t.Fatalf("create ticket: %v", err)
	}
	return tk.Reference
}

// A move, a change and an install request name assets; solving each applies
// its change to the fleet in the solving transaction, once; an incident
// names its faulty device; the asset page and API list the tickets.
func TestIMACThroughTickets(t *testing.T) {
	m := newIMACFx(t)
	pc1, pc2 := m.asset(t, uaiA, "PC-101-1", "in-service"), m.asset(t, uaiA, "PC-101-2", "in-stock")
	other := m.asset(t, uaiB, "PC-ORMES", "in-service")
	ts := m.server(t, m.tech)

	// Move: two machines to room 204 of building B.
	move := m.ticket(t, m.teacher, helpdesk.KindRequest, m.moveType, "Déménager deux postes en 204")
	body := `{"assets":[` + strconv.FormatInt(pc1, 10) + `,` + strconv.FormatInt(pc2, 10) + `],"building":"B","room":"204"}`
	if rec := do(t, ts, "PUT", "/api/v1/tickets/"+move+"/imac", body); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"operation":"move"`) {
		t.Fatalf("set move: %d %s", rec.Code, rec.Body)
	}
	// An asset of another school cannot be named.
	if rec := do(t, ts, "PUT", "/api/v1/tickets/"+move+"/imac", `{"assets":[`+strconv.FormatInt(other, 10)+`],"room":"1"}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), "unknown_asset") {
		t.Fatalf("asset of school B: %d %s", rec.Code, rec.Body)
	}
	// Nothing moves before the ticket is solved.
	if d, _ := m.svc.Asset(m.ctx, m.admin, pc1); d.Room != "101" {
		t.Fatalf("moved before solving: %+v", d.Asset)
	}
	if rec := do(t, ts, "POST", "/api/v1/tickets/"+move+"/status", `{"status":"solved","comment":"Fait."}`); rec.Code != 200 {
		t.Fatalf("solve move: %d %s", rec.Code, rec.Body)
	}
	for _, id := range []int64{pc1, pc2} {
		d, err := m.svc.Asset(m.ctx, m.admin, id)
		if err != nil || d.Building != "B" || d.Room != "204" {
			t.Fatalf("asset %d after the move: %+v %v", id, d.Asset, err)
		}
		if last := d.History[len(d.History)-1]; last.Kind != "imac" || !strings.Contains(last.Detail, move) || last.Actor != "tech@rennes.test" {
			t.Fatalf("history of %d: %+v", id, d.History)
		}
	}
	// Closing, reopening and solving again does not apply it twice.
	if _, err := m.hd.SetStatus(m.ctx, m.tech, move, helpdesk.StatusChange{Status: "reopened"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.hd.SetStatus(m.ctx, m.tech, move, helpdesk.StatusChange{Status: "solved"}); err != nil {
		t.Fatal(err)
	}
	if n := m.count(`SELECT COUNT(*) FROM asset_events WHERE asset_id = ? AND kind = 'imac'`, pc1); n != 1 {
		t.Fatalf("%d IMAC events on pc1, want 1", n)
	}

	// Change: applied when solved. A change that can no longer apply (the
	// asset left for another school meanwhile) refuses the solution: the
	// ticket stays open and nothing of the fleet changes.
	change := m.ticket(t, m.teacher, helpdesk.KindRequest, m.changeType, "Poste 2 en réparation")
	if _, err := m.hd.SetIMAC(m.ctx, m.tech, change, helpdesk.IMACSpec{Assets: []int64{pc2, other}, State: "in-repair"}); err == nil {
		t.Fatal("an asset of school B is accepted")
	}
	if _, err := m.hd.SetIMAC(m.ctx, m.tech, change, helpdesk.IMACSpec{Assets: []int64{pc2}, State: "cassé"}); err == nil {
		t.Fatal("an unknown state is accepted")
	}
	if _, err := m.hd.SetIMAC(m.ctx, m.tech, change, helpdesk.IMACSpec{Assets: []int64{pc1, pc2}, State: "in-repair"}); err != nil {
		t.Fatal(err)
	}
	moved, err := m.svc.Asset(m.ctx, m.admin, pc1)
	if err != nil {
		t.Fatal(err)
	}
	moved.UAI = uaiB
	if _, err := m.svc.Update(m.ctx, m.admin, pc1, moved.Asset); err != nil {
		t.Fatal(err)
	}
	if _, err := m.hd.SetStatus(m.ctx, m.tech, change, helpdesk.StatusChange{Status: "solved"}); err == nil || !strings.Contains(err.Error(), "unknown_asset") {
		t.Fatalf("solving a change on an asset gone elsewhere: %v", err)
	}
	if tk, err := m.hd.Get(m.ctx, m.tech, change); err != nil || tk.Status != helpdesk.StatusNew {
		t.Fatalf("ticket after the refused solution: %v %v", tk.Status, err)
	}
	if d, _ := m.svc.Asset(m.ctx, m.admin, pc2); d.State != StateInStock {
		t.Fatalf("pc2 changed by a refused solution: %s", d.State)
	}
	moved.UAI = uaiA
	if _, err := m.svc.Update(m.ctx, m.admin, pc1, moved.Asset); err != nil {
		t.Fatal(err)
	}
	// Only someone who manages the school's fleet applies a change.
	if _, err := m.svc.ApplyIMAC(m.ctx, nil, m.head, helpdesk.IMACChange{EstablishmentID: m.schoolA}); err == nil {
		t.Fatal("a head without fleet.manage applies an IMAC change")
	}
	if _, err := m.hd.SetStatus(m.ctx, m.tech, change, helpdesk.StatusChange{Status: "solved"}); err != nil {
		t.Fatalf("solve change: %v", err)
	}
	for _, id := range []int64{pc1, pc2} {
		if d, _ := m.svc.Asset(m.ctx, m.admin, id); d.State != StateRepair {
			t.Fatalf("state of %d after change: %s", id, d.State)
		}
	}

	// Install: a new board created in room 204 when solved.
	install := m.ticket(t, m.teacher, helpdesk.KindRequest, m.installType, "Installer un TNI en 204")
	if rec := do(t, ts, "PUT", "/api/v1/tickets/"+install+"/imac", `{"assets":[],"building":"B","room":"204","new_asset":{"type":"board","name":"TNI-204","model":"ActivPanel"}}`); rec.Code != 200 {
		t.Fatalf("set install: %d %s", rec.Code, rec.Body)
	}
	before := m.count(`SELECT COUNT(*) FROM assets`)
	if rec := do(t, ts, "POST", "/api/v1/tickets/"+install+"/status", `{"status":"closed"}`); rec.Code != 200 {
		t.Fatalf("close install: %d %s", rec.Code, rec.Body)
	}
	var spec helpdesk.IMACSpec
	rec := do(t, ts, "GET", "/api/v1/tickets/"+install+"/imac", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &spec); err != nil || spec.AppliedAt == nil || spec.CreatedAsset == 0 {
		t.Fatalf("install spec: %v %s", err, rec.Body)
	}
	if n := m.count(`SELECT COUNT(*) FROM assets`); n != before+1 {
		t.Fatalf("%d assets after install, want %d", n, before+1)
	}
	board, err := m.svc.Asset(m.ctx, m.admin, spec.CreatedAsset)
	if err != nil || board.Type != TypeBoard || board.Room != "204" || board.State != StateInUse || board.UAI != uaiA || board.Source != "ticket" {
		t.Fatalf("created board: %+v %v", board.Asset, err)
	}

	// Requests that make no sense are refused when written.
	plain := m.ticket(t, m.teacher, helpdesk.KindRequest, m.plainType, "Une demande")
	for _, bad := range []string{
		`{"operation":"move","assets":[` + strconv.FormatInt(pc1, 10) + `]}`,                                // no location
		`{"operation":"teleport","assets":[]}`,                                                              // unknown
		`{"operation":"install","assets":[],"new_asset":{"type":"grille-pain"}}`,                            // unknown type
		`{"assets":[],"room":"12"}`,                                                                         // change without operation
		`{"operation":"change","assets":[` + strconv.FormatInt(pc1, 10) + `],"new_asset":{"type":"board"}}`, // change creates nothing
	} {
		if rec := do(t, ts, "PUT", "/api/v1/tickets/"+plain+"/imac", bad); rec.Code != 400 {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	if rec := do(t, ts, "PUT", "/api/v1/tickets/"+move+"/imac", `{"operation":"change","assets":[1],"state":"lent"}`); rec.Code != 409 && rec.Code != 400 {
		t.Errorf("change of a solved ticket: %d %s", rec.Code, rec.Body)
	}

	// An incident names its faulty device; the teacher who opened it may
	// name it, but may ask no change.
	inc := m.ticket(t, m.teacher, helpdesk.KindIncident, 0, "Le poste 1 ne démarre plus")
	tsTeacher := m.server(t, m.teacher)
	if rec := do(t, tsTeacher, "PUT", "/api/v1/tickets/"+inc+"/imac", `{"assets":[`+strconv.FormatInt(pc1, 10)+`]}`); rec.Code != 200 {
		t.Fatalf("teacher names the device: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, tsTeacher, "PUT", "/api/v1/tickets/"+inc+"/imac", `{"operation":"change","assets":[`+strconv.FormatInt(pc1, 10)+`],"state":"retired"}`); rec.Code != 403 && rec.Code != 400 {
		t.Fatalf("teacher asks a change: %d %s", rec.Code, rec.Body)
	}

	// The asset lists its tickets: move, change and incident for pc1.
	rec = do(t, ts, "GET", "/api/v1/assets/"+strconv.FormatInt(pc1, 10)+"/tickets", "")
	var list struct {
		Items []helpdesk.AssetTicket `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 || len(list.Items) != 3 {
		t.Fatalf("tickets of pc1: %d %s", rec.Code, rec.Body)
	}
	refs := list.Items[0].Reference + " " + list.Items[1].Reference + " " + list.Items[2].Reference
	if !strings.Contains(refs, move) || !strings.Contains(refs, inc) || !strings.Contains(refs, change) {
		t.Fatalf("tickets of pc1: %s, want %s and %s", refs, move, inc)
	}
	page := do(t, ts, "GET", "/parc/equipements/"+strconv.FormatInt(pc1, 10), "")
	if page.Code != 200 || !strings.Contains(page.Body.String(), move) || !strings.Contains(page.Body.String(), inc) || !strings.Contains(page.Body.String(), "(appliquée)") {
		t.Fatalf("asset page: %d, tickets missing", page.Code)
	}
	// The ticket's equipment page and its form.
	page = do(t, ts, "GET", "/tickets/"+plain+"/equipements", "")
	if page.Code != 200 || !strings.Contains(page.Body.String(), `name="assets"`) {
		t.Fatalf("ticket equipment page: %d %s", page.Code, page.Body)
	}
	form := "assets=" + strconv.FormatInt(pc2, 10) + "&operation=change&state=lent"
	req := httptestForm(t, ts, "/tickets/"+plain+"/equipements", form)
	if req.Code != http.StatusSeeOther {
		t.Fatalf("ticket equipment form: %d %s", req.Code, req.Body)
	}
	if s, _ := m.hd.IMAC(m.ctx, m.tech, plain); s.State != "lent" || len(s.Assets) != 1 || s.Assets[0] != pc2 {
		t.Fatalf("form saved %+v", s)
	}
	if req := httptestForm(t, ts, "/tickets/"+plain+"/equipements", "assets=abc"); req.Code != 400 || !strings.Contains(req.Body.String(), "invalide") {
		t.Fatalf("bad form: %d", req.Code)
	}

	// Outside the school: another school's technician sees neither the
	// tickets nor the asset's ticket list.
	tsB := m.server(t, m.techB)
	if rec := do(t, tsB, "GET", "/api/v1/assets/"+strconv.FormatInt(pc1, 10)+"/tickets", ""); rec.Code != 404 {
		t.Fatalf("tickets of an asset of school A as technician of B: %d", rec.Code)
	}
	if rec := do(t, tsB, "GET", "/api/v1/tickets/"+move+"/imac", ""); rec.Code != 404 {
		t.Fatalf("IMAC of a ticket of school A as technician of B: %d", rec.Code)
	}
	if rec := do(t, tsB, "PUT", "/api/v1/tickets/"+plain+"/imac", `{"assets":[]}`); rec.Code != 404 {
		t.Fatalf("set IMAC of a ticket of school A as technician of B: %d", rec.Code)
	}
	// The head reads the ticket list of the asset (fleet.read, ticket.read)
	// but cannot change what a ticket names.
	tsHead := m.server(t, m.head)
	if rec := do(t, tsHead, "GET", "/api/v1/assets/"+strconv.FormatInt(pc1, 10)+"/tickets", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), move) {
		t.Fatalf("head reads the tickets of the asset: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, tsHead, "PUT", "/api/v1/tickets/"+plain+"/imac", `{"assets":[]}`); rec.Code != 403 {
		t.Fatalf("head sets the assets of someone else's ticket: %d %s", rec.Code, rec.Body)
	}
}

func httptestForm(t *testing.T, h http.Handler, path, form string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
