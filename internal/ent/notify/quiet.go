package notify

import (
	"socle/internal/platform/web"
	"time"
)

// QuietHours are when no e-mail leaves: the evening and night of working
// days, and the whole weekend, in the territory's time zone.
//
// The rule, chosen so a pupil or a parent is never mailed after dinner or
// on a Sunday: a mail that falls due in quiet hours waits for the next
// working morning at MorningHour (Monday to Friday; public holidays are not
// known here and count as working days). So an immediate notification at
// 21:00 on a Tuesday is mailed on Wednesday at 07:00, one on Friday at
// 21:00 (or on Saturday) on Monday at 07:00, one at 05:30 on a Thursday the
// same day at 07:00. Daily digests leave at MorningHour on working days and
// gather everything since the previous one (Saturday's and Sunday's go in
// Monday's); weekly digests leave on Monday at MorningHour.
type QuietHours struct {
	// EveningHour starts the quiet evening (19 = 19:00).
	EveningHour int
	// MorningHour ends the night and is when digests leave (7 = 07:00).
	MorningHour int
	// Location is the time zone of the hours (Europe/Paris).
	Location *time.Location
}

// DefaultQuietHours are 19:00 to 07:00 and the weekend, Paris time.
func DefaultQuietHours() QuietHours {
	return QuietHours{EveningHour: 19, MorningHour: 7, Location: web.Paris()}
}

func (q QuietHours) orDefault() QuietHours {
	if q.Location == nil {
		return DefaultQuietHours()
	}
	return q
}

func workingDay(d time.Weekday) bool { return d != time.Saturday && d != time.Sunday }

// Quiet reports whether t falls in quiet hours.
func (q QuietHours) Quiet(t time.Time) bool {
	q = q.orDefault()
	l := t.In(q.Location)
	return !workingDay(l.Weekday()) || l.Hour() >= q.EveningHour || l.Hour() < q.MorningHour
}

// nextMorning is the first working morning at MorningHour at or after t.
func (q QuietHours) nextMorning(t time.Time) time.Time {
	q = q.orDefault()
	l := t.In(q.Location)
	day := time.Date(l.Year(), l.Month(), l.Day(), q.MorningHour, 0, 0, 0, q.Location)
	for day.Before(l) || !workingDay(day.Weekday()) {
		// Rebuilding the date keeps 07:00 on the wall clock across
		// daylight-saving changes, where adding 24 h would not.
		day = time.Date(day.Year(), day.Month(), day.Day()+1, q.MorningHour, 0, 0, 0, q.Location)
	}
	return day
}

// Due is when a mail of frequency f about something that happened at t
// leaves; quiet says whether the person keeps quiet hours (digests always
// leave in the morning).
func (q QuietHours) Due(f Frequency, t time.Time, quiet bool) time.Time {
	switch f {
	case Daily:
		return q.nextMorning(t).UTC()
	case Weekly:
		m := q.nextMorning(t)
		for m.Weekday() != time.Monday {
			m = q.nextMorning(m.Add(time.Minute))
		}
		return m.UTC()
	}
	if quiet && q.Quiet(t) {
		return q.nextMorning(t).UTC()
	}
	return t.UTC()
}
