package fleet

import (
	"context"
	"fmt"
	"sort"
	"time"

	"socle/internal/platform/auth"
)

// WarrantyAlert is an active device whose warranty ends soon.
type WarrantyAlert struct {
	ID          int64  `json:"id"`
	UAI         string `json:"establishment"`
	Type        Type   `json:"type"`
	Name        string `json:"name"`
	Serial      string `json:"serial"`
	Supplier    string `json:"warranty_supplier"`
	WarrantyEnd string `json:"warranty_end"`
	DaysLeft    int    `json:"days_left"`
}

// WarrantyAlerts lists the active devices in the caller's scope whose
// warranty ends within the next days (default 90), soonest first, so that
// repairs are claimed while still covered and extensions ordered in time.
func (s *Service) WarrantyAlerts(ctx context.Context, p *auth.Principal, uai string, days int) ([]WarrantyAlert, error) {
	if days <= 0 {
		days = 90
	}
	if err := s.checkUAI(ctx, p, uai); err != nil {
		return nil, err
	}
	scope, args := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	q := `SELECT a.id, e.uai, a.type, a.name, a.serial, a.state, a.warranty_start, a.warranty_months, a.warranty_supplier
		FROM assets a JOIN establishments e ON e.org_id = a.establishment_id
		WHERE a.warranty_months > 0 AND a.warranty_start <> '' AND ` + scope
	if uai != "" {
		q += ` AND e.uai = ?`
		args = append(args, uai)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("warranty alerts: %w", err)
	}
	defer rows.Close()
	y, m, d := s.now().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	out := []WarrantyAlert{}
	for rows.Next() {
		var a Asset
		if err := rows.Scan(&a.ID, &a.UAI, &a.Type, &a.Name, &a.Serial, &a.State, &a.WarrantyStart, &a.WarrantyMonths, &a.WarrantySupplier); err != nil {
			return nil, err
		}
		end := a.WarrantyEnd()
		left := int(end.Sub(today).Hours() / 24)
		if end.IsZero() || !a.State.Active() || left < 0 || left > days {
			continue
		}
		out = append(out, WarrantyAlert{ID: a.ID, UAI: a.UAI, Type: a.Type, Name: a.Name, Serial: a.Serial,
			Supplier: a.WarrantySupplier, WarrantyEnd: end.Format(dateLayout), DaysLeft: left})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DaysLeft != out[j].DaysLeft {
			return out[i].DaysLeft < out[j].DaysLeft
		}
		return out[i].ID < out[j].ID
	})
	return out, rows.Err()
}
