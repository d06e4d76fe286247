package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Calendars lists the readable business calendars.
func (s *Service) Calendars(ctx context.Context, p *auth.Principal) ([]BusinessCalendar, error) {
	cond, args := readOwnedSQL(p, "c.owner_id", "calendar_id", "c.id")
	list, err := s.store.Calendars(ctx, cond, args)
	if list == nil {
		list = []BusinessCalendar{}
	}
	return list, err
}

// BusinessCalendar returns a readable calendar, as stored and compiled.
func (s *Service) BusinessCalendar(ctx context.Context, p *auth.Principal, id int64) (BusinessCalendar, *Calendar, error) {
	cond, args := readOwnedSQL(p, "c.owner_id", "calendar_id", "c.id")
	list, err := s.store.Calendars(ctx, "c.id = ? AND "+cond, append([]any{id}, args...))
	if err != nil {
		return BusinessCalendar{}, nil, err
	}
	if len(list) == 0 {
		return BusinessCalendar{}, nil, problem.NotFound("Calendrier")
	}
	cal, err := s.compile(ctx, list[0])
	return list[0], cal, err
}

// Calendar returns the compiled calendar id, with no permission check: it
// is for internal use (the helpdesk's SLA clocks), never for a request.
func (s *Service) Calendar(ctx context.Context, id int64) (*Calendar, error) {
	list, err := s.store.Calendars(ctx, "c.id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("calendar %d: %w", id, sql.ErrNoRows)
	}
	return s.compile(ctx, list[0])
}

// compile turns a stored calendar into a Calendar, with the school
// holidays of its zone read from the territory's calendar.
func (s *Service) compile(ctx context.Context, bc BusinessCalendar) (*Calendar, error) {
	var periods []Period
	if bc.SchoolHolidayZone != "" {
		var err error
		if periods, err = s.store.SchoolHolidays(ctx, bc.SchoolHolidayZone); err != nil {
			return nil, err
		}
	}
	cal, err := NewCalendar(bc.Spec, periods)
	if err != nil {
		return nil, fmt.Errorf("compile calendar %d: %w", bc.ID, err)
	}
	return cal, nil
}

// CalendarInput is a new business calendar.
type CalendarInput struct {
	OwnerID  int64                  `json:"owner_id"`
	Name     string                 `json:"name"`
	TimeZone string                 `json:"time_zone"`
	Hours    map[string][]TimeRange `json:"hours"`
	// PublicHolidays closes the calendar on public holidays; nil means
	// true, the usual case.
	PublicHolidays *bool `json:"public_holidays"`
	HolidayOptions
	// SchoolHolidayZone ("Zone B") closes the calendar during the school
	// holidays of that zone.
	SchoolHolidayZone string    `json:"school_holiday_zone"`
	Closures          []Closure `json:"closures"`
}

// CreateCalendar validates and stores a calendar. It is compiled first with
// the school holidays of its zone, so that a calendar that could not be
// used for a deadline is never stored.
func (s *Service) CreateCalendar(ctx context.Context, p *auth.Principal, in CalendarInput) (BusinessCalendar, *Calendar, error) {
	if !p.Has(auth.PermCatalogManage) {
		return BusinessCalendar{}, nil, problem.Forbidden()
	}
	bc := BusinessCalendar{OwnerID: in.OwnerID, Name: strings.TrimSpace(in.Name), SchoolHolidayZone: strings.TrimSpace(in.SchoolHolidayZone),
		Spec: Spec{TimeZone: strings.TrimSpace(in.TimeZone), Hours: in.Hours, HolidayOptions: in.HolidayOptions, Closures: in.Closures}}
	if bc.Spec.TimeZone == "" {
		bc.Spec.TimeZone = DefaultTimeZone
	}
	bc.Spec.OpenOnPublicHolidays = in.PublicHolidays != nil && !*in.PublicHolidays
	bc.Spec.ClosedDuringSchoolHolidays = bc.SchoolHolidayZone != ""
	if bc.Name == "" {
		return bc, nil, problem.Invalid("calendar_invalid", "Calendrier invalide : le nom est requis.").Field("name", "Le nom est requis.")
	}
	// Compiled before the write transaction, which stays short.
	cal, err := s.compile(ctx, bc)
	if err != nil {
		return bc, nil, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := s.managedOwner(ctx, tx, p, in.OwnerID)
		if err != nil {
			return err
		}
		bc.Owner = owner.Name
		if err := s.store.InsertCalendar(ctx, tx, &bc); err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("calendar_name_taken", "Un calendrier « "+bc.Name+" » existe déjà pour cette organisation.").Field("name", "Nom déjà utilisé.").Wrap(err)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return BusinessCalendar{}, nil, err
	}
	return bc, cal, nil
}

// DeadlineResult is a simulated deadline.
type DeadlineResult struct {
	Start     time.Time  `json:"start"`
	Delay     Delay      `json:"duration"`
	Due       time.Time  `json:"due"`
	Intervals []Interval `json:"intervals"`
	// OpenSeconds is the open time counted, the sum of the intervals.
	OpenSeconds int64 `json:"open_seconds"`
}

// Deadline computes, on a readable calendar, the due instant of a delay
// starting at start (the deadline simulator).
func (s *Service) Deadline(ctx context.Context, p *auth.Principal, calendarID int64, start time.Time, d Delay) (DeadlineResult, error) {
	_, cal, err := s.BusinessCalendar(ctx, p, calendarID)
	if err != nil {
		return DeadlineResult{}, err
	}
	due, ivs, err := cal.DeadlineFor(start, d)
	if err != nil {
		return DeadlineResult{}, err
	}
	r := DeadlineResult{Start: start.In(cal.Location()), Delay: d, Due: due, Intervals: ivs}
	if r.Intervals == nil {
		r.Intervals = []Interval{}
	}
	for _, iv := range ivs {
		r.OpenSeconds += int64(iv.Duration() / time.Second)
	}
	return r, nil
}

// ParseStart reads a start instant as the API and the simulator form give
// it: RFC 3339, or a Paris wall time "2006-01-02T15:04" (what a
// datetime-local field sends).
func ParseStart(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, problem.Invalid("start_invalid",
		fmt.Sprintf("Date de début « %s » invalide : format RFC 3339 attendu, par exemple 2025-11-10T16:00:00+01:00.", s)).Field("start", "Date et heure attendues.")
}

// errNotFound reports sql.ErrNoRows as a 404 of what.
func errNotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return problem.NotFound(what)
	}
	return err
}
