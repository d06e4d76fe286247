package fleet

import (
	"encoding/json"
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
	} {
		if rec := do(t, hs, c.method, c.path, c.body); rec.Code != c.want {
			t.Errorf("%s %s as head of A: %d, want %d: %s", c.method, c.path, rec.Code, c.want, rec.Body)
		}
	}
	// Lists and figures in scope never mention school B or its machine.
	for _, path := range []string{"/api/v1/assets", "/api/v1/assets/export", "/api/v1/fleet/forecast?years=5",
		"/api/v1/fleet/ratios", "/api/v1/fleet/warranty-alerts"} {
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
