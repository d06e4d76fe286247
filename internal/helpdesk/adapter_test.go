package helpdesk

import (
	"testing"
	"time"

	"socle/internal/catalog"
)

var (
	_ LevelSource            = CatalogLevels{}
	_ catalog.MeasuredLevels = (*Service)(nil)
)

// Without any convention in the database the adapter says so, and the
// ticket shows "pas d'engagement de service".
func TestCatalogAdapterWithoutConvention(t *testing.T) {
	f := newFixture(t)
	f.svc.levels = CatalogLevels{Catalog: catalog.NewService(f.db, t.TempDir(), f.svc.log)}
	tk := f.open(f.teacher, "Hors convention")
	if d := f.detail(f.teacher, tk.Reference); d.Clocks.Engagement || d.AgreementSvcID != 0 {
		t.Fatalf("clocks %+v", d.Clocks)
	}
	m, err := f.svc.MeasuredLevels(f.ctx, f.estA, f.serviceID, f.clock.now().Add(-time.Hour), f.clock.now().Add(time.Hour))
	if err != nil || m.Tickets != 1 {
		t.Fatalf("measure %+v %v", m, err)
	}
}
