package demo

import (
	"context"
	"fmt"
	"math"

	"socle/internal/platform/db"
)

// generateSectors draws the carte scolaire: a commune with one public
// collège is its sector, a commune without one goes to the nearest, and a
// commune with several (the chef-lieu) is cut by streets, each priority
// neighbourhood going to the collège that heads its network.
func (p *plan) generateSectors() {
	byCommune := map[*commune][]*school{}
	var public []*school
	for _, s := range p.schools {
		if s.kind == kindCollege && s.public() {
			byCommune[s.commune] = append(byCommune[s.commune], s)
			public = append(public, s)
		}
	}
	for _, c := range p.communes {
		key := func(n int) string { return fmt.Sprintf("demo-%s-%02d", c.code, n) }
		colleges := byCommune[c]
		switch len(colleges) {
		case 0:
			p.sectors = append(p.sectors, sector{key: key(1), commune: c, collegeUAI: nearestSchool(public, c).UAI, singleSector: true})
		case 1:
			p.sectors = append(p.sectors, sector{key: key(1), commune: c, collegeUAI: colleges[0].UAI, singleSector: true})
		default:
			n := 0
			add := func(street string, s *school) {
				n++
				p.sectors = append(p.sectors, sector{key: key(n), commune: c, street: street, collegeUAI: s.UAI})
			}
			// The collèges of the priority neighbourhoods come first (see
			// schoolGen.chefLieu); the others share the ordinary streets.
			ordinary := colleges
			for i, a := range priorityAreas {
				if i < len(colleges) && colleges[i].Priority == a.Priority {
					for _, st := range a.Streets {
						add(st, colleges[i])
					}
					ordinary = colleges[i+1:]
				}
			}
			for i, st := range c.streets {
				add(st, ordinary[i%len(ordinary)])
			}
		}
	}
}

func nearestSchool(list []*school, c *commune) *school {
	var best *school
	d := math.Inf(1)
	for _, s := range list {
		if dd := distance(c.lat, c.lon, *s.Latitude, *s.Longitude); dd < d {
			best, d = s, dd
		}
	}
	return best
}

// writeSectors stores the carte scolaire. The territory store has no
// writer for it yet (the importer's will come with the carte scolaire
// import), so this is plain SQL that runs on both engines.
func writeSectors(ctx context.Context, tx *db.Tx, w *seeder) error {
	for _, s := range w.plan.sectors {
		_, err := tx.ExecContext(ctx, `INSERT INTO school_sectors (sector_key, commune_code, commune_name, postal_code, street, college_uai, single_sector)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, s.key, s.commune.code, s.commune.name, s.commune.postal, s.street, s.collegeUAI, s.singleSector)
		if err != nil {
			return fmt.Errorf("insert school sector %s: %w", s.key, err)
		}
	}
	return nil
}
