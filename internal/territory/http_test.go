package territory

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	assets "socle/web"
)

// The pages are tested through the same middlewares as in production
// (sessions, CSRF, security headers), with sessions opened the way the
// login form opens them, on the engine the run is for.

type pageFixture struct {
	t       *testing.T
	svc     *Service
	auth    *auth.Service
	handler *Handler
	server  http.Handler
	// organization ids of the fixture territory
	academy, departement, rennes, brest int64
	// establishments: an école and a collège in Rennes (REP+), an école in
	// Brest, a private lycée without maintaining collectivité.
	ecoleRennes, college, ecoleBrest, lycee Establishment
}

func uai(n int) string { return strconv.Itoa(n)[1:] + string(UAICheckLetter(n%10_000_000)) }

func newPageFixture(t *testing.T) *pageFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &pageFixture{t: t, auth: auth.NewService(d, auth.DefaultSettings(), log)}
	f.svc = NewService(d, f.auth, log)
	st := f.svc.Store()
	must := func(id int64, _ Outcome, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.academy = must(st.EnsureOrg(ctx, d, KindAcademy, "14", "Académie de Rennes", 0))
	if err := st.SetHolidayZone(ctx, d, f.academy, "Zone B"); err != nil {
		t.Fatal(err)
	}
	f.departement = must(st.EnsureOrg(ctx, d, KindDepartement, "035", "Département d'Ille-et-Vilaine", 0))
	f.rennes = must(st.EnsureOrg(ctx, d, KindCommune, "35238", "Rennes", f.departement))
	f.brest = must(st.EnsureOrg(ctx, d, KindCommune, "29019", "Brest", 0))
	lat, lon := 48.1113, -1.6800
	classes := 12
	f.ecoleRennes = Establishment{UAI: uai(10350001), Name: "École élémentaire des Tilleuls", Type: TypeEcole, Sector: SectorPublic,
		Priority: PriorityREPPlus, Status: StatusOpen, PostalCode: "35000", CommuneCode: "35238", CommuneName: "Rennes",
		Latitude: &lat, Longitude: &lon}
	f.college = Establishment{UAI: uai(10350002), Name: "Collège Les Ormes", Type: TypeCollege, Sector: SectorPublic,
		Priority: PriorityREP, Status: StatusOpen, PostalCode: "35000", CommuneCode: "35238", CommuneName: "Rennes"}
	f.ecoleBrest = Establishment{UAI: uai(10290003), Name: "École maternelle du Port", Type: TypeEcole, Sector: SectorPublic,
		Status: StatusOpen, PostalCode: "29200", CommuneCode: "29019", CommuneName: "Brest"}
	f.lycee = Establishment{UAI: uai(10350004), Name: "Lycée privé Saint-Exemple", Type: TypeLycee, Sector: SectorPrivate,
		Status: StatusOpen, PostalCode: "35000", CommuneCode: "35238", CommuneName: "Rennes"}
	maint := map[*Establishment]int64{&f.ecoleRennes: f.rennes, &f.college: f.departement, &f.ecoleBrest: f.brest}
	for _, e := range []*Establishment{&f.ecoleRennes, &f.college, &f.ecoleBrest, &f.lycee} {
		e.ID = must(st.UpsertEstablishment(ctx, d, e, f.academy))
		if a := maint[e]; a != 0 {
			if err := st.SetResponsibility(ctx, d, e.ID, "maintenance", a); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetResponsibility(ctx, d, e.ID, "pedagogy", f.academy); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpsertEnrolment(ctx, d, Enrolment{UAI: f.ecoleRennes.UAI, SchoolYear: "2024-2025", Source: "ecoles", Pupils: 245,
		Classes: &classes, Levels: map[string]int{"CP": 40, "CM2": 45, "CE1": 50, "CE2": 55, "CM1": 55}}, f.ecoleRennes.Name, "Rennes", "public"); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncScopeTree(ctx, d); err != nil {
		t.Fatal(err)
	}

	renderer, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, renderer.ErrorPage)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	f.handler = NewHandler(f.svc, renderer)
	f.handler.Routes(router)
	f.server = web.Chain(router, web.SecurityHeaders, sessions.Middleware)
	return f
}

// client is a logged-in person.
type client struct {
	f            *pageFixture
	secret, csrf string
}

func (f *pageFixture) login(email string, grants ...auth.Grant) *client {
	f.t.Helper()
	ctx := context.Background()
	id, err := f.auth.CreateUser(ctx, auth.NewUser{Email: email, Password: "mot-de-passe-de-test", Grants: grants})
	if err != nil {
		f.t.Fatal(err)
	}
	secret, csrf, _, err := f.auth.StartSession(ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return &client{f: f, secret: secret, csrf: csrf}
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	if c != nil {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: c.secret})
	}
	rec := httptest.NewRecorder()
	var f *pageFixture
	if c != nil {
		f = c.f
	}
	f.server.ServeHTTP(rec, req)
	return rec
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// page fetches a page that must answer status, and returns its HTML.
func (c *client) page(path string, status int) string {
	c.f.t.Helper()
	rec := c.get(path)
	if rec.Code != status {
		c.f.t.Fatalf("GET %s: status %d, want %d\n%s", path, rec.Code, status, rec.Body.String())
	}
	return rec.Body.String()
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func lacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page shows %q", w)
		}
	}
}

// esc is how html/template writes text (the apostrophe is escaped).
func esc(s string) string { return strings.ReplaceAll(s, "'", "&#39;") }

func TestPagesNeedLogin(t *testing.T) {
	f := newPageFixture(t)
	for _, path := range []string{"/territoire", "/etablissements/" + f.college.UAI, "/organisations/" + strconv.FormatInt(f.rennes, 10), "/imports"} {
		rec := (&client{f: f}).get(path)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/connexion?retour=") {
			t.Errorf("GET %s anonymous: %d %s", path, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestBrowse(t *testing.T) {
	f := newPageFixture(t)
	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})

	body := admin.page("/territoire", http.StatusOK)
	contains(t, body, "<strong>4</strong> établissements", esc(f.college.Name), f.college.UAI, "Rennes", `<span class="badge rep">REP&#43;</span>`,
		`<option value="35238">Rennes</option>`, `<optgroup label="Communes">`, `<caption>`, `scope="col"`)

	body = admin.page("/territoire?type=college", http.StatusOK)
	contains(t, body, "<strong>1</strong> établissement correspondant", f.college.Name, `<option value="college" selected>`)
	lacks(t, body, f.ecoleBrest.Name)

	body = admin.page("/territoire?q=tilleuls&commune=35238&rep=REP%2B&sector=public&responsible="+strconv.FormatInt(f.rennes, 10), http.StatusOK)
	contains(t, body, "<strong>1</strong> établissement", esc(f.ecoleRennes.Name), `value="tilleuls"`,
		`<option value="35238" selected>`, `<option value="REP&#43;" selected>`, `<option value="public" selected>`,
		`<option value="`+strconv.FormatInt(f.rennes, 10)+`" selected>`)

	// Pagination keeps the filters and moves the offset.
	body = admin.page("/territoire?sector=public&limit=2", http.StatusOK)
	contains(t, body, "Résultats 1 à 2 sur 3", `href="/territoire?limit=2&amp;offset=2&amp;sector=public" rel="next"`)
	lacks(t, body, `rel="prev"`)
	body = admin.page("/territoire?sector=public&limit=2&offset=2", http.StatusOK)
	contains(t, body, "Résultats 3 à 3 sur 3", `href="/territoire?limit=2&amp;sector=public" rel="prev"`)
	lacks(t, body, `rel="next"`)
	body = admin.page("/territoire?offset=400", http.StatusOK)
	contains(t, body, "au-delà des résultats")

	body = admin.page("/territoire?q=zzzz", http.StatusOK)
	contains(t, body, "Aucun établissement ne correspond")

	admin.page("/territoire?type=chateau", http.StatusBadRequest)
}

func TestBrowseScope(t *testing.T) {
	f := newPageFixture(t)
	head := f.login("direction@exemple.fr", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: f.ecoleRennes.ID})
	body := head.page("/territoire", http.StatusOK)
	contains(t, body, "<strong>1</strong> établissement.", esc(f.ecoleRennes.Name))
	lacks(t, body, f.college.Name, f.ecoleBrest.Name, "Brest")
	// A collectivité outside the scope filters to nothing, and the form
	// still shows the filter.
	brest := strconv.FormatInt(f.brest, 10)
	body = head.page("/territoire?responsible="+brest, http.StatusOK)
	contains(t, body, "<strong>0</strong> établissement correspondant", `<option value="`+brest+`" selected>Collectivité n° `+brest+`</option>`)
	lacks(t, body, "Brest")

	agent := f.login("agent@rennes.fr", auth.Grant{Role: auth.RoleAuthorityAgent, OrgID: f.rennes, Recursive: true})
	body = agent.page("/territoire", http.StatusOK)
	contains(t, body, esc(f.ecoleRennes.Name))
	lacks(t, body, f.college.Name, f.ecoleBrest.Name)
}

func TestEstablishmentPage(t *testing.T) {
	f := newPageFixture(t)
	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})
	body := admin.page("/etablissements/"+strings.ToLower(f.ecoleRennes.UAI), http.StatusOK)
	contains(t, body, "<h1>"+esc(f.ecoleRennes.Name)+"</h1>", f.ecoleRennes.UAI, "REP&#43;",
		"https://www.openstreetmap.org/?mlat=48.111300&amp;mlon=-1.680000#map=17/48.111300/-1.680000",
		`<a href="/organisations/`+strconv.FormatInt(f.rennes, 10)+`">Rennes</a>`, "Académie de Rennes",
		"2024-2025", ">245<", ">12<", "Effectifs des écoles", "<caption>Élèves par niveau</caption>")
	// Levels come in school order, not alphabetical.
	if i, j := strings.Index(body, ">CP<"), strings.Index(body, ">CE1<"); i < 0 || j < 0 || i > j {
		t.Errorf("levels out of order: CP at %d, CE1 at %d", i, j)
	}
	if j, k := strings.Index(body, ">CE1<"), strings.Index(body, ">CM2<"); j > k {
		t.Errorf("levels out of order: CE1 at %d, CM2 at %d", j, k)
	}

	body = admin.page("/etablissements/"+f.lycee.UAI, http.StatusOK)
	contains(t, body, "Aucune (établissement privé)", "Aucun effectif importé")

	admin.page("/etablissements/0000000A", http.StatusNotFound)

	// Outside the scope, an establishment does not exist, and the reader
	// gets no link to an organization page they could not open.
	head := f.login("direction@exemple.fr", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: f.ecoleRennes.ID})
	body = head.page("/etablissements/"+f.ecoleRennes.UAI, http.StatusOK)
	contains(t, body, esc(f.ecoleRennes.Name))
	lacks(t, body, `href="/organisations/`+strconv.FormatInt(f.rennes, 10)+`"`)
	body = head.page("/etablissements/"+f.college.UAI, http.StatusNotFound)
	contains(t, body, "Page introuvable", "Établissement introuvable.")
	lacks(t, body, f.college.Name)
}

func TestOrganizationPage(t *testing.T) {
	f := newPageFixture(t)
	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})
	rennes := strconv.FormatInt(f.rennes, 10)
	body := admin.page("/organisations/"+rennes, http.StatusOK)
	contains(t, body, "<h1>Rennes</h1>", "Commune", "35238", "<strong>1</strong> établissement de votre périmètre est rattaché",
		`href="/territoire?responsible=`+rennes+`"`, esc(f.ecoleRennes.Name),
		`href="/organisations/`+strconv.FormatInt(f.departement, 10)+`"`)
	lacks(t, body, f.college.Name)

	body = admin.page("/organisations/"+strconv.FormatInt(f.academy, 10), http.StatusOK)
	contains(t, body, "Académie de Rennes", "Zone de vacances", "Zone B")
	lacks(t, body, "Établissements entretenus")

	rec := admin.get("/organisations/" + strconv.FormatInt(f.college.ID, 10))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/etablissements/"+f.college.UAI {
		t.Errorf("establishment organization: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	admin.page("/organisations/999999", http.StatusNotFound)
	admin.page("/organisations/abc", http.StatusNotFound)

	head := f.login("direction@exemple.fr", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: f.ecoleRennes.ID})
	head.page("/organisations/"+rennes, http.StatusNotFound)
}

func TestSummaryAndFilterOptions(t *testing.T) {
	f := newPageFixture(t)
	ctx := context.Background()
	admin := &auth.Principal{User: auth.User{ID: 1}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
	s, err := f.svc.Summary(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != 4 || s.Public != 3 || s.Private != 1 || s.REP != 1 || s.REPPlus != 1 || s.Priority() != 2 {
		t.Errorf("summary: %+v", s)
	}
	if len(s.Rows) != 3 || s.Rows[0].Type != TypeEcole || s.Rows[0].Total != 2 || s.Rows[1].Type != TypeCollege || s.Rows[2].Type != TypeLycee || s.Rows[2].Private != 1 {
		t.Errorf("summary rows: %+v", s.Rows)
	}
	years, err := f.svc.EnrolmentTotals(ctx, admin, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(years) != 1 || years[0].Pupils != 245 || years[0].Establishments != 1 {
		t.Errorf("enrolment totals: %+v", years)
	}
	fo, err := f.svc.FilterOptions(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(fo.Communes) != 2 || fo.Communes[0].Label != "Brest" || fo.Communes[1].Count != 3 {
		t.Errorf("communes: %+v", fo.Communes)
	}
	if len(fo.Maintainers) != 3 || fo.Maintainers[0].Kind != KindDepartement || fo.Maintainers[1].Name != "Brest" {
		t.Errorf("maintainers: %+v", fo.Maintainers)
	}

	head := &auth.Principal{User: auth.User{ID: 2}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: f.ecoleBrest.ID}}}
	if s, err = f.svc.Summary(ctx, head); err != nil || s.Total != 1 || s.Priority() != 0 {
		t.Errorf("head summary: %+v %v", s, err)
	}
	if fo, err = f.svc.FilterOptions(ctx, head); err != nil || len(fo.Communes) != 1 || fo.Communes[0].Value != "29019" {
		t.Errorf("head communes: %+v %v", fo, err)
	}
	nobody := &auth.Principal{}
	if s, err = f.svc.Summary(ctx, nobody); err != nil || s.Total != 0 {
		t.Errorf("anonymous summary: %+v %v", s, err)
	}
}

// multipartBody builds the import form as a browser sends it.
func multipartBody(t *testing.T, fields map[string]string, filename, content string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range []string{"csrf", "kind", "skip_invalid"} {
		if v, ok := fields[k]; ok {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if filename != "" {
		w, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func (c *client) upload(fields map[string]string, filename, content string) *httptest.ResponseRecorder {
	body, ct := multipartBody(c.f.t, fields, filename, content)
	req := httptest.NewRequest(http.MethodPost, "/imports", body)
	req.Header.Set("Content-Type", ct)
	return c.do(req)
}

var runPath = regexp.MustCompile(`^/imports/[0-9]+$`)

func TestImportPagesAccess(t *testing.T) {
	f := newPageFixture(t)
	agent := f.login("agent@rennes.fr", auth.Grant{Role: auth.RoleAuthorityAgent, OrgID: f.rennes, Recursive: true})
	body := agent.page("/imports", http.StatusForbidden)
	contains(t, body, "Accès refusé")
	rec := agent.upload(map[string]string{"csrf": agent.csrf, "kind": "annuaire"}, "a.csv", "x")
	if rec.Code != http.StatusForbidden {
		t.Errorf("upload by an agent: %d", rec.Code)
	}
	agent.page("/imports/1", http.StatusForbidden)

	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})
	body = admin.page("/imports", http.StatusOK)
	contains(t, body, `enctype="multipart/form-data"`, `name="csrf" value="`+admin.csrf+`"`, `<label for="kind">`,
		`<label for="file">`, "Ignorer les lignes invalides", "Aucun import")
	admin.page("/imports/424242", http.StatusNotFound)
	admin.page("/imports/x", http.StatusNotFound)

	// Without the CSRF token nothing runs.
	rec = admin.upload(map[string]string{"kind": "annuaire"}, "a.csv", "x")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "formulaire a expiré") {
		t.Errorf("upload without CSRF: %d", rec.Code)
	}
}

func TestImportUploadErrors(t *testing.T) {
	f := newPageFixture(t)
	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})

	rec := admin.upload(map[string]string{"csrf": admin.csrf, "kind": "annuaire"}, "", "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Choisissez le fichier CSV") {
		t.Errorf("no file: %d", rec.Code)
	}
	rec = admin.upload(map[string]string{"csrf": admin.csrf, "kind": "inconnu"}, "a.csv", "a;b\n1;2\n")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Choisissez le jeu de données") {
		t.Errorf("unknown kind: %d", rec.Code)
	}

	f.handler.maxUpload = 1 << 10
	rec = admin.upload(map[string]string{"csrf": admin.csrf, "kind": "annuaire", "skip_invalid": "1"}, "gros.csv", strings.Repeat("x;y\n", 2<<10))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", rec.Code)
	}
	// The form comes back with the person's choices and the reason.
	contains(t, rec.Body.String(), "trop volumineux", "1 Ko", `<option value="annuaire" selected>`, `id="skip_invalid" name="skip_invalid" value="1" checked`)
}

// An annuaire file in the directory's own layout: the header of the
// national file, two valid rows, and the test decides a third.
func annuaireCSV(rows ...string) string {
	header := "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;Adresse_1;Code_postal;Code_commune;Nom_commune;Code_departement;Code_academie;Libelle_academie;Etat;Latitude;Longitude"
	return header + "\n" + strings.Join(rows, "\n") + "\n"
}

func annuaireRow(uai, name, typ, commune, code string) string {
	return strings.Join([]string{uai, name, typ, "Public", "1 rue de l'Exemple", "35000", code, commune, "035", "14", "Rennes", "OUVERT", "48.1", "-1.6"}, ";")
}

func TestImportUploadAndReport(t *testing.T) {
	f := newPageFixture(t)
	admin := f.login("admin@exemple.fr", auth.Grant{Role: auth.RolePlatformAdmin})
	good := annuaireCSV(
		annuaireRow(uai(10350101), "École primaire Exemple A", "Ecole", "Rennes", "35238"),
		annuaireRow(uai(10350102), "Collège Exemple B", "Collège", "Rennes", "35238"),
	)
	rec := admin.upload(map[string]string{"csrf": admin.csrf, "kind": "annuaire"}, "annuaire-test.csv", good)
	if rec.Code != http.StatusSeeOther || !runPath.MatchString(rec.Header().Get("Location")) {
		t.Fatalf("upload: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	body := admin.page(rec.Header().Get("Location"), http.StatusOK)
	contains(t, body, "annuaire-test.csv", "Annuaire de l&#39;éducation", "appliqué")
	contains(t, body, `<dt>Lignes lues</dt><dd>2</dd>`, `<dt>Créées</dt><dd>2</dd>`)
	admin.page("/etablissements/"+uai(10350101), http.StatusOK)

	// All or nothing: one wrong check letter, and nothing is written.
	bad := uai(10350103)
	badLetter := bad[:7] + string("ABCDEFGHJKLMNPRSTUVWXYZ"[(strings.IndexByte("ABCDEFGHJKLMNPRSTUVWXYZ", bad[7])+1)%23])
	rec = admin.upload(map[string]string{"csrf": admin.csrf, "kind": "annuaire"}, "annuaire-faux.csv", annuaireCSV(
		annuaireRow(uai(10350104), "École Exemple C", "Ecole", "Rennes", "35238"),
		annuaireRow(badLetter, "École Exemple D", "Ecole", "Rennes", "35238"),
	))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("upload with a bad row: %d\n%s", rec.Code, rec.Body.String())
	}
	body = admin.page(rec.Header().Get("Location"), http.StatusOK)
	contains(t, body, "Rien n'a été écrit", `<th scope="row" class="num">3</th><td>Identifiant_de_l_etablissement</td>`, badLetter,
		`<dt>Créées</dt><dd>0</dd>`, `<dt>Rejetées</dt><dd>1</dd>`)
	admin.page("/etablissements/"+uai(10350104), http.StatusNotFound)

	// The history lists both runs, newest first.
	body = admin.page("/imports", http.StatusOK)
	if i, j := strings.Index(body, "annuaire-faux.csv"), strings.Index(body, "annuaire-test.csv"); i < 0 || j < 0 || i > j {
		t.Errorf("history order: %d %d", i, j)
	}
}

// An API client (bearer token, no CSRF form field) gets the streaming path:
// the form is read part by part and the file handed to the import as it
// arrives, bounded even when the client announces no length.
func TestImportUploadStreamed(t *testing.T) {
	f := newPageFixture(t)
	ctx := context.Background()
	id, err := f.auth.CreateUser(ctx, auth.NewUser{Email: "robot@exemple.fr", Password: "mot-de-passe-de-test",
		Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := f.auth.IssueToken(ctx, id, "test")
	if err != nil {
		t.Fatal(err)
	}
	send := func(content string, length int64) *httptest.ResponseRecorder {
		body, ct := multipartBody(t, map[string]string{"kind": "annuaire"}, "flux.csv", content)
		req := httptest.NewRequest(http.MethodPost, "/imports", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+token)
		req.ContentLength = length
		rec := httptest.NewRecorder()
		f.server.ServeHTTP(rec, req)
		return rec
	}
	rec := send(annuaireCSV(annuaireRow(uai(10350201), "École Exemple E", "Ecole", "Rennes", "35238")), -1)
	if rec.Code != http.StatusSeeOther || !runPath.MatchString(rec.Header().Get("Location")) {
		t.Fatalf("streamed upload: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	f.handler.maxUpload = 1 << 10
	rec = send(annuaireCSV(strings.Repeat(annuaireRow(uai(10350202), "École Exemple F", "Ecole", "Rennes", "35238")+"\n", 40)), -1)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "trop volumineux") {
		t.Fatalf("streamed upload too large: %d", rec.Code)
	}
	if _, _, err := f.svc.Establishment(ctx, auth.System(), uai(10350202)); err == nil {
		t.Error("a truncated upload was imported")
	}
	runs, err := f.svc.ImportRuns(ctx, auth.System(), 1)
	if err != nil || len(runs) != 1 || runs[0].Status != ImportStatusRejected || runs[0].Report.Error != errTooLarge.Message {
		t.Errorf("the refused upload is recorded as such: %+v %v", runs, err)
	}
}
