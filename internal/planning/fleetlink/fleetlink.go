// Package fleetlink connects the deployment plan to the fleet: it reads the
// fleet's ratios and renewal forecast for planning.Fleet, and records
// completed deployment operations for planning.FleetUpdater. It lives apart
// so that the plan itself does not depend on the fleet's types.
package fleetlink

import (
	"context"
	"fmt"

	"socle/internal/fleet"
	"socle/internal/planning"
	"socle/internal/platform/auth"
)

// Link adapts a fleet service.
type Link struct {
	Fleet *fleet.Service
}

// New builds the link.
func New(f *fleet.Service) *Link { return &Link{Fleet: f} }

// EquipmentRatios implements planning.Fleet.
func (l *Link) EquipmentRatios(ctx context.Context, p *auth.Principal) ([]planning.EquipmentRatio, error) {
	r, err := l.Fleet.Ratios(ctx, p, "")
	if err != nil {
		return nil, err
	}
	out := make([]planning.EquipmentRatio, 0, len(r.Establishments))
	for _, e := range r.Establishments {
		out = append(out, planning.EquipmentRatio{UAI: e.Code, SchoolYear: e.SchoolYear, Pupils: e.Pupils, Classes: e.Classes,
			PupilDevices: e.PupilDevices, Boards: e.Boards, Devices: e.Devices, OverLifetime: e.OverLifetime, OverLifetimeShare: e.OverLifetimeShare})
	}
	return out, nil
}

// Renewals implements planning.Fleet with one lifetime for every type.
func (l *Link) Renewals(ctx context.Context, p *auth.Principal, lifetimeYears, years int) (planning.Renewals, error) {
	lt := map[fleet.Type]int{}
	for _, t := range fleet.Types {
		lt[t] = lifetimeYears
	}
	f, err := l.Fleet.Forecast(ctx, p, fleet.ForecastOptions{Years: years, Lifetimes: lt})
	if err != nil {
		return planning.Renewals{}, err
	}
	out := planning.Renewals{Years: f.Years, TotalCostCents: f.TotalCostCents}
	for _, r := range f.Rows {
		out.Rows = append(out.Rows, planning.RenewalRow{UAI: r.UAI, Devices: r.Devices, CostCents: r.CostCents, Undated: r.Undated})
	}
	return out, nil
}

// DeploymentDone implements planning.FleetUpdater: the assets of a
// completed deployment are put in service (the fleet checks the caller's
// right on each asset and keeps the change in the asset's history).
func (l *Link) DeploymentDone(ctx context.Context, p *auth.Principal, d planning.Deployment) error {
	for _, id := range d.AssetIDs {
		cur, err := l.Fleet.Asset(ctx, p, id)
		if err != nil {
			return fmt.Errorf("asset %d: %w", id, err)
		}
		if cur.State == fleet.StateInUse {
			continue
		}
		a := cur.Asset
		a.State = fleet.StateInUse
		if _, err := l.Fleet.Update(ctx, p, id, a); err != nil {
			return fmt.Errorf("put asset %d in service: %w", id, err)
		}
	}
	return nil
}
