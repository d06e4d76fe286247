package catalog

import (
	"encoding/json"
	"testing"
	"time"

	"socle/internal/platform/problem"
)

func TestDeadline(t *testing.T) {
	d := func(s string) Date { v, _ := ParseDate(s); return v }
	office := Spec{Hours: officeHours()}
	alsace := Spec{Hours: officeHours(), HolidayOptions: HolidayOptions{AlsaceMoselle: true}}
	solidarity := Spec{Hours: officeHours(), HolidayOptions: HolidayOptions{WhitMondayOpen: true}}
	inventory := Spec{Hours: officeHours(), Closures: []Closure{{From: d("2026-02-02"), To: d("2026-02-03"), Label: "Inventaire"}}}
	onCall := Spec{Hours: allWeek(), OpenOnPublicHolidays: true}
	roundTheClock := Spec{Hours: allWeek()} // 24/7 but closed on public holidays
	for _, tc := range []struct {
		name      string
		spec      Spec
		start     string
		d         time.Duration
		due       string
		intervals string
	}{
		{"crosses Armistice day (Tuesday 11 Nov 2025)", office, "2025-11-10 16:00", 4 * time.Hour,
			"2025-11-12 10:30", "2025-11-10 16:00–17:30, 2025-11-12 08:00–10:30"},
		{"starts during lunch", office, "2025-11-17 12:30", time.Hour,
			"2025-11-17 14:30", "2025-11-17 13:30–14:30"},
		{"spans lunch", office, "2025-11-17 11:00", 2 * time.Hour,
			"2025-11-17 14:30", "2025-11-17 11:00–12:00, 2025-11-17 13:30–14:30"},
		{"starts on Saturday", office, "2025-11-15 10:00", 2 * time.Hour,
			"2025-11-17 10:00", "2025-11-17 08:00–10:00"},
		{"ends exactly at closing: due at closing, not at the next opening", office, "2025-11-17 08:00", 4 * time.Hour,
			"2025-11-17 12:00", "2025-11-17 08:00–12:00"},
		{"starts after Friday closing", office, "2025-11-21 18:00", time.Hour,
			"2025-11-24 09:00", "2025-11-24 08:00–09:00"},
		{"several days", office, "2025-11-17 09:00", 20 * time.Hour,
			"2025-11-19 14:30", "2025-11-17 09:00–12:00, 2025-11-17 13:30–17:30, 2025-11-18 08:00–12:00, " +
				"2025-11-18 13:30–17:30, 2025-11-19 08:00–12:00, 2025-11-19 13:30–14:30"},
		{"Christmas day", office, "2025-12-24 16:00", 4 * time.Hour,
			"2025-12-26 10:30", "2025-12-24 16:00–17:30, 2025-12-26 08:00–10:30"},
		{"Alsace-Moselle also closes 26 December", alsace, "2025-12-24 16:00", 4 * time.Hour,
			"2025-12-29 10:30", "2025-12-24 16:00–17:30, 2025-12-29 08:00–10:30"},
		{"Whit Monday closed by default", office, "2026-05-22 16:00", 4 * time.Hour,
			"2026-05-26 10:30", "2026-05-22 16:00–17:30, 2026-05-26 08:00–10:30"},
		{"Whit Monday worked (journée de solidarité)", solidarity, "2026-05-22 16:00", 4 * time.Hour,
			"2026-05-25 10:30", "2026-05-22 16:00–17:30, 2026-05-25 08:00–10:30"},
		{"1 May 2026 is a Friday", office, "2026-04-30 16:00", 4 * time.Hour,
			"2026-05-04 10:30", "2026-04-30 16:00–17:30, 2026-05-04 08:00–10:30"},
		{"explicit closure, last day included", inventory, "2026-01-30 16:00", 4 * time.Hour,
			"2026-02-04 10:30", "2026-01-30 16:00–17:30, 2026-02-04 08:00–10:30"},
		{"office hours across the spring DST change", office, "2026-03-27 16:00", 4 * time.Hour,
			"2026-03-30 10:30", "2026-03-27 16:00–17:30, 2026-03-30 08:00–10:30"},
		{"zero delay", office, "2025-11-17 10:00", 0, "2025-11-17 10:00", ""},
		// 24/7: open time is elapsed time, so 24 hours across the night the
		// clocks go forward end at 13:00, and at 11:00 when they go back.
		{"24/7, last Sunday of March", onCall, "2026-03-28 12:00", 24 * time.Hour,
			"2026-03-29 13:00", "2026-03-28 12:00–2026-03-29 13:00"},
		{"24/7, last Sunday of October", onCall, "2025-10-25 12:00", 24 * time.Hour,
			"2025-10-26 11:00", "2025-10-25 12:00–2025-10-26 11:00"},
		{"24/7 open on public holidays", onCall, "2025-12-24 12:00", 24 * time.Hour,
			"2025-12-25 12:00", "2025-12-24 12:00–2025-12-25 12:00"},
		{"24/7 closed on public holidays", roundTheClock, "2025-12-24 12:00", 24 * time.Hour,
			"2025-12-26 12:00", "2025-12-24 12:00–2025-12-25 00:00, 2025-12-26 00:00–12:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCalendar(t, tc.spec, nil)
			due, ivs, err := c.Deadline(at(t, tc.start), tc.d)
			if err != nil {
				t.Fatal(err)
			}
			checkDue(t, due, at(t, tc.due))
			if got := show(ivs); got != tc.intervals {
				t.Errorf("intervals\n got %s\nwant %s", got, tc.intervals)
			}
			// The intervals add up to the delay, and OpenDuration agrees.
			var sum time.Duration
			for _, iv := range ivs {
				sum += iv.Duration()
			}
			if open, _ := c.OpenDuration(at(t, tc.start), due); sum != tc.d || open != tc.d {
				t.Errorf("intervals sum to %s, OpenDuration gives %s, want %s", sum, open, tc.d)
			}
		})
	}
}

func checkDue(t *testing.T, due, want time.Time) {
	t.Helper()
	if !due.Equal(want) {
		t.Errorf("due %s, want %s", due.Format(time.RFC3339), want.Format(time.RFC3339))
	}
	if due.Location().String() != "Europe/Paris" {
		t.Errorf("due in %s, want Europe/Paris", due.Location())
	}
}

func TestDeadlineStartInAnotherZone(t *testing.T) {
	c := mustCalendar(t, Spec{Hours: officeHours()}, nil)
	due, _, err := c.Deadline(time.Date(2025, 11, 17, 7, 0, 0, 0, time.UTC), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkDue(t, due, at(t, "2025-11-17 08:30")) // 07:00 UTC is 08:00 in Paris
}

func TestDeadlineDays(t *testing.T) {
	wednesdayMorning := officeHours()
	wednesdayMorning["mercredi"] = []TimeRange{{"08:00", "12:00"}}
	office := Spec{Hours: officeHours()}
	for _, tc := range []struct {
		name      string
		spec      Spec
		start     string
		days      int
		due       string
		intervals string
	}{
		{"the day of the request does not count", office, "2025-11-18 10:00", 3, "2025-11-21 17:30",
			"2025-11-18 10:00–12:00, 2025-11-18 13:30–17:30, 2025-11-19 08:00–12:00, 2025-11-19 13:30–17:30, " +
				"2025-11-20 08:00–12:00, 2025-11-20 13:30–17:30, 2025-11-21 08:00–12:00, 2025-11-21 13:30–17:30"},
		{"sent on Saturday", office, "2025-11-22 10:00", 3, "2025-11-26 17:30", ""},
		{"sent before Monday's opening: Monday counts", office, "2025-11-24 07:00", 3, "2025-11-26 17:30", ""},
		{"sent at Monday's opening: Monday counts", office, "2025-11-24 08:00", 3, "2025-11-26 17:30", ""},
		{"sent a minute after opening: Monday does not count", office, "2025-11-24 08:01", 3, "2025-11-27 17:30", ""},
		{"sent after closing", office, "2025-11-24 17:45", 1, "2025-11-25 17:30",
			"2025-11-25 08:00–12:00, 2025-11-25 13:30–17:30"},
		{"Easter Monday 2026 skipped", office, "2026-04-03 15:00", 1, "2026-04-07 17:30",
			"2026-04-03 15:00–17:30, 2026-04-07 08:00–12:00, 2026-04-07 13:30–17:30"},
		{"a short Wednesday ends at its own closing", Spec{Hours: wednesdayMorning}, "2025-11-25 10:00", 1, "2025-11-26 12:00",
			"2025-11-25 10:00–12:00, 2025-11-25 13:30–17:30, 2025-11-26 08:00–12:00"},
		{"24/7: the end of the next day, across the DST change", Spec{Hours: allWeek(), OpenOnPublicHolidays: true},
			"2026-03-28 12:00", 1, "2026-03-30 00:00", "2026-03-28 12:00–2026-03-30 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCalendar(t, tc.spec, nil)
			due, ivs, err := c.DeadlineDays(at(t, tc.start), tc.days)
			if err != nil {
				t.Fatal(err)
			}
			checkDue(t, due, at(t, tc.due))
			if got := show(ivs); tc.intervals != "" && got != tc.intervals {
				t.Errorf("intervals\n got %s\nwant %s", got, tc.intervals)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	office := mustCalendar(t, Spec{Hours: officeHours()}, nil)
	onCall := mustCalendar(t, Spec{Hours: allWeek(), OpenOnPublicHolidays: true}, nil)
	for _, tc := range []struct {
		name  string
		c     *Calendar
		start string
		delay string
		want  time.Duration
	}{
		// 6 hours left on Tuesday, then three 8-hour days.
		{"3 business days from Tuesday 10:00", office, "2025-11-18 10:00", "3d", 30 * time.Hour},
		{"open time is itself", office, "2025-11-18 10:00", "4h", 4 * time.Hour},
		// 12 hours of Saturday, then a Sunday of 23 hours.
		{"1 day of a 24/7 service over the DST change", onCall, "2026-03-28 12:00", "1d", 35 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDelay(tc.delay)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.c.Budget(at(t, tc.start), d)
			if err != nil || got != tc.want {
				t.Errorf("Budget = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestOpenDuration(t *testing.T) {
	office := mustCalendar(t, Spec{Hours: officeHours()}, nil)
	onCall := mustCalendar(t, Spec{Hours: allWeek(), OpenOnPublicHolidays: true}, nil)
	for _, tc := range []struct {
		name     string
		c        *Calendar
		from, to string
		want     time.Duration
	}{
		{"two partial days", office, "2025-11-17 09:00", "2025-11-18 10:00", 9 * time.Hour},
		{"over a weekend", office, "2025-11-21 16:00", "2025-11-24 09:00", 150 * time.Minute},
		{"reversed", office, "2025-11-24 09:00", "2025-11-21 16:00", 0},
		{"empty", office, "2025-11-24 09:00", "2025-11-24 09:00", 0},
		{"closed hours only", office, "2025-11-24 12:00", "2025-11-24 13:30", 0},
		{"the short Sunday of March", onCall, "2026-03-29 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"the long Sunday of October", onCall, "2025-10-26 00:00", "2025-10-27 00:00", 25 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ivs := tc.c.OpenDuration(at(t, tc.from), at(t, tc.to))
			if got != tc.want {
				t.Errorf("OpenDuration = %s, want %s (intervals %s)", got, tc.want, show(ivs))
			}
			if got == 0 && ivs != nil {
				t.Errorf("intervals %s for no open time", show(ivs))
			}
		})
	}
}

func TestDeadlineErrors(t *testing.T) {
	d := func(s string) Date { v, _ := ParseDate(s); return v }
	office := mustCalendar(t, Spec{Hours: officeHours()}, nil)
	if _, _, err := office.Deadline(at(t, "2025-11-17 10:00"), -time.Minute); err == nil {
		t.Error("negative delay accepted")
	}
	if _, _, err := office.DeadlineDays(at(t, "2025-11-17 10:00"), 0); err == nil {
		t.Error("zero days accepted")
	}
	// Closed for eighty years: the search stops and says so, in French.
	sealed := mustCalendar(t, Spec{Hours: officeHours(), Closures: []Closure{{From: d("2025-01-01"), To: d("2105-12-31")}}}, nil)
	_, _, err := sealed.Deadline(at(t, "2025-11-17 10:00"), time.Hour)
	p, ok := problem.As(err)
	if !ok || p.Code != "calendar_never_open" {
		t.Fatalf("err = %v, want calendar_never_open", err)
	}
	want := "Le calendrier n'a aucune heure d'ouverture dans les 20 ans qui suivent le 17/11/2025 : vérifiez ses fermetures."
	if p.Message != want {
		t.Errorf("message %q, want %q", p.Message, want)
	}
	if _, _, err := sealed.DeadlineDays(at(t, "2025-11-17 10:00"), 1); err == nil {
		t.Error("DeadlineDays found a day in a sealed calendar")
	}
}

func TestParseDelay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Delay
		text string
	}{
		{"4h", Delay{Open: 4 * time.Hour}, "4h"},
		{"30m", Delay{Open: 30 * time.Minute}, "30m"},
		{"1h30m", Delay{Open: 90 * time.Minute}, "1h30m"},
		{"1h30", Delay{Open: 90 * time.Minute}, "1h30m"},
		{"90m", Delay{Open: 90 * time.Minute}, "1h30m"},
		{" 2H ", Delay{Open: 2 * time.Hour}, "2h"},
		{"3d", Delay{Days: 3}, "3d"},
		{"3j", Delay{Days: 3}, "3d"},
	} {
		got, err := ParseDelay(tc.in)
		if err != nil || got != tc.want || got.String() != tc.text {
			t.Errorf("ParseDelay(%q) = %+v (%s), %v; want %+v (%s)", tc.in, got, got, err, tc.want, tc.text)
		}
	}
	for _, in := range []string{"", "h", "d", "1d4h", "3x", "1.5h", "-1h", "0h", "0d", "1001d", "1h75m", "4 h", "10001h", "1s"} {
		if got, err := ParseDelay(in); err == nil {
			t.Errorf("ParseDelay(%q) = %+v, want an error", in, got)
		} else if p, ok := problem.As(err); !ok || p.Code != "delay_invalid" {
			t.Errorf("ParseDelay(%q): %v, want a delay_invalid problem", in, err)
		}
	}
	var v struct {
		TTO Delay `json:"tto"`
		TTR Delay `json:"ttr"`
		Nil Delay `json:"none"`
	}
	in := `{"tto":"4h","ttr":"3d","none":""}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(v); string(out) != in || !v.Nil.IsZero() {
		t.Errorf("JSON round trip %s, want %s", out, in)
	}
}

// benchPeriods are the zone B holidays of 2024-2026, written out so that
// the benchmark runs without the open-data file.
func benchPeriods(b *testing.B) []Period {
	p := func(from, to, label string) Period {
		return Period{Start: at(b, from+" 00:00"), End: at(b, to+" 00:00"), Label: label}
	}
	return []Period{
		p("2024-10-19", "2024-11-04", "Vacances de la Toussaint"),
		p("2024-12-21", "2025-01-06", "Vacances de Noël"),
		p("2025-02-08", "2025-02-24", "Vacances d'Hiver"),
		p("2025-04-05", "2025-04-22", "Vacances de Printemps"),
		p("2025-05-29", "2025-06-02", "Pont de l'Ascension"),
		p("2025-07-05", "2025-09-01", "Vacances d'Été"),
		p("2025-10-18", "2025-11-03", "Vacances de la Toussaint"),
		p("2025-12-20", "2026-01-05", "Vacances de Noël"),
		p("2026-02-14", "2026-03-02", "Vacances d'Hiver"),
		p("2026-04-11", "2026-04-27", "Vacances de Printemps"),
		p("2026-05-14", "2026-05-18", "Pont de l'Ascension"),
	}
}

// BenchmarkDeadline: a request on the last Friday before Christmas, on a
// calendar closed during school holidays, so each deadline jumps the
// fortnight of holidays, the public holidays and the weekends.
func BenchmarkDeadline(b *testing.B) {
	c := mustCalendar(b, Spec{Hours: officeHours(), ClosedDuringSchoolHolidays: true}, benchPeriods(b))
	start := at(b, "2025-12-19 10:00")
	b.Run("3d", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.DeadlineFor(start, Delay{Days: 3}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("24h", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Deadline(start, 24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("OpenDuration-3weeks", func(b *testing.B) {
		end := at(b, "2026-01-09 17:00")
		b.ReportAllocs()
		for b.Loop() {
			c.OpenDuration(start, end)
		}
	})
}
