package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// The SQL of the management forms.

// Organizations lists organizations (alias o) matching cond, by name.
func (s *Store) Organizations(ctx context.Context, cond string, args []any) ([]Party, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.name, o.kind FROM organizations o WHERE `+cond+` ORDER BY o.name, o.id LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	defer rows.Close()
	var out []Party
	for rows.Next() {
		var p Party
		if err := rows.Scan(&p.ID, &p.Name, &p.Kind); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateService rewrites a service's family, name, description and status.
func (s *Store) UpdateService(ctx context.Context, q db.Querier, id, familyID int64, name, description string, status ServiceStatus, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE services SET family_id = ?, name = ?, description = ?, status = ?, updated_at = ? WHERE id = ?`,
		familyID, name, description, string(status), now.UTC(), id)
	if err != nil {
		return fmt.Errorf("update service %d: %w", id, err)
	}
	return nil
}

// SetRequestTypeActive turns a request type of a service on or off.
func (s *Store) SetRequestTypeActive(ctx context.Context, q db.Querier, serviceID, id int64, active bool) error {
	if _, err := q.ExecContext(ctx, `UPDATE request_types SET active = ? WHERE id = ? AND service_id = ?`, active, id, serviceID); err != nil {
		return fmt.Errorf("update request type %d: %w", id, err)
	}
	return nil
}

// AddRequestType adds a request type to a service.
func (s *Store) AddRequestType(ctx context.Context, q db.Querier, serviceID int64, rt RequestType) error {
	_, err := q.ExecContext(ctx, `INSERT INTO request_types (service_id, kind, imac, name, active) VALUES (?, ?, ?, ?, ?)`,
		serviceID, rt.Kind, rt.IMAC, rt.Name, rt.Active)
	if err != nil {
		return fmt.Errorf("add request type %q to service %d: %w", rt.Name, serviceID, err)
	}
	return nil
}

// SchoolZones lists the zones of the imported school calendar.
func (s *Store) SchoolZones(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT zone FROM school_holidays WHERE zone <> '' ORDER BY zone`)
	if err != nil {
		return nil, fmt.Errorf("list school zones: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, rows.Err()
}

// UpdateTeam rewrites a team's name, level, contractor flag and address.
func (s *Store) UpdateTeam(ctx context.Context, q db.Querier, t Team) error {
	if _, err := q.ExecContext(ctx, `UPDATE teams SET name = ?, level = ?, contractor = ?, email = ? WHERE id = ?`,
		t.Name, t.Level, t.Contractor, t.Email, t.ID); err != nil {
		return fmt.Errorf("update team %d: %w", t.ID, err)
	}
	return nil
}

// UpdateCalendar rewrites a calendar and replaces its closures.
func (s *Store) UpdateCalendar(ctx context.Context, q db.Querier, c BusinessCalendar, now time.Time) error {
	hours, err := json.Marshal(c.Spec.Hours)
	if err != nil {
		return fmt.Errorf("encode hours: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE business_calendars SET name = ?, time_zone = ?, weekly_hours = ?, public_holidays = ?,
		whit_monday_open = ?, alsace_moselle = ?, school_holiday_zone = ?, updated_at = ? WHERE id = ?`,
		c.Name, c.Spec.TimeZone, string(hours), !c.Spec.OpenOnPublicHolidays, c.Spec.WhitMondayOpen, c.Spec.AlsaceMoselle,
		c.SchoolHolidayZone, now.UTC(), c.ID); err != nil {
		return fmt.Errorf("update calendar %d: %w", c.ID, err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM calendar_closures WHERE calendar_id = ?`, c.ID); err != nil {
		return fmt.Errorf("replace closures of calendar %d: %w", c.ID, err)
	}
	for _, cl := range c.Spec.Closures {
		if _, err := q.ExecContext(ctx, `INSERT INTO calendar_closures (calendar_id, starts_on, ends_on, label) VALUES (?, ?, ?, ?)`,
			c.ID, cl.From.String(), cl.To.String(), cl.Label); err != nil {
			return fmt.Errorf("insert closure: %w", err)
		}
	}
	return nil
}
