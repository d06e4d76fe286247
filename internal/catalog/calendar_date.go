package catalog

import (
	"fmt"
	"time"

	"socle/internal/platform/problem"
)

// Date is a day of the civil calendar, without time zone. Closures and
// public holidays are days; a day only becomes an interval of instants once
// a calendar's time zone places it, which is why they are not time.Time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02" and rejects impossible days (2025-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, problem.Invalid("date_invalid",
			fmt.Sprintf("Date « %s » invalide (format AAAA-MM-JJ attendu).", s)).Wrap(err)
	}
	return DateOf(t), nil
}

func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date (no date given).
func (d Date) IsZero() bool { return d == Date{} }

// MarshalText writes the ISO form the API uses.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the ISO form the API uses.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.days()) }

// AddDays is the date n days after d (before when n < 0).
func (d Date) AddDays(n int) Date { return dateOfDays(d.days() + n) }

// In is midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// days numbers d from 1970-01-01 (day 0). Counting days as plain integers
// lets the deadline loop step, compare and jump over closed ranges without
// building a time.Time per day; the algorithm is Howard Hinnant's
// days_from_civil, exact on the proleptic Gregorian calendar.
func (d Date) days() int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m - 3
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateOfDays is the inverse of Date.days (Hinnant's civil_from_days).
func dateOfDays(z int) Date {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return Date{y, time.Month(m), day}
}

// weekdayOf is the weekday of day number n (1970-01-01 was a Thursday).
func weekdayOf(n int) time.Weekday {
	return time.Weekday(((n % 7) + 7 + int(time.Thursday)) % 7)
}

// dayIn is the day number of instant t in loc.
func dayIn(t time.Time, loc *time.Location) int {
	return DateOf(t.In(loc)).days()
}
