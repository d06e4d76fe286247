// Package ical writes iCalendar (RFC 5545) calendars: the plan's
// operations and the governance bodies' meetings are exported so people
// add them to their own calendars. Writing is small enough to do by hand;
// what matters are the encoding rules, which the tests pin: CRLF line
// ends, lines folded at 75 octets without cutting a UTF-8 character, TEXT
// values escaped.
package ical

import (
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is what a calendar says of itself.
type Calendar struct {
	// ProdID names the product and the export, e.g.
	// "-//Socle//Gouvernance//FR".
	ProdID string
	// Name is shown by calendar applications (X-WR-CALNAME).
	Name string
	// Stamp is when the calendar was made (each event's DTSTAMP).
	Stamp time.Time
}

// Event is one VEVENT.
type Event struct {
	UID         string
	Summary     string
	Description string
	Location    string
	Categories  string
	// Status is TENTATIVE, CONFIRMED or CANCELLED; empty: none.
	Status string
	// Start and End: instants written in UTC; with AllDay, dates (their
	// year, month and day), End exclusive as RFC 5545 wants.
	Start, End time.Time
	AllDay     bool
}

// Write writes the calendar and its events.
func Write(w io.Writer, c Calendar, events []Event) error {
	var b strings.Builder
	line := func(name, value string) { b.WriteString(Fold(name + ":" + value)) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", c.ProdID)
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", Escape(c.Name))
	stamp := c.Stamp.UTC().Format("20060102T150405Z")
	for _, e := range events {
		line("BEGIN", "VEVENT")
		line("UID", e.UID)
		line("DTSTAMP", stamp)
		if e.AllDay {
			line("DTSTART;VALUE=DATE", e.Start.Format("20060102"))
			line("DTEND;VALUE=DATE", e.End.Format("20060102"))
		} else {
			line("DTSTART", e.Start.UTC().Format("20060102T150405Z"))
			line("DTEND", e.End.UTC().Format("20060102T150405Z"))
		}
		line("SUMMARY", Escape(e.Summary))
		for _, p := range [][2]string{{"LOCATION", e.Location}, {"DESCRIPTION", e.Description}, {"CATEGORIES", e.Categories}} {
			if p[1] != "" {
				line(p[0], Escape(p[1]))
			}
		}
		if e.Status != "" {
			line("STATUS", e.Status)
		}
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

// textEscaper escapes a TEXT value (RFC 5545 3.3.11).
var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// Escape escapes a TEXT value.
func Escape(s string) string { return textEscaper.Replace(s) }

// Fold splits a content line into lines of at most 75 octets, each
// continuation starting with a space (RFC 5545 3.1), and ends it with CRLF.
func Fold(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
