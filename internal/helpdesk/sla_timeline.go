package helpdesk

import (
	"errors"
	"fmt"
	"time"

	"socle/internal/catalog"
)

// phase is what a clock is doing over a stretch of the ticket's life.
type phase int

const (
	running phase = iota
	paused
	stopped
)

type segment struct {
	catalog.Interval
	phase phase
}

// run is the life of one clock, replayed from the status events.
type run struct {
	// segments cover [creation, end) in order; the final stopped stretch,
	// if any, is not among them.
	segments []segment
	// end is the instant the clock stopped, or now.
	end   time.Time
	final phase
}

// ttrNext: the resolution clock depends only on the latest status, so a
// reopened (or re-assigned) solved ticket resumes and a pending one pauses.
func ttrNext(_ phase, k EventKind) phase {
	switch k {
	case EventPending:
		return paused
	case EventSolved, EventClosed:
		return stopped
	}
	return running
}

// ttoNext: the ownership clock stops for good once someone owns the ticket;
// solving or closing an unowned ticket also ends the wait for an owner.
func ttoNext(cur phase, k EventKind) phase {
	if cur == stopped {
		return stopped
	}
	switch k {
	case EventAssigned, EventPlanned, EventSolved, EventClosed:
		return stopped
	case EventPending:
		return paused
	}
	return running
}

func replay(created time.Time, events []StatusEvent, now time.Time, next func(phase, EventKind) phase) run {
	var r run
	end := now
	if end.Before(created) {
		end = created
	}
	cur, since := running, created
	for _, ev := range events {
		if ev.At.After(end) {
			break
		}
		n := next(cur, ev.Kind)
		if n == cur {
			continue
		}
		r.add(since, ev.At, cur)
		cur, since = n, ev.At
	}
	r.final = cur
	if cur == stopped {
		r.end = since
		return r
	}
	r.add(since, end, cur)
	r.end = end
	return r
}

func (r *run) add(from, to time.Time, p phase) {
	if to.After(from) {
		r.segments = append(r.segments, segment{catalog.Interval{Start: from, End: to}, p})
	}
}

// evaluate turns a replayed clock into what users see. The target becomes a
// budget of open time, measured from creation; the running segments consume
// it; the due instant is where the budget runs out, counting from the end of
// the replay, so that every pause pushes it by the open time it lasted.
func evaluate(cal *catalog.Calendar, created time.Time, r run, target catalog.Delay) (Clock, error) {
	if target.IsZero() {
		return Clock{State: ClockNone}, nil
	}
	if cal == nil {
		return Clock{}, errors.New("a target but no business calendar")
	}
	budget, err := cal.Budget(created, target)
	if err != nil {
		return Clock{}, err
	}
	if budget <= 0 {
		return Clock{}, fmt.Errorf("target %s grants no open time", target)
	}
	loc := cal.Location()
	local := func(iv catalog.Interval) catalog.Interval {
		return catalog.Interval{Start: iv.Start.In(loc), End: iv.End.In(loc)}
	}
	c := Clock{Target: target, Budget: Seconds(budget)}
	var consumed, pausedOpen time.Duration
	var breach time.Time // when the budget ran out, if it did
	for _, s := range r.segments {
		switch s.phase {
		case paused:
			open, _ := cal.OpenDuration(s.Start, s.End)
			pausedOpen += open
			c.Paused = append(c.Paused, local(s.Interval))
		case stopped:
			c.Solved = append(c.Solved, local(s.Interval))
		case running:
			open, ivs := cal.OpenDuration(s.Start, s.End)
			if breach.IsZero() && consumed+open >= budget {
				if breach, _, err = cal.Deadline(s.Start, budget-consumed); err != nil {
					return Clock{}, fmt.Errorf("breach instant: %w", err)
				}
			}
			consumed += open
			c.Counted = append(c.Counted, ivs...)
		}
	}
	c.Due = breach
	if breach.IsZero() {
		var ivs []catalog.Interval
		if c.Due, ivs, err = cal.Deadline(r.end, budget-consumed); err != nil {
			return Clock{}, fmt.Errorf("due instant: %w", err)
		}
		if r.final != stopped {
			c.Upcoming = ivs
		}
	}
	c.Consumed, c.Remaining, c.PausedOpen = Seconds(consumed), Seconds(budget-consumed), Seconds(pausedOpen)
	c.Percent = int(consumed * 100 / budget)
	switch {
	case r.final == stopped:
		c.StoppedAt = r.end.In(loc)
		c.State = ClockMet
		if r.end.After(c.Due) {
			c.State = ClockBreached
		}
	case r.final == paused:
		c.State = ClockPaused
	case r.end.After(c.Due):
		c.State = ClockBreached
	case consumed*100 >= budget*warningPercent:
		c.State = ClockWarning
	default:
		c.State = ClockRunning
	}
	return c, nil
}
