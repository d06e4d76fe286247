package demo

import (
	"context"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// holidayPeriod is a zone B holiday as the national calendar publishes it:
// from the first day without classes to the day classes resume, both at
// midnight in Paris.
type holidayPeriod struct {
	description, schoolYear string
	from, to                string // YYYY-MM-DD, Paris
}

// zoneBHolidays is the calendar of zone B (Brittany's zone) for the
// previous, current and next school years, with the national calendar's
// descriptions. Written out rather than computed: the ministry sets the
// dates by decree, no rule derives them.
var zoneBHolidays = []holidayPeriod{
	{"Vacances de la Toussaint", "2024-2025", "2024-10-19", "2024-11-04"},
	{"Vacances de Noël", "2024-2025", "2024-12-21", "2025-01-06"},
	{"Vacances d'Hiver", "2024-2025", "2025-02-08", "2025-02-24"},
	{"Vacances de Printemps", "2024-2025", "2025-04-05", "2025-04-22"},
	{"Pont de l'Ascension", "2024-2025", "2025-05-29", "2025-06-02"},
	{"Vacances d'Été", "2024-2025", "2025-07-05", "2025-09-01"},
	{"Vacances de la Toussaint", "2025-2026", "2025-10-18", "2025-11-03"},
	{"Vacances de Noël", "2025-2026", "2025-12-20", "2026-01-05"},
	{"Vacances d'Hiver", "2025-2026", "2026-02-14", "2026-03-02"},
	{"Vacances de Printemps", "2025-2026", "2026-04-11", "2026-04-27"},
	{"Pont de l'Ascension", "2025-2026", "2026-05-14", "2026-05-18"},
	{"Vacances d'Été", "2025-2026", "2026-07-04", "2026-09-01"},
	{"Vacances de la Toussaint", "2026-2027", "2026-10-17", "2026-11-02"},
	{"Vacances de Noël", "2026-2027", "2026-12-19", "2027-01-04"},
	{"Vacances d'Hiver", "2026-2027", "2027-02-20", "2027-03-08"},
	{"Vacances de Printemps", "2026-2027", "2027-04-17", "2027-05-03"},
	{"Pont de l'Ascension", "2026-2027", "2027-05-06", "2027-05-10"},
	{"Vacances d'Été", "2026-2027", "2027-07-03", "2027-09-01"},
}

// holidayZoneLabel is the zone as the national calendar spells it.
const holidayZoneLabel = "Zone " + holidayZone

// holidayPopulation is what the national file puts in its population
// column for periods that concern everybody.
const holidayPopulation = "-"

// writeHolidays stores the calendar with the académie's short name, as an
// import of the national file would.
func writeHolidays(ctx context.Context, tx *db.Tx, _ *seeder) error {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return fmt.Errorf("load time zone: %w", err)
	}
	at := func(day string) (string, error) {
		t, err := time.ParseInLocation(time.DateOnly, day, paris)
		if err != nil {
			return "", fmt.Errorf("holiday date %q: %w", day, err)
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	for _, h := range zoneBHolidays {
		from, err := at(h.from)
		if err != nil {
			return err
		}
		to, err := at(h.to)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO school_holidays (description, population, starts_at, ends_at, academy, zone, school_year)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, h.description, holidayPopulation, from, to, academyShort, holidayZoneLabel, h.schoolYear)
		if err != nil {
			return fmt.Errorf("insert holiday %s %s: %w", h.description, h.schoolYear, err)
		}
	}
	return nil
}
