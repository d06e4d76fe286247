package fleet

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
)

// A school head reaches only their school's fleet: another school's asset
// does not exist for them, whatever the route, and no list, export or
// planning figure carries it.
func TestScopeOfEveryRoute(t *testing.T) {
	f := newFx(t)
	admin := &auth.Principal{User: auth.User{ID: 1, Email: "admin@socle.test"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
	head := &auth.Principal{User: auth.User{ID: 3, Email: "direction@tilleuls.test"}, Grants: f.headA.Grants}
	as, hs := f.server(t, admin), f.server(t, head)

	rec := do(t, as, "POST", "/api/v1/assets", `{"establishment":"`+uaiB+`","type":"workstation","name":"PC-AUTRE-ECOLE","serial":"B-SERIAL-1","purchase_date":"2015-09-01","warranty_start":"2015-09-01","warranty_months":12}`)
	if rec.Code != 201 {
		t.Fatalf("create in school B: %d %s", rec.Code, rec.Body)
	}
	var other AssetDetail
	if err := json.Unmarshal(rec.Body.Bytes(), &other); err != nil || other.ID == 0 {
		t.Fatalf("%v %s", err, rec.Body)
	}
	id := strconv.FormatInt(other.ID, 10)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/assets/" + id, "", 404},
		{"PUT", "/api/v1/assets/" + id, `{"state":"retired"}`, 404},
		{"GET", "/api/v1/assets?establishment=" + uaiB, "", 404},
		{"GET", "/api/v1/establishments/" + uaiB + "/software", "", 404},
		{"POST", "/api/v1/assets/import", "", 403},
		{"GET", "/api/v1/fleet/quarantine", "", 403},
		{"GET", "/api/v1/assets/" + id + "/tickets", "", 404},
		{"GET", "/api/v1/fleet/forecast/export?establishment=" + uaiB, "", 404},
		{"GET", "/api/v1/fleet/forecast?establishment=" + uaiB, "", 404},
		{"GET", "/api/v1/fleet/ratios?establishment=" + uaiB, "", 404},
		{"GET", "/api/v1/fleet/warranty-alerts?establishment=" + uaiB, "", 404},
		{"GET", "/parc/equipements/" + id + "/modifier", "", 404},
		{"POST", "/parc/equipements/" + id, "", 404},
	} {
		if rec := do(t, hs, c.method, c.path, c.body); rec.Code != c.want {
			t.Errorf("%s %s as head of A: %d, want %d: %s", c.method, c.path, rec.Code, c.want, rec.Body)
		}
	}
	// Lists and figures in scope never mention school B or its machine.
	for _, path := range []string{"/api/v1/assets", "/api/v1/assets/export", "/api/v1/fleet/forecast?years=5",
		"/api/v1/fleet/ratios", "/api/v1/fleet/warranty-alerts", "/api/v1/fleet/forecast/export?format=csv", "/parc"} {
		rec := do(t, hs, "GET", path, "")
		if rec.Code != 200 {
			t.Errorf("GET %s as head of A: %d %s", path, rec.Code, rec.Body)
			continue
		}
		if body := rec.Body.String(); strings.Contains(body, uaiB) || strings.Contains(body, "PC-AUTRE-ECOLE") || strings.Contains(body, "B-SERIAL-1") {
			t.Errorf("GET %s as head of A leaks school B: %s", path, body)
		}
	}
	// The administrator sees it: the test above is not passing for lack of data.
	if rec := do(t, as, "GET", "/api/v1/assets/export", ""); !strings.Contains(rec.Body.String(), "B-SERIAL-1") {
		t.Errorf("admin export does not list school B's machine: %s", rec.Body)
	}
}

// The fleet's own permissions: fleet.read to see, fleet.manage to change,
// each on the caller's scope. A teacher (neither) sees no fleet; a head
// (fleet.read) reads their school's but changes nothing; a technician of
// the school (fleet.manage) changes it, and only it.
func TestFleetPermissionsByRole(t *testing.T) {
	f := newFx(t)
	for _, perm := range []auth.Permission{auth.PermFleetRead, auth.PermFleetManage} {
		if !auth.RoleTechnician.Allows(perm) || auth.RoleTeacher.Allows(perm) {
			t.Fatalf("policy changed for %s: the cases below no longer test it", perm)
		}
	}
	if !auth.RoleEstablishmentHead.Allows(auth.PermFleetRead) || auth.RoleEstablishmentHead.Allows(auth.PermFleetManage) {
		t.Fatal("policy changed for heads: the cases below no longer test it")
	}
	a, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uaiA, Type: TypeLaptop, Name: "PORT-A", PurchaseDate: "2015-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(a.ID, 10)
	grant := func(role auth.Role, org int64) http.Handler {
		return f.server(t, &auth.Principal{User: auth.User{ID: 9, Email: string(role) + "@test"}, Grants: []auth.Grant{{Role: role, OrgID: org}}})
	}
	teacher, head, tech, techB := grant(auth.RoleTeacher, f.schoolA), grant(auth.RoleEstablishmentHead, f.schoolA),
		grant(auth.RoleTechnician, f.schoolA), grant(auth.RoleTechnician, f.schoolB)
	for _, c := range []struct {
		who                string
		h                  http.Handler
		method, path, body string
		want               int
	}{
		{"teacher", teacher, "GET", "/api/v1/assets/" + id, "", 404},
		{"teacher", teacher, "GET", "/api/v1/assets?establishment=" + uaiA, "", 404},
		{"teacher", teacher, "GET", "/parc", "", 403},
		{"teacher", teacher, "POST", "/api/v1/assets", `{"establishment":"` + uaiA + `","type":"laptop"}`, 400},
		{"head", head, "GET", "/api/v1/assets/" + id, "", 200},
		{"head", head, "GET", "/parc", "", 200},
		{"head", head, "PUT", "/api/v1/assets/" + id, `{"type":"laptop","state":"retired"}`, 403},
		{"head", head, "POST", "/api/v1/assets", `{"establishment":"` + uaiA + `","type":"laptop"}`, 403},
		{"head", head, "GET", "/parc/equipements/nouveau", "", 403},
		{"head", head, "GET", "/parc/equipements/" + id + "/modifier", "", 403},
		{"technician", tech, "PUT", "/api/v1/assets/" + id, `{"type":"laptop","state":"in-repair"}`, 200},
		{"technician", tech, "POST", "/api/v1/assets", `{"establishment":"` + uaiA + `","type":"tablet"}`, 201},
		{"technician", tech, "GET", "/parc/equipements/" + id + "/modifier", "", 200},
		{"technician of B", techB, "GET", "/api/v1/assets/" + id, "", 404},
		{"technician of B", techB, "PUT", "/api/v1/assets/" + id, `{"type":"laptop","state":"lent"}`, 404},
		{"technician of B", techB, "POST", "/api/v1/assets", `{"establishment":"` + uaiA + `","type":"tablet"}`, 400},
	} {
		if rec := do(t, c.h, c.method, c.path, c.body); rec.Code != c.want {
			t.Errorf("%s %s as %s: %d, want %d: %s", c.method, c.path, c.who, rec.Code, c.want, rec.Body)
		}
	}
	if d, _ := f.svc.Asset(f.ctx, f.admin, a.ID); d.State != StateRepair {
		t.Errorf("state %s: only the technician's change should have applied", d.State)
	}
	// Refused writers left no asset behind.
	if n := f.count(`SELECT COUNT(*) FROM assets`); n != 2 {
		t.Errorf("%d assets, want the first and the technician's", n)
	}
}
