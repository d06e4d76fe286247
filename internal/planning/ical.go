package planning

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// The iCalendar export (RFC 5545) is small enough to write by hand: one
// VCALENDAR of all-day VEVENTs. What matters is the encoding rules, which
// the tests pin: CRLF line ends, lines folded at 75 octets without cutting
// a UTF-8 character, TEXT values escaped (backslash, semicolon, comma,
// newline), DTEND exclusive for all-day events.

// icalEscape escapes a TEXT value.
func icalEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// icalFold folds a content line at 75 octets: continuation lines start with
// one space, which counts in their 75.
func icalFold(line string) string {
	if len(line) <= 75 {
		return line + "\r\n"
	}
	var b strings.Builder
	limit := 75
	for len(line) > 0 {
		if len(line) <= limit {
			b.WriteString(line)
			b.WriteString("\r\n")
			break
		}
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74
	}
	return b.String()
}

// icalEvent is one all-day event.
type icalEvent struct {
	UID         string
	Summary     string
	Description string
	Start, End  string // ISO dates, End inclusive
	Status      string // TENTATIVE, CONFIRMED, CANCELLED
	Categories  string
}

// writeICal writes a calendar.
func writeICal(w io.Writer, name string, stamp time.Time, events []icalEvent) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(icalFold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Socle//Plan de deploiement//FR")
	line("CALSCALE:GREGORIAN")
	line("X-WR-CALNAME:" + icalEscape(name))
	for _, e := range events {
		start, err := time.Parse(dateLayout, e.Start)
		if err != nil {
			return fmt.Errorf("event %s start: %w", e.UID, err)
		}
		end, err := time.Parse(dateLayout, e.End)
		if err != nil {
			return fmt.Errorf("event %s end: %w", e.UID, err)
		}
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + stamp.UTC().Format("20060102T150405Z"))
		line("DTSTART;VALUE=DATE:" + start.Format("20060102"))
		line("DTEND;VALUE=DATE:" + end.AddDate(0, 0, 1).Format("20060102"))
		line("SUMMARY:" + icalEscape(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + icalEscape(e.Description))
		}
		if e.Categories != "" {
			line("CATEGORIES:" + icalEscape(e.Categories))
		}
		if e.Status != "" {
			line("STATUS:" + e.Status)
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

// PlanCalendar writes the operations of a plan as iCalendar, for the
// people involved (owner filters on the owner, case-insensitive; empty: all).
func planEvents(pl Plan, host, owner string) []icalEvent {
	var out []icalEvent
	for _, o := range pl.Operations {
		if owner != "" && !strings.EqualFold(strings.TrimSpace(o.Owner), strings.TrimSpace(owner)) {
			continue
		}
		status := "TENTATIVE"
		switch o.Status {
		case OpInProgress, OpDone:
			status = "CONFIRMED"
		case OpCancelled:
			status = "CANCELLED"
		}
		desc := o.Kind.Label() + " — " + o.Status.Label()
		if o.Owner != "" {
			desc += "\nResponsable : " + o.Owner
		}
		if len(o.Establishments) > 0 {
			desc += "\nÉtablissements : " + strings.Join(o.Establishments, ", ")
		}
		out = append(out, icalEvent{UID: fmt.Sprintf("plan-%d-op-%d@%s", pl.ID, o.ID, host), Summary: o.Kind.Label() + " : " + o.Title,
			Description: desc, Start: o.StartsOn, End: o.EndsOn, Status: status, Categories: o.Kind.Label()})
	}
	return out
}
