package catalog

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without zoneinfo, as the binary does
)

func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("load Europe/Paris: %v", err)
	}
	return loc
}

// at reads a Paris wall time "2006-01-02 15:04", the way expected instants
// are written by hand in these tests.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, paris(t))
	if err != nil {
		t.Fatalf("bad test instant %q: %v", s, err)
	}
	return v
}

// officeHours is the usual school-service week: Monday to Friday, 08:00 to
// 12:00 and 13:30 to 17:30, that is 8 open hours a day.
func officeHours() map[string][]TimeRange {
	day := []TimeRange{{"08:00", "12:00"}, {"13:30", "17:30"}}
	return map[string][]TimeRange{"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day}
}

// allWeek is a round-the-clock week.
func allWeek() map[string][]TimeRange {
	h := map[string][]TimeRange{}
	for _, d := range []string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"} {
		h[d] = []TimeRange{{"00:00", "24:00"}}
	}
	return h
}

func mustCalendar(t testing.TB, spec Spec, holidays []Period) *Calendar {
	t.Helper()
	c, err := NewCalendar(spec, holidays)
	if err != nil {
		t.Fatalf("NewCalendar: %v", err)
	}
	return c
}

// show writes intervals as Paris wall times, "2025-11-10 16:00–17:30", or
// with both dates when an interval spans midnight.
func show(ivs []Interval) string {
	var parts []string
	for _, iv := range ivs {
		s, e := iv.Start, iv.End
		if s.Location().String() != "Europe/Paris" || e.Location().String() != "Europe/Paris" {
			parts = append(parts, "NOT IN PARIS: "+s.String())
			continue
		}
		if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
			parts = append(parts, s.Format("2006-01-02 15:04")+"–"+e.Format("15:04"))
		} else {
			parts = append(parts, s.Format("2006-01-02 15:04")+"–"+e.Format("2006-01-02 15:04"))
		}
	}
	return strings.Join(parts, ", ")
}
