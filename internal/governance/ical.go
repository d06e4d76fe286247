package governance

import (
	"strconv"
	"time"

	"socle/internal/platform/ical"
)

// meetingEvents gives meetings as calendar events, times in UTC.
func meetingEvents(host string, meetings []Meeting) []ical.Event {
	out := make([]ical.Event, 0, len(meetings))
	for _, m := range meetings {
		e := ical.Event{UID: "meeting-" + strconv.FormatInt(m.ID, 10) + "@" + host, Summary: m.BodyName + " — " + m.Title,
			Location: m.Place, Status: "CONFIRMED", Start: m.StartsAt, End: m.EndsAt}
		if m.Agenda != "" {
			e.Description = "Ordre du jour :\n" + m.Agenda
		}
		out = append(out, e)
	}
	return out
}

// meetingsCalendar is what the meetings' calendar says of itself.
func meetingsCalendar(stamp time.Time) ical.Calendar {
	return ical.Calendar{ProdID: "-//Socle//Gouvernance//FR", Name: "Séances des instances", Stamp: stamp}
}
