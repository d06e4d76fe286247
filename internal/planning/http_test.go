package planning

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
)

var (
	fieldRe = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRe    = regexp.MustCompile(`\bid="([^"]+)"`)
)

// checkAccessible holds a page to the basics a screen-reader user needs:
// one h1, a label for every field, a scope on every table header cell.
func checkAccessible(t *testing.T, path, body string) {
	t.Helper()
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%s: %d h1", path, n)
	}
	for _, f := range fieldRe.FindAllString(body, -1) {
		if strings.Contains(f, `type="hidden"`) {
			continue
		}
		m := idRe.FindStringSubmatch(f)
		if m == nil || !strings.Contains(body, `for="`+m[1]+`"`) {
			t.Errorf("%s: field without label: %s", path, f)
		}
	}
	if strings.Count(body, "<th ")+strings.Count(body, "<th>") != strings.Count(body, "<th scope=") {
		t.Errorf("%s: a table header without scope", path)
	}
}

func TestPages(t *testing.T) {
	s := newSmall(t)
	tg, camp, pl := s.seed()
	as := s.server(admin())
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, c := range []struct{ path, want string }{
		{"/plan-deploiement", "Plan de déploiement"},
		{"/plan-deploiement/cibles", "Cible 2026"},
		{"/plan-deploiement/cibles/" + id(tg.ID), "Ajouter un critère"},
		{"/plan-deploiement/cibles/comparer?cibles=" + id(tg.ID) + "&cibles=" + id(tg.ID+1), "Cible suivante"},
		{"/plan-deploiement/ecart", "Part des établissements atteignant chaque critère"},
		{"/plan-deploiement/ecart?cible=" + id(tg.ID) + "&commune=35001", "École des Tilleuls"},
		{"/plan-deploiement/priorites", "Équité entre communes"},
		{"/plan-deploiement/carte", "<svg"},
		{"/plan-deploiement/carte?par=priorite", "Score de priorité"},
		{"/plan-deploiement/enquetes", "Lancer une campagne"},
		{"/plan-deploiement/enquetes/questionnaires/" + id(camp.QuestionnaireID), "Pilotage et organisation"},
		{"/plan-deploiement/enquetes/campagnes/" + id(camp.ID), "À relancer (2)"},
		{"/plan-deploiement/enquetes/campagnes/" + id(camp.ID) + "/repondre/" + s.uaiA, "Envoyer mes réponses"},
		{"/plan-deploiement/plans/" + id(pl.ID), "Calendrier des opérations"},
		{"/plan-deploiement/programme", "Total pluriannuel"},
		{"/plan-deploiement/scenarios", "Écart restant année après année"},
	} {
		rec := do(t, as, "GET", c.path, "")
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d, want %q in %.3000s", c.path, rec.Code, c.want, body)
			continue
		}
		checkAccessible(t, c.path, body)
	}
	// The main navigation leads here (layout, for plan.read).
	if body := do(t, as, "GET", "/plan-deploiement", "").Body.String(); !strings.Contains(body, `<a href="/plan-deploiement" aria-current="page">Plan de déploiement</a>`) {
		t.Error("no navigation link to the plan")
	}
	if body := do(t, s.server(s.teacher), "GET", "/plan-deploiement/enquetes", "").Body.String(); strings.Contains(body, ">Plan de déploiement</a>") {
		t.Error("a teacher sees the plan in the navigation")
	}
	// Gap: missing data is spelled out, never a zero.
	body := do(t, as, "GET", "/plan-deploiement/ecart", "").Body.String()
	if !strings.Contains(body, "manque débit de connexion déclaré") || !strings.Contains(body, "inventaire du parc") {
		t.Errorf("gap page does not name the missing data")
	}
	// Exports, CSV and XLSX.
	for _, table := range exportTables {
		for _, format := range []string{"csv", "xlsx"} {
			rec := do(t, as, "GET", "/plan-deploiement/export/"+table+"?format="+format+"&campagne="+id(camp.ID)+"&plan="+id(pl.ID)+"&cibles="+id(tg.ID)+"&cibles="+id(tg.ID+1), "")
			if rec.Code != 200 || rec.Body.Len() < 20 {
				t.Errorf("export %s %s: %d %s", table, format, rec.Code, rec.Body)
			}
		}
	}
	rec := do(t, as, "GET", "/plan-deploiement/plans/"+id(pl.ID)+"/calendrier.ics", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/calendar") || !strings.Contains(rec.Body.String(), "SUMMARY:Travaux : Câblage") {
		t.Errorf("calendar: %d %s", rec.Code, rec.Body)
	}
	// Forms: weights that make no sense come back with the message.
	rec = do(t, as, "POST", "/plan-deploiement/priorites/poids", url.Values{"gap": {"-5"}}.Encode())
	if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "erreur=") {
		t.Fatalf("bad weights: %d %v", rec.Code, rec.Header())
	}
	loc := rec.Header().Get("Location")
	if body := do(t, as, "GET", loc, "").Body.String(); !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "négatif") {
		t.Errorf("weights error not shown: %s", loc)
	}
	rec = do(t, as, "POST", "/plan-deploiement/cibles/"+id(tg.ID)+"/criteres", url.Values{"metric": {"ent_activated"}, "threshold": {"1"}, "unit_price": {"500"}}.Encode())
	if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "ok=") {
		t.Errorf("add criterion: %d %v", rec.Code, rec.Header())
	}
	// An agent's weights form saves their collectivité's weights.
	rec = do(t, s.server(s.agentA), "POST", "/plan-deploiement/priorites/poids", url.Values{"gap": {"70"}, "rep": {"30"}}.Encode())
	if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "ok=") {
		t.Fatalf("agent weights: %d %v", rec.Code, rec.Header())
	}
	if w, _ := s.svc.Weights(s.ctx, s.agentA, s.acigne); w[FactorGap] != 70 || w[FactorAge] != 0 {
		t.Errorf("agent weights %v", w)
	}
	// The head answers through the form, twice; the page shows the history.
	hs := s.server(s.headA)
	q, _ := s.svc.Questionnaire(s.ctx, s.headA, camp.QuestionnaireID)
	form := url.Values{}
	for _, qu := range q.Questions {
		form.Set("q"+id(qu.ID), "1")
	}
	for range 2 {
		rec = do(t, hs, "POST", "/plan-deploiement/enquetes/campagnes/"+id(camp.ID)+"/repondre/"+s.uaiA, form.Encode())
		if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "ok=") {
			t.Fatalf("answer form: %d %v", rec.Code, rec.Header())
		}
	}
	body = do(t, hs, "GET", "/plan-deploiement/enquetes/campagnes/"+id(camp.ID)+"/repondre/"+s.uaiA, "").Body.String()
	if strings.Count(body, "remplacée") != 1 || strings.Count(body, "en vigueur") != 1 || !strings.Contains(body, "checked") {
		t.Errorf("history not shown")
	}
	if rec := do(t, hs, "GET", "/plan-deploiement/enquetes", ""); !strings.Contains(rec.Body.String(), "/repondre/"+s.uaiA) || strings.Contains(rec.Body.String(), s.uaiB) {
		t.Errorf("head's survey list: %s", rec.Body)
	}
}

// The scenario comparison must read without help: the question answered
// first in words (cost, year the target is reached), then the chart with
// its legend, then the same figures in a table with headers.
func TestScenarioComparisonPageReadable(t *testing.T) {
	s := newSmall(t)
	s.seed()
	body := do(t, s.server(admin()), "GET", "/plan-deploiement/scenarios", "").Body.String()
	order := []string{
		"<h1>Comparer les scénarios</h1>",
		"Cible visée : « Cible 2026 »",
		"<h2>En bref</h2>",
		"<strong>Renouveler à 5 ans, généraliser en 2 ans</strong> : coût total",
		"tous les établissements atteignent la cible en 2027",
		"<strong>Renouveler à 6 ans, généraliser en 3 ans</strong> : coût total",
		"Le moins coûteux : <strong>",
		`role="img"`,
		"<title id=\"courbe-titre\">Écart restant à combler",
		"<figcaption>",
		"<caption>Pour chaque année",
		`<th scope="col">Renouveler à 5 ans, généraliser en 2 ans</th>`,
		`<th scope="row">2026</th>`,
		"Écart restant :",
		"Sous la cible : 1 établissement(s)",
		`<th scope="row">Total</th>`,
	}
	at := 0
	for _, want := range order {
		i := strings.Index(body[at:], want)
		if i < 0 {
			t.Fatalf("scenario page lacks %q after position %d:\n%s", want, at, body)
		}
		at += i
	}
	checkAccessible(t, "/plan-deploiement/scenarios", body)
	// Amounts in euros, French style, never raw cents.
	if !regexp.MustCompile(`Dépense : <strong>\d{1,3}(\x{202f}\d{3})*\x{a0}€</strong>`).MatchString(body) {
		t.Error("amounts are not written in euros")
	}
}

// TestScope: inside the caller's scope, the data; outside, 404; without
// the permission, 403.
func TestScope(t *testing.T) {
	s := newSmall(t)
	tg, camp, pl := s.seed()
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	agent, head, teacher := s.server(s.agentA), s.server(s.headA), s.server(s.teacher)

	// The agent of Acigné sees école A, not Rennes's schools.
	for _, path := range []string{"/api/v1/planning/targets/" + id(tg.ID) + "/gap", "/api/v1/planning/targets/" + id(tg.ID) + "/priorities",
		"/api/v1/planning/campaigns/" + id(camp.ID) + "/stats", "/api/v1/planning/plans/" + id(pl.ID), "/api/v1/planning/scenarios/compare",
		"/api/v1/planning/export/ecart?cible=" + id(tg.ID)} {
		rec := do(t, agent, "GET", path, "")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), s.uaiA) && !strings.Contains(path, "scenarios") {
			t.Errorf("agent GET %s: %d %.300s", path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), s.uaiB) || strings.Contains(rec.Body.String(), "Volga") {
			t.Errorf("agent GET %s leaks Rennes: %.500s", path, rec.Body)
		}
	}
	for _, c := range []struct {
		h                  string
		method, path, body string
		want               int
	}{
		{"agent", "PUT", "/api/v1/planning/declared", `{"establishment":"` + s.uaiB + `","metric":"connection_mbps","value":100}`, 404},
		{"agent", "PUT", "/api/v1/planning/declared", `{"establishment":"` + s.uaiA + `","metric":"connection_mbps","value":100}`, 200},
		{"agent", "PUT", "/api/v1/planning/weights?org=" + id(s.rennes), `{"gap":10}`, 404},
		{"agent", "PUT", "/api/v1/planning/weights?org=" + id(s.acigne), `{"gap":10}`, 200},
		{"agent", "POST", "/api/v1/planning/plans/" + id(pl.ID) + "/waves", `{"name":"Rennes","phase":"pilots","starts_on":"2026-09-01","ends_on":"2026-12-01","establishments":["` + s.uaiB + `"]}`, 400},
		{"agent", "POST", "/api/v1/planning/campaigns", `{"questionnaire_id":` + id(camp.QuestionnaireID) + `,"name":"x","opens_on":"2026-11-01","closes_on":"2026-12-01","establishments":["` + s.uaiB + `"]}`, 404},
		{"agent", "POST", "/api/v1/planning/campaigns/" + id(camp.ID) + "/answers", `{"establishment":"` + s.uaiA + `","answers":{}}`, 403},
		{"head", "POST", "/api/v1/planning/targets", `{"name":"x"}`, 403},
		{"head", "PUT", "/api/v1/planning/weights", `{"gap":10}`, 403},
		{"head", "POST", "/api/v1/planning/campaigns/" + id(camp.ID) + "/answers", `{"establishment":"` + s.uaiB + `","answers":{}}`, 404},
		{"head", "GET", "/api/v1/planning/campaigns/" + id(camp.ID) + "/answers/" + s.uaiB, "", 404},
		{"head", "GET", "/api/v1/planning/targets/999999", "", 404},
		{"head", "PUT", "/api/v1/planning/prices", `{"key":"board","unit_price_cents":250000}`, 403},
		{"head", "PUT", "/api/v1/planning/communes/35001", `{"rural":true}`, 403},
		{"head", "GET", "/api/v1/planning/prices", "", 200},
		{"agent", "PUT", "/api/v1/planning/prices", `{"key":"board","unit_price_cents":250000}`, 200},
		{"agent", "PUT", "/api/v1/planning/prices", `{"key":"canape","unit_price_cents":250000}`, 400},
		{"agent", "PUT", "/api/v1/planning/communes/35001", `{"rural":true}`, 200},
		{"agent", "PUT", "/api/v1/planning/communes/35238", `{"rural":true}`, 404},
		{"teacher", "GET", "/api/v1/planning/prices", "", 403},
		{"head", "GET", "/api/v1/planning/targets/" + id(tg.ID) + "/gap", "", 200},
		{"teacher", "GET", "/api/v1/planning/targets", "", 403},
		{"teacher", "GET", "/api/v1/planning/targets/" + id(tg.ID) + "/gap", "", 403},
		{"teacher", "GET", "/api/v1/planning/campaigns", "", 403},
		{"teacher", "GET", "/plan-deploiement/ecart", "", 403},
	} {
		h := map[string]http.Handler{"agent": agent, "head": head, "teacher": teacher}[c.h]
		if rec := do(t, h, c.method, c.path, c.body); rec.Code != c.want {
			t.Errorf("%s %s %s: %d, want %d: %.300s", c.h, c.method, c.path, rec.Code, c.want, rec.Body)
		}
	}
	// An operation of Rennes only does not exist for the agent of Acigné.
	rennesOp, err := s.svc.AddOperation(s.ctx, auth.System(), pl.ID, Operation{Kind: OpWorks, Title: "Câblage de l'école Volga", StartsOn: "2026-05-01", EndsOn: "2026-05-30", Establishments: []string{s.uaiB}})
	if err != nil {
		t.Fatal(err)
	}
	if body := do(t, agent, "GET", "/api/v1/planning/plans/"+id(pl.ID), "").Body.String(); strings.Contains(body, "Volga") || !strings.Contains(body, "Câblage") {
		t.Errorf("agent's plan: %s", body)
	}
	if rec := do(t, agent, "PUT", "/api/v1/planning/plans/"+id(pl.ID)+"/operations/"+id(rennesOp.ID), `{"kind":"works","title":"x","starts_on":"2026-05-01","ends_on":"2026-05-30"}`); rec.Code != 404 {
		t.Errorf("agent updates Rennes's operation: %d", rec.Code)
	}
	// Editing an operation shared with Rennes keeps Rennes's school linked.
	shared, err := s.svc.AddOperation(s.ctx, auth.System(), pl.ID, Operation{Kind: OpGoLive, Title: "Mise en service ENT", StartsOn: "2026-06-01", EndsOn: "2026-06-10", Establishments: []string{s.uaiA, s.uaiB}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := do(t, agent, "PUT", "/api/v1/planning/plans/"+id(pl.ID)+"/operations/"+id(shared.ID), `{"kind":"go-live","title":"Mise en service de l'ENT","starts_on":"2026-06-01","ends_on":"2026-06-12","establishments":["`+s.uaiA+`"]}`); rec.Code != 200 {
		t.Errorf("agent updates a shared operation: %d %s", rec.Code, rec.Body)
	}
	full, _ := s.svc.Plan(s.ctx, auth.System(), pl.ID)
	for _, o := range full.Operations {
		if o.ID == shared.ID && (len(o.Establishments) != 2 || o.EndsOn != "2026-06-12") {
			t.Errorf("shared operation after the agent's edit: %+v", o)
		}
	}
	// The head's gap holds their school alone.
	rec := do(t, head, "GET", "/api/v1/planning/targets/"+id(tg.ID)+"/gap", "")
	var g GapResult
	if err := json.Unmarshal(rec.Body.Bytes(), &g); err != nil || len(g.Rows) != 1 || g.Rows[0].UAI != s.uaiA {
		t.Errorf("head gap: %v %+v", err, g.Rows)
	}
	// Every API route answers the administrator (the matrix in
	// internal/app checks anonymous and forged callers).
	as := s.server(admin())
	for _, path := range []string{"/api/v1/planning/targets", "/api/v1/planning/targets/compare?ids=" + id(tg.ID) + "," + id(tg.ID+1), "/api/v1/planning/targets/" + id(tg.ID),
		"/api/v1/planning/weights", "/api/v1/planning/questionnaires", "/api/v1/planning/questionnaires/" + id(camp.QuestionnaireID), "/api/v1/planning/campaigns",
		"/api/v1/planning/campaigns/" + id(camp.ID) + "/answers/" + s.uaiA, "/api/v1/planning/plans", "/api/v1/planning/plans/" + id(pl.ID) + "/calendar",
		"/api/v1/planning/programme", "/api/v1/planning/scenarios"} {
		if rec := do(t, as, "GET", path, ""); rec.Code != 200 {
			t.Errorf("admin GET %s: %d %.300s", path, rec.Code, rec.Body)
		}
	}
	for _, c := range []struct{ path, body string }{
		{"/api/v1/planning/targets/" + id(tg.ID) + "/criteria", `{"key":"wifi","metric":"wifi_share","threshold":0.9}`},
		{"/api/v1/planning/questionnaires", `{"name":"Q","questions":[{"text":"Nb","type":"number","max":10}]}`},
		{"/api/v1/planning/questionnaires/" + id(camp.QuestionnaireID+1) + "/questions", `{"text":"Autre","type":"text"}`},
		{"/api/v1/planning/campaigns", `{"questionnaire_id":` + id(camp.QuestionnaireID) + `,"name":"x","opens_on":"2026-11-01","closes_on":"2026-12-01","establishments":["` + s.uaiB + `"]}`},
		{"/api/v1/planning/campaigns/" + id(camp.ID) + "/answers", `{"establishment":"` + s.uaiB + `","answers":{}}`},
		{"/api/v1/planning/plans", `{"name":"Cycles","strategy":"cycles"}`},
		{"/api/v1/planning/plans/" + id(pl.ID) + "/operations", `{"kind":"acceptance","title":"Recette","starts_on":"2026-04-01","ends_on":"2026-04-10"}`},
		{"/api/v1/planning/budget-lines", `{"year":2027,"funder":"etat","nature":"investment","label":"x","planned_cents":100}`},
		{"/api/v1/planning/scenarios", `{"name":"x","target_id":` + id(tg.ID) + `,"renew_years":4,"generalise_years":1}`},
	} {
		rec := do(t, as, "POST", c.path, c.body)
		if c.path == "/api/v1/planning/campaigns/"+id(camp.ID)+"/answers" {
			// The maturity questions are required.
			if rec.Code != 400 {
				t.Errorf("empty answers: %d %s", rec.Code, rec.Body)
			}
			continue
		}
		if rec.Code != 201 {
			t.Errorf("admin POST %s: %d %.300s", c.path, rec.Code, rec.Body)
		}
	}
	op := pl.Operations[0]
	op.Owner = "Nouveau responsable"
	b, _ := json.Marshal(op)
	if rec := do(t, as, "PUT", "/api/v1/planning/plans/"+id(pl.ID)+"/operations/"+id(op.ID), string(b)); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Nouveau responsable") {
		t.Errorf("update operation: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, as, "POST", "/api/v1/planning/plans/"+id(pl.ID)+"/waves", `{"name":"Généralisation","phase":"generalisation","starts_on":"2026-09-01","ends_on":"2027-06-30","establishments":["`+s.uaiB+`"]}`); rec.Code != 201 {
		t.Errorf("add wave: %d %s", rec.Code, rec.Body)
	}
	// A cycle: Rennes joins with all its establishments.
	rec = do(t, as, "POST", "/api/v1/planning/plans/"+id(pl.ID)+"/waves", `{"name":"Cycle 2027 : Rennes","phase":"cycle","starts_on":"2027-01-01","ends_on":"2027-12-31","communes":["35238"]}`)
	var got Plan
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 201 || err != nil || len(got.Waves) != 3 || len(got.Waves[2].Establishments) != 2 {
		t.Errorf("cycle wave: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, as, "POST", "/api/v1/planning/plans/"+id(pl.ID)+"/waves", `{"name":"Vide","phase":"cycle","starts_on":"2027-01-01","ends_on":"2027-12-31","communes":["29019"]}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), "29019") {
		t.Errorf("empty cycle: %d %s", rec.Code, rec.Body)
	}
	_ = auth.System
}
