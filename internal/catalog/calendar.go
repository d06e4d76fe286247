// Package catalog is the service offer: services, conventions, service
// levels and the business calendars their deadlines are counted on.
package catalog

import (
	"slices"
	"sort"
	"time"
)

// DefaultTimeZone is the zone of a calendar that names none: every school
// of the platform lives in metropolitan France.
const DefaultTimeZone = "Europe/Paris"

// TimeRange is an opening range of a day, "08:00" to "12:00". End may be
// "24:00" (midnight at the end of the day); a range never crosses midnight,
// an overnight service is two ranges on two days.
type TimeRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Closure closes a service for whole days, From and To included, because
// that is how people write them ("fermé du 24 au 26 décembre").
type Closure struct {
	From  Date   `json:"from"`
	To    Date   `json:"to"`
	Label string `json:"label,omitempty"`
}

// Period is a school-holiday period: it covers the local days from Start's
// date up to, but not including, End's date, End being the day classes
// resume (the convention of the national calendar). The time of day of
// Start and End is ignored. territory.Holiday converts as
// Period{h.StartsAt, h.EndsAt, h.Description}.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Label string    `json:"label,omitempty"`
}

// Spec is a business calendar as it is stored and edited.
type Spec struct {
	// TimeZone is an IANA name; empty means DefaultTimeZone.
	TimeZone string `json:"time_zone,omitempty"`
	// Hours maps a weekday, in French ("lundi") or English ("monday"), to
	// its opening ranges. A day absent from the map is closed.
	Hours map[string][]TimeRange `json:"hours"`
	HolidayOptions
	// OpenOnPublicHolidays is for round-the-clock services (24/7 on-call).
	OpenOnPublicHolidays bool      `json:"open_on_public_holidays,omitempty"`
	Closures             []Closure `json:"closures,omitempty"`
	// ClosedDuringSchoolHolidays closes the service during the school
	// holidays of its zone; the periods are given to NewCalendar.
	ClosedDuringSchoolHolidays bool `json:"closed_during_school_holidays,omitempty"`
}

// Calendar is a validated, compiled business calendar, built by NewCalendar
// (the zero value is not usable). It is immutable, so
// one value is safely shared by every goroutine; everything a deadline needs
// is precomputed by NewCalendar, except the public holidays, which cost a
// few integer operations per year and are memoized per call.
type Calendar struct {
	spec Spec
	loc  *time.Location
	// week holds, per time.Weekday, the opening ranges as minutes from
	// local midnight, sorted and with touching ranges merged.
	week [7][]span
	// closed is the merged, sorted union of closures and school holidays,
	// as [from, to) day numbers, so the loop jumps over a fortnight at once.
	closed []dayRange
	// labeled keeps each closure and holiday period apart, with its label,
	// to tell a user why a day is closed.
	labeled []dayRange
	// schoolUntil is the day after the last known school-holiday period
	// (0 when none was given).
	schoolUntil int
}

// span is an opening range in minutes from local midnight, end ≤ 1440.
type span struct{ start, end int }

// dayRange is [from, to) in day numbers.
type dayRange struct {
	from, to int
	label    string
}

// NewCalendar validates spec and compiles it. schoolHolidays is read only
// when spec.ClosedDuringSchoolHolidays is set. Errors are *problem.Error
// with a French message naming each faulty day and range.
func NewCalendar(spec Spec, schoolHolidays []Period) (*Calendar, error) {
	c, err := compile(spec, schoolHolidays)
	if err != nil {
		return nil, err
	}
	c.spec = cloneSpec(spec)
	return c, nil
}

// Location is the calendar's time zone; every instant it returns is in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// Spec returns a copy of the definition the calendar was built from.
func (c *Calendar) Spec() Spec { return cloneSpec(c.spec) }

// SchoolHolidaysKnownUntil is the day after the last school-holiday period
// the calendar knows. A calendar closed during school holidays counts the
// days after it as ordinary days; callers should warn before then, or
// rebuild the calendar once the next school year is published.
func (c *Calendar) SchoolHolidaysKnownUntil() (Date, bool) {
	if c.schoolUntil == 0 {
		return Date{}, false
	}
	return dateOfDays(c.schoolUntil), true
}

// IsOpen reports whether the service is open at instant t.
func (c *Calendar) IsOpen(t time.Time) bool {
	t = t.In(c.loc)
	n := DateOf(t).days()
	for day := range c.openDays(n, n) {
		for _, sp := range day.spans {
			if !t.Before(day.at(c.loc, sp.start)) && t.Before(day.at(c.loc, sp.end)) {
				return true
			}
		}
	}
	return false
}

// ClosedReason tells why the whole local day of t is closed ("Noël",
// "Vacances de Noël", "samedi"), or reports false when the day has opening
// hours. Explanations of deadlines show it beside the skipped days.
func (c *Calendar) ClosedReason(t time.Time) (string, bool) {
	n := dayIn(t, c.loc)
	if !c.spec.OpenOnPublicHolidays {
		h := holidaysOf(dateOfDays(n).Year, c.spec.HolidayOptions)
		if name, ok := h.name(n); ok {
			return name, true
		}
	}
	for _, r := range c.labeled {
		if r.from <= n && n < r.to {
			return r.label, true
		}
	}
	if wd := weekdayOf(n); len(c.week[wd]) == 0 {
		return frenchWeekday(wd), true
	}
	return "", false
}

// closedAt returns the merged closed range holding day n, if any.
func (c *Calendar) closedAt(n int) (dayRange, bool) {
	i := sort.Search(len(c.closed), func(i int) bool { return c.closed[i].to > n })
	if i < len(c.closed) && c.closed[i].from <= n {
		return c.closed[i], true
	}
	return dayRange{}, false
}

func cloneSpec(s Spec) Spec {
	hours := make(map[string][]TimeRange, len(s.Hours))
	for k, v := range s.Hours {
		hours[k] = slices.Clone(v)
	}
	s.Hours = hours
	s.Closures = slices.Clone(s.Closures)
	return s
}
