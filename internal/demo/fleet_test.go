package demo

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"socle/internal/fleet"
	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// The demo fleet gives every establishment equipment, with ages spread so
// that the ratios and the renewal forecast show figures on first start.
func TestSeedFleet(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), fleet.Migrations())
	log := slog.New(slog.DiscardHandler)
	a := auth.NewService(d, auth.DefaultSettings(), log)
	f := fixture{db: d, auth: a, terr: territory.NewService(d, a, log)}
	fs := fleet.NewService(d, log)
	start := time.Now()
	if _, created, err := Seed(ctx, d, a, f.terr, log, WithFleet(fs)); err != nil || !created {
		t.Fatalf("seed: created=%v err=%v", created, err)
	}
	t.Logf("seed with fleet: %v", time.Since(start))
	schools := len(generate().schools)
	if n := f.count(t, `SELECT COUNT(DISTINCT establishment_id) FROM assets`); n != schools {
		t.Errorf("%d establishments with assets, want all %d", n, schools)
	}
	total := f.count(t, `SELECT COUNT(*) FROM assets`)
	if total < 5000 || total > 40000 {
		t.Errorf("%d assets, want a plausible fleet (5,000 to 40,000)", total)
	}
	for _, typ := range fleet.Types {
		if typ == fleet.TypeOther {
			continue
		}
		if n := f.count(t, `SELECT COUNT(*) FROM assets WHERE type = ?`, string(typ)); n == 0 {
			t.Errorf("no %s in the demo fleet", typ)
		}
	}
	if n := f.count(t, `SELECT COUNT(DISTINCT asset_id) FROM asset_software`); n < schools {
		t.Errorf("software on %d machines, want a few per school", n)
	}
	p := auth.System()
	fc, err := fs.Forecast(ctx, p, fleet.ForecastOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fc.TotalDevices[0] == 0 || fc.TotalCostCents[0] == 0 {
		t.Errorf("forecast first year: %d devices, %d cents; want devices past their lifetime", fc.TotalDevices[0], fc.TotalCostCents[0])
	}
	later := 0
	for _, n := range fc.TotalDevices[1:] {
		later += n
	}
	if later == 0 {
		t.Error("forecast: nothing to renew after the first year")
	}
	r, err := fs.Ratios(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Establishments) != schools {
		t.Fatalf("ratios for %d establishments, want %d", len(r.Establishments), schools)
	}
	over, withPupils := 0, 0
	for _, e := range r.Establishments {
		if e.OverLifetimeShare > 0 && e.OverLifetimeShare < 1 {
			over++
		}
		if e.PupilsPerDevice > 0 && e.BoardsPerClass > 0 {
			withPupils++
		}
	}
	if over < schools/2 || withPupils < schools*9/10 {
		t.Errorf("ratios: %d schools with part of their fleet past its lifetime, %d with pupils per device and boards per class, of %d", over, withPupils, schools)
	}
	if len(r.Communes) == 0 || len(r.Authorities) == 0 {
		t.Errorf("ratios: %d communes, %d collectivités", len(r.Communes), len(r.Authorities))
	}
	sw, err := fs.EstablishmentSoftware(ctx, p, generate().schools[0].UAI)
	if err != nil {
		t.Fatal(err)
	}
	outdated := 0
	for _, s := range sw {
		if s.Outdated {
			outdated++
		}
	}
	if len(sw) == 0 || outdated == 0 {
		t.Errorf("software catalogue of the first school: %d lines, %d outdated", len(sw), outdated)
	}
}
