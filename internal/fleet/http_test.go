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

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// server mounts the fleet's routes behind a middleware that logs in as p.
func (f *fx) server(t *testing.T, p *auth.Principal) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	NewHandler(f.svc, rd, AgentOptions{}).Routes(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		router.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAPIAndPages(t *testing.T) {
	f := newFx(t)
	admin := &auth.Principal{User: auth.User{ID: 1, Email: "admin@socle.test"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
	head := &auth.Principal{User: auth.User{ID: 3, Email: "direction@tilleuls.test"}, Grants: f.headA.Grants}
	as, hs := f.server(t, admin), f.server(t, head)

	rec := do(t, as, "POST", "/api/v1/assets", `{"establishment":"`+uaiA+`","type":"laptop","name":"PORT-01","serial":"X1","assigned_use":"pupils","purchase_date":"2022-09-01","price_cents":65000,"funding":"collectivite","warranty_start":"2022-09-01","warranty_months":36}`)
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created AssetDetail
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == 0 || created.WarrantyEnd != "2025-09-01" {
		t.Fatalf("%v %+v", err, created)
	}
	if rec := do(t, as, "POST", "/api/v1/assets", `{"establishment":"`+uaiA+`","type":"grille-pain"}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"type"`) {
		t.Fatalf("invalid create: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, hs, "POST", "/api/v1/assets", `{"establishment":"`+uaiA+`","type":"laptop"}`); rec.Code != 403 {
		t.Fatalf("head create: %d", rec.Code)
	}
	post(t, f.server(t, admin), "/ocsinventory", "application/xml", []byte(machine{tag: uaiA, name: "PC-02", serial: "S2", software: [][3]string{{"GCompris", "4.1", "KDE"}}}.xml()))

	rec = do(t, hs, "GET", "/api/v1/assets?establishment="+uaiA+"&limit=1", "")
	var list ListResult
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &list) != nil || list.Total != 2 || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, hs, "GET", "/api/v1/assets?establishment="+uaiA+"&q=pc-0&type=workstation", "")
	if json.Unmarshal(rec.Body.Bytes(), &list) != nil || list.Total != 1 || list.Items[0].SoftwareCount != 1 {
		t.Fatalf("filtered list: %s", rec.Body)
	}
	for path, want := range map[string]int{
		"/api/v1/assets?establishment=" + uaiB:          404,
		"/api/v1/assets?type=toaster":                   400,
		"/api/v1/assets/" + itoa(created.ID):            200,
		"/api/v1/assets/999999":                         404,
		"/api/v1/establishments/" + uaiA + "/software":  200,
		"/api/v1/establishments/" + uaiB + "/software":  404,
		"/api/v1/fleet/forecast?years=3":                200,
		"/api/v1/fleet/ratios?establishment=" + uaiA:    200,
		"/api/v1/fleet/quarantine":                      403,
		"/etablissements/" + uaiA + "/parc":             200,
		"/etablissements/" + uaiA + "/parc?type=laptop": 200,
		"/parc/equipements/" + itoa(created.ID):         200,
		"/parc/renouvellement":                          200,
		"/parc/quarantaine":                             403,
		"/etablissements/" + uaiB + "/parc":             404,
	} {
		if rec := do(t, hs, "GET", path, ""); rec.Code != want {
			t.Errorf("GET %s as head: %d, want %d: %s", path, rec.Code, want, rec.Body)
		}
	}
	if rec := do(t, as, "GET", "/parc/quarantaine", ""); rec.Code != 200 {
		t.Errorf("quarantine page as admin: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, hs, "GET", "/parc/equipements/"+itoa(created.ID), "")
	if rec := do(t, hs, "GET", "/etablissements/"+uaiA+"/logiciels", ""); !strings.Contains(rec.Body.String(), "GCompris") {
		t.Errorf("software page lacks GCompris: %s", rec.Body)
	}
	for _, want := range []string{"PORT-01", "Ordinateur portable", "650,00", "Historique", "Saisie manuelle"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("asset page lacks %q", want)
		}
	}
	rec = httptest.NewRecorder()
	as.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/assets/import?skip_invalid=1", strings.NewReader(importCSV+uaiA+";toaster;;;;;;;;;;;\n")))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"created":3`) || !strings.Contains(rec.Body.String(), `"line":5`) {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	as.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/assets/import", strings.NewReader(uaiA+";toaster\n")))
	if rec.Code != 400 {
		t.Fatalf("import without required columns: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	as.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/assets/import", strings.NewReader("uai;type\n"+uaiA+";toaster\n")))
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "rien n'a été importé") {
		t.Fatalf("all-or-nothing import: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, hs, "GET", "/api/v1/assets", ""); rec.Code != 200 {
		t.Errorf("unfiltered list: %d", rec.Code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
