package helpdesk

import (
	"context"
	"time"

	"socle/internal/catalog"
)

// CatalogLevels reads a ticket's levels from the conventions of the
// catalogue (the helpdesk may use the lower catalogue domain; tests give
// other LevelSources).
type CatalogLevels struct{ Catalog *catalog.Service }

func (a CatalogLevels) LevelsFor(ctx context.Context, establishmentID, serviceID int64, kind string, priority int, at time.Time) (*Levels, error) {
	if serviceID == 0 {
		return nil, nil
	}
	cov, err := a.Catalog.Coverage(ctx, establishmentID, serviceID, at)
	if err != nil || cov == nil {
		return nil, err
	}
	lv := &Levels{AgreementServiceID: cov.AgreementServiceID, AgreementReference: cov.AgreementReference, Calendar: cov.Calendar,
		N1TeamID: cov.N1TeamID, N2TeamID: cov.N2TeamID, N3TeamID: cov.N3TeamID, SurveyEnabled: cov.SurveyEnabled}
	// Problems and changes have no level of their own: the convention
	// still names the teams, the clocks say "pas d'engagement".
	if tto, ttr, ok := cov.Targets(kind, priority); ok {
		lv.TTO, lv.TTR = tto, ttr
	}
	return lv, nil
}
