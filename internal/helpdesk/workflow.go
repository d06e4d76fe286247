package helpdesk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// StatusChange is what SetStatus needs. Status "reopened" (or any open
// status asked of a solved or closed ticket) reopens it.
type StatusChange struct {
	Status string `json:"status"`
	// Reason is required for "pending": requester, third_party or other.
	Reason string `json:"reason,omitempty"`
	// Comment, when given, is added as a public follow-up.
	Comment string `json:"comment,omitempty"`
}

// statusReopened is the API's word for reopening.
const statusReopened = "reopened"

// canMove lists the moves a technician may make; reopening is apart.
func canMove(from, to Status) bool {
	switch from {
	case StatusNew:
		return to == StatusAssigned || to == StatusPlanned || to == StatusPending || to == StatusSolved || to == StatusClosed
	case StatusAssigned, StatusPlanned, StatusPending:
		return to != from && to != StatusNew
	case StatusSolved:
		return to == StatusClosed
	}
	return false
}

// SetStatus moves a ticket. Technicians make every allowed move; the
// requester may only accept a solution (close) or refuse it (reopen).
func (s *Service) SetStatus(ctx context.Context, p *auth.Principal, ref string, ch StatusChange) (Ticket, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return t, err
	}
	work, err := s.canWork(ctx, p, &t)
	if err != nil {
		return t, err
	}
	to := Status(ch.Status)
	if ch.Status != statusReopened && !to.valid() {
		return t, problem.Invalid("invalid_status", "Statut inconnu : "+ch.Status+".").Field("status", "Statut inconnu.")
	}
	reason := ""
	if to == StatusPending {
		switch ch.Reason {
		case ReasonRequester, ReasonThirdParty, ReasonOther:
			reason = ch.Reason
		default:
			return t, problem.Invalid("reason_required", "Indiquez le motif de l'attente : requester (demandeur), third_party (tiers) ou other.").Field("reason", "Motif requis.")
		}
	}
	now := s.now().UTC()
	var survey string
	var f *Followup
	err = s.mutate(ctx, &t, func(tx *db.Tx) error {
		reopen := ch.Status == statusReopened || (!t.Status.open() && to.open())
		if !work {
			if t.RequesterID != p.User.ID || t.Status != StatusSolved || !(reopen || to == StatusClosed) {
				return problem.Forbidden()
			}
		}
		switch {
		case reopen && t.Status.open():
			return problem.Conflict("not_solved", "Seul un ticket résolu ou clos peut être rouvert.")
		case reopen:
			if err := s.reopen(ctx, tx, &t, p.User.ID, now); err != nil {
				return err
			}
		case t.Status == to && (to != StatusPending || reason == t.PendingReason):
			return nil // already there
		case t.Status != to && !canMove(t.Status, to):
			return problem.Conflict("invalid_transition", fmt.Sprintf("Un ticket « %s » ne peut pas passer à « %s ».", t.Status.Label(), to.Label()))
		default:
			if to == StatusAssigned && t.TechnicianID == 0 && work {
				// Taking a ticket: whoever moves it to "assigned" holds it.
				if err := s.setHolder(ctx, tx, &t, p.User.ID, t.Level, t.TeamID, p.User.ID, now, evAssign, ""); err != nil {
					return err
				}
			}
			if err := s.changeStatus(ctx, tx, &t, p.User.ID, to, reason, now); err != nil {
				return err
			}
			if err := s.applyIMAC(ctx, tx, p, &t, now); err != nil {
				return err
			}
		}
		if c := strings.TrimSpace(ch.Comment); c != "" {
			f = &Followup{AuthorID: p.User.ID, AuthorEmail: p.User.Email, Body: c, Source: "web", CreatedAt: now}
			if err := s.store.addFollowup(ctx, tx, t.ID, f, ""); err != nil {
				return err
			}
		}
		if to == StatusClosed && t.SurveyEnabled {
			var err error
			if survey, err = s.createSurvey(ctx, tx, t.ID, now); err != nil {
				return err
			}
		}
		// Queued with the change: both are committed or neither.
		return s.notifyStatus(ctx, tx, &t, p.User.ID, f, survey)
	})
	if err != nil {
		return t, err
	}
	return t, nil
}

// mutate runs fn in a write transaction on the ticket's current row: the
// row is locked first (a no-op UPDATE takes the row lock on PostgreSQL; on
// SQLite the transaction already holds the write lock), then read again,
// so two processes changing one ticket never overwrite each other.
//
// The notifications fn queued are delivered right after the commit.
func (s *Service) mutate(ctx context.Context, t *Ticket, fn func(tx *db.Tx) error) error {
	since := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = updated_at WHERE id = ?`, t.ID); err != nil {
			return fmt.Errorf("lock ticket %d: %w", t.ID, err)
		}
		fresh, err := s.ticketByID(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		*t = fresh
		return fn(tx)
	})
	if err == nil {
		s.flushTicket(ctx, t, since)
	}
	return err
}

// requireWork fails unless p may work the ticket.
func (s *Service) requireWork(ctx context.Context, p *auth.Principal, t *Ticket) error {
	ok, err := s.canWork(ctx, p, t)
	if err != nil {
		return err
	}
	if !ok {
		return problem.Forbidden()
	}
	return nil
}

// changeStatus moves the ticket, records the event and recomputes the
// clocks, inside the caller's transaction.
func (s *Service) changeStatus(ctx context.Context, tx *db.Tx, t *Ticket, actor int64, to Status, reason string, now time.Time) error {
	from := t.Status
	t.Status, t.PendingReason, t.UpdatedAt = to, reason, now
	switch to {
	case StatusSolved:
		t.SolvedAt = now
	case StatusClosed:
		if t.SolvedAt.IsZero() {
			t.SolvedAt = now
		}
		t.ClosedAt = now
	}
	if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: actor, Type: evStatus, From: string(from), To: string(to), Detail: reason}); err != nil {
		return err
	}
	if err := s.store.updateTicket(ctx, tx, t); err != nil {
		return err
	}
	return s.refreshNow(ctx, tx, t, now)
}

// reopen sends a solved or closed ticket back to work: to its technician if
// it has one, else back to "new" for its team.
func (s *Service) reopen(ctx context.Context, tx *db.Tx, t *Ticket, actor int64, now time.Time) error {
	from := t.Status
	t.Status, t.PendingReason, t.SolvedAt, t.ClosedAt, t.UpdatedAt = StatusNew, "", time.Time{}, time.Time{}, now
	if t.TechnicianID != 0 {
		t.Status = StatusAssigned
	}
	if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: actor, Type: evStatus, From: string(from), To: string(EventReopened), Detail: string(t.Status)}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM satisfaction_surveys WHERE ticket_id = ? AND answered_at IS NULL`, t.ID); err != nil {
		return fmt.Errorf("drop unanswered survey of %s: %w", t.Reference, err)
	}
	if err := s.store.updateTicket(ctx, tx, t); err != nil {
		return err
	}
	return s.refreshNow(ctx, tx, t, now)
}

// holder is the detail of assign and escalate events: who holds the ticket
// from then on, from which the history of holdings is computed.
type holder struct {
	Level        string `json:"level"`
	TeamID       int64  `json:"team_id,omitempty"`
	TechnicianID int64  `json:"technician_id,omitempty"`
	Note         string `json:"note,omitempty"`
}

func holderEvent(typ string, at time.Time, actor int64, level string, team, tech int64, note string) Event {
	b, _ := json.Marshal(holder{Level: level, TeamID: team, TechnicianID: tech, Note: note})
	return Event{At: at, ActorID: actor, Type: typ, To: level, Detail: string(b)}
}

func (s *Service) setHolder(ctx context.Context, tx *db.Tx, t *Ticket, actor int64, level string, team, tech int64, now time.Time, typ, note string) error {
	from := t.Level
	t.Level, t.TeamID, t.TechnicianID, t.UpdatedAt = level, team, tech, now
	ev := holderEvent(typ, now, actor, level, team, tech, note)
	ev.From = from
	if err := s.store.addEvent(ctx, tx, t.ID, ev); err != nil {
		return err
	}
	return s.store.updateTicket(ctx, tx, t)
}

// Assignment is what Assign needs: a team, a technician, or both; neither
// means "I take it".
type Assignment struct {
	TeamID       int64 `json:"team_id,omitempty"`
	TechnicianID int64 `json:"technician_id,omitempty"`
}

// Assign gives the ticket to a team and/or technician; a new ticket given
// to a technician becomes "assigned", which stops its time-to-own clock.
func (s *Service) Assign(ctx context.Context, p *auth.Principal, ref string, a Assignment) (Ticket, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return t, err
	}
	if err := s.requireWork(ctx, p, &t); err != nil {
		return t, err
	}
	if a.TeamID == 0 && a.TechnicianID == 0 {
		a.TechnicianID, a.TeamID = p.User.ID, t.TeamID
	}
	if a.TechnicianID != 0 && a.TechnicianID != p.User.ID {
		// The ticket goes only to someone who may work it.
		tp, err := s.auth.Principal(ctx, a.TechnicianID)
		if errors.Is(err, sql.ErrNoRows) {
			return t, problem.Invalid("unknown_technician", "Technicien inconnu.").Field("technician_id", "Compte inconnu.")
		}
		if err != nil {
			return t, err
		}
		if ok, err := s.canWork(ctx, tp, &t); err != nil {
			return t, err
		} else if !ok || tp.User.Disabled {
			return t, problem.Invalid("technician_out_of_scope", "Ce compte ne peut pas traiter les tickets de cet établissement.").Field("technician_id", "Hors périmètre.")
		}
	}
	now := s.now().UTC()
	err = s.mutate(ctx, &t, func(tx *db.Tx) error {
		if !t.Status.open() {
			return problem.Conflict("ticket_closed", "Un ticket résolu ou clos ne peut pas être attribué ; rouvrez-le d'abord.")
		}
		if err := s.setHolder(ctx, tx, &t, p.User.ID, t.Level, a.TeamID, a.TechnicianID, now, evAssign, ""); err != nil {
			return err
		}
		if t.Status == StatusNew && a.TechnicianID != 0 {
			if err := s.changeStatus(ctx, tx, &t, p.User.ID, StatusAssigned, "", now); err != nil {
				return err
			}
		} else if err := s.refreshNow(ctx, tx, &t, now); err != nil {
			return err
		}
		if t.TechnicianID != 0 && t.TechnicianID != p.User.ID {
			return s.notifyHolder(ctx, tx, &t, "Ticket attribué", "Le ticket vous a été attribué.")
		}
		return nil
	})
	if err != nil {
		return t, mapFK(err)
	}
	return t, nil
}

// mapFK turns a reference to a missing row (service, team, account) into
// a user error.
func mapFK(err error) error {
	if db.IsForeignKeyViolation(err) {
		return problem.Invalid("unknown_reference", "Référence inconnue : vérifiez le service, le type de demande, l'équipe ou le technicien.").Wrap(err)
	}
	return err
}

// Escalation is what Escalate needs; an empty level means the next one.
type Escalation struct {
	Level  string `json:"level,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Escalate hands the ticket to the next support level (N1 → N2 → N3), to
// the team the convention names for it; the holder's technician is let go.
func (s *Service) Escalate(ctx context.Context, p *auth.Principal, ref string, e Escalation) (Ticket, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return t, err
	}
	if err := s.requireWork(ctx, p, &t); err != nil {
		return t, err
	}
	now := s.now().UTC()
	err = s.mutate(ctx, &t, func(tx *db.Tx) error {
		if !t.Status.open() {
			return problem.Conflict("ticket_closed", "Un ticket résolu ou clos ne peut pas être escaladé.")
		}
		if err := s.escalate(ctx, tx, &t, p.User.ID, e, now); err != nil {
			return err
		}
		return s.notifyHolder(ctx, tx, &t, "Ticket escaladé au niveau "+t.Level, "Le ticket a été escaladé au niveau "+t.Level+".")
	})
	if err != nil {
		return t, err
	}
	return t, nil
}

func nextLevel(l string) string {
	switch l {
	case LevelN1:
		return LevelN2
	case LevelN2:
		return LevelN3
	}
	return ""
}

func levelRank(l string) int {
	switch l {
	case LevelN1:
		return 1
	case LevelN2:
		return 2
	case LevelN3:
		return 3
	}
	return 0
}

func (s *Service) escalate(ctx context.Context, tx *db.Tx, t *Ticket, actor int64, e Escalation, now time.Time) error {
	to := e.Level
	if to == "" {
		to = nextLevel(t.Level)
	}
	if to == "" {
		return problem.Conflict("top_level", "Le ticket est déjà au niveau N3.")
	}
	if levelRank(to) <= levelRank(t.Level) {
		return problem.Invalid("invalid_level", "Le niveau demandé doit être supérieur au niveau actuel ("+t.Level+").").Field("level", "Niveau invalide.")
	}
	lv, err := s.levelsFor(ctx, t, now)
	if err != nil {
		return err
	}
	var team int64
	if lv != nil {
		team = map[string]int64{LevelN2: lv.N2TeamID, LevelN3: lv.N3TeamID}[to]
	}
	if err := s.setHolder(ctx, tx, t, actor, to, team, 0, now, evEscalate, e.Reason); err != nil {
		return err
	}
	return s.refresh(ctx, tx, t, lv, now)
}

// holdings replays the assign and escalate events into who held the ticket
// and for how long; the last holding runs until now.
func holdings(events []Event, now time.Time) []Holding {
	out := []Holding{}
	for _, e := range events {
		if e.Type != evAssign && e.Type != evEscalate {
			continue
		}
		var h holder
		if json.Unmarshal([]byte(e.Detail), &h) != nil {
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].To = e.At
			out[n-1].Seconds = Seconds(e.At.Sub(out[n-1].From))
		}
		out = append(out, Holding{Level: h.Level, TeamID: h.TeamID, TechnicianID: h.TechnicianID, From: e.At})
	}
	if n := len(out); n > 0 {
		out[n-1].Seconds = Seconds(now.Sub(out[n-1].From))
	}
	return out
}

// LinkTickets links two tickets the caller may work: an incident to the
// problem causing it, a problem to the change solving it, or any two
// related or duplicate tickets.
func (s *Service) LinkTickets(ctx context.Context, p *auth.Principal, ref, otherRef, kind string) error {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return err
	}
	o, err := s.load(ctx, s.db, p, otherRef)
	if err != nil {
		return err
	}
	if err := s.requireWork(ctx, p, &t); err != nil {
		return err
	}
	if t.ID == o.ID {
		return problem.Invalid("self_link", "Un ticket ne peut pas être lié à lui-même.")
	}
	switch kind {
	case LinkRelated, LinkDuplicate:
	case LinkProblem:
		if t.Kind != KindIncident || o.Kind != KindProblem {
			return problem.Invalid("invalid_link", "Le lien « problème » relie un incident au problème qui le cause.")
		}
	case LinkChange:
		if t.Kind != KindProblem || o.Kind != KindChange {
			return problem.Invalid("invalid_link", "Le lien « changement » relie un problème au changement qui le résout.")
		}
	default:
		return problem.Invalid("invalid_link", "Type de lien inconnu (related, duplicate, problem, change).").Field("kind", "Type inconnu.")
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_links (from_id, to_id, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, t.ID, o.ID, kind); err != nil {
			return fmt.Errorf("link %s to %s: %w", t.Reference, o.Reference, err)
		}
		return s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: p.User.ID, Type: evLink, To: o.Reference, Detail: kind})
	})
}

func (s *Store) links(ctx context.Context, id int64) ([]Link, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT l.kind, o.reference, o.title, o.status, 1 FROM ticket_links l JOIN tickets o ON o.id = l.to_id WHERE l.from_id = ?
		UNION ALL SELECT l.kind, o.reference, o.title, o.status, 0 FROM ticket_links l JOIN tickets o ON o.id = l.from_id WHERE l.to_id = ?
		ORDER BY 2`, id, id)
	if err != nil {
		return nil, fmt.Errorf("links of ticket %d: %w", id, err)
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		var l Link
		var st string
		var outgoing int
		if err := rows.Scan(&l.Kind, &l.Reference, &l.Title, &st, &outgoing); err != nil {
			return nil, err
		}
		l.Status, l.Outgoing = Status(st), outgoing == 1
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddIntervention records an on-site visit.
func (s *Service) AddIntervention(ctx context.Context, p *auth.Principal, ref string, in Intervention) (Intervention, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return in, err
	}
	if err := s.requireWork(ctx, p, &t); err != nil {
		return in, err
	}
	if in.StartsAt.IsZero() || in.DurationMinutes <= 0 || in.DurationMinutes > 24*60 || in.TravelMinutes < 0 || in.TravelMinutes > 24*60 {
		return in, problem.Invalid("invalid_intervention", "Indiquez la date, la durée (en minutes, 24 h au plus) et le temps de trajet de l'intervention.")
	}
	if in.TechnicianID == 0 {
		in.TechnicianID = p.User.ID
	}
	err = s.db.QueryRowContext(ctx, `INSERT INTO interventions (ticket_id, technician_id, starts_at, duration_minutes, travel_minutes, notes)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, t.ID, in.TechnicianID, in.StartsAt.UTC(), in.DurationMinutes, in.TravelMinutes,
		strings.TrimSpace(in.Notes)).Scan(&in.ID)
	if err != nil {
		return in, mapFK(fmt.Errorf("insert intervention on %s: %w", t.Reference, err))
	}
	return in, nil
}

func (s *Store) interventions(ctx context.Context, id int64) ([]Intervention, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, COALESCE(technician_id, 0), starts_at, duration_minutes, travel_minutes, notes
		FROM interventions WHERE ticket_id = ? ORDER BY starts_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("interventions of ticket %d: %w", id, err)
	}
	defer rows.Close()
	out := []Intervention{}
	for rows.Next() {
		var in Intervention
		if err := rows.Scan(&in.ID, &in.TechnicianID, &in.StartsAt, &in.DurationMinutes, &in.TravelMinutes, &in.Notes); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// ticketByID loads a ticket without scope, for the mail and clock jobs that
// act on the platform's behalf.
func (s *Service) ticketByID(ctx context.Context, q db.Querier, id int64) (Ticket, error) {
	t, err := s.store.ticket(ctx, q, "", id, "1=1", nil)
	if errors.Is(err, sql.ErrNoRows) {
		return t, problem.NotFound("Ticket")
	}
	return t, err
}
