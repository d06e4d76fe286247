// Package helpdesk is the support desk: tickets, their SLA clocks on the
// business calendar of the service, escalation, mail-in and reports.
package helpdesk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"socle/internal/catalog"
)

// EventKind is a status change of a ticket, as the SLA clocks read it.
type EventKind string

const (
	EventNew      EventKind = "new"
	EventAssigned EventKind = "assigned"
	EventPlanned  EventKind = "planned"
	EventPending  EventKind = "pending"
	EventSolved   EventKind = "solved"
	EventClosed   EventKind = "closed"
	// EventReopened is recorded when a solved or closed ticket goes back
	// to work.
	EventReopened EventKind = "reopened"
)

// StatusEvent is one status change, at an instant.
type StatusEvent struct {
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`
}

// Targets are the delays of a service level; a zero Delay means the level
// sets no target for that clock.
type Targets struct {
	TTO catalog.Delay `json:"tto,omitzero"`
	TTR catalog.Delay `json:"ttr,omitzero"`
}

// LevelChange records that the ticket's service level changed; Targets nil
// means the ticket no longer falls under any convention.
type LevelChange struct {
	At      time.Time `json:"at"`
	Targets *Targets  `json:"targets"`
}

// Timeline is what the clocks are computed from. It is plain data so the
// computation stays a pure function, testable without a database.
type Timeline struct {
	Created time.Time
	// Targets is the level at creation; nil when no convention applies.
	Targets      *Targets
	Events       []StatusEvent
	LevelChanges []LevelChange
}

// ClockState is what the UI shows of a clock.
type ClockState string

const (
	// ClockNone: no convention or no target for this clock, no deadline.
	ClockNone    ClockState = "none"
	ClockRunning ClockState = "running"
	// ClockWarning: running with at least 75 % of the budget consumed.
	ClockWarning ClockState = "warning"
	// ClockPaused: the ticket is pending; never shown late, even past the
	// due instant, since the wait is on the requester.
	ClockPaused   ClockState = "paused"
	ClockMet      ClockState = "met"
	ClockBreached ClockState = "breached"
)

// warningPercent is the share of the budget from which a running clock
// warns.
const warningPercent = 75

// Clock is one SLA clock (time to own or time to resolve) at an instant.
type Clock struct {
	State  ClockState    `json:"state"`
	Target catalog.Delay `json:"target,omitzero"`
	// Budget is the open time the target grants: the target itself, or for
	// business days the open time from creation to the end of the last day.
	Budget Seconds `json:"budget_seconds"`
	// Due is when the budget runs out: it moves by the open time paused;
	// while paused it is where the clock would end if work resumed now.
	Due       time.Time `json:"due,omitzero"`
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	Consumed  Seconds   `json:"consumed_seconds"`
	// Remaining is negative once the budget is overrun.
	Remaining Seconds `json:"remaining_seconds"`
	Percent   int     `json:"percent"`
	// PausedOpen is the open time spent pending, by which Due moved.
	PausedOpen Seconds `json:"paused_open_seconds"`
	// The explanation: the open intervals counted, the pending periods,
	// the periods between solved and reopened (TTR), and the open
	// intervals still to come until Due.
	Counted  []catalog.Interval `json:"counted,omitempty"`
	Paused   []catalog.Interval `json:"paused,omitempty"`
	Solved   []catalog.Interval `json:"solved,omitempty"`
	Upcoming []catalog.Interval `json:"upcoming,omitempty"`
}

// SLA is both clocks of a ticket.
type SLA struct {
	TTO Clock `json:"tto"`
	TTR Clock `json:"ttr"`
}

// Seconds is a duration the API shows as whole seconds.
type Seconds time.Duration

// Duration is s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// MarshalJSON writes whole seconds, truncated.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(time.Duration(s)/time.Second), 10), nil
}

// UnmarshalJSON reads whole seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("seconds: %w", err)
	}
	*s = Seconds(time.Duration(n) * time.Second)
	return nil
}

// ComputeSLA evaluates both clocks of a ticket at instant now, on the
// calendar of its service. The rules, chosen against the usual complaints
// about GLPI:
//
//   - "pending" pauses both clocks; a paused clock is never shown late, and
//     its due instant moves by the open time paused;
//   - a new service level applies its target to the open time already
//     consumed: pauses and consumption are kept, only the budget changes;
//     a change after a clock stopped does not rewrite it;
//   - TTO stops when the ticket is first owned: assigned, planned, or
//     solved or closed without either;
//   - TTR stops at "solved" (or "closed"); reopening resumes it, the time
//     between solved and reopened is not counted;
//   - no convention, or no target for a clock: state "none", no due instant.
//
// Events after now are ignored, so a timeline can be replayed at any
// instant of its past.
func ComputeSLA(cal *catalog.Calendar, tl Timeline, now time.Time) (SLA, error) {
	if tl.Created.IsZero() {
		return SLA{}, errors.New("sla: ticket without creation instant")
	}
	events := slices.Clone(tl.Events)
	slices.SortStableFunc(events, func(a, b StatusEvent) int { return a.At.Compare(b.At) })
	for _, ev := range events {
		if ev.At.Before(tl.Created) {
			return SLA{}, fmt.Errorf("sla: %s event at %s before creation at %s",
				ev.Kind, ev.At.Format(time.RFC3339), tl.Created.Format(time.RFC3339))
		}
	}
	changes := slices.Clone(tl.LevelChanges)
	slices.SortStableFunc(changes, func(a, b LevelChange) int { return a.At.Compare(b.At) })

	var out SLA
	var err error
	tto := replay(tl.Created, events, now, ttoNext)
	if out.TTO, err = evaluate(cal, tl.Created, tto, targetsAt(tl.Targets, changes, tto.end).TTO); err != nil {
		return SLA{}, fmt.Errorf("sla: time to own: %w", err)
	}
	ttr := replay(tl.Created, events, now, ttrNext)
	if out.TTR, err = evaluate(cal, tl.Created, ttr, targetsAt(tl.Targets, changes, ttr.end).TTR); err != nil {
		return SLA{}, fmt.Errorf("sla: time to resolve: %w", err)
	}
	return out, nil
}

// targetsAt is the service level in force at t; a clock is judged by the
// level in force when it stopped, or now.
func targetsAt(initial *Targets, changes []LevelChange, t time.Time) Targets {
	cur := initial
	for _, ch := range changes {
		if ch.At.After(t) {
			break
		}
		cur = ch.Targets
	}
	if cur == nil {
		return Targets{}
	}
	return *cur
}
