package helpdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/db"
	"socle/internal/platform/web"
)

// levelsFor asks the catalogue what applies to the ticket now.
func (s *Service) levelsFor(ctx context.Context, t *Ticket, at time.Time) (*Levels, error) {
	if s.levels == nil {
		return nil, nil
	}
	lv, err := s.levels.LevelsFor(ctx, t.EstablishmentID, t.ServiceID, string(t.Kind), t.Priority, at)
	if err != nil {
		return nil, fmt.Errorf("service levels of ticket %s: %w", t.Reference, err)
	}
	return lv, nil
}

// levelDetail is how a level event stores the targets: "null" when no
// convention (or no target) applies.
func levelDetail(lv *Levels) string {
	if lv == nil || (lv.TTO.IsZero() && lv.TTR.IsZero()) {
		return "null"
	}
	b, _ := json.Marshal(Targets{TTO: lv.TTO, TTR: lv.TTR})
	return string(b)
}

func levelRef(lv *Levels) string {
	if lv == nil {
		return ""
	}
	return lv.AgreementReference
}

// timeline turns the stored events into what ComputeSLA reads. The first
// level event, written with the ticket, is the level at creation.
func timeline(t *Ticket, events []Event) Timeline {
	tl := Timeline{Created: t.CreatedAt}
	first := true
	for _, e := range events {
		switch e.Type {
		case evStatus:
			if EventKind(e.To) == EventNew {
				continue
			}
			tl.Events = append(tl.Events, StatusEvent{At: e.At, Kind: EventKind(e.To)})
		case evLevel:
			var tg *Targets
			if e.Detail != "null" && e.Detail != "" {
				tg = new(Targets)
				if json.Unmarshal([]byte(e.Detail), tg) != nil {
					tg = nil
				}
			}
			if first {
				tl.Targets, first = tg, false
			} else {
				tl.LevelChanges = append(tl.LevelChanges, LevelChange{At: e.At, Targets: tg})
			}
		}
	}
	return tl
}

// compute runs ComputeSLA on the calendar of the current levels.
func (s *Service) compute(t *Ticket, lv *Levels, events []Event, now time.Time) (SLA, error) {
	tl := timeline(t, events)
	if tl.Targets == nil && len(tl.LevelChanges) == 0 {
		return SLA{TTO: Clock{State: ClockNone}, TTR: Clock{State: ClockNone}}, nil
	}
	sla, err := ComputeSLA(lvCalendar(lv), tl, now)
	if err != nil {
		return SLA{TTO: Clock{State: ClockNone}, TTR: Clock{State: ClockNone}}, fmt.Errorf("clocks of %s: %w", t.Reference, err)
	}
	return sla, nil
}

func lvCalendar(lv *Levels) *catalog.Calendar {
	if lv == nil {
		return nil
	}
	return lv.Calendar
}

// clocks is what the page and the API show.
func (s *Service) clocks(t *Ticket, lv *Levels, events []Event, now time.Time) Clocks {
	sla, err := s.compute(t, lv, events, now)
	if err != nil {
		// A convention withdrawn after the clocks stopped leaves targets
		// without a calendar: the page says so rather than failing.
		s.log.Warn("ticket clocks unavailable", "ticket", t.Reference, "err", err)
	}
	c := Clocks{SLA: sla, AgreementReference: levelRef(lv)}
	c.Engagement = sla.TTO.State != ClockNone || sla.TTR.State != ClockNone
	if !c.Engagement {
		c.Message = "Pas d'engagement de service : aucune convention ne fixe de délai pour ce ticket."
	}
	return c
}

// refreshNow is refresh with the levels in force now.
func (s *Service) refreshNow(ctx context.Context, tx *db.Tx, t *Ticket, now time.Time) error {
	lv, err := s.levelsFor(ctx, t, now)
	if err != nil {
		return err
	}
	return s.refresh(ctx, tx, t, lv, now)
}

// refresh records a change of service level, recomputes both clocks from
// the events and stores their due instants, met flags and the instant the
// periodic check must look at the ticket again.
func (s *Service) refresh(ctx context.Context, tx *db.Tx, t *Ticket, lv *Levels, now time.Time) error {
	events, err := s.store.events(ctx, tx, t.ID)
	if err != nil {
		return err
	}
	detail, ref := levelDetail(lv), levelRef(lv)
	last, found := Event{}, false
	for _, e := range events {
		if e.Type == evLevel {
			last, found = e, true
		}
	}
	if !found || last.Detail != detail || last.To != ref {
		ev := Event{At: now, Type: evLevel, From: last.To, To: ref, Detail: detail}
		if err := s.store.addEvent(ctx, tx, t.ID, ev); err != nil {
			return err
		}
		events = append(events, ev)
	}
	var asID int64
	survey := false
	if lv != nil {
		asID, survey = lv.AgreementServiceID, lv.SurveyEnabled
	}
	if asID != t.AgreementSvcID || survey != t.SurveyEnabled {
		t.AgreementSvcID, t.SurveyEnabled = asID, survey
		if err := s.store.updateTicket(ctx, tx, t); err != nil {
			return err
		}
	}
	sla, err := s.compute(t, lv, events, now)
	if err != nil {
		s.log.Warn("ticket clocks unavailable", "ticket", t.Reference, "err", err)
	}
	var cols slaColumns
	if sla.TTO.State != ClockNone {
		cols.TTODue, cols.OwnedAt = sla.TTO.Due, sla.TTO.StoppedAt
		if !sla.TTO.StoppedAt.IsZero() {
			met := sla.TTO.State == ClockMet
			cols.TTOMet = &met
		}
	}
	if sla.TTR.State != ClockNone {
		cols.TTRDue = sla.TTR.Due
		if !sla.TTR.StoppedAt.IsZero() {
			met := sla.TTR.State == ClockMet
			cols.TTRMet = &met
			open := int64(sla.TTR.Consumed.Duration() / time.Second)
			cols.ResolveOpen = &open
		}
	}
	t.TTODue, t.TTRDue, t.TTOMet, t.TTRMet = cols.TTODue, cols.TTRDue, cols.TTOMet, cols.TTRMet
	for _, c := range []struct {
		name  string
		clock Clock
	}{{"tto", sla.TTO}, {"ttr", sla.TTR}} {
		at := s.nextCheck(lvCalendar(lv), c.name, c.clock, events, now)
		if !at.IsZero() && (cols.CheckAt.IsZero() || at.Before(cols.CheckAt)) {
			cols.CheckAt = at
		}
	}
	return s.store.setSLA(ctx, tx, t.ID, cols)
}

// nextCheck is when a running clock next deserves a notification: when it
// reaches 75 % of its budget, then when it runs out. Paused and stopped
// clocks need none: a pending ticket is never late.
func (s *Service) nextCheck(cal *catalog.Calendar, name string, c Clock, events []Event, now time.Time) time.Time {
	if c.State != ClockRunning && c.State != ClockWarning && c.State != ClockBreached {
		return time.Time{}
	}
	warned, breached := false, false
	for _, e := range events {
		warned = warned || (e.Type == evSLAWarn && e.To == name)
		breached = breached || (e.Type == evSLABreach && e.To == name)
	}
	switch {
	case c.State == ClockRunning && !warned && cal != nil:
		left := c.Budget.Duration()*warningPercent/100 - c.Consumed.Duration()
		if left <= 0 {
			return now
		}
		at, _, err := cal.Deadline(now, left)
		if err != nil {
			return c.Due
		}
		return at
	case c.State == ClockWarning && !warned:
		return now
	case !breached:
		if c.Due.Before(now) {
			return now
		}
		return c.Due
	}
	return time.Time{}
}

// CheckClocks finds the running tickets whose clocks passed 75 % or 100 %
// since the last check, and notifies (75 %) or notifies and escalates
// (100 %) once each: an event records it so it never repeats. serve runs it
// periodically; it returns how many notices it gave.
func (s *Service) CheckClocks(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.store.dueForCheck(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	notices := 0
	for _, id := range ids {
		var sent []func(q db.Querier) error
		t := Ticket{ID: id}
		// Locked and read again: two processes checking at once notify
		// once.
		err := s.mutate(ctx, &t, func(tx *db.Tx) error {
			sent = nil
			lv, err := s.levelsFor(ctx, &t, now)
			if err != nil {
				return err
			}
			events, err := s.store.events(ctx, tx, t.ID)
			if err != nil {
				return err
			}
			sla, err := s.compute(&t, lv, events, now)
			if err != nil {
				return err
			}
			escalate := false
			for _, c := range []struct {
				name, label string
				clock       Clock
			}{{"tto", "prise en charge", sla.TTO}, {"ttr", "résolution", sla.TTR}} {
				st := c.clock.State
				if st != ClockWarning && st != ClockBreached {
					continue
				}
				if ok, err := s.store.hasEvent(ctx, tx, t.ID, evSLAWarn, c.name); err != nil {
					return err
				} else if !ok {
					if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, Type: evSLAWarn, To: c.name, Detail: fmt.Sprint(c.clock.Percent)}); err != nil {
						return err
					}
					if st == ClockWarning {
						due := c.clock.Due
						label := c.label
						sent = append(sent, func(q db.Querier) error {
							return s.notifyHolder(ctx, q, &t, "Échéance de "+label+" proche",
								fmt.Sprintf("75 %% du délai de %s est consommé ; échéance le %s.", label, frDateTime(due)))
						})
					}
				}
				if st != ClockBreached {
					continue
				}
				if ok, err := s.store.hasEvent(ctx, tx, t.ID, evSLABreach, c.name); err != nil {
					return err
				} else if ok {
					continue
				}
				if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, Type: evSLABreach, To: c.name}); err != nil {
					return err
				}
				escalate = true
				label := c.label
				sent = append(sent, func(q db.Querier) error {
					return s.notifyHolder(ctx, q, &t, "Délai de "+label+" dépassé", "Le délai de "+label+" promis par la convention est dépassé ; le ticket est escaladé.")
				})
			}
			if escalate && nextLevel(t.Level) != "" {
				if err := s.escalate(ctx, tx, &t, 0, Escalation{Reason: "délai dépassé"}, now); err != nil {
					return err
				}
			} else if err := s.refresh(ctx, tx, &t, lv, now); err != nil {
				return err
			}
			// Queued with the warning or breach they report (after the
			// escalation, so they name the new holder).
			for _, f := range sent {
				if err := f(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.log.Error("clock check failed", "ticket_id", id, "err", err)
			continue
		}
		notices += len(sent)
	}
	return notices, nil
}

func frDateTime(t time.Time) string {
	if t.IsZero() {
		return "(non définie)"
	}
	return t.In(web.Paris()).Format("02/01/2006 à 15:04")
}
