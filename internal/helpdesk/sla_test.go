package helpdesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without zoneinfo, as the binary does

	"socle/internal/catalog"
)

// The calendar of these tests: Monday to Friday, 08:00–12:00 and
// 13:30–17:30 (8 open hours a day), French public holidays. The instants
// below are Paris wall times, and every expected value was worked out by
// hand from that week.
func officeCalendar(t *testing.T) *catalog.Calendar {
	t.Helper()
	day := []catalog.TimeRange{{Start: "08:00", End: "12:00"}, {Start: "13:30", End: "17:30"}}
	c, err := catalog.NewCalendar(catalog.Spec{Hours: map[string][]catalog.TimeRange{
		"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("bad test instant %q: %v", s, err)
	}
	return v
}

func show(ivs []catalog.Interval) string {
	var parts []string
	for _, iv := range ivs {
		end := iv.End.Format("15:04")
		if iv.Start.Format(time.DateOnly) != iv.End.Format(time.DateOnly) {
			end = iv.End.Format("2006-01-02 15:04")
		}
		parts = append(parts, iv.Start.Format("2006-01-02 15:04")+"–"+end)
	}
	return strings.Join(parts, ", ")
}

func delay(t *testing.T, s string) catalog.Delay {
	t.Helper()
	d, err := catalog.ParseDelay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// want is what a clock must show; empty strings are checked too ("" means
// no due instant, no interval).
type want struct {
	state    ClockState
	due      string
	consumed time.Duration
	percent  int
	stopped  string
	counted  string
	paused   string
	upcoming string
	// skipIntervals leaves counted, paused and upcoming unchecked where
	// another case already covers them.
	skipIntervals bool
}

func checkClock(t *testing.T, name string, got Clock, w want) {
	t.Helper()
	if got.State != w.state {
		t.Errorf("%s: state %s, want %s", name, got.State, w.state)
	}
	if w.due == "" {
		if !got.Due.IsZero() {
			t.Errorf("%s: due %s, want none", name, got.Due)
		}
	} else {
		if !got.Due.Equal(at(t, w.due)) {
			t.Errorf("%s: due %s, want %s", name, got.Due.Format(time.RFC3339), w.due)
		}
		if got.Due.Location().String() != "Europe/Paris" {
			t.Errorf("%s: due in %s, want Europe/Paris", name, got.Due.Location())
		}
	}
	if got.Consumed.Duration() != w.consumed {
		t.Errorf("%s: consumed %s, want %s", name, got.Consumed.Duration(), w.consumed)
	}
	if got.Budget > 0 && got.Remaining != got.Budget-got.Consumed {
		t.Errorf("%s: remaining %s ≠ budget %s − consumed %s", name, got.Remaining.Duration(), got.Budget.Duration(), got.Consumed.Duration())
	}
	if got.Percent != w.percent {
		t.Errorf("%s: percent %d, want %d", name, got.Percent, w.percent)
	}
	if (w.stopped == "" && !got.StoppedAt.IsZero()) || (w.stopped != "" && !got.StoppedAt.Equal(at(t, w.stopped))) {
		t.Errorf("%s: stopped at %v, want %q", name, got.StoppedAt, w.stopped)
	}
	if w.skipIntervals {
		return
	}
	for _, iv := range []struct {
		what      string
		got, want string
	}{
		{"counted", show(got.Counted), w.counted},
		{"paused", show(got.Paused), w.paused},
		{"upcoming", show(got.Upcoming), w.upcoming},
	} {
		if iv.got != iv.want {
			t.Errorf("%s: %s\n got %s\nwant %s", name, iv.what, iv.got, iv.want)
		}
	}
}

func TestComputeSLA(t *testing.T) {
	cal := officeCalendar(t)
	ev := func(s string, k EventKind) StatusEvent { return StatusEvent{At: at(t, s), Kind: k} }
	targets := func(tto, ttr string) *Targets {
		var tg Targets
		if tto != "" {
			tg.TTO = delay(t, tto)
		}
		if ttr != "" {
			tg.TTR = delay(t, ttr)
		}
		return &tg
	}
	// A Thursday ticket, put pending on Friday afternoon and resumed on
	// Monday morning: the weekend costs nothing, and the due instant moves
	// by the open time paused (Friday 16:00–17:30 and Monday 08:00–09:00).
	weekendPause := Timeline{
		Created: at(t, "2025-11-20 09:00"),
		Targets: targets("1h", "16h"),
		Events: []StatusEvent{
			ev("2025-11-20 09:30", EventAssigned),
			ev("2025-11-21 16:00", EventPending),
			ev("2025-11-24 09:00", EventAssigned),
		},
	}
	// Pending from Monday 14:00 to Wednesday 08:00; on Tuesday, during the
	// pause, the ticket moves to another level.
	levelChange := func(ttr string) Timeline {
		return Timeline{
			Created: at(t, "2025-12-01 08:00"),
			Targets: targets("1h", "8h"),
			Events: []StatusEvent{
				ev("2025-12-01 08:10", EventAssigned),
				ev("2025-12-01 14:00", EventPending),
				ev("2025-12-03 08:00", EventAssigned),
			},
			LevelChanges: []LevelChange{{At: at(t, "2025-12-02 10:00"), Targets: targets("1h", ttr)}},
		}
	}
	reopened := Timeline{
		Created: at(t, "2025-12-02 08:00"),
		Targets: targets("1h", "8h"),
		Events: []StatusEvent{
			ev("2025-12-02 08:30", EventAssigned),
			ev("2025-12-02 11:00", EventSolved),
			ev("2025-12-04 09:00", EventReopened),
			ev("2025-12-04 14:00", EventSolved),
			ev("2025-12-05 09:00", EventClosed),
		},
	}
	longPending := Timeline{
		Created: at(t, "2025-12-01 08:00"),
		Targets: targets("1h", "4h"),
		Events: []StatusEvent{
			ev("2025-12-01 08:15", EventAssigned),
			ev("2025-12-01 10:00", EventPending),
		},
	}
	notPending := longPending
	notPending.Events = notPending.Events[:1]

	ttoMetAt0930 := want{state: ClockMet, due: "2025-11-20 10:00", consumed: 30 * time.Minute, percent: 50,
		stopped: "2025-11-20 09:30", counted: "2025-11-20 09:00–09:30"}
	for _, tc := range []struct {
		name     string
		tl       Timeline
		now      string
		tto, ttr want
	}{
		{
			name: "pending over a weekend, resumed Monday", tl: weekendPause, now: "2025-11-24 10:00",
			tto: ttoMetAt0930,
			// 13.5 h before the pause, 1 h since: 14.5 h of 16 h.
			ttr: want{state: ClockWarning, due: "2025-11-24 11:30", consumed: 14*time.Hour + 30*time.Minute, percent: 90,
				counted: "2025-11-20 09:00–12:00, 2025-11-20 13:30–17:30, 2025-11-21 08:00–12:00, 2025-11-21 13:30–16:00, 2025-11-24 09:00–10:00",
				paused:  "2025-11-21 16:00–2025-11-24 09:00", upcoming: "2025-11-24 10:00–11:30"},
		},
		{
			name: "pending over a weekend, seen on Saturday", tl: weekendPause, now: "2025-11-22 12:00",
			tto: ttoMetAt0930,
			// Paused, never "warning": if work resumed now (Monday 08:00),
			// 2.5 h would remain.
			ttr: want{state: ClockPaused, due: "2025-11-24 10:30", consumed: 13*time.Hour + 30*time.Minute, percent: 84,
				counted: "2025-11-20 09:00–12:00, 2025-11-20 13:30–17:30, 2025-11-21 08:00–12:00, 2025-11-21 13:30–16:00",
				paused:  "2025-11-21 16:00–2025-11-22 12:00", upcoming: "2025-11-24 08:00–10:30"},
		},
		{
			// 4.5 h consumed before the pause and 1 h since; the new 16 h
			// target leaves 10.5 h from Wednesday 09:00.
			name: "level raised to 16h during the pause", tl: levelChange("16h"), now: "2025-12-03 09:00",
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 10 * time.Minute, percent: 16,
				stopped: "2025-12-01 08:10", counted: "2025-12-01 08:00–08:10"},
			ttr: want{state: ClockRunning, due: "2025-12-04 11:30", consumed: 5*time.Hour + 30*time.Minute, percent: 34,
				counted:  "2025-12-01 08:00–12:00, 2025-12-01 13:30–14:00, 2025-12-03 08:00–09:00",
				paused:   "2025-12-01 14:00–2025-12-03 08:00",
				upcoming: "2025-12-03 09:00–12:00, 2025-12-03 13:30–17:30, 2025-12-04 08:00–11:30"},
		},
		{
			// The new 4 h target is already exceeded by the 4.5 h consumed:
			// the budget ran out on Monday at 12:00, yet a pending ticket is
			// not shown late...
			name: "level lowered to 4h during the pause, still pending", tl: levelChange("4h"), now: "2025-12-02 15:00",
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 10 * time.Minute, percent: 16,
				stopped: "2025-12-01 08:10", skipIntervals: true},
			ttr: want{state: ClockPaused, due: "2025-12-01 12:00", consumed: 4*time.Hour + 30*time.Minute, percent: 112,
				counted: "2025-12-01 08:00–12:00, 2025-12-01 13:30–14:00",
				paused:  "2025-12-01 14:00–2025-12-02 15:00"},
		},
		{
			// ...until work resumes.
			name: "level lowered to 4h during the pause, resumed", tl: levelChange("4h"), now: "2025-12-03 09:00",
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 10 * time.Minute, percent: 16,
				stopped: "2025-12-01 08:10", skipIntervals: true},
			ttr: want{state: ClockBreached, due: "2025-12-01 12:00", consumed: 5*time.Hour + 30*time.Minute, percent: 137,
				skipIntervals: true},
		},
		{
			// Solved Tuesday 11:00 after 3 h, reopened Thursday 09:00: the
			// 4 h budget left runs from there.
			name: "reopened after solved", tl: reopened, now: "2025-12-04 10:00",
			tto: want{state: ClockMet, due: "2025-12-02 09:00", consumed: 30 * time.Minute, percent: 50,
				stopped: "2025-12-02 08:30", counted: "2025-12-02 08:00–08:30"},
			ttr: want{state: ClockRunning, due: "2025-12-04 15:30", consumed: 4 * time.Hour, percent: 50,
				counted: "2025-12-02 08:00–11:00, 2025-12-04 09:00–10:00", upcoming: "2025-12-04 10:00–12:00, 2025-12-04 13:30–15:30"},
		},
		{
			name: "reopened, then solved again", tl: reopened, now: "2025-12-08 10:00",
			tto: want{state: ClockMet, due: "2025-12-02 09:00", consumed: 30 * time.Minute, percent: 50,
				stopped: "2025-12-02 08:30", counted: "2025-12-02 08:00–08:30"},
			// 3 h + 3.5 h; the time between solved and reopened is not
			// counted, closing after solved changes nothing.
			ttr: want{state: ClockMet, due: "2025-12-04 15:30", consumed: 6*time.Hour + 30*time.Minute, percent: 81,
				stopped: "2025-12-04 14:00",
				counted: "2025-12-02 08:00–11:00, 2025-12-04 09:00–12:00, 2025-12-04 13:30–14:00"},
		},
		{
			// Pending since Monday 10:00 with 2 h of 4 h consumed; seen on
			// Wednesday 15:00, far past the original Monday 12:00.
			name: "pending past the original due instant", tl: longPending, now: "2025-12-03 15:00",
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 15 * time.Minute, percent: 25,
				stopped: "2025-12-01 08:15", counted: "2025-12-01 08:00–08:15"},
			ttr: want{state: ClockPaused, due: "2025-12-03 17:00", consumed: 2 * time.Hour, percent: 50,
				counted: "2025-12-01 08:00–10:00", paused: "2025-12-01 10:00–2025-12-03 15:00",
				upcoming: "2025-12-03 15:00–17:00"},
		},
		{
			name: "the same ticket never put pending is late", tl: notPending, now: "2025-12-03 15:00",
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 15 * time.Minute, percent: 25,
				stopped: "2025-12-01 08:15", skipIntervals: true},
			ttr: want{state: ClockBreached, due: "2025-12-01 12:00", consumed: 21*time.Hour + 30*time.Minute, percent: 537,
				skipIntervals: true},
		},
		{
			name: "no convention", tl: Timeline{Created: at(t, "2025-12-01 08:00"), Events: []StatusEvent{ev("2025-12-01 09:00", EventAssigned)}},
			now: "2025-12-03 15:00",
			tto: want{state: ClockNone}, ttr: want{state: ClockNone},
		},
		{
			name: "a level without TTO", tl: Timeline{Created: at(t, "2025-12-01 08:00"), Targets: targets("", "4h")},
			now: "2025-12-01 09:00",
			tto: want{state: ClockNone},
			ttr: want{state: ClockRunning, due: "2025-12-01 12:00", consumed: time.Hour, percent: 25,
				counted: "2025-12-01 08:00–09:00", upcoming: "2025-12-01 09:00–12:00"},
		},
		{
			// A convention attached at 10:00 counts from creation.
			name: "level attached later", now: "2025-12-01 11:00", tl: Timeline{
				Created:      at(t, "2025-12-01 08:00"),
				LevelChanges: []LevelChange{{At: at(t, "2025-12-01 10:00"), Targets: targets("", "4h")}},
			},
			tto: want{state: ClockNone},
			ttr: want{state: ClockWarning, due: "2025-12-01 12:00", consumed: 3 * time.Hour, percent: 75,
				counted: "2025-12-01 08:00–11:00", upcoming: "2025-12-01 11:00–12:00"},
		},
		{
			// TTO stopped at 08:10 under the old level: the change at 08:30
			// does not rewrite it; TTR, still running, takes the new 2 h.
			name: "level changed after TTO stopped", now: "2025-12-01 11:00", tl: Timeline{
				Created:      at(t, "2025-12-01 08:00"),
				Targets:      targets("1h", "8h"),
				Events:       []StatusEvent{ev("2025-12-01 08:10", EventAssigned)},
				LevelChanges: []LevelChange{{At: at(t, "2025-12-01 08:30"), Targets: targets("5m", "2h")}},
			},
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 10 * time.Minute, percent: 16,
				stopped: "2025-12-01 08:10", counted: "2025-12-01 08:00–08:10"},
			ttr: want{state: ClockBreached, due: "2025-12-01 10:00", consumed: 3 * time.Hour, percent: 150,
				counted: "2025-12-01 08:00–11:00"},
		},
		{
			name: "level removed: no deadline any more", now: "2025-12-01 11:00", tl: Timeline{
				Created:      at(t, "2025-12-01 08:00"),
				Targets:      targets("1h", "4h"),
				LevelChanges: []LevelChange{{At: at(t, "2025-12-01 08:30"), Targets: nil}},
			},
			tto: want{state: ClockNone}, ttr: want{state: ClockNone},
		},
		{
			name: "nobody took the ticket", now: "2025-12-01 09:30",
			tl: Timeline{Created: at(t, "2025-12-01 08:00"), Targets: targets("1h", "8h")},
			tto: want{state: ClockBreached, due: "2025-12-01 09:00", consumed: 90 * time.Minute, percent: 150,
				counted: "2025-12-01 08:00–09:30"},
			ttr: want{state: ClockRunning, due: "2025-12-01 17:30", consumed: 90 * time.Minute, percent: 18,
				counted: "2025-12-01 08:00–09:30", upcoming: "2025-12-01 09:30–12:00, 2025-12-01 13:30–17:30"},
		},
		{
			// Pending before anyone owns it: the wait for an owner pauses too.
			name: "pending before ownership", now: "2025-12-01 10:00", tl: Timeline{
				Created: at(t, "2025-12-01 08:00"), Targets: targets("1h", "8h"),
				Events: []StatusEvent{ev("2025-12-01 08:30", EventPending)},
			},
			tto: want{state: ClockPaused, due: "2025-12-01 10:30", consumed: 30 * time.Minute, percent: 50,
				counted: "2025-12-01 08:00–08:30", paused: "2025-12-01 08:30–10:00", upcoming: "2025-12-01 10:00–10:30"},
			// 7.5 h left from 10:00: 6 h on Monday, 1.5 h on Tuesday.
			ttr: want{state: ClockPaused, due: "2025-12-02 09:30", consumed: 30 * time.Minute, percent: 6,
				skipIntervals: true},
		},
		{
			name: "solved without ever being assigned", now: "2025-12-01 10:00", tl: Timeline{
				Created: at(t, "2025-12-01 08:00"), Targets: targets("1h", "8h"),
				Events: []StatusEvent{ev("2025-12-01 08:20", EventSolved)},
			},
			tto: want{state: ClockMet, due: "2025-12-01 09:00", consumed: 20 * time.Minute, percent: 33,
				stopped: "2025-12-01 08:20", counted: "2025-12-01 08:00–08:20"},
			ttr: want{state: ClockMet, due: "2025-12-01 17:30", consumed: 20 * time.Minute, percent: 4,
				stopped: "2025-12-01 08:20", counted: "2025-12-01 08:00–08:20"},
		},
		{
			// Solved on Saturday, after Friday's 17:30 due instant: no open
			// time was consumed past the budget, but the deadline passed.
			name: "solved when closed, after the due instant", now: "2025-12-08 09:00", tl: Timeline{
				Created: at(t, "2025-12-05 13:30"), Targets: targets("", "4h"),
				Events: []StatusEvent{ev("2025-12-06 10:00", EventSolved)},
			},
			tto: want{state: ClockNone},
			ttr: want{state: ClockBreached, due: "2025-12-05 17:30", consumed: 4 * time.Hour, percent: 100,
				stopped: "2025-12-06 10:00", counted: "2025-12-05 13:30–17:30"},
		},
		{
			// 3 business days from Tuesday 10:00 grant 30 h, due Friday at
			// closing; a day of pending pushes it to Monday at closing.
			name: "business days with a pause", now: "2025-11-20 11:00", tl: Timeline{
				Created: at(t, "2025-11-18 10:00"), Targets: targets("", "3d"),
				Events: []StatusEvent{ev("2025-11-19 10:00", EventPending), ev("2025-11-20 10:00", EventAssigned)},
			},
			tto: want{state: ClockNone},
			ttr: want{state: ClockRunning, due: "2025-11-24 17:30", consumed: 9 * time.Hour, percent: 30,
				counted: "2025-11-18 10:00–12:00, 2025-11-18 13:30–17:30, 2025-11-19 08:00–10:00, 2025-11-20 10:00–11:00",
				paused:  "2025-11-19 10:00–2025-11-20 10:00",
				upcoming: "2025-11-20 11:00–12:00, 2025-11-20 13:30–17:30, 2025-11-21 08:00–12:00, 2025-11-21 13:30–17:30, " +
					"2025-11-24 08:00–12:00, 2025-11-24 13:30–17:30"},
		},
		{
			// Replaying the past: the solve at 11:00 has not happened yet.
			name: "events after now are ignored", tl: reopened, now: "2025-12-02 10:00",
			tto: want{state: ClockMet, due: "2025-12-02 09:00", consumed: 30 * time.Minute, percent: 50,
				stopped: "2025-12-02 08:30", skipIntervals: true},
			ttr: want{state: ClockRunning, due: "2025-12-02 17:30", consumed: 2 * time.Hour, percent: 25,
				skipIntervals: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ComputeSLA(cal, tc.tl, at(t, tc.now))
			if err != nil {
				t.Fatal(err)
			}
			checkClock(t, "TTO", got.TTO, tc.tto)
			checkClock(t, "TTR", got.TTR, tc.ttr)
		})
	}
}

func TestComputeSLAPausedOpenTime(t *testing.T) {
	cal := officeCalendar(t)
	tl := Timeline{
		Created: at(t, "2025-12-01 08:00"),
		Targets: &Targets{TTR: delay(t, "8h")},
		Events: []StatusEvent{
			{At: at(t, "2025-12-01 14:00"), Kind: EventPending},
			{At: at(t, "2025-12-03 08:00"), Kind: EventAssigned},
		},
	}
	got, err := ComputeSLA(cal, tl, at(t, "2025-12-03 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	// Monday 14:00–17:30 and all of Tuesday.
	if got.TTR.PausedOpen.Duration() != 11*time.Hour+30*time.Minute {
		t.Errorf("paused open time %s, want 11h30m", got.TTR.PausedOpen.Duration())
	}
}

func TestComputeSLAErrors(t *testing.T) {
	cal := officeCalendar(t)
	tg := &Targets{TTR: delay(t, "4h")}
	created := at(t, "2025-12-01 08:00")
	if _, err := ComputeSLA(cal, Timeline{Targets: tg}, created); err == nil {
		t.Error("a ticket without creation instant accepted")
	}
	early := Timeline{Created: created, Targets: tg, Events: []StatusEvent{{At: created.Add(-time.Minute), Kind: EventAssigned}}}
	if _, err := ComputeSLA(cal, early, created); err == nil || !strings.Contains(err.Error(), "before creation") {
		t.Errorf("event before creation: %v", err)
	}
	if _, err := ComputeSLA(nil, Timeline{Created: created, Targets: tg}, created); err == nil {
		t.Error("a target without a calendar accepted")
	}
	// Without any target, no calendar is needed.
	if got, err := ComputeSLA(nil, Timeline{Created: created}, created); err != nil || got.TTR.State != ClockNone {
		t.Errorf("no convention without calendar: %+v, %v", got, err)
	}
}

func TestClockJSON(t *testing.T) {
	cal := officeCalendar(t)
	got, err := ComputeSLA(cal, Timeline{
		Created: at(t, "2025-12-01 08:00"),
		Targets: &Targets{TTR: delay(t, "1h30m")},
		Events:  []StatusEvent{{At: at(t, "2025-12-01 08:30"), Kind: EventPending}},
	}, at(t, "2025-12-01 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tto":{"state":"none","budget_seconds":0,"consumed_seconds":0,"remaining_seconds":0,"percent":0,"paused_open_seconds":0},` +
		`"ttr":{"state":"paused","target":"1h30m","budget_seconds":5400,"due":"2025-12-01T10:00:00+01:00",` +
		`"consumed_seconds":1800,"remaining_seconds":3600,"percent":33,"paused_open_seconds":1800,` +
		`"counted":[{"start":"2025-12-01T08:00:00+01:00","end":"2025-12-01T08:30:00+01:00"}],` +
		`"paused":[{"start":"2025-12-01T08:30:00+01:00","end":"2025-12-01T09:00:00+01:00"}],` +
		`"upcoming":[{"start":"2025-12-01T09:00:00+01:00","end":"2025-12-01T10:00:00+01:00"}]}}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back SLA
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.TTR.Consumed != got.TTR.Consumed || back.TTR.Target != got.TTR.Target || !back.TTR.Due.Equal(got.TTR.Due) {
		t.Errorf("round trip %+v, want %+v", back.TTR, got.TTR)
	}
}
