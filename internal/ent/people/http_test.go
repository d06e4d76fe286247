package people

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// server mounts the directory's routes behind a middleware that logs in
// as p.
func (f *fx) server(t *testing.T, p *auth.Principal) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	NewHandler(f.svc, rd).Routes(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		router.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	switch {
	case strings.HasSuffix(strings.SplitN(path, "?", 2)[0], "/feed"):
		req.Header.Set("Content-Type", "text/csv")
	case body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Every API route: inside the caller's scope, the data; another school's
// head gets 404 whatever the route; a teacher of the school gets 403 on
// what only its head may do.
func TestAPIScope(t *testing.T) {
	f := newFx(t)
	adminID, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: "admin@socle.test", Password: "mot-de-passe-solide", Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	admin := f.server(t, f.principal(adminID))
	if rec := do(t, admin, "POST", "/api/v1/establishments/"+uaiEcole+"/feed?year=2025-2026&file=ecole.csv", ecoleFeed); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"created":9`) {
		t.Fatalf("feed: %d %s", rec.Code, rec.Body)
	}
	f.feed(uaiOther, "2025-2026", "Profil;Nom;Prénom;Date de naissance;Classe\nélève;Morvan;Chloé;21/11/2015;CM2\n", false)
	lea, mother := f.userByINE("1234567890A"), f.userByName("Gwenaëlle", "Tanguy")
	cm2 := strconv.FormatInt(f.id(`SELECT id FROM groups WHERE name = 'CM2 A'`), 10)
	pending := strconv.FormatInt(f.id(`SELECT id FROM pending_matches`), 10)
	head := f.server(t, f.principal(f.userByName("Marc", "Lefebvre")))
	other := f.server(t, f.head("direction@port.test", f.other))
	teacher := f.server(t, f.principal(f.userByName("Julien", "Rolland")))
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	// Data inside: the head's directory lists the pupils with their INE.
	rec := do(t, head, "GET", "/api/v1/people?establishment="+uaiEcole+"&profile=pupil", "")
	var dir struct{ Items []Person }
	if err := json.Unmarshal(rec.Body.Bytes(), &dir); err != nil || len(dir.Items) != 4 || dir.Items[0].INE == "" {
		t.Errorf("head's directory: %v %s", err, rec.Body)
	}
	var g GroupDetail
	if err := json.Unmarshal(do(t, teacher, "GET", "/api/v1/groups/"+cm2, "").Body.Bytes(), &g); err != nil || len(g.Pupils) != 3 || len(g.Teachers) != 1 {
		t.Errorf("class as its teacher: %+v %v", g, err)
	}

	type call struct{ method, path, body string }
	routes := []struct {
		call
		head, other, teacher int
	}{
		{call{"GET", "/api/v1/people?establishment=" + uaiEcole, ""}, 200, 404, 200},
		{call{"POST", "/api/v1/people", `{"establishment":"` + uaiEcole + `","profile":"staff","function":"vie-scolaire","last_name":"Cadiou","first_name":"Soizic"}`}, 201, 404, 403},
		{call{"GET", "/api/v1/people/" + id(lea), ""}, 200, 404, 200},
		{call{"POST", "/api/v1/parent-links", `{"parent_id":` + id(mother) + `,"child_id":` + id(lea) + `}`}, 204, 404, 404},
		{call{"GET", "/api/v1/groups?establishment=" + uaiEcole, ""}, 200, 404, 200},
		{call{"POST", "/api/v1/groups", `{"establishment":"` + uaiEcole + `","kind":"group","type":"club","name":"Chorale"}`}, 201, 404, 403},
		{call{"GET", "/api/v1/groups/" + cm2, ""}, 200, 404, 200},
		{call{"POST", "/api/v1/groups/" + cm2 + "/members", `{"user_ids":[` + id(lea) + `]}`}, 200, 404, 403},
		{call{"POST", "/api/v1/establishments/" + uaiEcole + "/feed?year=2025-2026", ecoleFeed}, 200, 404, 403},
		{call{"GET", "/api/v1/establishments/" + uaiEcole + "/rollover", ""}, 200, 404, 403},
		{call{"GET", "/api/v1/establishments/" + uaiEcole + "/pending-matches", ""}, 200, 404, 403},
		{call{"GET", "/api/v1/establishments/" + uaiEcole + "/communication-rules", ""}, 200, 404, 200},
		{call{"PUT", "/api/v1/establishments/" + uaiEcole + "/communication-rules", `{"rules":{"class-parents":true}}`}, 200, 404, 403},
		{call{"POST", "/api/v1/establishments/" + uaiEcole + "/rollover", `{"from_year":"2025-2026"}`}, 200, 404, 403},
	}
	for _, r := range routes {
		for _, c := range []struct {
			who  string
			h    http.Handler
			want int
		}{{"other school's head", other, r.other}, {"teacher", teacher, r.teacher}, {"head", head, r.head}} {
			rec := do(t, c.h, r.method, r.path, r.body)
			if rec.Code != c.want {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.method, r.path, c.who, rec.Code, c.want, rec.Body)
			}
			if c.want == 404 && strings.Contains(rec.Body.String(), "Tanguy") {
				t.Errorf("%s %s as %s leaks a name: %s", r.method, r.path, c.who, rec.Body)
			}
		}
	}
	// The other school's pending match is theirs: the école's head does not see it.
	if rec := do(t, head, "POST", "/api/v1/pending-matches/"+pending, `{"decision":"reject"}`); rec.Code != 404 {
		t.Errorf("decide another school's match: %d", rec.Code)
	}
	if rec := do(t, admin, "POST", "/api/v1/pending-matches/"+pending, `{"decision":"reject"}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"rejected"`) {
		t.Errorf("decide as admin: %d %s", rec.Code, rec.Body)
	}
}

func TestPages(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	head := f.server(t, f.principal(f.userByName("Marc", "Lefebvre")))
	pupil := f.server(t, f.principal(f.userByINE("1234567890A")))
	cm2 := strconv.FormatInt(f.id(`SELECT id FROM groups WHERE name = 'CM2 A'`), 10)
	for _, c := range []struct {
		h    http.Handler
		path string
		want int
		has  string
	}{
		{head, "/personnes", http.StatusSeeOther, ""},
		{head, "/etablissements/" + uaiEcole + "/personnes", 200, "Alimentation"},
		{head, "/classes/" + cm2, 200, "Rolland"},
		{head, "/etablissements/" + uaiEcole + "/alimentation", 200, "Alimenter"},
		{head, "/etablissements/" + uaiEcole + "/bascule", 200, "Collège Anne de Bretagne"},
		{pupil, "/etablissements/" + uaiEcole + "/personnes", 200, "Erwan"},
		{pupil, "/classes/" + cm2, 200, "Morvan"},
		{pupil, "/etablissements/" + uaiEcole + "/alimentation", 403, ""},
		{pupil, "/etablissements/" + uaiOther + "/personnes", 404, ""},
	} {
		rec := do(t, c.h, "GET", c.path, "")
		if rec.Code != c.want || !strings.Contains(rec.Body.String(), c.has) {
			t.Errorf("GET %s: %d, want %d with %q", c.path, rec.Code, c.want, c.has)
		}
	}
	// The pupil's directory does not list Noé (another class).
	if body := do(t, pupil, "GET", "/etablissements/"+uaiEcole+"/personnes", "").Body.String(); strings.Contains(body, "Noé") {
		t.Errorf("pupil's directory lists a pupil of another class")
	}
	// Upload the feed through the page form, then apply the rollover.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("year", "2025-2026")
	fw, _ := mw.CreateFormFile("file", "ecole.csv")
	_, _ = io.WriteString(fw, ecoleFeed)
	mw.Close()
	req := httptest.NewRequest("POST", "/etablissements/"+uaiEcole+"/alimentation", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	head.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Alimentation appliquée") {
		t.Errorf("feed upload page: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("POST", "/etablissements/"+uaiEcole+"/bascule", strings.NewReader("from=2025-2026"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	head.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Bascule appliquée") {
		t.Errorf("rollover apply page: %d", rec.Code)
	}
	if n := f.count(`SELECT COUNT(*) FROM groups WHERE archived_at IS NOT NULL`); n != 2 {
		t.Errorf("%d groups archived through the page", n)
	}
	// A pending match, decided from the feed page by the other school's head.
	f.feed(uaiOther, "2025-2026", "Profil;Nom;Prénom;Date de naissance;Classe\nélève;Morvan;Chloé;21/11/2015;CM2\n", false)
	otherHead := f.server(t, f.head("direction@port.test", f.other))
	if body := do(t, otherHead, "GET", "/etablissements/"+uaiOther+"/alimentation", "").Body.String(); !strings.Contains(body, "Même élève") {
		t.Errorf("feed page lists no pending match")
	}
	req = httptest.NewRequest("POST", "/etablissements/"+uaiOther+"/rapprochements/"+strconv.FormatInt(f.id(`SELECT id FROM pending_matches`), 10),
		strings.NewReader("decision=confirm"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	otherHead.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || f.count(`SELECT COUNT(*) FROM pending_matches WHERE status = 'confirmed'`) != 1 {
		t.Errorf("decide from the page: %d", rec.Code)
	}
	// The rules page: the head widens class parents and keeps the rest.
	req = httptest.NewRequest("POST", "/etablissements/"+uaiEcole+"/regles-de-communication",
		strings.NewReader("pupil-classmates=1&parent-staff=1&colleagues=1&cross-school=1&agent-staff=1&class-parents=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	head.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Règles enregistrées") {
		t.Fatalf("rules page: %d", rec.Code)
	}
	if n := f.count(`SELECT COUNT(*) FROM communication_rules WHERE establishment_id = ? AND rule = 'class-parents' AND allowed`, f.ecole); n != 1 {
		t.Errorf("class-parents rule not stored")
	}
	if n := f.count(`SELECT COUNT(*) FROM communication_rules`); n != 1 {
		t.Errorf("%d rule rows, want only the change from the defaults", n)
	}
	// Léa left with the rollover; her mother, still a member, reads the
	// rules without the button to change them.
	if rec := do(t, pupil, "GET", "/etablissements/"+uaiEcole+"/regles-de-communication", ""); rec.Code != 404 {
		t.Errorf("former pupil's view of the rules: %d", rec.Code)
	}
	parent := f.server(t, f.principal(f.userByName("Gwenaëlle", "Tanguy")))
	if rec := do(t, parent, "GET", "/etablissements/"+uaiEcole+"/regles-de-communication", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "Enregistrer") {
		t.Errorf("parent's view of the rules: %d", rec.Code)
	}
}
