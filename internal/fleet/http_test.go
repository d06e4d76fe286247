package fleet

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// server mounts the fleet's routes behind a middleware that logs in as p.
func (f *fx) server(t testing.TB, p *auth.Principal) http.Handler {
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

func do(t testing.TB, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
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

// The renewal forecast as a chart (server-side SVG with its figures in the
// text alternative, beside the table) and as CSV and XLSX downloads that
// carry the same figures.
func TestForecastChartAndExports(t *testing.T) {
	f := newFx(t)
	for _, a := range []Asset{
		{UAI: uaiA, Type: TypeWorkstation, Name: "PC-OLD", PurchaseDate: "2018-09-01", PriceCents: 70000},    // due 2023: year 1
		{UAI: uaiA, Type: TypeBoard, Name: "TNI", PurchaseDate: "2021-09-01", PriceCents: 300000},            // due 2028
		{UAI: uaiB, Type: TypeLaptop, Name: "PORT", PurchaseDate: "2024-01-10", PriceCents: 80000},           // due 2028
		{UAI: uaiB, Type: TypeLaptop, Name: "PORT-RETIRED", PurchaseDate: "2010-01-10", State: StateRetired}, // not counted
	} {
		if _, err := f.svc.Create(f.ctx, f.admin, a); err != nil {
			t.Fatal(err)
		}
	}
	h := f.server(t, &auth.Principal{User: auth.User{ID: 1, Email: "admin@socle.test"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	page := do(t, h, "GET", "/parc/renouvellement", "")
	body := page.Body.String()
	for _, want := range []string{`<svg class="chart" role="img"`, "<desc id=\"forecast-d\">2026 : 1 équipements, 700,00\u00a0€ ; 2027 : 0 équipements", "2028 : 2 équipements, 3\u202f800,00\u00a0€",
		"<table", "forecast/export?format=xlsx", "forecast/export?format=csv"} {
		if !strings.Contains(body, want) {
			t.Errorf("forecast page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("page: %s", body)
	}
	rec := do(t, h, "GET", "/api/v1/fleet/forecast/export?format=csv", "")
	csvBody := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(csvBody, "uai;etablissement;equipements_2026;") ||
		!strings.Contains(csvBody, uaiA+";École des Tilleuls;1;0;1;0;0;700,00;0,00;3000,00;0,00;0,00;0") ||
		!strings.Contains(csvBody, ";Total;1;0;2;0;0;700,00;0,00;3800,00;0,00;0,00;0") {
		t.Fatalf("CSV: %d %s", rec.Code, csvBody)
	}
	rec = do(t, h, "GET", "/api/v1/fleet/forecast/export?format=xlsx&establishment="+uaiB, "")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("XLSX: %d %s", rec.Code, rec.Header())
	}
	x, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("Renouvellement")
	if err != nil || len(rows) != 3 {
		t.Fatalf("XLSX rows %v %v", rows, err)
	}
	if rows[1][0] != uaiB || rows[1][4] != "1" || rows[2][1] != "Total" {
		t.Errorf("XLSX content %v", rows)
	}
	if v, err := x.GetCellValue("Renouvellement", "J2", excelize.Options{RawCellValue: true}); err != nil || v != "800" {
		t.Errorf("XLSX cost 2028 of %s: %q %v, want the number 800", uaiB, v, err)
	}
	if rec := do(t, h, "GET", "/api/v1/fleet/forecast/export?format=pdf", ""); rec.Code != 400 {
		t.Errorf("unknown format: %d", rec.Code)
	}
}

// The forms create and edit an asset (location, state, purchase,
// warranty) and say what is wrong, field by field.
func TestAssetForms(t *testing.T) {
	f := newFx(t)
	tech := f.server(t, &auth.Principal{User: auth.User{ID: 5, Email: "tech@test"}, Grants: []auth.Grant{{Role: auth.RoleTechnician, OrgID: f.schoolA}}})
	page := do(t, tech, "GET", "/parc/equipements/nouveau?etablissement="+uaiA, "")
	for _, want := range []string{`<label for="purchase_date">`, `name="warranty_months"`, `value="` + uaiA + `"`, `<label for="state">`} {
		if page.Code != 200 || !strings.Contains(page.Body.String(), want) {
			t.Fatalf("new asset form lacks %q (%d)", want, page.Code)
		}
	}
	form := url.Values{"establishment": {uaiA}, "type": {"board"}, "name": {"TNI-12"}, "building": {"B"}, "room": {"12"},
		"state": {"in-service"}, "assigned_use": {"teachers"}, "purchase_date": {"2020-09-01"}, "supplier": {"UGAP"},
		"price": {"2 990,50"}, "funding": {"etat"}, "warranty_start": {"2020-09-01"}, "warranty_months": {"60"}, "warranty_supplier": {"Speechi"}}
	rec := httptestForm(t, tech, "/parc/equipements", form.Encode())
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create form: %d %s", rec.Code, rec.Body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(rec.Header().Get("Location"), "/parc/equipements/"), 10, 64)
	d, err := f.svc.Asset(f.ctx, f.admin, id)
	if err != nil || d.Type != TypeBoard || d.Room != "12" || d.PriceCents != 299050 || d.Funding != FundingState || d.WarrantyEnd != "2025-09-01" || d.Use != UseTeachers {
		t.Fatalf("created %+v %v", d, err)
	}
	edit := do(t, tech, "GET", "/parc/equipements/"+itoa(id)+"/modifier", "")
	if edit.Code != 200 || !strings.Contains(edit.Body.String(), `value="2990,50"`) || !strings.Contains(edit.Body.String(), `value="TNI-12"`) {
		t.Fatalf("edit form: %d", edit.Code)
	}
	form.Set("state", "in-repair")
	form.Set("room", "14")
	if rec := httptestForm(t, tech, "/parc/equipements/"+itoa(id), form.Encode()); rec.Code != http.StatusSeeOther {
		t.Fatalf("update form: %d %s", rec.Code, rec.Body)
	}
	if d, _ := f.svc.Asset(f.ctx, f.admin, id); d.State != StateRepair || d.Room != "14" || !strings.Contains(d.History[len(d.History)-1].Detail, "14") {
		t.Fatalf("updated %+v", d)
	}
	form.Set("price", "cher")
	form.Set("purchase_date", "01/09/2020")
	rec = httptestForm(t, tech, "/parc/equipements/"+itoa(id), form.Encode())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `id="price-err"`) {
		t.Fatalf("bad price: %d %s", rec.Code, rec.Body)
	}
	form.Set("price", "10")
	rec = httptestForm(t, tech, "/parc/equipements/"+itoa(id), form.Encode())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `id="purchase_date-err"`) || !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
		t.Fatalf("bad date: %d %s", rec.Code, rec.Body)
	}
	if d, _ := f.svc.Asset(f.ctx, f.admin, id); d.PurchaseDate != "2020-09-01" {
		t.Fatalf("a refused form changed the asset: %s", d.PurchaseDate)
	}
}
