package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Options are the pluggable parts of governance: the computed sources of
// indicators, the quality board and the plan's progress. Nil parts are
// "no data" with the reason.
type Options struct {
	Sources []SourceInfo
	Quality QualityBoard
	Plan    PlanProgress
}

// Service is the rules of governance. Bodies, roadmaps and projects belong
// to an organization (the académie, a collectivité); reading needs
// governance.read on it, changing governance.manage; out of scope is 404.
type Service struct {
	db    *db.DB
	auth  *auth.Service
	store *Store
	log   *slog.Logger
	opts  Options
	// now is the clock, replaced by tests.
	now func() time.Time
}

// NewService builds the service.
func NewService(d *db.DB, authSvc *auth.Service, log *slog.Logger, opts Options) *Service {
	if opts.Quality == nil {
		opts.Quality = noQuality{}
	}
	if opts.Plan == nil {
		opts.Plan = noPlan{}
	}
	s := &Service{db: d, auth: authSvc, store: &Store{db: d}, log: log, opts: opts, now: time.Now}
	// Governance's own sources (the ENT's audience) come with it.
	s.opts.Sources = append(append([]SourceInfo(nil), opts.Sources...), s.AudienceSources()...)
	return s
}

// SetClock replaces the clock (demo data written in the past, tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Sources lists the computed sources, for forms.
func (s *Service) Sources() []SourceInfo { return s.opts.Sources }

func actor(p *auth.Principal) string {
	if p == nil || p.User.Email == "" {
		return "inconnu"
	}
	return p.User.Email
}

// check returns nil when orgID is in the caller's scope for perm; outside
// the read scope it is 404, inside it but without perm 403.
func (s *Service) check(ctx context.Context, p *auth.Principal, perm auth.Permission, orgID int64, what string) error {
	if anonymous(p) {
		return problem.Unauthenticated()
	}
	ok, err := s.auth.Allowed(ctx, p, perm, orgID)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if perm != auth.PermGovernanceRead {
		if r, err := s.auth.Allowed(ctx, p, auth.PermGovernanceRead, orgID); err == nil && r {
			return problem.Forbidden()
		}
	}
	return problem.NotFound(what)
}

func required(field, label, v string) error {
	if strings.TrimSpace(v) == "" {
		return problem.Invalid("missing_field", label+" est obligatoire.").Field(field, "Obligatoire.")
	}
	return nil
}

// ---- Bodies ----

// CreateBody records a body of an organization.
func (s *Service) CreateBody(ctx context.Context, p *auth.Principal, b Body) (Body, error) {
	b.Name = strings.TrimSpace(b.Name)
	if err := required("name", "Le nom", b.Name); err != nil {
		return Body{}, err
	}
	if !b.Kind.Valid() {
		return Body{}, problem.Invalid("invalid_kind", "Type d'instance inconnu.").Field("kind", "Type inconnu.")
	}
	if b.MinPerYear < 0 || b.MinPerYear > 52 {
		return Body{}, problem.Invalid("invalid_frequency", "Fréquence requise : de 0 à 52 séances par an.").Field("min_per_year", "De 0 à 52.")
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Organisation"); err != nil {
		return Body{}, err
	}
	b.CreatedAt = s.now().UTC()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO gov_bodies (org_id, kind, name, chair, role, min_per_year, required_data, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, b.OrgID, string(b.Kind), b.Name, strings.TrimSpace(b.Chair),
			strings.TrimSpace(b.Role), b.MinPerYear, strings.TrimSpace(b.RequiredData), b.CreatedAt).Scan(&b.ID)
		if err != nil {
			return fmt.Errorf("insert body: %w", err)
		}
		for i := range b.Members {
			if b.Members[i].ID, err = s.store.insertMember(ctx, tx, b.ID, b.Members[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Body{}, err
	}
	return s.Body(ctx, p, b.ID)
}

// AddMember adds a person or an organization to a body.
func (s *Service) AddMember(ctx context.Context, p *auth.Principal, bodyID int64, m Member) (Body, error) {
	b, err := s.Body(ctx, p, bodyID)
	if err != nil {
		return Body{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Instance"); err != nil {
		return Body{}, err
	}
	if strings.TrimSpace(m.Name) == "" && m.OrgID == 0 {
		return Body{}, problem.Invalid("missing_field", "Un membre est une personne ou une organisation.").Field("name", "Obligatoire.")
	}
	if _, err := s.store.insertMember(ctx, s.db, bodyID, m); err != nil {
		return Body{}, err
	}
	return s.Body(ctx, p, bodyID)
}

// Bodies lists the bodies in the caller's scope.
func (s *Service) Bodies(ctx context.Context, p *auth.Principal) ([]Body, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "b.org_id")
	return s.store.bodies(ctx, `WHERE `+scope+` ORDER BY b.kind, b.name`, args...)
}

// Body returns one body with its members.
func (s *Service) Body(ctx context.Context, p *auth.Principal, id int64) (Body, error) {
	if anonymous(p) {
		return Body{}, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "b.org_id")
	bs, err := s.store.bodies(ctx, `WHERE b.id = ? AND `+scope, append([]any{id}, args...)...)
	if err != nil {
		return Body{}, err
	}
	if len(bs) == 0 {
		return Body{}, problem.NotFound("Instance")
	}
	b := bs[0]
	b.Members, err = s.store.members(ctx, id)
	return b, err
}

// Alerts lists the bodies in scope that fall behind their required
// frequency: this year, held and planned meetings together do not reach
// it; last year, the held ones did not.
func (s *Service) Alerts(ctx context.Context, p *auth.Principal) ([]Alert, error) {
	bodies, err := s.Bodies(ctx, p)
	if err != nil {
		return nil, err
	}
	now := s.now().In(web.Paris())
	var out []Alert
	for _, b := range bodies {
		if b.MinPerYear == 0 {
			continue
		}
		for _, year := range []int{now.Year() - 1, now.Year()} {
			from := time.Date(year, 1, 1, 0, 0, 0, 0, web.Paris()).UTC()
			to := time.Date(year+1, 1, 1, 0, 0, 0, 0, web.Paris()).UTC()
			var held, planned int
			err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN held THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN NOT held AND starts_at >= ? THEN 1 ELSE 0 END), 0)
				FROM gov_meetings WHERE body_id = ? AND starts_at >= ? AND starts_at < ?`, now.UTC(), b.ID, from, to).Scan(&held, &planned)
			if err != nil {
				return nil, fmt.Errorf("alerts of body %d: %w", b.ID, err)
			}
			a := Alert{BodyID: b.ID, BodyName: b.Name, Year: year, Held: held, Planned: planned, Required: b.MinPerYear}
			switch {
			case year < now.Year() && held < b.MinPerYear:
				a.Message = fmt.Sprintf("En %d, %s n'a tenu que %d séance(s) sur les %d requises.", year, b.Name, held, b.MinPerYear)
			case year == now.Year() && held+planned < b.MinPerYear:
				a.Message = fmt.Sprintf("En %d, %s a tenu %d séance(s) et en a %d de prévue(s) : %d sont requises. Programmez une séance.",
					year, b.Name, held, planned, b.MinPerYear)
			default:
				continue
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// ---- Meetings ----

// CreateMeeting plans a meeting of a body.
func (s *Service) CreateMeeting(ctx context.Context, p *auth.Principal, m Meeting) (Meeting, error) {
	b, err := s.Body(ctx, p, m.BodyID)
	if err != nil {
		return Meeting{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Instance"); err != nil {
		return Meeting{}, err
	}
	m.Title = strings.TrimSpace(m.Title)
	if m.Title == "" {
		m.Title = b.Name
	}
	if m.StartsAt.IsZero() {
		return Meeting{}, problem.Invalid("missing_field", "La date de la séance est obligatoire.").Field("starts_at", "Obligatoire.")
	}
	if m.EndsAt.IsZero() {
		m.EndsAt = m.StartsAt.Add(2 * time.Hour)
	}
	if m.EndsAt.Before(m.StartsAt) {
		return Meeting{}, problem.Invalid("invalid_period", "La fin de la séance précède son début.").Field("ends_at", "Avant le début.")
	}
	err = s.db.QueryRowContext(ctx, `INSERT INTO gov_meetings (body_id, title, starts_at, ends_at, place, agenda, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, m.BodyID, m.Title, m.StartsAt.UTC(), m.EndsAt.UTC(),
		strings.TrimSpace(m.Place), strings.TrimSpace(m.Agenda), s.now().UTC()).Scan(&m.ID)
	if err != nil {
		return Meeting{}, fmt.Errorf("insert meeting: %w", err)
	}
	return s.Meeting(ctx, p, m.ID)
}

// Meetings lists the meetings in scope (of one body when bodyID is not 0).
func (s *Service) Meetings(ctx context.Context, p *auth.Principal, bodyID int64) ([]Meeting, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "b.org_id")
	where := `WHERE ` + scope
	if bodyID != 0 {
		where += ` AND m.body_id = ?`
		args = append(args, bodyID)
	}
	return s.store.meetings(ctx, where+` ORDER BY m.starts_at DESC`, args...)
}

// Meeting returns a meeting with attendance, documents and decisions.
func (s *Service) Meeting(ctx context.Context, p *auth.Principal, id int64) (Meeting, error) {
	m, _, err := s.meeting(ctx, p, id)
	return m, err
}

func (s *Service) meeting(ctx context.Context, p *auth.Principal, id int64) (Meeting, Body, error) {
	if anonymous(p) {
		return Meeting{}, Body{}, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "b.org_id")
	ms, err := s.store.meetings(ctx, `WHERE m.id = ? AND `+scope, append([]any{id}, args...)...)
	if err != nil {
		return Meeting{}, Body{}, err
	}
	if len(ms) == 0 {
		return Meeting{}, Body{}, problem.NotFound("Séance")
	}
	m := ms[0]
	b, err := s.Body(ctx, p, m.BodyID)
	if err != nil {
		return m, b, err
	}
	if m.Attendance, err = s.store.attendance(ctx, id); err != nil {
		return m, b, err
	}
	if m.Documents, err = s.store.documents(ctx, id); err != nil {
		return m, b, err
	}
	m.Decisions, err = s.store.decisions(ctx, `WHERE d.meeting_id = ? ORDER BY d.id`, id)
	return m, b, err
}

// Minutes is what is recorded once a meeting has been held.
type Minutes struct {
	Text    string  `json:"minutes"`
	Present []int64 `json:"present"`
}

// RecordMinutes marks a meeting held, with its minutes and attendance. A
// meeting that has not started yet cannot have been held.
func (s *Service) RecordMinutes(ctx context.Context, p *auth.Principal, id int64, in Minutes) (Meeting, error) {
	m, b, err := s.meeting(ctx, p, id)
	if err != nil {
		return Meeting{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Séance"); err != nil {
		return Meeting{}, err
	}
	if m.StartsAt.After(s.now()) {
		return Meeting{}, problem.Conflict("meeting_not_held", "La séance n'a pas encore eu lieu : son compte rendu ne peut pas être enregistré.")
	}
	present := map[int64]bool{}
	for _, id := range in.Present {
		present[id] = true
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE gov_meetings SET held = ?, minutes = ? WHERE id = ?`, true, strings.TrimSpace(in.Text), id); err != nil {
			return fmt.Errorf("record minutes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gov_attendance WHERE meeting_id = ?`, id); err != nil {
			return err
		}
		for _, mb := range b.Members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO gov_attendance (meeting_id, member_id, present) VALUES (?, ?, ?)`,
				id, mb.ID, present[mb.ID]); err != nil {
				return fmt.Errorf("record attendance: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.Meeting(ctx, p, id)
}

// AddDocument attaches a document (a link) to a meeting.
func (s *Service) AddDocument(ctx context.Context, p *auth.Principal, meetingID int64, d Document) (Meeting, error) {
	_, b, err := s.meeting(ctx, p, meetingID)
	if err != nil {
		return Meeting{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Séance"); err != nil {
		return Meeting{}, err
	}
	if err := required("title", "Le titre du document", d.Title); err != nil {
		return Meeting{}, err
	}
	if u := strings.TrimSpace(d.URL); u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return Meeting{}, problem.Invalid("invalid_url", "L'adresse du document doit commencer par https:// ou http://.").Field("url", "Adresse invalide.")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO gov_documents (meeting_id, title, url) VALUES (?, ?, ?)`,
		meetingID, strings.TrimSpace(d.Title), strings.TrimSpace(d.URL)); err != nil {
		return Meeting{}, fmt.Errorf("insert document: %w", err)
	}
	return s.Meeting(ctx, p, meetingID)
}

// RecordDecision records a decision of a held meeting and applies it: a
// project moves on (with its history line naming the decision), an
// indicator's target changes (with its target history), a budget is set.
// Before and After keep what changed.
func (s *Service) RecordDecision(ctx context.Context, p *auth.Principal, meetingID int64, d Decision) (Decision, error) {
	m, b, err := s.meeting(ctx, p, meetingID)
	if err != nil {
		return Decision{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, b.OrgID, "Séance"); err != nil {
		return Decision{}, err
	}
	if !m.Held {
		return Decision{}, problem.Conflict("meeting_not_held", "La séance n'a pas eu lieu : enregistrez d'abord son compte rendu, une décision ne peut être prise que lors d'une séance tenue.")
	}
	if !d.Kind.valid() {
		return Decision{}, problem.Invalid("invalid_kind", "Type de décision inconnu.").Field("kind", "Type inconnu.")
	}
	d.Summary = strings.TrimSpace(d.Summary)
	if d.Summary == "" {
		d.Summary = d.Kind.Label()
	}
	d.MeetingID, d.CreatedBy, d.CreatedAt = meetingID, actor(p), s.now().UTC()
	var project Project
	var newStatus ProjectStatus
	switch d.Kind {
	case DecisionProjectExamined, DecisionProjectStarted, DecisionProjectRejected, DecisionProjectPostponed, DecisionBudgetArbitrated:
		if d.ProjectID == 0 && d.Kind != DecisionBudgetArbitrated {
			return Decision{}, problem.Invalid("missing_field", "Choisissez le projet concerné.").Field("project_id", "Obligatoire.")
		}
		if d.ProjectID != 0 {
			if project, err = s.Project(ctx, p, d.ProjectID); err != nil {
				return Decision{}, err
			}
			if project.OrgID != b.OrgID {
				return Decision{}, problem.Invalid("wrong_territory", "Ce projet est proposé aux instances d'un autre territoire.").Field("project_id", "Autre territoire.")
			}
		}
		if d.Kind != DecisionBudgetArbitrated {
			if newStatus, err = projectTransition(b.Kind, project.Status, d.Kind); err != nil {
				return Decision{}, err
			}
			d.Before, d.After = string(project.Status), string(newStatus)
		} else {
			if d.AmountCents <= 0 {
				return Decision{}, problem.Invalid("invalid_amount", "Le montant arbitré doit être positif.").Field("amount_cents", "Montant positif.")
			}
			if d.ProjectID != 0 {
				d.Before = strconv.FormatInt(project.CostCents, 10)
			}
			d.After = strconv.FormatInt(d.AmountCents, 10)
		}
	case DecisionTargetChanged:
		ind, rm, err := s.indicator(ctx, p, d.IndicatorID)
		if err != nil {
			return Decision{}, err
		}
		if rm.OrgID != b.OrgID {
			return Decision{}, problem.Invalid("wrong_territory", "Cet indicateur relève de la feuille de route d'un autre territoire.").Field("indicator_id", "Autre territoire.")
		}
		v, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(d.After), ",", ".", 1), 64)
		if err != nil {
			return Decision{}, problem.Invalid("invalid_target", "Nouvelle cible : un nombre est attendu.").Field("after", "Nombre attendu.")
		}
		d.Before = ""
		if ind.Target != nil {
			d.Before = strconv.FormatFloat(*ind.Target, 'f', -1, 64)
		}
		d.After = strconv.FormatFloat(v, 'f', -1, 64)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO gov_decisions (meeting_id, kind, summary, project_id, indicator_id, before_value, after_value, amount_cents, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, meetingID, string(d.Kind), d.Summary, db.NullID(d.ProjectID),
			db.NullID(d.IndicatorID), d.Before, d.After, d.AmountCents, d.CreatedBy, d.CreatedAt).Scan(&d.ID)
		if err != nil {
			return fmt.Errorf("insert decision: %w", err)
		}
		switch {
		case newStatus != "":
			if _, err := tx.ExecContext(ctx, `UPDATE gov_projects SET status = ? WHERE id = ?`, string(newStatus), d.ProjectID); err != nil {
				return err
			}
			return s.store.addHistory(ctx, tx, d.ProjectID, d.CreatedAt, project.Status, newStatus, d.ID,
				b.Name+" du "+m.StartsAt.In(web.Paris()).Format("02/01/2006")+" : "+d.Summary, d.CreatedBy)
		case d.Kind == DecisionBudgetArbitrated && d.ProjectID != 0:
			if _, err := tx.ExecContext(ctx, `UPDATE gov_projects SET cost_cents = ? WHERE id = ?`, d.AmountCents, d.ProjectID); err != nil {
				return err
			}
			return s.store.addHistory(ctx, tx, d.ProjectID, d.CreatedAt, project.Status, project.Status, d.ID,
				"Budget arbitré par "+b.Name+" : "+d.Summary, d.CreatedBy)
		case d.Kind == DecisionTargetChanged:
			after, _ := strconv.ParseFloat(d.After, 64)
			var before any
			if d.Before != "" {
				bv, _ := strconv.ParseFloat(d.Before, 64)
				before = bv
			}
			if _, err := tx.ExecContext(ctx, `UPDATE gov_indicators SET target_value = ? WHERE id = ?`, after, d.IndicatorID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO gov_target_history (indicator_id, decision_id, before_value, after_value, at) VALUES (?, ?, ?, ?, ?)`,
				d.IndicatorID, d.ID, before, after, d.CreatedAt)
			return err
		}
		return nil
	})
	if err != nil {
		return Decision{}, err
	}
	return d, nil
}

// projectTransition is the cycle of the bodies: the coordination committee
// examines proposed (or postponed) projects; the strategic committee (or
// the steering committee above it) starts, rejects or postpones examined
// ones.
func projectTransition(body BodyKind, from ProjectStatus, k DecisionKind) (ProjectStatus, error) {
	wrongBody := func(who string) error {
		return problem.Conflict("wrong_body", "Cette décision revient au "+who+".")
	}
	wrongStatus := problem.Conflict("invalid_transition", "Le projet est « "+from.Label()+" » : cette décision ne s'applique pas à ce stade.")
	switch k {
	case DecisionProjectExamined:
		if body != BodyCoordination {
			return "", wrongBody("comité de coordination")
		}
		if from != ProjectProposed && from != ProjectPostponed {
			return "", wrongStatus
		}
		return ProjectExamined, nil
	case DecisionProjectStarted, DecisionProjectRejected, DecisionProjectPostponed:
		if body != BodyStrategic && body != BodySteering {
			return "", wrongBody("comité stratégique")
		}
		if from != ProjectExamined && !(from == ProjectPostponed && k != DecisionProjectPostponed) {
			return "", wrongStatus
		}
		switch k {
		case DecisionProjectStarted:
			return ProjectInProgress, nil
		case DecisionProjectRejected:
			return ProjectRejected, nil
		}
		return ProjectPostponed, nil
	}
	return "", wrongStatus
}

// Decisions lists the decisions in scope, newest first (of one project
// when projectID is not 0).
func (s *Service) Decisions(ctx context.Context, p *auth.Principal, projectID int64) ([]Decision, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermGovernanceRead, "b.org_id")
	where := `WHERE ` + scope
	if projectID != 0 {
		where += ` AND d.project_id = ?`
		args = append(args, projectID)
	}
	return s.store.decisions(ctx, where+` ORDER BY d.created_at DESC, d.id DESC`, args...)
}

// ---- Projects ----

// Propose records a project proposed by an establishment, a commune, the
// DANE or an incubator to the bodies of a territory (OrgID: an
// organization that has bodies).
func (s *Service) Propose(ctx context.Context, p *auth.Principal, pr Project) (Project, error) {
	pr.Title = strings.TrimSpace(pr.Title)
	if err := required("title", "Le titre", pr.Title); err != nil {
		return Project{}, err
	}
	if !pr.ProposerKind.valid() {
		return Project{}, problem.Invalid("invalid_proposer", "Porteur inconnu (school, commune, dane, incubator).").Field("proposer_kind", "Porteur inconnu.")
	}
	if pr.CostCents < 0 {
		return Project{}, problem.Invalid("invalid_amount", "Le coût ne peut pas être négatif.").Field("cost_cents", "Positif.")
	}
	if anonymous(p) {
		return Project{}, problem.Unauthenticated()
	}
	ok, err := s.auth.Allowed(ctx, p, auth.PermProjectPropose, pr.ProposerOrgID)
	if err != nil {
		return Project{}, err
	}
	if !ok {
		if !p.Has(auth.PermProjectPropose) {
			return Project{}, problem.Forbidden()
		}
		return Project{}, problem.Invalid("unknown_proposer", "Organisation porteuse inconnue ou hors de votre périmètre.").Field("proposer_org_id", "Hors périmètre.")
	}
	var bodies int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM gov_bodies WHERE org_id = ?`, pr.OrgID).Scan(&bodies); err != nil {
		return Project{}, err
	}
	if bodies == 0 {
		return Project{}, problem.Invalid("no_bodies", "Ce territoire n'a pas d'instance à qui proposer un projet.").Field("org_id", "Aucune instance.")
	}
	if pr.IndicatorID != 0 {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM gov_indicators i JOIN gov_roadmap_items o ON o.id = i.objective_id
			JOIN gov_roadmaps r ON r.id = o.roadmap_id WHERE i.id = ? AND r.org_id = ?`, pr.IndicatorID, pr.OrgID).Scan(&n); err != nil {
			return Project{}, err
		}
		if n == 0 {
			return Project{}, problem.Invalid("unknown_indicator", "Indicateur inconnu dans la feuille de route de ce territoire.").Field("indicator_id", "Inconnu.")
		}
	}
	now := s.now().UTC()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO gov_projects (org_id, proposer_org_id, proposer_kind, title, description, benefits, cost_cents, feasibility, status, indicator_id, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, pr.OrgID, pr.ProposerOrgID, string(pr.ProposerKind), pr.Title,
			strings.TrimSpace(pr.Description), strings.TrimSpace(pr.Benefits), pr.CostCents, strings.TrimSpace(pr.Feasibility),
			string(ProjectProposed), db.NullID(pr.IndicatorID), actor(p), now).Scan(&pr.ID)
		if err != nil {
			return fmt.Errorf("insert project: %w", err)
		}
		return s.store.addHistory(ctx, tx, pr.ID, now, "", ProjectProposed, 0, "Proposition déposée", actor(p))
	})
	if err != nil {
		return Project{}, err
	}
	return s.Project(ctx, p, pr.ID)
}

// projectScope: a project is visible to the readers of its territory and
// to the proposers of the organization that carries it.
func projectScope(p *auth.Principal) (string, []any) {
	a, aa := p.ScopeSQL(auth.PermGovernanceRead, "pj.org_id")
	b, ba := p.ScopeSQL(auth.PermProjectPropose, "pj.proposer_org_id")
	c, ca := p.ScopeSQL(auth.PermGovernanceRead, "pj.proposer_org_id")
	return "(" + a + " OR " + b + " OR " + c + ")", append(append(aa, ba...), ca...)
}

// Projects lists the projects in scope (with one status when not empty).
func (s *Service) Projects(ctx context.Context, p *auth.Principal, status ProjectStatus) ([]Project, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	scope, args := projectScope(p)
	where := `WHERE ` + scope
	if status != "" {
		where += ` AND pj.status = ?`
		args = append(args, string(status))
	}
	return s.store.projects(ctx, where+` ORDER BY pj.created_at DESC, pj.id DESC`, args...)
}

// Project returns a project with its history.
func (s *Service) Project(ctx context.Context, p *auth.Principal, id int64) (Project, error) {
	if anonymous(p) {
		return Project{}, problem.Unauthenticated()
	}
	scope, args := projectScope(p)
	ps, err := s.store.projects(ctx, `WHERE pj.id = ? AND `+scope, append([]any{id}, args...)...)
	if err != nil {
		return Project{}, err
	}
	if len(ps) == 0 {
		return Project{}, problem.NotFound("Projet")
	}
	pr := ps[0]
	pr.History, err = s.store.history(ctx, id)
	return pr, err
}

// EvaluateProject closes a project in progress with its evaluation.
func (s *Service) EvaluateProject(ctx context.Context, p *auth.Principal, id int64, note string) (Project, error) {
	pr, err := s.Project(ctx, p, id)
	if err != nil {
		return Project{}, err
	}
	if err := s.check(ctx, p, auth.PermGovernanceManage, pr.OrgID, "Projet"); err != nil {
		return Project{}, err
	}
	if pr.Status != ProjectInProgress {
		return Project{}, problem.Conflict("invalid_transition", "Seul un projet en cours peut être évalué.")
	}
	if err := required("note", "L'évaluation", note); err != nil {
		return Project{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE gov_projects SET status = ? WHERE id = ?`, string(ProjectEvaluated), id); err != nil {
			return err
		}
		return s.store.addHistory(ctx, tx, id, s.now().UTC(), pr.Status, ProjectEvaluated, 0, strings.TrimSpace(note), actor(p))
	})
	if err != nil {
		return Project{}, err
	}
	return s.Project(ctx, p, id)
}

// Territories lists the organizations that have bodies, with their names,
// for the proposal form.
func (s *Service) Territories(ctx context.Context) ([]OrgName, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT o.id, o.name FROM gov_bodies b JOIN organizations o ON o.id = b.org_id ORDER BY o.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrgName
	for rows.Next() {
		var o OrgName
		if err := rows.Scan(&o.ID, &o.Name); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OrgName is an organization's id and name.
type OrgName struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// orgName returns an organization's name ("" when unknown).
func (s *Service) orgName(ctx context.Context, id int64) string {
	var n string
	if err := s.db.QueryRowContext(ctx, `SELECT name FROM organizations WHERE id = ?`, id).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.log.Warn("organization name", "org", id, "err", err)
	}
	return n
}

// anonymous reports whether nobody is calling. The local operator's
// principal (auth.System: no account, the platform role) is somebody: the
// demo and periodic jobs act as it.
func anonymous(p *auth.Principal) bool { return p == nil || (p.User.ID == 0 && len(p.Grants) == 0) }
