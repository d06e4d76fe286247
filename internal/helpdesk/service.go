package helpdesk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Service is the rules of the helpdesk: who may see and change a ticket,
// how its status moves, and its clocks, recomputed on every change.
type Service struct {
	db     *db.DB
	store  *Store
	auth   *auth.Service
	levels LevelSource
	// fleet applies IMAC requests (imac.go); nil until SetFleet.
	fleet Fleet
	opts  Options
	log   *slog.Logger
	now   func() time.Time
}

// NewService builds the service. levels may be nil (no convention ever
// applies: every ticket shows "pas d'engagement de service").
func NewService(d *db.DB, authSvc *auth.Service, levels LevelSource, opts Options, log *slog.Logger) *Service {
	if opts.MaxAttachmentBytes <= 0 {
		opts.MaxAttachmentBytes = 20 << 20
	}
	if opts.MaxMailBytes <= 0 {
		opts.MaxMailBytes = 10 << 20
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Service{db: d, store: NewStore(d), auth: authSvc, levels: levels, opts: opts, log: log, now: time.Now}
}

// Store exposes the store to wiring code (demo data, tests).
func (s *Service) Store() *Store { return s.store }

// MaxPageSize bounds a page of tickets.
const MaxPageSize = 200

// visible is the condition for the tickets a principal may read: those of
// the establishments in their scope, and their own.
func visible(p *auth.Principal) (string, []any) {
	cond, args := p.ScopeSQL(auth.PermTicketRead, "t.establishment_id")
	if p.IsAnonymous() {
		return cond, args
	}
	return "(" + cond + " OR t.requester_id = ?)", append(args, p.User.ID)
}

// canWork reports whether p may act on the ticket as a technician.
func (s *Service) canWork(ctx context.Context, p *auth.Principal, t *Ticket) (bool, error) {
	if !p.Has(auth.PermTicketWork) {
		return false, nil
	}
	return s.auth.Allowed(ctx, p, auth.PermTicketWork, t.EstablishmentID)
}

// load reads a ticket the principal may see; anything else is not found.
func (s *Service) load(ctx context.Context, q db.Querier, p *auth.Principal, ref string) (Ticket, error) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	if p.IsAnonymous() {
		return Ticket{}, problem.NotFound("Ticket")
	}
	cond, args := visible(p)
	t, err := s.store.ticket(ctx, q, ref, 0, cond, args)
	if errors.Is(err, sql.ErrNoRows) {
		return t, problem.NotFound("Ticket")
	}
	if err != nil {
		return t, fmt.Errorf("load ticket %s: %w", ref, err)
	}
	return t, nil
}

// Create opens a ticket for an establishment in the caller's scope.
func (s *Service) Create(ctx context.Context, p *auth.Principal, nt NewTicket) (Ticket, error) {
	if p.IsAnonymous() {
		return Ticket{}, problem.Unauthenticated()
	}
	if !p.Has(auth.PermTicketCreate) {
		return Ticket{}, problem.Forbidden()
	}
	estID, err := s.resolveEstablishment(ctx, nt)
	if err != nil {
		return Ticket{}, err
	}
	ok, err := s.auth.Allowed(ctx, p, auth.PermTicketCreate, estID)
	if err != nil {
		return Ticket{}, err
	}
	if !ok {
		return Ticket{}, problem.NotFound("Établissement")
	}
	return s.create(ctx, p.User.ID, p.User.Email, estID, nt, "web", nil)
}

func (s *Service) resolveEstablishment(ctx context.Context, nt NewTicket) (int64, error) {
	if uai := strings.ToUpper(strings.TrimSpace(nt.UAI)); uai != "" {
		id, err := s.store.establishmentByUAI(ctx, uai)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, problem.NotFound("Établissement")
		}
		return id, err
	}
	if nt.EstablishmentID == 0 {
		return 0, problem.Invalid("establishment_required", "Indiquez l'établissement concerné.").Field("uai", "Établissement requis.")
	}
	ok, err := s.store.isEstablishment(ctx, nt.EstablishmentID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, problem.NotFound("Établissement")
	}
	return nt.EstablishmentID, nil
}

func validateNew(nt *NewTicket) error {
	nt.Title = strings.TrimSpace(nt.Title)
	nt.Description = strings.TrimSpace(nt.Description)
	if nt.Kind == "" {
		nt.Kind = KindIncident
	}
	if !nt.Kind.valid() {
		return problem.Invalid("invalid_kind", "Type de ticket inconnu (incident, request, problem, change).").Field("kind", "Type inconnu.")
	}
	if nt.Title == "" {
		return problem.Invalid("title_required", "Donnez un titre au ticket.").Field("title", "Titre requis.")
	}
	if len([]rune(nt.Title)) > 200 {
		return problem.Invalid("title_too_long", "Le titre ne doit pas dépasser 200 caractères.").Field("title", "200 caractères au plus.")
	}
	if len(nt.Description) > 100_000 {
		return problem.Invalid("description_too_long", "La description est trop longue.").Field("description", "Trop long.")
	}
	if nt.Urgency == 0 {
		nt.Urgency = 3
	}
	if nt.Impact == 0 {
		nt.Impact = 3
	}
	if nt.Urgency < 1 || nt.Urgency > 5 || nt.Impact < 1 || nt.Impact > 5 {
		return problem.Invalid("invalid_urgency", "Urgence et impact vont de 1 (très haut) à 5 (très bas).")
	}
	return nil
}

// create inserts a ticket with its reference, first events, assignment and
// clocks, in one transaction.
//
// then, when not nil, runs last in the ticket's transaction (a quarantined
// message released as this ticket is marked so with it).
func (s *Service) create(ctx context.Context, requesterID int64, requesterEmail string, estID int64, nt NewTicket, source string, then func(tx *db.Tx, t *Ticket) error) (Ticket, error) {
	if nt.RequestTypeID != 0 {
		// The request type belongs to a service and says what the ticket
		// is; a form or client mixing them up is told so.
		svc, kind, err := s.store.requestType(ctx, nt.RequestTypeID)
		if errors.Is(err, sql.ErrNoRows) {
			return Ticket{}, problem.Invalid("unknown_request_type", "Type de demande inconnu.").Field("request_type_id", "Inconnu.")
		}
		if err != nil {
			return Ticket{}, err
		}
		if nt.ServiceID == 0 {
			nt.ServiceID = svc
		}
		if nt.Kind == "" {
			nt.Kind = Kind(kind)
		}
		if nt.ServiceID != svc || (kind != "" && Kind(kind) != nt.Kind) {
			return Ticket{}, problem.Invalid("request_type_mismatch", "Ce type de demande n'appartient pas à ce service ou ne correspond pas au type de ticket.").Field("request_type_id", "Incohérent.")
		}
	}
	if err := validateNew(&nt); err != nil {
		return Ticket{}, err
	}
	now := s.now().UTC()
	t := Ticket{Kind: nt.Kind, Title: nt.Title, Description: nt.Description, RequesterID: requesterID,
		RequesterEmail: requesterEmail, EstablishmentID: estID, ServiceID: nt.ServiceID, RequestTypeID: nt.RequestTypeID,
		Urgency: nt.Urgency, Impact: nt.Impact, Status: StatusNew, Level: LevelN1, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		prio, ok, err := s.store.priority(ctx, tx, estID, nt.Urgency, nt.Impact)
		if err != nil {
			return err
		}
		if !ok {
			prio = DefaultMatrix().Priority(nt.Urgency, nt.Impact)
		}
		t.Priority = prio
		if t.Reference, err = s.store.nextReference(ctx, tx, now.In(web.Paris()).Year()); err != nil {
			return err
		}
		if err := s.store.insertTicket(ctx, tx, &t); err != nil {
			return err
		}
		if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, ActorID: requesterID, Type: evStatus, To: string(EventNew), Detail: source}); err != nil {
			return err
		}
		lv, err := s.levelsFor(ctx, &t, now)
		if err != nil {
			return err
		}
		team, tech, ok, err := s.store.matchRule(ctx, tx, &t)
		if err != nil {
			return err
		}
		if !ok && lv != nil {
			team = lv.N1TeamID
		}
		if team != 0 || tech != 0 {
			t.TeamID, t.TechnicianID = team, tech
			if err := s.store.addEvent(ctx, tx, t.ID, holderEvent(evAssign, now, 0, t.Level, team, tech, "rule")); err != nil {
				return err
			}
			if tech != 0 {
				// A rule naming a technician owns the ticket at once.
				t.Status = StatusAssigned
				if err := s.store.addEvent(ctx, tx, t.ID, Event{At: now, Type: evStatus, From: string(EventNew), To: string(EventAssigned)}); err != nil {
					return err
				}
			}
		}
		if err := s.refresh(ctx, tx, &t, lv, now); err != nil {
			return err
		}
		// Queued with the ticket: both are committed or neither.
		if err := s.notifyCreated(ctx, tx, &t); err != nil {
			return err
		}
		if then != nil {
			return then(tx, &t)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, mapFK(err)
	}
	s.flushTicket(ctx, &t, now)
	return t, nil
}

// Get returns a ticket with its computed clocks and history.
func (s *Service) Get(ctx context.Context, p *auth.Principal, ref string) (Detail, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Ticket: t}
	if d.CanWork, err = s.canWork(ctx, p, &t); err != nil {
		return d, err
	}
	events, err := s.store.events(ctx, s.db, t.ID)
	if err != nil {
		return d, err
	}
	now := s.now().UTC()
	lv, err := s.levelsFor(ctx, &t, now)
	if err != nil {
		return d, err
	}
	d.Clocks = s.clocks(&t, lv, events, now)
	d.Holdings = holdings(events, now)
	d.Events = events
	if !d.CanWork {
		d.Holdings = []Holding{}
		// Requesters see the status history, not the internal workings.
		d.Events = []Event{}
		for _, e := range events {
			if e.Type == evStatus {
				d.Events = append(d.Events, e)
			}
		}
	}
	if d.Followups, err = s.store.followups(ctx, t.ID, d.CanWork); err != nil {
		return d, err
	}
	if d.Links, err = s.store.links(ctx, t.ID); err != nil {
		return d, err
	}
	if d.Attachments, err = s.store.attachments(ctx, t.ID, d.CanWork); err != nil {
		return d, err
	}
	if d.Interventions, err = s.store.interventions(ctx, t.ID); err != nil {
		return d, err
	}
	return d, nil
}

// List returns a page of the tickets the caller may read.
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) (ListResult, error) {
	if p.IsAnonymous() {
		return ListResult{}, problem.Unauthenticated()
	}
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	f.UAI = strings.ToUpper(strings.TrimSpace(f.UAI))
	// The same tickets as visible, written for the list: the scope as the
	// set of establishments to read one by one and the caller's own
	// tickets as a separate arm (see Store.list), so a page of a million
	// tickets is read from the indexes instead of testing every ticket.
	return s.store.list(ctx, f, listScopeOf(p, auth.PermTicketRead), p.User.ID)
}

// AddFollowup adds a message to a ticket. A private note needs the right
// to work the ticket. A message of the requester on a ticket waiting for
// them resumes it.
func (s *Service) AddFollowup(ctx context.Context, p *auth.Principal, ref, body string, private bool) (Followup, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return Followup{}, err
	}
	work, err := s.canWork(ctx, p, &t)
	if err != nil {
		return Followup{}, err
	}
	if private && !work {
		return Followup{}, problem.Forbidden()
	}
	if !work && t.RequesterID != p.User.ID && !p.Has(auth.PermTicketRead) {
		return Followup{}, problem.Forbidden()
	}
	f := Followup{AuthorID: p.User.ID, AuthorEmail: p.User.Email, Body: body, Private: private, Source: "web"}
	notify := func(tx *db.Tx) error {
		switch {
		case !private && p.User.ID != t.RequesterID:
			return s.notifyFollowup(ctx, tx, &t, &f)
		case p.User.ID == t.RequesterID:
			return s.notifyHolder(ctx, tx, &t, "Nouveau message du demandeur", "Le demandeur a écrit :\n\n"+f.Body)
		}
		return nil
	}
	if err := s.addFollowup(ctx, &t, &f, "", p.User.ID == t.RequesterID, notify); err != nil {
		return Followup{}, err
	}
	return f, nil
}

// addFollowup records a follow-up and, when it comes from the requester of
// a ticket waiting for them, resumes the ticket in the same transaction;
// notify queues its notifications in that transaction too.
func (s *Service) addFollowup(ctx context.Context, t *Ticket, f *Followup, messageID string, fromRequester bool, notify func(tx *db.Tx) error) error {
	f.Body = strings.TrimSpace(f.Body)
	if f.Body == "" {
		return problem.Invalid("body_required", "Le message est vide.").Field("body", "Message requis.")
	}
	if len(f.Body) > 100_000 {
		return problem.Invalid("body_too_long", "Le message est trop long.").Field("body", "Trop long.")
	}
	now := s.now().UTC()
	f.CreatedAt = now
	return s.mutate(ctx, t, func(tx *db.Tx) error {
		if err := s.store.addFollowup(ctx, tx, t.ID, f, messageID); err != nil {
			return err
		}
		if fromRequester && t.Status == StatusPending && t.PendingReason == ReasonRequester {
			if err := s.changeStatus(ctx, tx, t, f.AuthorID, StatusAssigned, "", now); err != nil {
				return err
			}
		}
		t.UpdatedAt = now
		if err := s.store.updateTicket(ctx, tx, t); err != nil {
			return err
		}
		// Every change looks at the levels again: a convention amended
		// since the last change applies from now on.
		if err := s.refreshNow(ctx, tx, t, now); err != nil {
			return err
		}
		return notify(tx)
	})
}

// Matrix is an urgency × impact → priority matrix, indexed [urgency-1]
// [impact-1]; 1 is the highest on all three scales, as the catalogue's
// service levels count priorities.
type Matrix [5][5]int

// Priority reads the matrix.
func (m Matrix) Priority(urgency, impact int) int {
	if urgency < 1 || urgency > 5 || impact < 1 || impact > 5 {
		return 3
	}
	return m[urgency-1][impact-1]
}

// DefaultMatrix is GLPI's default matrix on the catalogue's scale, where 1
// is "very high": each scale is reversed (6 - n). It is the matrix of every
// organization that has not set its own.
func DefaultMatrix() Matrix {
	// GLPI's default as GLPI writes it: 5 is "very high" on every scale,
	// rows are urgency, columns impact.
	glpi := [5][5]int{
		{1, 1, 2, 2, 2},
		{1, 2, 2, 3, 3},
		{2, 2, 3, 4, 4},
		{2, 3, 4, 4, 5},
		{2, 3, 4, 5, 5},
	}
	var m Matrix
	for u := 1; u <= 5; u++ {
		for i := 1; i <= 5; i++ {
			m[u-1][i-1] = 6 - glpi[5-u][5-i]
		}
	}
	return m
}

// SetMatrix replaces an organization's priority matrix; it applies to the
// tickets opened afterwards in its establishments.
func (s *Service) SetMatrix(ctx context.Context, p *auth.Principal, orgID int64, m Matrix) error {
	ok, err := s.auth.Allowed(ctx, p, auth.PermCatalogManage, orgID)
	if err != nil {
		return err
	}
	if !ok {
		return problem.NotFound("Organisation")
	}
	for _, row := range m {
		for _, v := range row {
			if v < 1 || v > 5 {
				return problem.Invalid("invalid_matrix", "Chaque priorité de la matrice va de 1 (très haute) à 5 (très basse).")
			}
		}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.store.setMatrix(ctx, tx, orgID, m) })
}

// Rule is an assignment rule of an organization: for a new ticket of one
// of its establishments, the first rule by position whose set criteria
// (0 = any) match gives the team and technician.
type Rule struct {
	ID              int64 `json:"id"`
	OrgID           int64 `json:"org_id"`
	Position        int   `json:"position"`
	ServiceID       int64 `json:"service_id,omitempty"`
	EstablishmentID int64 `json:"establishment_id,omitempty"`
	RequestTypeID   int64 `json:"request_type_id,omitempty"`
	TeamID          int64 `json:"team_id"`
	TechnicianID    int64 `json:"technician_id,omitempty"`
}

// AddRule adds an assignment rule to an organization the caller manages.
func (s *Service) AddRule(ctx context.Context, p *auth.Principal, r Rule) (Rule, error) {
	ok, err := s.auth.Allowed(ctx, p, auth.PermCatalogManage, r.OrgID)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, problem.NotFound("Organisation")
	}
	if r.TeamID == 0 {
		return r, problem.Invalid("team_required", "Une règle d'attribution désigne une équipe.").Field("team_id", "Équipe requise.")
	}
	if r.ID, err = s.store.AddRule(ctx, r); err != nil {
		return r, mapFK(err)
	}
	return r, nil
}

// Rules lists an organization's assignment rules, by position.
func (s *Service) Rules(ctx context.Context, p *auth.Principal, orgID int64) ([]Rule, error) {
	ok, err := s.auth.Allowed(ctx, p, auth.PermTicketWork, orgID)
	if err != nil {
		return nil, err
	}
	if !ok {
		if ok, err = s.auth.Allowed(ctx, p, auth.PermCatalogManage, orgID); err != nil {
			return nil, err
		}
		if !ok {
			return nil, problem.NotFound("Organisation")
		}
	}
	return s.store.rules(ctx, orgID)
}

// MatrixOf returns an organization's priority matrix, GLPI's default when
// it has not set its own.
func (s *Service) MatrixOf(ctx context.Context, p *auth.Principal, orgID int64) (Matrix, bool, error) {
	ok, err := s.auth.Allowed(ctx, p, auth.PermOrgRead, orgID)
	if err != nil {
		return Matrix{}, false, err
	}
	if !ok {
		return Matrix{}, false, problem.NotFound("Organisation")
	}
	m, own, err := s.store.matrix(ctx, orgID)
	if err != nil || !own {
		return DefaultMatrix(), false, err
	}
	return m, true, nil
}
