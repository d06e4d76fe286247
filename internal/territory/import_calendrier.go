package territory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
)

// This file imports the national school calendar.

const (
	calDescription = "Description"
	calPopulation  = "Population"
	calStart       = "Date de début"
	calEnd         = "Date de fin"
	calAcademy     = "Académies"
	calZone        = "Zones"
	calYear        = "annee_scolaire"
)

var calendrierColumns = []csvimport.Column{
	{Name: calDescription, Required: true},
	{Name: calPopulation},
	{Name: calStart, Aliases: []string{"start_date", "date_debut"}, Required: true},
	{Name: calEnd, Aliases: []string{"end_date", "date_fin"}, Required: true},
	{Name: calAcademy, Aliases: []string{"Académie", "location"}, Required: true},
	{Name: calZone, Aliases: []string{"Zone"}, Required: true},
	{Name: calYear, Aliases: []string{"Année scolaire"}},
}

// holidayKey is the natural key of a holiday period.
type holidayKey struct {
	description, population, academy, zone string
	start                                  int64
}

type holidaySeen struct {
	line       int
	end        int64
	schoolYear string
}

// academyZone is the zone an académie has in the latest year of the file.
type academyZone struct{ schoolYear, zone string }

type calendrierImport struct {
	store *Store
	seen  map[holidayKey]holidaySeen
	zones map[string]academyZone
}

func newCalendrierImport(store *Store, rd *csvimport.Reader) (*calendrierImport, error) {
	if err := bindColumns(rd, calendrierColumns, "un calendrier scolaire"); err != nil {
		return nil, err
	}
	return &calendrierImport{store: store, seen: map[holidayKey]holidaySeen{}, zones: map[string]academyZone{}}, nil
}

func (c *calendrierImport) begin(context.Context, db.Querier) error { return nil }

// academyKey folds an académie's name for matching the calendar's
// "Rennes" with the organization "Académie de Rennes", and "Réunion" with
// "Académie de La Réunion".
func academyKey(name string) string {
	k := SearchKey(name)
	k = strings.TrimPrefix(k, "academie ")
	for _, p := range []string{"de la ", "de l ", "d ", "de ", "la ", "l "} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			k = rest
			break
		}
	}
	return k
}

func (c *calendrierImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	h := Holiday{Description: row.Get(calDescription), Population: row.Get(calPopulation), Academy: row.Get(calAcademy),
		Zone: NormalizeZone(row.Get(calZone)), SchoolYear: row.Get(calYear)}
	if h.Population == "-" {
		h.Population = ""
	}
	switch {
	case h.Description == "":
		reject(rep, row, calDescription, "description de la période manquante")
		return nil
	case h.Academy == "":
		reject(rep, row, calAcademy, "académie manquante")
		return nil
	case h.Zone == "":
		reject(rep, row, calZone, "zone manquante")
		return nil
	}
	var err error
	if h.StartsAt, err = time.Parse(time.RFC3339, row.Get(calStart)); err != nil {
		reject(rep, row, calStart, fmt.Sprintf("date de début illisible : « %s » (attendu par exemple 2025-12-20T00:00:00+01:00)", row.Get(calStart)))
		return nil
	}
	if h.EndsAt, err = time.Parse(time.RFC3339, row.Get(calEnd)); err != nil {
		reject(rep, row, calEnd, fmt.Sprintf("date de fin illisible : « %s » (attendu par exemple 2026-01-05T00:00:00+01:00)", row.Get(calEnd)))
		return nil
	}
	if h.EndsAt.Before(h.StartsAt) {
		reject(rep, row, calEnd, "la date de fin précède la date de début")
		return nil
	}
	k := holidayKey{h.Description, h.Population, h.Academy, h.Zone, h.StartsAt.Unix()}
	if prev, dup := c.seen[k]; dup {
		if prev.end == h.EndsAt.Unix() && prev.schoolYear == h.SchoolYear {
			count(rep, Unchanged, 1) // the same period twice: nothing more to write
			return nil
		}
		reject(rep, row, calEnd, fmt.Sprintf("période déjà donnée ligne %d avec une autre fin ou une autre année scolaire", prev.line))
		return nil
	}
	k.description, k.population, k.academy, k.zone = strings.Clone(k.description), strings.Clone(k.population), strings.Clone(k.academy), strings.Clone(k.zone)
	c.seen[k] = holidaySeen{line: row.Line, end: h.EndsAt.Unix(), schoolYear: strings.Clone(h.SchoolYear)}
	outcome, err := c.store.upsertHoliday(ctx, q, h)
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	ak := academyKey(h.Academy)
	if cur, ok := c.zones[ak]; !ok || h.SchoolYear >= cur.schoolYear {
		c.zones[ak] = academyZone{schoolYear: strings.Clone(h.SchoolYear), zone: strings.Clone(h.Zone)}
	}
	return nil
}

// finish gives the académies of the territory their holiday zone.
func (c *calendrierImport) finish(ctx context.Context, q db.Querier, _ *db.Tx, _ *csvimport.Report) error {
	academies, err := c.store.orgsOfKind(ctx, q, KindAcademy)
	if err != nil {
		return err
	}
	for _, o := range academies {
		z, ok := c.zones[academyKey(o.Name)]
		if !ok || z.zone == o.HolidayZone {
			continue
		}
		if err := c.store.SetHolidayZone(ctx, q, o.ID, z.zone); err != nil {
			return fmt.Errorf("holiday zone of %s: %w", o.Name, err)
		}
	}
	return nil
}
