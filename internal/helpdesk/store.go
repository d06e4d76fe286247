package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// Store is the SQL of the helpdesk.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// nextReference gives the next "T-2026-000123" for the year, inside the
// caller's transaction: the upsert locks the year's row until commit.
func (s *Store) nextReference(ctx context.Context, q db.Querier, year int) (string, error) {
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO ticket_sequences (year, last_number) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last_number = ticket_sequences.last_number + 1
		RETURNING last_number`, year).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("next ticket number of %d: %w", year, err)
	}
	return fmt.Sprintf("T-%d-%06d", year, n), nil
}

func (s *Store) insertTicket(ctx context.Context, q db.Querier, t *Ticket) error {
	err := q.QueryRowContext(ctx, `INSERT INTO tickets (reference, kind, title, description, requester_id, requester_email,
		establishment_id, service_id, request_type_id, urgency, impact, priority, status, level, team_id, technician_id,
		agreement_service_id, survey_enabled, created_at, updated_at, authority_id, commune_code)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT r.authority_id FROM responsibilities r WHERE r.establishment_id = ? AND r.domain = 'maintenance'),
			COALESCE((SELECT e.commune_code FROM establishments e WHERE e.org_id = ?), ''))
		RETURNING id`,
		t.Reference, string(t.Kind), t.Title, t.Description, db.NullID(t.RequesterID), t.RequesterEmail,
		t.EstablishmentID, db.NullID(t.ServiceID), db.NullID(t.RequestTypeID), t.Urgency, t.Impact, t.Priority, string(t.Status),
		t.Level, db.NullID(t.TeamID), db.NullID(t.TechnicianID), db.NullID(t.AgreementSvcID), t.SurveyEnabled,
		t.CreatedAt.UTC(), t.UpdatedAt.UTC(), t.EstablishmentID, t.EstablishmentID).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	return nil
}

// updateTicket writes the fields a service rule may change.
func (s *Store) updateTicket(ctx context.Context, q db.Querier, t *Ticket) error {
	_, err := q.ExecContext(ctx, `UPDATE tickets SET title = ?, description = ?, service_id = ?, request_type_id = ?,
		urgency = ?, impact = ?, priority = ?, status = ?, pending_reason = ?, level = ?, team_id = ?, technician_id = ?,
		agreement_service_id = ?, survey_enabled = ?, solved_at = ?, closed_at = ?, updated_at = ? WHERE id = ?`,
		t.Title, t.Description, db.NullID(t.ServiceID), db.NullID(t.RequestTypeID), t.Urgency, t.Impact, t.Priority,
		string(t.Status), t.PendingReason, t.Level, db.NullID(t.TeamID), db.NullID(t.TechnicianID), db.NullID(t.AgreementSvcID),
		t.SurveyEnabled, nullTime(t.SolvedAt), nullTime(t.ClosedAt), t.UpdatedAt.UTC(), t.ID)
	if err != nil {
		return fmt.Errorf("update ticket %s: %w", t.Reference, err)
	}
	return nil
}

// slaColumns are the stored results of the clocks, for lists and reports.
type slaColumns struct {
	TTODue, TTRDue, OwnedAt, CheckAt time.Time
	TTOMet, TTRMet                   *bool
	ResolveOpen                      *int64
}

func (s *Store) setSLA(ctx context.Context, q db.Querier, id int64, c slaColumns) error {
	var resolve any
	if c.ResolveOpen != nil {
		resolve = *c.ResolveOpen
	}
	_, err := q.ExecContext(ctx, `UPDATE tickets SET tto_due = ?, ttr_due = ?, owned_at = ?, tto_met = ?, ttr_met = ?,
		resolve_open_seconds = ?, sla_check_at = ? WHERE id = ?`,
		nullTime(c.TTODue), nullTime(c.TTRDue), nullTime(c.OwnedAt), nullBool(c.TTOMet), nullBool(c.TTRMet), resolve,
		nullTime(c.CheckAt), id)
	if err != nil {
		return fmt.Errorf("store clocks of ticket %d: %w", id, err)
	}
	return nil
}

const ticketColumns = `t.id, t.reference, t.kind, t.title, t.description, COALESCE(t.requester_id, 0), t.requester_email,
	COALESCE(ru.display_name, ''), t.establishment_id, COALESCE(e.uai, ''), o.name, COALESCE(t.service_id, 0),
	COALESCE(t.request_type_id, 0), t.urgency, t.impact, t.priority, t.status, t.pending_reason, t.level,
	COALESCE(t.team_id, 0), COALESCE(t.technician_id, 0), COALESCE(tu.display_name, ''), COALESCE(t.agreement_service_id, 0),
	t.tto_due, t.ttr_due, t.tto_met, t.ttr_met, t.solved_at, t.closed_at, t.survey_enabled, t.created_at, t.updated_at`

const ticketFrom = ` FROM tickets t
	JOIN organizations o ON o.id = t.establishment_id
	LEFT JOIN establishments e ON e.org_id = t.establishment_id
	LEFT JOIN users ru ON ru.id = t.requester_id
	LEFT JOIN users tu ON tu.id = t.technician_id`

func scanTicket(sc interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var kind, status string
	var ttoDue, ttrDue, solved, closed sql.NullTime
	var ttoMet, ttrMet sql.NullBool
	err := sc.Scan(&t.ID, &t.Reference, &kind, &t.Title, &t.Description, &t.RequesterID, &t.RequesterEmail,
		&t.RequesterName, &t.EstablishmentID, &t.UAI, &t.Establishment, &t.ServiceID,
		&t.RequestTypeID, &t.Urgency, &t.Impact, &t.Priority, &status, &t.PendingReason, &t.Level,
		&t.TeamID, &t.TechnicianID, &t.TechnicianName, &t.AgreementSvcID,
		&ttoDue, &ttrDue, &ttoMet, &ttrMet, &solved, &closed, &t.SurveyEnabled, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.Kind, t.Status = Kind(kind), Status(status)
	t.TTODue, t.TTRDue, t.SolvedAt, t.ClosedAt = ttoDue.Time, ttrDue.Time, solved.Time, closed.Time
	if ttoMet.Valid {
		t.TTOMet = &ttoMet.Bool
	}
	if ttrMet.Valid {
		t.TTRMet = &ttrMet.Bool
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// ticket reads one ticket by reference (or id when ref is empty) within a
// visibility condition.
func (s *Store) ticket(ctx context.Context, q db.Querier, ref string, id int64, visible string, args []any) (Ticket, error) {
	where := `t.reference = ?`
	key := any(ref)
	if ref == "" {
		where, key = `t.id = ?`, id
	}
	row := q.QueryRowContext(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE `+where+` AND (`+visible+`)`,
		append([]any{key}, args...)...)
	return scanTicket(row)
}

// ListCountCap bounds the count of a list: past it the list reports
// ListCountCap+1 ("plus de 10 000") instead of counting up to a million
// rows on every page.
const ListCountCap = 10_000

// listTopPerEstablishment is the deepest page (offset+limit) taken
// establishment by establishment (see Store.list); deeper pages sort the
// whole scope once.
const listTopPerEstablishment = 200

// listSorts gives, for each sort of a list, the columns the page's ids are
// sorted by and the ORDER BY over them, written on the alias a.
var listSorts = map[string]struct {
	cols  string
	order func(a string) string
}{
	"":         {", t.created_at", func(a string) string { return a + ".created_at DESC, " + a + ".id DESC" }},
	"-created": {", t.created_at", func(a string) string { return a + ".created_at, " + a + ".id" }},
	"priority": {", t.priority, t.created_at", func(a string) string {
		return a + ".priority, " + a + ".created_at, " + a + ".id"
	}},
	// Tickets without a deadline come last on both engines.
	"ttr_due": {", t.ttr_due", func(a string) string {
		return "CASE WHEN " + a + ".ttr_due IS NULL THEN 1 ELSE 0 END, " + a + ".ttr_due, " + a + ".id"
	}},
}

// listScope is what a list may show besides the caller's own tickets:
// every ticket (all), or the tickets of the establishments that set (an
// SQL query of one column) selects, each one also passing check (the
// caller's ScopeSQL on s.eid, so the principal's rules still decide).
type listScope struct {
	all       bool
	set       string
	setArgs   []any
	check     string
	checkArgs []any
}

// listScopeOf writes the caller's scope for a list: the named
// organizations and the closure of the recursive grants, as a set of
// establishment ids to iterate.
func listScopeOf(p *auth.Principal, perm auth.Permission) listScope {
	if p.Global(perm) {
		return listScope{all: true}
	}
	var named, recursive []any
	for _, g := range p.Grants {
		if g.OrgID != 0 && g.Role.Allows(perm) {
			named = append(named, g.OrgID)
			if g.Recursive {
				recursive = append(recursive, g.OrgID)
			}
		}
	}
	if len(named) == 0 {
		return listScope{}
	}
	set := "SELECT CAST(o.id AS BIGINT) AS eid FROM organizations o WHERE o.id IN (" + db.Placeholders(len(named)) + ")"
	args := slices.Clone(named)
	if len(recursive) > 0 {
		set += " UNION SELECT hc.descendant_id FROM org_closure hc WHERE hc.ancestor_id IN (" + db.Placeholders(len(recursive)) + ")"
		args = append(args, recursive...)
	}
	check, checkArgs := p.ScopeSQL(perm, "s.eid")
	return listScope{set: set, setArgs: args, check: check, checkArgs: checkArgs}
}

// listFilters writes the filters of f on the alias a.
func listFilters(f Filter, a string) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, v any) { conds, args = append(conds, a+"."+c), append(args, v) }
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.UAI != "" {
		// A subquery, not the join on establishments, so the filter stays
		// on the tickets' index.
		add("establishment_id IN (SELECT org_id FROM establishments WHERE uai = ?)", f.UAI)
	}
	if f.ServiceID != 0 {
		add("service_id = ?", f.ServiceID)
	}
	if f.TechnicianID != 0 {
		add("technician_id = ?", f.TechnicianID)
	}
	if f.TeamID != 0 {
		add("team_id = ?", f.TeamID)
	}
	if f.Priority != 0 {
		add("priority = ?", f.Priority)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("created_at < ?", f.To.UTC())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// list pages through the tickets matching f: those within scope and, when
// requesterID is not 0, the requester's own.
//
// The two kinds of visibility are two arms of a UNION ALL rather than an
// OR, so each arm is driven by its own index; the requester's arm leaves
// out the tickets the scope arm already gives, so nothing needs the
// temporary B-tree a UNION builds to remove duplicates.
//
// A page of the scope arm is taken establishment by establishment: the
// first offset+limit tickets of each (read in order from the
// (establishment_id, status, created_at, id) or (establishment_id,
// created_at) index), then merged. Sorting every ticket of a commune (10,000
// on the benchmark) to keep 50 was what made the "closed" and "all" pages
// slow on SQLite (EXPLAIN QUERY PLAN: USE TEMP B-TREE FOR ORDER BY over the
// whole scope, twice with the count). PostgreSQL writes the same with
// LATERAL; SQLite with a correlated IN … LIMIT.
func (s *Store) list(ctx context.Context, f Filter, sc listScope, requesterID int64) (ListResult, error) {
	res := ListResult{Items: []Ticket{}}
	q, ok := listSQL(f, sc, requesterID, s.db.Dialect())
	if !ok {
		return res, nil
	}
	if err := s.db.QueryRowContext(ctx, q.count, q.countArgs...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count tickets: %w", err)
	}
	res.TotalCapped = res.Total > ListCountCap
	rows, err := s.db.QueryContext(ctx, q.page, q.pageArgs...)
	if err != nil {
		return res, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return res, fmt.Errorf("scan ticket: %w", err)
		}
		res.Items = append(res.Items, t)
	}
	return res, rows.Err()
}

// listQueries are the two statements of a list: the capped count and
// the page.
type listQueries struct {
	count, page         string
	countArgs, pageArgs []any
}

// listSQL writes the statements of Store.list; ok is false when nothing
// can be visible.
func listSQL(f Filter, sc listScope, requesterID int64, dialect db.Dialect) (listQueries, bool) {
	sort, ok := listSorts[f.Sort]
	if !ok {
		sort = listSorts[""]
	}
	filtT, argsT := listFilters(f, "t")
	filtX, argsX := listFilters(f, "x")

	var countQ, pageQ string
	var countA, pageA []any
	n := f.Offset + f.Limit
	switch {
	case sc.all:
		// Every ticket is visible: the requester's own are among them.
		countQ = `SELECT 1 FROM tickets t WHERE 1=1` + filtT
		countA = argsT
		pageQ = `SELECT t.id FROM tickets t WHERE 1=1` + filtT + ` ORDER BY ` + sort.order("t") + ` LIMIT ? OFFSET ?`
		pageA = append(slices.Clone(argsT), f.Limit, f.Offset)
	default:
		var arms, parts []string
		if sc.set != "" {
			countQ = `SELECT 1 FROM tickets t WHERE t.establishment_id IN (SELECT s.eid FROM (` + sc.set + `) s WHERE ` + sc.check + `)` + filtT
			countA = append(append(slices.Clone(sc.setArgs), sc.checkArgs...), argsT...)
			top := `SELECT x.id FROM tickets x WHERE x.establishment_id = s.eid` + filtX + ` ORDER BY ` + sort.order("x") + ` LIMIT ?`
			var arm string
			switch {
			case n > listTopPerEstablishment:
				// Deep pages: offset+limit tickets from each establishment
				// would be more than the whole scope; sort the scope once.
				arm = `SELECT t.id` + sort.cols + ` FROM tickets t WHERE t.establishment_id IN (SELECT s.eid FROM (` + sc.set + `) s WHERE ` + sc.check + `)` + filtT
			case dialect == db.Postgres:
				arm = `SELECT t.id` + sort.cols + ` FROM (` + sc.set + `) s CROSS JOIN LATERAL (SELECT x.* FROM tickets x WHERE x.establishment_id = s.eid` +
					filtX + ` ORDER BY ` + sort.order("x") + ` LIMIT ?) t WHERE ` + sc.check
			default:
				arm = `SELECT t.id` + sort.cols + ` FROM (` + sc.set + `) s JOIN tickets t ON t.id IN (` + top + `) WHERE ` + sc.check
			}
			arms = append(arms, arm)
			if n > listTopPerEstablishment {
				pageA = slices.Clone(countA)
			} else {
				pageA = append(append(append(slices.Clone(sc.setArgs), argsX...), n), sc.checkArgs...)
			}
			parts = append(parts, countQ)
		}
		if requesterID != 0 {
			own := ` FROM tickets t WHERE t.requester_id = ?` + filtT
			ownA := append([]any{requesterID}, argsT...)
			if sc.set != "" {
				own += ` AND t.establishment_id NOT IN (SELECT s.eid FROM (` + sc.set + `) s WHERE ` + sc.check + `)`
				ownA = append(append(ownA, sc.setArgs...), sc.checkArgs...)
			}
			parts = append(parts, `SELECT 1`+own)
			countA = append(countA, ownA...)
			arms = append(arms, `SELECT t.id`+sort.cols+own)
			pageA = append(pageA, ownA...)
		}
		if len(arms) == 0 {
			return listQueries{}, false
		}
		countQ = strings.Join(parts, ` UNION ALL `)
		pageQ = `SELECT v.id FROM (` + strings.Join(arms, ` UNION ALL `) + `) v ORDER BY ` + sort.order("v") + ` LIMIT ? OFFSET ?`
		pageA = append(pageA, f.Limit, f.Offset)
	}
	return listQueries{
		count: `SELECT COUNT(*) FROM (` + countQ + ` LIMIT ?) c`, countArgs: append(countA, ListCountCap+1),
		page: `SELECT ` + ticketColumns + ticketFrom + ` WHERE t.id IN (` + pageQ + `) ORDER BY ` + sort.order("t"), pageArgs: pageA,
	}, true
}

func (s *Store) addEvent(ctx context.Context, q db.Querier, ticketID int64, e Event) error {
	_, err := q.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, at, actor_id, type, from_value, to_value, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ticketID, e.At.UTC(), db.NullID(e.ActorID), e.Type, e.From, e.To, e.Detail)
	if err != nil {
		return fmt.Errorf("record %s event of ticket %d: %w", e.Type, ticketID, err)
	}
	return nil
}

func (s *Store) events(ctx context.Context, q db.Querier, ticketID int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, COALESCE(actor_id, 0), type, from_value, to_value, detail
		FROM ticket_events WHERE ticket_id = ? ORDER BY at, id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("events of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Type, &e.From, &e.To, &e.Detail); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) hasEvent(ctx context.Context, q db.Querier, ticketID int64, typ, to string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND type = ? AND to_value = ?`,
		ticketID, typ, to).Scan(&n)
	return n > 0, err
}

func (s *Store) addFollowup(ctx context.Context, q db.Querier, ticketID int64, f *Followup, messageID string) error {
	err := q.QueryRowContext(ctx, `INSERT INTO followups (ticket_id, author_id, author_email, body, private, source, message_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ticketID, db.NullID(f.AuthorID), f.AuthorEmail, f.Body, f.Private,
		f.Source, messageID, f.CreatedAt.UTC()).Scan(&f.ID)
	if err != nil {
		return fmt.Errorf("insert follow-up of ticket %d: %w", ticketID, err)
	}
	return nil
}

func (s *Store) followups(ctx context.Context, ticketID int64, withPrivate bool) ([]Followup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, COALESCE(f.author_id, 0), f.author_email, COALESCE(u.display_name, ''),
		f.body, f.private, f.source, f.created_at
		FROM followups f LEFT JOIN users u ON u.id = f.author_id
		WHERE f.ticket_id = ? AND (f.private = ? OR ?) ORDER BY f.created_at, f.id`, ticketID, false, withPrivate)
	if err != nil {
		return nil, fmt.Errorf("follow-ups of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	out := []Followup{}
	for rows.Next() {
		var f Followup
		if err := rows.Scan(&f.ID, &f.AuthorID, &f.AuthorEmail, &f.AuthorName, &f.Body, &f.Private, &f.Source, &f.CreatedAt); err != nil {
			return nil, err
		}
		f.CreatedAt = f.CreatedAt.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// followupByMessageID tells whether a message was already recorded: an SMTP
// client retrying after a lost answer must not add the reply twice.
func (s *Store) followupByMessageID(ctx context.Context, q db.Querier, messageID string) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM followups WHERE message_id = ?`, messageID).Scan(&n)
	return n > 0, err
}

// priority reads the urgency × impact matrix of the establishment or of its
// nearest ancestor that has one; ok is false when none does.
func (s *Store) priority(ctx context.Context, q db.Querier, establishmentID int64, urgency, impact int) (int, bool, error) {
	var p int
	err := q.QueryRowContext(ctx, `SELECT pm.priority FROM priority_matrix pm
		LEFT JOIN org_closure c ON c.ancestor_id = pm.org_id AND c.descendant_id = ?
		WHERE pm.urgency = ? AND pm.impact = ? AND (pm.org_id = ? OR c.ancestor_id IS NOT NULL)
		ORDER BY CASE WHEN pm.org_id = ? THEN 0 ELSE c.depth END LIMIT 1`,
		establishmentID, urgency, impact, establishmentID, establishmentID).Scan(&p)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("priority matrix: %w", err)
	}
	return p, true, nil
}

func (s *Store) setMatrix(ctx context.Context, q db.Querier, orgID int64, m Matrix) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM priority_matrix WHERE org_id = ?`, orgID); err != nil {
		return fmt.Errorf("clear priority matrix of %d: %w", orgID, err)
	}
	for u := 1; u <= 5; u++ {
		for i := 1; i <= 5; i++ {
			if _, err := q.ExecContext(ctx, `INSERT INTO priority_matrix (org_id, urgency, impact, priority) VALUES (?, ?, ?, ?)`,
				orgID, u, i, m[u-1][i-1]); err != nil {
				return fmt.Errorf("write priority matrix of %d: %w", orgID, err)
			}
		}
	}
	return nil
}

// matchRule returns the team and technician of the first assignment rule,
// by position, that matches the ticket; rules belong to the establishment
// or to one of its ancestors.
func (s *Store) matchRule(ctx context.Context, q db.Querier, t *Ticket) (team, tech int64, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT r.team_id, COALESCE(r.technician_id, 0) FROM assignment_rules r
		WHERE (r.org_id = ? OR EXISTS (SELECT 1 FROM org_closure c WHERE c.ancestor_id = r.org_id AND c.descendant_id = ?))
		AND (r.service_id IS NULL OR r.service_id = ?)
		AND (r.establishment_id IS NULL OR r.establishment_id = ?)
		AND (r.request_type_id IS NULL OR r.request_type_id = ?)
		ORDER BY r.position, r.id LIMIT 1`,
		t.EstablishmentID, t.EstablishmentID, t.ServiceID, t.EstablishmentID, t.RequestTypeID).Scan(&team, &tech)
	if err == sql.ErrNoRows {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("assignment rules: %w", err)
	}
	return team, tech, true, nil
}

// AddRule appends an assignment rule (wiring code, tests and the admin
// API the catalogue will carry).
func (s *Store) AddRule(ctx context.Context, r Rule) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO assignment_rules (org_id, position, service_id, establishment_id, request_type_id, team_id, technician_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.OrgID, r.Position, db.NullID(r.ServiceID), db.NullID(r.EstablishmentID),
		db.NullID(r.RequestTypeID), r.TeamID, db.NullID(r.TechnicianID)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert assignment rule: %w", err)
	}
	return id, nil
}

// establishmentByUAI finds an establishment's organization id.
func (s *Store) establishmentByUAI(ctx context.Context, uai string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT org_id FROM establishments WHERE uai = ?`, uai).Scan(&id)
	return id, err
}

// isEstablishment reports whether id is an organization of kind
// establishment.
func (s *Store) isEstablishment(ctx context.Context, id int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM establishments WHERE org_id = ?`, id).Scan(&n)
	return n > 0, err
}

// recordNotification remembers a notification and its Message-ID.
func (s *Store) recordNotification(ctx context.Context, q db.Querier, ticketID int64, kind, recipient, subject, messageID string, at time.Time, sendErr string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notifications (ticket_id, kind, recipient, subject, message_id, sent_at, error)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ticketID, kind, recipient, subject, messageID, at.UTC(), sendErr)
	if err != nil {
		return fmt.Errorf("record notification of ticket %d: %w", ticketID, err)
	}
	return nil
}

// ticketByMessageID finds the ticket a notification was about.
func (s *Store) ticketByMessageID(ctx context.Context, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, sql.ErrNoRows
	}
	args := make([]any, len(ids))
	for i, v := range ids {
		args[i] = v
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT ticket_id FROM notifications WHERE message_id IN (`+db.Placeholders(len(ids))+`)
		ORDER BY id DESC LIMIT 1`, args...).Scan(&id)
	return id, err
}

// teamEmail reads a team's address from the catalogue's table: the
// notification of a ticket nobody holds yet goes to its team.
func (s *Store) teamEmail(ctx context.Context, teamID int64) (string, error) {
	var email string
	err := s.db.QueryRowContext(ctx, `SELECT email FROM teams WHERE id = ?`, teamID).Scan(&email)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return email, err
}

func (s *Store) userEmail(ctx context.Context, id int64) (string, error) {
	var email string
	err := s.db.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, id).Scan(&email)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return email, err
}

// dueForCheck lists the tickets whose next clock check has come.
func (s *Store) dueForCheck(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM tickets WHERE sla_check_at IS NOT NULL AND sla_check_at <= ?
		ORDER BY sla_check_at LIMIT ?`, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("tickets due for a clock check: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s *Store) insertQuarantine(ctx context.Context, q QuarantinedMail, messageID, storageKey string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO mail_quarantine (received_at, sender, subject, reason, size, message_id, storage_key)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, q.ReceivedAt.UTC(), q.Sender, q.Subject, q.Reason, q.Size, messageID,
		storageKey).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert quarantined mail: %w", err)
	}
	return id, nil
}

func (s *Store) quarantine(ctx context.Context, limit, offset int) ([]QuarantinedMail, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_quarantine WHERE resolved_at IS NULL`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count quarantine: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, received_at, sender, subject, reason, size FROM mail_quarantine
		WHERE resolved_at IS NULL ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list quarantine: %w", err)
	}
	defer rows.Close()
	out := []QuarantinedMail{}
	for rows.Next() {
		var m QuarantinedMail
		if err := rows.Scan(&m.ID, &m.ReceivedAt, &m.Sender, &m.Subject, &m.Reason, &m.Size); err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// rules lists the assignment rules of an organization, by position.
func (s *Store) rules(ctx context.Context, orgID int64) ([]Rule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, position, COALESCE(service_id, 0), COALESCE(establishment_id, 0),
		COALESCE(request_type_id, 0), team_id, COALESCE(technician_id, 0) FROM assignment_rules WHERE org_id = ? ORDER BY position, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("assignment rules of %d: %w", orgID, err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Position, &r.ServiceID, &r.EstablishmentID, &r.RequestTypeID, &r.TeamID, &r.TechnicianID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// matrix reads an organization's own matrix; ok is false when it has none.
func (s *Store) matrix(ctx context.Context, orgID int64) (Matrix, bool, error) {
	var m Matrix
	rows, err := s.db.QueryContext(ctx, `SELECT urgency, impact, priority FROM priority_matrix WHERE org_id = ?`, orgID)
	if err != nil {
		return m, false, fmt.Errorf("priority matrix of %d: %w", orgID, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var u, i, p int
		if err := rows.Scan(&u, &i, &p); err != nil {
			return m, false, err
		}
		if u >= 1 && u <= 5 && i >= 1 && i <= 5 {
			m[u-1][i-1] = p
			n++
		}
	}
	return m, n == 25, rows.Err()
}

// requestType reads the service and kind of a catalogue request type.
func (s *Store) requestType(ctx context.Context, id int64) (serviceID int64, kind string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT service_id, kind FROM request_types WHERE id = ?`, id).Scan(&serviceID, &kind)
	return serviceID, kind, err
}
