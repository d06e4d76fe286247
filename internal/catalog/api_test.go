package catalog

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

type deadlineAnswer struct {
	Due       string `json:"due"`
	Intervals []struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"intervals"`
	OpenSeconds int64 `json:"open_seconds"`
}

func TestDeadlineAPI(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	path := func(start, duration string) string {
		return "/api/v1/calendars/" + strconv.FormatInt(cal, 10) + "/deadline?" + url.Values{"start": {start}, "duration": {duration}}.Encode()
	}
	cases := []struct {
		name, start, duration, due string
		intervals                  []string
		open                       int64
	}{
		// 1h30 on Monday evening; 11 November is a public holiday; 2h30
		// on Wednesday morning.
		{"over a public holiday", "2025-11-10T16:00:00+01:00", "4h", "2025-11-12T10:30:00+01:00",
			[]string{"2025-11-10T16:00:00+01:00/2025-11-10T17:30:00+01:00", "2025-11-12T08:00:00+01:00/2025-11-12T10:30:00+01:00"}, 4 * 3600},
		// The same instant written in UTC gives the same answer, in Paris.
		{"start in UTC", "2025-11-10T15:00:00Z", "4h", "2025-11-12T10:30:00+01:00", nil, 4 * 3600},
		// Ends at the lunch break: due at 12:00, not at 13:30.
		{"ends at closing", "2025-11-13T08:00:00+01:00", "4h", "2025-11-13T12:00:00+01:00",
			[]string{"2025-11-13T08:00:00+01:00/2025-11-13T12:00:00+01:00"}, 4 * 3600},
		// Three business days from Tuesday 10:00: Wednesday, Thursday,
		// Friday; due at Friday's closing.
		{"business days", "2025-11-04T10:00:00+01:00", "3d", "2025-11-07T17:30:00+01:00", nil, 6*3600 + 3*8*3600},
		// Summer time: the offset of the answer follows the date.
		{"summer", "2025-06-27T17:00:00+02:00", "1h", "2025-06-30T08:30:00+02:00", nil, 3600},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got deadlineAnswer
			f.getJSON(path(c.start, c.duration), f.agentToken, http.StatusOK, &got)
			if got.Due != c.due {
				t.Errorf("due %s, want %s", got.Due, c.due)
			}
			if got.OpenSeconds != c.open {
				t.Errorf("open_seconds %d, want %d", got.OpenSeconds, c.open)
			}
			if c.intervals != nil {
				var ivs []string
				for _, iv := range got.Intervals {
					ivs = append(ivs, iv.Start+"/"+iv.End)
				}
				if strings.Join(ivs, " ") != strings.Join(c.intervals, " ") {
					t.Errorf("intervals %v, want %v", ivs, c.intervals)
				}
			}
		})
	}

	bad := []struct{ name, start, duration, code, field string }{
		{"no start", "", "4h", "start_invalid", "start"},
		{"bad start", "lundi 10h", "4h", "start_invalid", "start"},
		{"bad duration", "2025-11-10T16:00:00+01:00", "4 heures", "delay_invalid", "duration"},
		{"no duration", "2025-11-10T16:00:00+01:00", "", "delay_invalid", "duration"},
		{"mixed duration", "2025-11-10T16:00:00+01:00", "1d4h", "delay_invalid", "duration"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var got struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			}
			f.getJSON(path(c.start, c.duration), f.agentToken, http.StatusBadRequest, &got)
			if got.Code != c.code || got.Message == "" || got.Fields[c.field] == "" {
				t.Errorf("answer %+v, want code %s with a message on %s", got, c.code, c.field)
			}
		})
	}

	// Another collectivité's agent: the calendar does not exist.
	f.getJSON(path("2025-11-10T16:00:00+01:00", "4h"), f.brestToken, http.StatusNotFound, nil)
	f.getJSON(path("2025-11-10T16:00:00+01:00", "4h"), "", http.StatusUnauthorized, nil)
	f.getJSON("/api/v1/calendars/999999/deadline?start=2025-11-10T16:00:00Z&duration=4h", f.agentToken, http.StatusNotFound, nil)
}

func TestAPICreateAndRead(t *testing.T) {
	f := newFx(t)
	post := func(path, token, body string, status int, v any) {
		t.Helper()
		rec := f.request(http.MethodPost, path, token, strings.NewReader(body), "application/json")
		if rec.Code != status {
			t.Fatalf("POST %s: %d, want %d\n%s", path, rec.Code, status, rec.Body.String())
		}
		if v != nil {
			if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var svc Offering
	post("/api/v1/services", f.agentToken, `{"owner_id": `+strconv.FormatInt(f.rennes, 10)+`, "family": "Réseau", "code": "WIFI", "name": "Wi-Fi pédagogique",
		"status": "production", "request_types": [{"kind": "incident", "name": "Coupure"}, {"kind": "request", "imac": "add", "name": "Ajout d'une borne"}]}`,
		http.StatusCreated, &svc)
	post("/api/v1/services", f.brestToken, `{"owner_id": `+strconv.FormatInt(f.rennes, 10)+`, "family": "Réseau", "code": "X", "name": "X"}`, http.StatusNotFound, nil)
	post("/api/v1/services", f.headToken, `{"owner_id": `+strconv.FormatInt(f.ecoleA.ID, 10)+`, "family": "Réseau", "code": "X", "name": "X"}`, http.StatusForbidden, nil)
	var cal calendarResponse
	post("/api/v1/calendars", f.agentToken, `{"owner_id": `+strconv.FormatInt(f.rennes, 10)+`, "name": "Bureaux",
		"hours": {"lundi": [{"start": "08:00", "end": "12:00"}], "mardi": [{"start": "08:00", "end": "12:00"}]},
		"closures": [{"from": "2025-12-24", "to": "2025-12-31", "label": "Fermeture de fin d'année"}]}`, http.StatusCreated, &cal)
	post("/api/v1/calendars", f.agentToken, `{"owner_id": `+strconv.FormatInt(f.rennes, 10)+`, "name": "Vide", "hours": {}}`, http.StatusBadRequest, nil)

	body := `{"reference": "CONV-API", "title": "Wi-Fi des écoles", "provider_id": ` + strconv.FormatInt(f.rennes, 10) +
		`, "beneficiary_id": ` + strconv.FormatInt(f.academy, 10) + `, "valid_from": "2025-01-01", "valid_until": "2099-12-31", "status": "signed",
		"coverage": "listed", "establishments": ["` + f.ecoleA.UAI + `"],
		"services": [{"service_id": ` + strconv.FormatInt(svc.ID, 10) + `, "calendar_id": ` + strconv.FormatInt(cal.ID, 10) + `,
			"levels": [{"request_kind": "incident", "priority": 2, "tto": "2h", "ttr": "1h30m"}]}]}`
	var a Agreement
	post("/api/v1/agreements", f.agentToken, body, http.StatusCreated, &a)
	if a.Status != AgreementSigned || len(a.Services) != 1 || a.Services[0].Levels[0].TTR.String() != "1h30m" {
		t.Errorf("agreement %+v", a)
	}
	post("/api/v1/agreements", f.agentToken, strings.Replace(body, `"2099-12-31"`, `"2024-01-01"`, 1), http.StatusBadRequest, nil)
	post("/api/v1/agreements", f.agentToken, strings.Replace(body, "CONV-API", "CONV-API-2", 1), http.StatusConflict, nil)

	var list struct{ Items []Agreement }
	f.getJSON("/api/v1/agreements", f.headToken, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Errorf("head lists %d conventions, want 1", len(list.Items))
	}
	f.getJSON("/api/v1/agreements", f.brestToken, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("Brest lists %d conventions, want 0", len(list.Items))
	}
	f.getJSON("/api/v1/agreements/"+strconv.FormatInt(a.ID, 10), f.brestToken, http.StatusNotFound, nil)
	f.getJSON("/api/v1/services/"+strconv.FormatInt(svc.ID, 10), f.headToken, http.StatusOK, nil)
	f.getJSON("/api/v1/calendars/"+strconv.FormatInt(cal.ID, 10), f.headToken, http.StatusOK, nil)

	var catalog establishmentCatalogResponse
	f.getJSON("/api/v1/establishments/"+f.ecoleA.UAI+"/catalog", f.headToken, http.StatusOK, &catalog)
	if len(catalog.Subscriptions) != 1 || catalog.Subscriptions[0].Service.ServiceCode != "WIFI" {
		t.Errorf("school catalogue %+v", catalog)
	}
	f.getJSON("/api/v1/establishments/"+f.ecoleA.UAI+"/catalog", f.brestToken, http.StatusNotFound, nil)
}

// fakeMeasures stands for the helpdesk.
type fakeMeasures struct{}

func (fakeMeasures) MeasuredLevels(_ context.Context, _, _ int64, from, to time.Time) (Measure, error) {
	n := 12
	if to.Sub(from) > 200*24*time.Hour {
		n = 40
	}
	return Measure{From: from, To: to, Tickets: n, TTOMet: 0.95, TTRMet: 0.875}, nil
}

func TestPages(t *testing.T) {
	f := newFx(t)
	cal := f.calendar("Bureaux", "")
	svc := f.service("POSTE")
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-PAGE", AgreementSigned, "2025-01-01", "2099-12-31", svc, cal, f.ecoleA.UAI))
	if err != nil {
		t.Fatal(err)
	}
	page := func(method, path, token string, form url.Values, status int) string {
		t.Helper()
		var rec = f.request(method, path, token, nil, "")
		if form != nil {
			rec = f.request(method, path, token, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		}
		if rec.Code != status {
			t.Fatalf("%s %s: %d, want %d\n%s", method, path, rec.Code, status, rec.Body.String())
		}
		return rec.Body.String()
	}
	contains(t, page("GET", "/catalogue", f.agentToken, nil, 200), "Poste de travail", "Service POSTE", "Installation d&#39;un poste", "En production")
	contains(t, page("GET", "/catalogue/services/"+strconv.FormatInt(svc, 10), f.agentToken, nil, 200), "Panne", "Incident", "Installation")
	contains(t, page("GET", "/conventions", f.agentToken, nil, 200), "CONV-PAGE", "Signée")
	conv := page("GET", "/conventions/"+strconv.FormatInt(a.ID, 10), f.agentToken, nil, 200)
	contains(t, conv, "Rennes", "Académie de Rennes", "1 – Très haute", "1 h", "3 jours ouvrés", `name="csrf"`, `enctype="multipart/form-data"`, "Résilier")
	lacks := page("GET", "/conventions/"+strconv.FormatInt(a.ID, 10), f.headToken, nil, 200)
	if strings.Contains(lacks, "multipart/form-data") {
		t.Error("the head is offered the upload form")
	}
	page("GET", "/conventions/"+strconv.FormatInt(a.ID, 10), f.brestToken, nil, 404)
	contains(t, page("GET", "/calendriers", f.agentToken, nil, 200), "Bureaux", "lundi, mardi, mercredi, jeudi, vendredi")
	calPath := "/calendriers/" + strconv.FormatInt(cal, 10)
	contains(t, page("GET", calPath, f.agentToken, nil, 200), "Simulateur", `name="csrf"`, "Armistice 1918")
	sim := page("POST", calPath, f.agentToken, url.Values{"start": {"2025-11-10T16:00"}, "duration": {"4h"}}, 200)
	contains(t, sim, "12/11/2025 à 10:30", `datetime="2025-11-12T10:30:00`, "10/11/2025 à 16:00", "10/11/2025 à 17:30", "12/11/2025 à 08:00", "4 h")
	contains(t, page("POST", calPath, f.agentToken, url.Values{"start": {"2025-11-10T16:00"}, "duration": {"quatre"}}, 400), "Délai « quatre » invalide")
	school := page("GET", "/etablissements/"+f.ecoleA.UAI+"/catalogue", f.headToken, nil, 200)
	contains(t, school, "CONV-PAGE", "Service POSTE", "mesure indisponible")
	page("GET", "/etablissements/"+f.ecoleB.UAI+"/catalogue", f.headToken, nil, 404)

	f.svc.SetMeasuredLevels(fakeMeasures{})
	contains(t, page("GET", "/etablissements/"+f.ecoleA.UAI+"/catalogue", f.headToken, nil, 200), "12 tickets", "40 tickets", "95,0\u202f%", "87,5\u202f%")
}
