package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// Store is the SQL of the catalogue. Scope conditions come from the
// service, already built; the store only splices them in.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// coversSQL is true when the agreement aliased a covers the establishment
// whose id is the SQL expression est: listed on it, or maintained by its
// coverage authority — read from the territory's responsibilities at query
// time, so the schools a collectivité takes over later are covered.
func coversSQL(a, est string) string {
	return `(EXISTS (SELECT 1 FROM agreement_establishments cae WHERE cae.agreement_id = ` + a + `.id AND cae.establishment_id = ` + est + `)
		OR (` + a + `.coverage = 'maintained' AND EXISTS (SELECT 1 FROM responsibilities cr WHERE cr.domain = 'maintenance'
			AND cr.authority_id = ` + a + `.coverage_authority_id AND cr.establishment_id = ` + est + `)))`
}

// OrgName returns the name and kind of an organization within a scope, or
// sql.ErrNoRows.
func (s *Store) OrgName(ctx context.Context, q db.Querier, id int64, scope string, args []any) (Party, error) {
	var p Party
	err := q.QueryRowContext(ctx, `SELECT o.id, o.name, o.kind FROM organizations o WHERE o.id = ? AND `+scope,
		append([]any{id}, args...)...).Scan(&p.ID, &p.Name, &p.Kind)
	return p, err
}

// EstablishmentByUAI returns an establishment within a scope (on its
// organization id, aliased o), or sql.ErrNoRows.
func (s *Store) EstablishmentByUAI(ctx context.Context, uai, scope string, args []any) (Establishment, error) {
	var e Establishment
	err := s.db.QueryRowContext(ctx, `SELECT o.id, e.uai, o.name FROM establishments e JOIN organizations o ON o.id = e.org_id
		WHERE e.uai = ? AND `+scope, append([]any{uai}, args...)...).Scan(&e.ID, &e.UAI, &e.Name)
	return e, err
}

// EstablishmentIDsByUAI maps UAIs to organization ids; unknown ones are
// absent.
func (s *Store) EstablishmentIDsByUAI(ctx context.Context, q db.Querier, uais []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(uais) == 0 {
		return out, nil
	}
	args := make([]any, len(uais))
	for i, u := range uais {
		args[i] = u
	}
	rows, err := q.QueryContext(ctx, `SELECT uai, org_id FROM establishments WHERE uai IN (`+db.Placeholders(len(uais))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find establishments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var id int64
		if err := rows.Scan(&u, &id); err != nil {
			return nil, err
		}
		out[u] = id
	}
	return out, rows.Err()
}

// ---- Catalogue ----

// EnsureFamily returns the family (owner, name), creating it.
func (s *Store) EnsureFamily(ctx context.Context, q db.Querier, ownerID int64, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM service_families WHERE owner_id = ? AND name = ?`, ownerID, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find family %q: %w", name, err)
	}
	err = q.QueryRowContext(ctx, `INSERT INTO service_families (owner_id, name, position)
		VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM service_families WHERE owner_id = ?)) RETURNING id`,
		ownerID, name, ownerID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert family %q: %w", name, err)
	}
	return id, nil
}

// InsertService writes a service and its request types.
func (s *Store) InsertService(ctx context.Context, q db.Querier, o *Offering) error {
	now := time.Now().UTC()
	err := q.QueryRowContext(ctx, `INSERT INTO services (family_id, owner_id, code, name, description, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.FamilyID, o.OwnerID, o.Code, o.Name, o.Description, string(o.Status), now, now).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("insert service %s: %w", o.Code, err)
	}
	for i := range o.RequestTypes {
		rt := &o.RequestTypes[i]
		err := q.QueryRowContext(ctx, `INSERT INTO request_types (service_id, kind, imac, name, active) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			o.ID, rt.Kind, rt.IMAC, rt.Name, rt.Active).Scan(&rt.ID)
		if err != nil {
			return fmt.Errorf("insert request type %q: %w", rt.Name, err)
		}
	}
	return nil
}

const serviceColumns = `s.id, s.family_id, f.name, s.owner_id, o.name, s.code, s.name, s.description, s.status`

// Services lists the services matching cond (on aliases s, f, o), by
// family position and name, with their request types.
func (s *Store) Services(ctx context.Context, cond string, args []any) ([]Offering, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+serviceColumns+` FROM services s
		JOIN service_families f ON f.id = s.family_id JOIN organizations o ON o.id = s.owner_id
		WHERE `+cond+` ORDER BY o.name, f.position, f.name, s.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var out []Offering
	index := map[int64]int{}
	for rows.Next() {
		var o Offering
		if err := rows.Scan(&o.ID, &o.FamilyID, &o.FamilyName, &o.OwnerID, &o.OwnerName, &o.Code, &o.Name, &o.Description, &o.Status); err != nil {
			rows.Close()
			return nil, err
		}
		o.RequestTypes = []RequestType{}
		index[o.ID] = len(out)
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(out))
	for _, o := range out {
		ids = append(ids, o.ID)
	}
	rt, err := s.db.QueryContext(ctx, `SELECT service_id, id, kind, imac, name, active FROM request_types
		WHERE service_id IN (`+db.Placeholders(len(ids))+`) ORDER BY kind, name`, ids...)
	if err != nil {
		return nil, fmt.Errorf("list request types: %w", err)
	}
	defer rt.Close()
	for rt.Next() {
		var sid int64
		var r RequestType
		if err := rt.Scan(&sid, &r.ID, &r.Kind, &r.IMAC, &r.Name, &r.Active); err != nil {
			return nil, err
		}
		o := &out[index[sid]]
		o.RequestTypes = append(o.RequestTypes, r)
	}
	return out, rt.Err()
}

// ---- Calendars ----

// calendarRow is business_calendars as stored.
type calendarRow struct {
	BusinessCalendar
	hours                              string
	publicHolidays, whitMonday, alsace bool
	timeZone                           string
}

// InsertCalendar writes a calendar and its closures.
func (s *Store) InsertCalendar(ctx context.Context, q db.Querier, c *BusinessCalendar) error {
	hours, err := json.Marshal(c.Spec.Hours)
	if err != nil {
		return fmt.Errorf("encode hours: %w", err)
	}
	now := time.Now().UTC()
	err = q.QueryRowContext(ctx, `INSERT INTO business_calendars (owner_id, name, time_zone, weekly_hours, public_holidays,
		whit_monday_open, alsace_moselle, school_holiday_zone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.OwnerID, c.Name, c.Spec.TimeZone, string(hours), !c.Spec.OpenOnPublicHolidays, c.Spec.WhitMondayOpen, c.Spec.AlsaceMoselle,
		c.SchoolHolidayZone, now, now).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("insert calendar %q: %w", c.Name, err)
	}
	for _, cl := range c.Spec.Closures {
		if _, err := q.ExecContext(ctx, `INSERT INTO calendar_closures (calendar_id, starts_on, ends_on, label) VALUES (?, ?, ?, ?)`,
			c.ID, cl.From.String(), cl.To.String(), cl.Label); err != nil {
			return fmt.Errorf("insert closure: %w", err)
		}
	}
	return nil
}

// Calendars lists the calendars matching cond (aliases c and o), by name,
// closures included.
func (s *Store) Calendars(ctx context.Context, cond string, args []any) ([]BusinessCalendar, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.owner_id, o.name, c.name, c.time_zone, c.weekly_hours, c.public_holidays,
		c.whit_monday_open, c.alsace_moselle, c.school_holiday_zone
		FROM business_calendars c JOIN organizations o ON o.id = c.owner_id WHERE `+cond+` ORDER BY o.name, c.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	var out []BusinessCalendar
	for rows.Next() {
		var r calendarRow
		if err := rows.Scan(&r.ID, &r.OwnerID, &r.Owner, &r.Name, &r.timeZone, &r.hours, &r.publicHolidays,
			&r.whitMonday, &r.alsace, &r.SchoolHolidayZone); err != nil {
			rows.Close()
			return nil, err
		}
		bc := r.BusinessCalendar
		bc.Spec = Spec{TimeZone: r.timeZone, HolidayOptions: HolidayOptions{WhitMondayOpen: r.whitMonday, AlsaceMoselle: r.alsace},
			OpenOnPublicHolidays: !r.publicHolidays, ClosedDuringSchoolHolidays: r.SchoolHolidayZone != ""}
		if err := json.Unmarshal([]byte(r.hours), &bc.Spec.Hours); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode hours of calendar %d: %w", r.ID, err)
		}
		out = append(out, bc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		cl, err := s.closures(ctx, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Spec.Closures = cl
	}
	return out, nil
}

func (s *Store) closures(ctx context.Context, calendarID int64) ([]Closure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT starts_on, ends_on, label FROM calendar_closures WHERE calendar_id = ? ORDER BY starts_on`, calendarID)
	if err != nil {
		return nil, fmt.Errorf("list closures: %w", err)
	}
	defer rows.Close()
	var out []Closure
	for rows.Next() {
		var from, to string
		var c Closure
		if err := rows.Scan(&from, &to, &c.Label); err != nil {
			return nil, err
		}
		var err1, err2 error
		c.From, err1 = ParseDate(from)
		c.To, err2 = ParseDate(to)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("closure of calendar %d has a bad date %q–%q", calendarID, from, to)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SchoolHolidays reads the school holidays of a zone from the territory's
// table, the ones pupils have (population empty, "-" or "Élèves"): the
// teachers' rows end the summer earlier. Every académie of a zone carries
// the same periods, so they are deduplicated.
func (s *Store) SchoolHolidays(ctx context.Context, zone string) ([]Period, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT description, starts_at, ends_at FROM school_holidays
		WHERE zone = ? AND population IN ('', '-', 'Élèves') ORDER BY starts_at, ends_at, description`, zone)
	if err != nil {
		return nil, fmt.Errorf("read school holidays of %s: %w", zone, err)
	}
	defer rows.Close()
	var out []Period
	for rows.Next() {
		var label, start, end string
		if err := rows.Scan(&label, &start, &end); err != nil {
			return nil, err
		}
		from, err1 := time.Parse(time.RFC3339, start)
		to, err2 := time.Parse(time.RFC3339, end)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("school holiday %q of %s: bad instants %q–%q", label, zone, start, end)
		}
		// Two rows for one period (two descriptions spelled apart) would
		// be the same days: keep one.
		if k := len(out) - 1; k >= 0 && out[k].Start.Equal(from) && out[k].End.Equal(to) {
			continue
		}
		out = append(out, Period{Start: from, End: to, Label: label})
	}
	return out, rows.Err()
}

// ---- Teams ----

// InsertTeam writes a team.
func (s *Store) InsertTeam(ctx context.Context, q db.Querier, t *Team) error {
	err := q.QueryRowContext(ctx, `INSERT INTO teams (org_id, name, level, contractor, email) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		t.OrgID, t.Name, t.Level, t.Contractor, t.Email).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("insert team %q: %w", t.Name, err)
	}
	return nil
}

// Teams returns teams by id.
func (s *Store) Teams(ctx context.Context, q db.Querier, ids []int64) (map[int64]Team, error) {
	out := map[int64]Team{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT id, org_id, name, level, contractor, email FROM teams WHERE id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.OrgID, &t.Name, &t.Level, &t.Contractor, &t.Email); err != nil {
			return nil, err
		}
		out[t.ID] = t
	}
	return out, rows.Err()
}

// TeamsOf lists the teams of the organizations matching cond (alias t).
func (s *Store) TeamsOf(ctx context.Context, cond string, args []any) ([]Team, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.org_id, t.name, t.level, t.contractor, t.email FROM teams t WHERE `+cond+`
		ORDER BY t.level, t.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.OrgID, &t.Name, &t.Level, &t.Contractor, &t.Email); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
