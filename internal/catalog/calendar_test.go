package catalog

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"socle/internal/platform/problem"
)

func TestNewCalendarRejects(t *testing.T) {
	d := func(s string) Date {
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	noel := []Period{{Start: at(t, "2025-12-20 00:00"), End: at(t, "2026-01-05 00:00"), Label: "Vacances de Noël"}}
	for _, tc := range []struct {
		name     string
		spec     Spec
		holidays []Period
		// want are the French messages, in order; field is where a form
		// shows the first one.
		want  []string
		field string
	}{
		{
			name:  "unknown weekday",
			spec:  Spec{Hours: map[string][]TimeRange{"lundy": {{"08:00", "12:00"}}, "mardi": {{"08:00", "12:00"}}}},
			want:  []string{"Jour « lundy » inconnu : attendu lundi, mardi, mercredi, jeudi, vendredi, samedi ou dimanche."},
			field: "hours.lundy",
		},
		{
			name:  "overlapping ranges",
			spec:  Spec{Hours: map[string][]TimeRange{"lundi": {{"13:30", "17:30"}, {"08:00", "12:00"}, {"11:00", "14:00"}}}},
			want:  []string{"lundi : les plages 08:00–12:00 et 11:00–14:00 se chevauchent.", "lundi : les plages 11:00–14:00 et 13:30–17:30 se chevauchent."},
			field: "hours.lundi",
		},
		{
			name:  "range inside another",
			spec:  Spec{Hours: map[string][]TimeRange{"jeudi": {{"08:00", "18:00"}, {"09:00", "10:00"}, {"11:00", "12:00"}}}},
			want:  []string{"jeudi : les plages 08:00–18:00 et 09:00–10:00 se chevauchent.", "jeudi : les plages 08:00–18:00 et 11:00–12:00 se chevauchent."},
			field: "hours.jeudi",
		},
		{
			name: "start after end, start equal to end",
			spec: Spec{Hours: map[string][]TimeRange{"mardi": {{"12:00", "08:00"}}, "Wednesday": {{"09:00", "09:00"}}}},
			want: []string{
				"mardi : la plage 12:00–08:00 doit commencer avant de finir (une plage ne passe pas minuit : finissez-la à 24:00 et reprenez à 00:00 le lendemain).",
				"mercredi : la plage 09:00–09:00 doit commencer avant de finir (une plage ne passe pas minuit : finissez-la à 24:00 et reprenez à 00:00 le lendemain).",
			},
			field: "hours.mardi",
		},
		{
			name: "times out of 00:00–24:00 or malformed",
			spec: Spec{Hours: map[string][]TimeRange{"vendredi": {{"08:00", "24:30"}, {"25:00", "26:00"}, {"10:60", "11:00"}, {"8h", "12:00"}, {"-1:00", "02:00"}}}},
			want: []string{
				"vendredi : heure « 24:30 » hors de 00:00–24:00 dans la plage 08:00–24:30.",
				"vendredi : heure « 25:00 » hors de 00:00–24:00 dans la plage 25:00–26:00.",
				"vendredi : heure « 10:60 » hors de 00:00–24:00 dans la plage 10:60–11:00.",
				"vendredi : heure « 8h » invalide (format HH:MM attendu) dans la plage 8h–12:00.",
				"vendredi : heure « -1:00 » invalide (format HH:MM attendu) dans la plage -1:00–02:00.",
			},
			field: "hours.vendredi",
		},
		{
			name:  "no opening at all",
			spec:  Spec{Hours: map[string][]TimeRange{"samedi": {}}},
			want:  []string{"Le calendrier n'a aucune plage d'ouverture : indiquez au moins un jour ouvert."},
			field: "hours",
		},
		{
			name:  "unknown time zone",
			spec:  Spec{TimeZone: "Europe/Rennes", Hours: officeHours()},
			want:  []string{"Fuseau horaire « Europe/Rennes » inconnu."},
			field: "time_zone",
		},
		{
			name: "closure ending before it starts, closure without dates",
			spec: Spec{Hours: officeHours(), Closures: []Closure{
				{From: d("2025-12-24"), To: d("2025-12-20"), Label: "Inventaire"},
				{From: d("2025-12-24")},
			}},
			want: []string{
				"Fermeture « Inventaire » : la date de fin (2025-12-20) précède la date de début (2025-12-24).",
				"Fermeture « n° 2 » : les dates de début et de fin sont requises.",
			},
			field: "closures[0]",
		},
		{
			name:  "closed during school holidays without any period",
			spec:  Spec{Hours: officeHours(), ClosedDuringSchoolHolidays: true},
			want:  []string{"Le calendrier ferme pendant les vacances scolaires, mais aucune période de vacances n'est connue pour sa zone."},
			field: "school_holidays",
		},
		{
			name:     "holiday period ending before it starts",
			spec:     Spec{Hours: officeHours(), ClosedDuringSchoolHolidays: true},
			holidays: []Period{{Start: noel[0].End, End: noel[0].Start, Label: "Vacances de Noël"}},
			want:     []string{"Vacances scolaires « Vacances de Noël » : la fin (2025-12-20) précède le début (2026-01-05)."},
			field:    "school_holidays",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCalendar(tc.spec, tc.holidays)
			if err == nil {
				t.Fatalf("accepted: %+v", c.Spec())
			}
			p, ok := problem.As(err)
			if !ok {
				t.Fatalf("error %v is not a problem", err)
			}
			if p.Status != http.StatusBadRequest || p.Code != "calendar_invalid" {
				t.Errorf("status %d code %q, want 400 calendar_invalid", p.Status, p.Code)
			}
			want := "Calendrier invalide : " + strings.Join(tc.want, " ")
			if p.Message != want {
				t.Errorf("message\n got %s\nwant %s", p.Message, want)
			}
			if !strings.HasPrefix(p.Fields[tc.field], tc.want[0]) {
				t.Errorf("field %q = %q, want it to start with %q (fields %v)", tc.field, p.Fields[tc.field], tc.want[0], p.Fields)
			}
		})
	}
}

func TestNewCalendarAccepts(t *testing.T) {
	// English and French names of the same day merge; touching ranges and
	// "24:00" are fine.
	c := mustCalendar(t, Spec{Hours: map[string][]TimeRange{
		"Monday": {{"08:00", "12:00"}},
		"LUNDI":  {{"12:00", "14:00"}, {"22:00", "24:00"}},
		"mardi":  {{"0:00", "6:30"}},
	}}, nil)
	for _, tc := range []struct {
		at   string
		open bool
	}{
		{"2025-11-17 07:59", false},
		{"2025-11-17 08:00", true},
		{"2025-11-17 12:00", true}, // touching ranges are one opening
		{"2025-11-17 14:00", false},
		{"2025-11-17 23:59", true},
		{"2025-11-18 00:00", true},
		{"2025-11-18 06:30", false},
		{"2025-11-11 09:00", false}, // a Tuesday, and Armistice day
	} {
		if got := c.IsOpen(at(t, tc.at)); got != tc.open {
			t.Errorf("IsOpen(%s) = %v, want %v", tc.at, got, tc.open)
		}
	}
	if c.Location().String() != DefaultTimeZone {
		t.Errorf("zone %s, want %s", c.Location(), DefaultTimeZone)
	}
	// A calendar not closed during school holidays ignores the periods.
	c2 := mustCalendar(t, Spec{Hours: officeHours()}, []Period{{Start: at(t, "2025-12-20 00:00"), End: at(t, "2026-01-05 00:00")}})
	if !c2.IsOpen(at(t, "2025-12-22 09:00")) {
		t.Error("a calendar open during school holidays is closed on 22 December")
	}
	if _, ok := c2.SchoolHolidaysKnownUntil(); ok {
		t.Error("SchoolHolidaysKnownUntil reported for a calendar that ignores school holidays")
	}
}

func TestClosedReason(t *testing.T) {
	d := func(s string) Date { v, _ := ParseDate(s); return v }
	c := mustCalendar(t, Spec{
		Hours:                      officeHours(),
		Closures:                   []Closure{{From: d("2026-02-02"), To: d("2026-02-03"), Label: "Inventaire"}, {From: d("2026-03-02"), To: d("2026-03-02")}},
		ClosedDuringSchoolHolidays: true,
	}, []Period{{Start: at(t, "2025-12-20 00:00"), End: at(t, "2026-01-05 00:00"), Label: "Vacances de Noël"}})
	for _, tc := range []struct{ at, want string }{
		{"2025-12-19 10:00", ""},
		{"2025-12-20 10:00", "Vacances de Noël"},
		{"2025-12-25 10:00", "Noël"},
		{"2026-01-04 23:59", "Vacances de Noël"},
		{"2026-01-05 00:00", ""}, // classes resume: open
		{"2026-02-03 10:00", "Inventaire"},
		{"2026-02-04 10:00", ""}, // closures include their last day, not the next
		{"2026-03-02 10:00", "Fermeture exceptionnelle"},
		{"2026-01-10 10:00", "samedi"},
	} {
		got, closed := c.ClosedReason(at(t, tc.at))
		if got != tc.want || closed != (tc.want != "") {
			t.Errorf("ClosedReason(%s) = %q, %v; want %q", tc.at, got, closed, tc.want)
		}
	}
	if until, ok := c.SchoolHolidaysKnownUntil(); !ok || until.String() != "2026-01-05" {
		t.Errorf("SchoolHolidaysKnownUntil = %s, %v; want 2026-01-05", until, ok)
	}
}

func TestSpecJSON(t *testing.T) {
	// The stored form: dates and ranges as people write them.
	in := `{"hours":{"lundi":[{"start":"08:00","end":"12:00"}]},"whit_monday_open":true,` +
		`"closures":[{"from":"2025-12-24","to":"2025-12-26","label":"Inventaire"}],"closed_during_school_holidays":true}`
	var s Spec
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if !s.WhitMondayOpen || s.Closures[0].To.String() != "2025-12-26" || s.Hours["lundi"][0].End != "12:00" {
		t.Errorf("decoded %+v", s)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip\n got %s\nwant %s", out, in)
	}
	if err := json.Unmarshal([]byte(`{"closures":[{"from":"2025-02-30"}]}`), &s); err == nil {
		t.Error("30 February accepted")
	}
}
