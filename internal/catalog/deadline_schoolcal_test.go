package catalog

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/opendata"
)

// schoolCalendarFile finds the national school calendar beside the
// repository (../shared/data/open-data, relative to the directory holding
// go.mod). Missing, the tests skip, except in CI, which always has it.
func schoolCalendarFile(t *testing.T) string {
	return opendata.Path(t, "fr-en-calendrier-scolaire.csv")
}

// rennesHolidays reads the holiday periods of académie de Rennes (zone B)
// that apply to pupils: population "-" (everyone) or "Élèves"; the teachers'
// rows would end the summer a few days earlier.
func rennesHolidays(t *testing.T) []Period {
	t.Helper()
	f, err := os.Open(schoolCalendarFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, name := range []string{"Description", "Population", "Date de début", "Date de fin", "Académies"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("column %q missing from %v", name, header)
		}
	}
	var out []Period
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		pop := rec[col["Population"]]
		if rec[col["Académies"]] != "Rennes" || (pop != "-" && pop != "Élèves") {
			continue
		}
		start, err1 := time.Parse(time.RFC3339, rec[col["Date de début"]])
		end, err2 := time.Parse(time.RFC3339, rec[col["Date de fin"]])
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		out = append(out, Period{Start: start, End: end, Label: rec[col["Description"]]})
	}
	if len(out) < 40 {
		t.Fatalf("only %d Rennes periods read: the file format changed?", len(out))
	}
	return out
}

func TestDeadlineOnNationalSchoolCalendar(t *testing.T) {
	holidays := rennesHolidays(t)
	// Services of the schools close with them; technicians deploying
	// equipment work precisely during the holidays.
	schoolTime := mustCalendar(t, Spec{Hours: officeHours(), ClosedDuringSchoolHolidays: true}, holidays)
	deployment := mustCalendar(t, Spec{Hours: officeHours()}, holidays)
	for _, tc := range []struct {
		name      string
		c         *Calendar
		start     string
		delay     string
		due       string
		intervals string
	}{
		// Christmas 2025, zone B: from Saturday 20 December, classes resume
		// Monday 5 January. 6 hours on Friday, 2 on the day classes resume.
		{"Christmas holidays, school calendar, 8h", schoolTime, "2025-12-19 10:00", "8h", "2026-01-05 10:00",
			"2025-12-19 10:00–12:00, 2025-12-19 13:30–17:30, 2026-01-05 08:00–10:00"},
		{"Christmas holidays, school calendar, 3 business days", schoolTime, "2025-12-19 10:00", "3d", "2026-01-07 17:30", ""},
		{"Christmas holidays, deployment calendar, 8h", deployment, "2025-12-19 10:00", "8h", "2025-12-22 10:00",
			"2025-12-19 10:00–12:00, 2025-12-19 13:30–17:30, 2025-12-22 08:00–10:00"},
		{"Christmas holidays, deployment calendar, 3 business days", deployment, "2025-12-19 10:00", "3d", "2025-12-24 17:30", ""},
		{"Christmas day, deployment calendar", deployment, "2025-12-24 16:00", "4h", "2025-12-26 10:30",
			"2025-12-24 16:00–17:30, 2025-12-26 08:00–10:30"},
		// Armistice, a Tuesday, after the Toussaint holidays (ended 3 Nov).
		{"11 November 2025", schoolTime, "2025-11-10 16:00", "4h", "2025-11-12 10:30",
			"2025-11-10 16:00–17:30, 2025-11-12 08:00–10:30"},
		// Easter Monday 2026 is a week before zone B's spring holidays.
		{"Easter Monday 2026", schoolTime, "2026-04-03 15:00", "4h", "2026-04-07 09:30",
			"2026-04-03 15:00–17:30, 2026-04-07 08:00–09:30"},
		// Ascension, Thursday 14 May 2026, starts the "Pont de l'Ascension"
		// (14 to 18 May): schools reopen on Monday, deployment on Friday.
		{"Pont de l'Ascension, school calendar", schoolTime, "2026-05-13 16:00", "4h", "2026-05-18 10:30",
			"2026-05-13 16:00–17:30, 2026-05-18 08:00–10:30"},
		{"Ascension, deployment calendar", deployment, "2026-05-13 16:00", "4h", "2026-05-15 10:30",
			"2026-05-13 16:00–17:30, 2026-05-15 08:00–10:30"},
		{"Toussaint holidays 2025", schoolTime, "2025-10-17 16:00", "4h", "2025-11-03 10:30",
			"2025-10-17 16:00–17:30, 2025-11-03 08:00–10:30"},
		// Summer 2025 ends for pupils on Monday 1 September.
		{"summer holidays 2025", schoolTime, "2025-07-04 16:00", "4h", "2025-09-01 10:30",
			"2025-07-04 16:00–17:30, 2025-09-01 08:00–10:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDelay(tc.delay)
			if err != nil {
				t.Fatal(err)
			}
			due, ivs, err := tc.c.DeadlineFor(at(t, tc.start), d)
			if err != nil {
				t.Fatal(err)
			}
			checkDue(t, due, at(t, tc.due))
			if got := show(ivs); tc.intervals != "" && got != tc.intervals {
				t.Errorf("intervals\n got %s\nwant %s", got, tc.intervals)
			}
		})
	}

	for _, tc := range []struct{ at, want string }{
		{"2025-12-24 10:00", "Vacances de Noël"},
		{"2025-12-25 10:00", "Noël"}, // the public holiday is the better reason
		{"2026-05-14 10:00", "Ascension"},
		{"2026-05-15 10:00", "Pont de l'Ascension"},
	} {
		if got, _ := schoolTime.ClosedReason(at(t, tc.at)); got != tc.want {
			t.Errorf("ClosedReason(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
	// The file knows the school year 2025-2026 up to the start of the summer
	// (a zero-length row); after it, the calendar cannot know.
	if until, ok := schoolTime.SchoolHolidaysKnownUntil(); !ok || until.String() != "2026-07-04" {
		t.Errorf("SchoolHolidaysKnownUntil = %s, %v; want 2026-07-04", until, ok)
	}
}
