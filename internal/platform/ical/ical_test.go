package ical

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEscapeAndFold(t *testing.T) {
	if got := Escape("a;b,c\\d\ne"); got != `a\;b\,c\\d\ne` {
		t.Errorf("escape %q", got)
	}
	long := "SUMMARY:" + strings.Repeat("é", 60)
	folded := Fold(long)
	for i, l := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		if len(l) > 75 || (i > 0 && !strings.HasPrefix(l, " ")) {
			t.Errorf("line %d %q", i, l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d cuts a character", i)
		}
	}
	if strings.ReplaceAll(strings.ReplaceAll(folded, "\r\n ", ""), "\r\n", "") != long {
		t.Error("unfolding does not give the line back")
	}
	if Fold("SHORT:x") != "SHORT:x\r\n" {
		t.Error("a short line is not left whole")
	}
}

// Timed events are in UTC, all-day ones are dates; every line ends with
// CRLF and none is longer than 75 octets.
func TestWrite(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	var buf bytes.Buffer
	err := Write(&buf, Calendar{ProdID: "-//Socle//Test//FR", Name: "Séances ; comités", Stamp: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, []Event{
		{UID: "a@socle", Summary: strings.Repeat("Comité de pilotage ", 6), Location: "Rectorat", Status: "CONFIRMED",
			Start: time.Date(2026, 10, 15, 10, 0, 0, 0, paris), End: time.Date(2026, 10, 15, 12, 0, 0, 0, paris)},
		{UID: "b@socle", Summary: "Déploiement", Categories: "Déploiement", AllDay: true,
			Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "X-WR-CALNAME:Séances \\; comités\r\n", "DTSTAMP:20261001T000000Z\r\n",
		"DTSTART:20261015T080000Z\r\n", "DTEND:20261015T100000Z\r\n", "LOCATION:Rectorat\r\n", "STATUS:CONFIRMED\r\n",
		"DTSTART;VALUE=DATE:20260302\r\n", "DTEND;VALUE=DATE:20260401\r\n", "CATEGORIES:Déploiement\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("calendar lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "BEGIN:VEVENT") != 2 || strings.Contains(s, "DESCRIPTION") {
		t.Errorf("events:\n%s", s)
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Error("bare LF in calendar")
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
}
