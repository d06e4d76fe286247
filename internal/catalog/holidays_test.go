package catalog

import (
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	for _, tc := range []struct {
		year int
		want string
	}{
		{2024, "2024-03-31"},
		{2025, "2025-04-20"},
		{2026, "2026-04-05"},
		{2038, "2038-04-25"}, // the latest possible date
		{2008, "2008-03-23"},
		{2000, "2000-04-23"},
		{1818, "1818-03-22"}, // the earliest possible date
		{2285, "2285-03-22"},
	} {
		if got := Easter(tc.year).String(); got != tc.want {
			t.Errorf("Easter(%d) = %s, want %s", tc.year, got, tc.want)
		}
	}
}

func TestPublicHolidays(t *testing.T) {
	for _, tc := range []struct {
		name string
		year int
		opt  HolidayOptions
		want []string
	}{
		{"2026 national", 2026, HolidayOptions{}, []string{
			"2026-01-01 Jour de l'an", "2026-04-06 Lundi de Pâques", "2026-05-01 Fête du Travail",
			"2026-05-08 Victoire 1945", "2026-05-14 Ascension", "2026-05-25 Lundi de Pentecôte",
			"2026-07-14 Fête nationale", "2026-08-15 Assomption", "2026-11-01 Toussaint",
			"2026-11-11 Armistice 1918", "2026-12-25 Noël",
		}},
		{"2026 solidarity day worked, Alsace-Moselle", 2026, HolidayOptions{WhitMondayOpen: true, AlsaceMoselle: true}, []string{
			"2026-01-01 Jour de l'an", "2026-04-03 Vendredi saint", "2026-04-06 Lundi de Pâques",
			"2026-05-01 Fête du Travail", "2026-05-08 Victoire 1945", "2026-05-14 Ascension",
			"2026-07-14 Fête nationale", "2026-08-15 Assomption", "2026-11-01 Toussaint",
			"2026-11-11 Armistice 1918", "2026-12-25 Noël", "2026-12-26 Saint-Étienne",
		}},
		// Ascension fell on 1 May in 2008: the list stays in date order.
		{"2008 Ascension on 1 May", 2008, HolidayOptions{}, []string{
			"2008-01-01 Jour de l'an", "2008-03-24 Lundi de Pâques", "2008-05-01 Fête du Travail",
			"2008-05-01 Ascension", "2008-05-08 Victoire 1945", "2008-05-12 Lundi de Pentecôte",
			"2008-07-14 Fête nationale", "2008-08-15 Assomption", "2008-11-01 Toussaint",
			"2008-11-11 Armistice 1918", "2008-12-25 Noël",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PublicHolidays(tc.year, tc.opt)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d holidays %v, want %d", len(got), got, len(tc.want))
			}
			for i, h := range got {
				if s := h.Date.String() + " " + h.Name; s != tc.want[i] {
					t.Errorf("holiday %d = %q, want %q", i, s, tc.want[i])
				}
			}
		})
	}
}

func TestDateDaysRoundTrip(t *testing.T) {
	// The integer day arithmetic must agree with the time package, across
	// leap years, century rules and dates before 1970.
	for n := -800_000; n <= 800_000; n += 13 {
		want := time.Unix(int64(n)*86400, 0).UTC()
		d := dateOfDays(n)
		if d != DateOf(want) {
			t.Fatalf("dateOfDays(%d) = %s, want %s", n, d, want.Format(time.DateOnly))
		}
		if d.days() != n {
			t.Fatalf("%s.days() = %d, want %d", d, d.days(), n)
		}
		if d.Weekday() != want.Weekday() {
			t.Fatalf("%s.Weekday() = %s, want %s", d, d.Weekday(), want.Weekday())
		}
	}
}
