package catalog

import (
	"fmt"
	"iter"
	"time"

	"socle/internal/platform/problem"
)

// Interval is the span of instants [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Duration is the elapsed time of the interval.
func (i Interval) Duration() time.Duration { return i.End.Sub(i.Start) }

// maxScanYears bounds the search for open time: a calendar whose closures
// cover decades would otherwise loop for ever.
const maxScanYears = 20

// Deadline adds d of open time to start (an instant in any zone) and
// returns the due instant, in the calendar's zone, with the open intervals
// counted, for the explanation shown to users. Open time is elapsed time:
// on the day clocks go forward a 24/7 service has 23 hours.
//
// When the count ends exactly at a closing time, the due instant is that
// closing time (12:00), not the next opening (13:30): the work was due
// before the service closed.
func (c *Calendar) Deadline(start time.Time, d time.Duration) (due time.Time, intervals []Interval, err error) {
	if d < 0 {
		return time.Time{}, nil, problem.Invalid("delay_invalid", "Le délai doit être positif.")
	}
	start = start.In(c.loc)
	if d == 0 {
		return start, nil, nil
	}
	remaining := d
	first := dayIn(start, c.loc)
	for day := range c.openDays(first, first+maxScanYears*366) {
		for _, sp := range day.spans {
			s, e := day.at(c.loc, sp.start), day.at(c.loc, sp.end)
			if s.Before(start) {
				s = start
			}
			if !e.After(s) {
				continue
			}
			avail := e.Sub(s)
			if avail >= remaining {
				due = s.Add(remaining)
				return due, appendInterval(intervals, s, due), nil
			}
			remaining -= avail
			intervals = appendInterval(intervals, s, e)
		}
	}
	return time.Time{}, nil, neverOpen(start)
}

// DeadlineDays counts n business days ("jours ouvrés") from start. The rule,
// the one French administrations use for "délai de n jours ouvrés":
//
//   - a day counts when it is open and starts (first opening) at or after
//     start; so the day of the request does not count, unless the request
//     arrived before that day's opening;
//   - the due instant is the closing time of the nth counted day.
//
// A request on Tuesday 10:00 with "3d" is due Friday at closing time; one
// sent on Saturday, or on Monday at 07:00, is due Wednesday at closing time.
// Unlike "n × the hours of a standard day", it needs no notion of a standard
// day (school services often close on Wednesday afternoons) and it reads
// plainly: "avant la fermeture du 3e jour ouvré suivant". The intervals
// returned include what is left of the day of the request: it is open time
// the service had, and pauses are measured against it.
func (c *Calendar) DeadlineDays(start time.Time, n int) (due time.Time, intervals []Interval, err error) {
	if n <= 0 {
		return time.Time{}, nil, problem.Invalid("delay_invalid", "Le nombre de jours ouvrés doit être positif.")
	}
	start = start.In(c.loc)
	counted := 0
	first := dayIn(start, c.loc)
	for day := range c.openDays(first, first+maxScanYears*366) {
		if !day.at(c.loc, day.spans[0].start).Before(start) {
			counted++
		}
		for _, sp := range day.spans {
			s, e := day.at(c.loc, sp.start), day.at(c.loc, sp.end)
			if s.Before(start) {
				s = start
			}
			if e.After(s) {
				intervals = appendInterval(intervals, s, e)
			}
		}
		if counted == n {
			return day.at(c.loc, day.spans[len(day.spans)-1].end), intervals, nil
		}
	}
	return time.Time{}, nil, neverOpen(start)
}

// OpenDuration is the open time between from and to, with the open
// intervals it is made of. It is zero when to is not after from.
func (c *Calendar) OpenDuration(from, to time.Time) (time.Duration, []Interval) {
	if !to.After(from) {
		return 0, nil
	}
	from, to = from.In(c.loc), to.In(c.loc)
	var total time.Duration
	var intervals []Interval
	for day := range c.openDays(dayIn(from, c.loc), dayIn(to, c.loc)) {
		for _, sp := range day.spans {
			s, e := day.at(c.loc, sp.start), day.at(c.loc, sp.end)
			if s.Before(from) {
				s = from
			}
			if e.After(to) {
				e = to
			}
			if e.After(s) {
				total += e.Sub(s)
				intervals = appendInterval(intervals, s, e)
			}
		}
	}
	return total, intervals
}

// openDay is a day with opening hours, neither closed nor a holiday.
type openDay struct {
	date  Date
	spans []span // never empty
}

// at is the instant of minute m of the day. time.Date normalizes m = 1440
// to the next midnight, and places wall times in the zone, DST included.
func (d openDay) at(loc *time.Location, m int) time.Time {
	return time.Date(d.date.Year, d.date.Month, d.date.Day, 0, m, 0, 0, loc)
}

// openDays yields the open days from day number first to last included.
// Closed ranges are skipped in one jump, weekends and holidays in a few
// integer operations: no time.Time is built for a closed day.
func (c *Calendar) openDays(first, last int) iter.Seq[openDay] {
	return func(yield func(openDay) bool) {
		var hol holidayYear // memo of the year being walked
		for n := first; n <= last; n++ {
			if r, ok := c.closedAt(n); ok {
				n = r.to - 1
				continue
			}
			spans := c.week[weekdayOf(n)]
			if len(spans) == 0 {
				continue
			}
			date := dateOfDays(n)
			if !c.spec.OpenOnPublicHolidays {
				if hol.year != date.Year || hol.n == 0 {
					hol = holidaysOf(date.Year, c.spec.HolidayOptions)
				}
				if _, ok := hol.name(n); ok {
					continue
				}
			}
			if !yield(openDay{date, spans}) {
				return
			}
		}
	}
}

// appendInterval merges an interval touching the previous one, so that a
// 24/7 service shows one interval rather than one per day.
func appendInterval(list []Interval, s, e time.Time) []Interval {
	if k := len(list) - 1; k >= 0 && list[k].End.Equal(s) {
		list[k].End = e
		return list
	}
	return append(list, Interval{s, e})
}

func neverOpen(start time.Time) error {
	return problem.Invalid("calendar_never_open", fmt.Sprintf(
		"Le calendrier n'a aucune heure d'ouverture dans les %d ans qui suivent le %s : vérifiez ses fermetures.",
		maxScanYears, start.Format("02/01/2006")))
}
