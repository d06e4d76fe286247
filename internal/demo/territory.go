package demo

import (
	"context"
	"fmt"

	"socle/internal/platform/db"
	"socle/internal/territory"
)

// writeTerritory writes the organizations, the establishments with their
// responsibilities, and the enrolments, through the territory store as an
// import would.
//
// The tree it builds is the one the scope checks rely on: establishments
// sit under the DSDEN, itself under the académie (so the académie's
// observers see every school), and each public school hangs from the
// collectivité that maintains it. Collectivités are not nested under one
// another, since a département does not run its communes' écoles; only the
// EPCI groups its member communes, so that a grant on the métropole reaches
// their écoles.
func writeTerritory(ctx context.Context, tx *db.Tx, w *seeder) error {
	ensure := func(kind territory.Kind, code, name string, parent int64) (int64, error) {
		id, _, err := w.store.EnsureOrg(ctx, tx, kind, code, name, parent)
		if err != nil {
			return 0, err
		}
		w.orgs[orgKey{kind, code}] = id
		return id, nil
	}
	regionID, err := ensure(territory.KindRegion, regionCode, regionName, 0)
	if err != nil {
		return err
	}
	departementID, err := ensure(territory.KindDepartement, departementCode, departementName, 0)
	if err != nil {
		return err
	}
	academyID, err := ensure(territory.KindAcademy, academyCode, academyName, 0)
	if err != nil {
		return err
	}
	if err := w.store.SetHolidayZone(ctx, tx, academyID, holidayZone); err != nil {
		return fmt.Errorf("set holiday zone: %w", err)
	}
	dsdenID, err := ensure(territory.KindDSDEN, departementCode, dsdenName, academyID)
	if err != nil {
		return err
	}
	if _, err := ensure(territory.KindDANE, academyCode, daneName, academyID); err != nil {
		return err
	}
	epciID, err := ensure(territory.KindEPCI, epciCode, epciName, 0)
	if err != nil {
		return err
	}
	communeIDs := map[string]int64{}
	for _, c := range w.plan.communes {
		parent := int64(0)
		if c.inEPCI {
			parent = epciID
		}
		if communeIDs[c.code], err = ensure(territory.KindCommune, c.code, c.name, parent); err != nil {
			return err
		}
	}
	for _, s := range w.plan.schools {
		id, _, err := w.store.UpsertEstablishment(ctx, tx, &s.Establishment, dsdenID)
		if err != nil {
			return err
		}
		w.orgs[orgKey{territory.KindEstablishment, s.UAI}] = id
		// Private schools are run by their organisme de gestion, not by a
		// collectivité: they have no maintaining authority.
		if s.public() {
			var authority int64
			switch territory.MaintainingKind(s.Type) {
			case territory.KindCommune:
				authority = communeIDs[s.CommuneCode]
			case territory.KindDepartement:
				authority = departementID
			case territory.KindRegion:
				authority = regionID
			}
			if err := w.store.SetResponsibility(ctx, tx, id, "maintenance", authority); err != nil {
				return fmt.Errorf("maintenance of %s: %w", s.UAI, err)
			}
		}
		if err := w.store.SetResponsibility(ctx, tx, id, "pedagogy", academyID); err != nil {
			return fmt.Errorf("pedagogy of %s: %w", s.UAI, err)
		}
		for _, e := range s.enrolments {
			if _, err := w.store.UpsertEnrolment(ctx, tx, e, s.Name, s.CommuneName, string(s.Sector)); err != nil {
				return err
			}
		}
	}
	return nil
}
