// Package fleetlink connects the deployment plan to the fleet: it reads the
// fleet's ratios and renewals for planning.Fleet from one grouped read of
// the fleet (fleet.Service.Figures), and records
// completed deployment operations for planning.FleetUpdater. It lives apart
// so that the plan itself does not depend on the fleet's types.
package fleetlink

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"socle/internal/fleet"
	"socle/internal/planning"
	"socle/internal/platform/auth"
)

// Link adapts a fleet service.
type Link struct {
	Fleet *fleet.Service

	// The plan asks for the ratios and the renewals of one caller side by
	// side; both come from the same grouped read of the fleet, which one
	// of them runs and the other waits for. Only reads under way are
	// shared, never kept: the next question reads the fleet afresh.
	mu       sync.Mutex
	inflight map[*auth.Principal]*figuresCall
}

type figuresCall struct {
	done    chan struct{}
	figures fleet.Figures
	err     error
}

// New builds the link.
func New(f *fleet.Service) *Link { return &Link{Fleet: f} }

// figures reads the fleet's grouped figures in the caller's scope, or
// waits for the same read already under way for the same caller.
func (l *Link) figures(ctx context.Context, p *auth.Principal) (fleet.Figures, error) {
	l.mu.Lock()
	if c, ok := l.inflight[p]; ok {
		l.mu.Unlock()
		select {
		case <-c.done:
			return c.figures, c.err
		case <-ctx.Done():
			return fleet.Figures{}, ctx.Err()
		}
	}
	c := &figuresCall{done: make(chan struct{})}
	if l.inflight == nil {
		l.inflight = map[*auth.Principal]*figuresCall{}
	}
	l.inflight[p] = c
	l.mu.Unlock()
	c.figures, c.err = l.Fleet.Figures(ctx, p, "")
	l.mu.Lock()
	delete(l.inflight, p)
	l.mu.Unlock()
	close(c.done)
	return c.figures, c.err
}

// EquipmentRatios implements planning.Fleet.
func (l *Link) EquipmentRatios(ctx context.Context, p *auth.Principal) ([]planning.EquipmentRatio, error) {
	f, err := l.figures(ctx, p)
	if err != nil {
		return nil, err
	}
	r, err := l.Fleet.RatiosOf(ctx, f)
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

// Renewals implements planning.Fleet with one lifetime for every type: a
// device bought in year y is due in y + lifetimeYears (those already past
// it in the first year), at its own price or the type's indicative one, as
// fleet.Service.Forecast counts it. It reads the fleet grouped by
// establishment and purchase year, which the database computes, rather
// than the forecast's asset by asset pass.
func (l *Link) Renewals(ctx context.Context, p *auth.Principal, lifetimeYears, years int) (planning.Renewals, error) {
	if years <= 0 || years > 15 {
		years = 5
	}
	f, err := l.figures(ctx, p)
	if err != nil {
		return planning.Renewals{}, err
	}
	return renewals(f, lifetimeYears, years), nil
}

func renewals(f fleet.Figures, lifetimeYears, years int) planning.Renewals {
	first := f.Now.Year()
	out := planning.Renewals{TotalCostCents: make([]int64, years)}
	for i := range years {
		out.Years = append(out.Years, first+i)
	}
	var row *planning.RenewalRow
	for _, y := range f.Rows {
		if y.Devices == 0 {
			continue
		}
		// Rows come ordered by UAI: one renewal row per establishment.
		if row == nil || row.UAI != y.UAI {
			out.Rows = append(out.Rows, planning.RenewalRow{UAI: y.UAI, Devices: make([]int, years), CostCents: make([]int64, years)})
			row = &out.Rows[len(out.Rows)-1]
		}
		if !y.Dated {
			row.Undated += y.Devices
			continue
		}
		i := max(y.Year+lifetimeYears-first, 0)
		if i >= years {
			continue
		}
		row.Devices[i] += y.Devices
		row.CostCents[i] += y.CostCents
		out.TotalCostCents[i] += y.CostCents
	}
	// The database's collation ordered the establishments; the forecast
	// orders them bytewise.
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].UAI < out.Rows[j].UAI })
	return out
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
