package governance

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteICal writes meetings as an iCalendar (RFC 5545) calendar: one
// VEVENT per meeting, times in UTC, text escaped and lines folded at 75
// octets without splitting a UTF-8 character.
func WriteICal(w io.Writer, host string, meetings []Meeting, now time.Time) error {
	var b strings.Builder
	line := func(name, value string) { b.WriteString(fold(name + ":" + value)) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Socle//Gouvernance//FR")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", escapeText("Séances des instances"))
	stamp := now.UTC().Format("20060102T150405Z")
	for _, m := range meetings {
		line("BEGIN", "VEVENT")
		line("UID", "meeting-"+strconv.FormatInt(m.ID, 10)+"@"+host)
		line("DTSTAMP", stamp)
		line("DTSTART", m.StartsAt.UTC().Format("20060102T150405Z"))
		line("DTEND", m.EndsAt.UTC().Format("20060102T150405Z"))
		line("SUMMARY", escapeText(m.BodyName+" — "+m.Title))
		if m.Place != "" {
			line("LOCATION", escapeText(m.Place))
		}
		if m.Agenda != "" {
			line("DESCRIPTION", escapeText("Ordre du jour :\n"+m.Agenda))
		}
		status := "CONFIRMED"
		line("STATUS", status)
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// fold splits a content line into lines of at most 75 octets, each
// continuation starting with a space (RFC 5545 3.1), and ends it with CRLF.
func fold(s string) string {
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
