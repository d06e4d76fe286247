package people

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Options are what the service takes from the domains above it; a nil
// interface is a no-op.
type Options struct {
	// Deleter deletes people whose suspension is older than GracePeriod.
	Deleter Deleter
	// AccessLogger records reads of a pupil's data by someone else.
	AccessLogger AccessLogger
	// Shares reports the shares a rollover leaves pointing to archived
	// groups.
	Shares ShareReporter
	// GracePeriod is how long a suspended person is kept before deletion
	// (90 days when zero: long enough for a summer between two schools).
	GracePeriod time.Duration
	// LoginDomain is the domain of the logins made for fed people who have
	// no e-mail address ("ent.invalid" when empty: never a real mailbox).
	LoginDomain string
}

// DefaultGracePeriod is the grace period when Options leaves it zero.
const DefaultGracePeriod = 90 * 24 * time.Hour

// Service is the rules of the directory. Every read and write is checked
// against the caller's scope on the establishment concerned; out of scope
// is 404.
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
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = DefaultGracePeriod
	}
	if opts.LoginDomain == "" {
		opts.LoginDomain = "ent.invalid"
	}
	return &Service{db: d, auth: authSvc, store: NewStore(d, authSvc.Store()), log: log, opts: opts, now: time.Now}
}

// SetDeleter, SetAccessLogger and SetShareReporter complete the options
// after construction, for wiring where the other service itself needs this
// one (the data-protection service lists people as a contributor).
func (s *Service) SetDeleter(d Deleter)             { s.opts.Deleter = d }
func (s *Service) SetAccessLogger(l AccessLogger)   { s.opts.AccessLogger = l }
func (s *Service) SetShareReporter(r ShareReporter) { s.opts.Shares = r }

// SetClock replaces the clock (tests and demo data that need a past year).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Store exposes the store to wiring code and tests.
func (s *Service) Store() *Store { return s.store }

func (s *Service) inScope(ctx context.Context, p *auth.Principal, perm auth.Permission, orgID int64) bool {
	if p.Global(perm) {
		return true
	}
	scope, args := p.ScopeSQL(perm, "o.id")
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations o WHERE o.id = ? AND `+scope, append([]any{orgID}, args...)...).Scan(&n)
	return err == nil && n > 0
}

// Manages reports whether the caller manages the people of an
// establishment (for the links the pages show; each action checks again).
func (s *Service) Manages(ctx context.Context, p *auth.Principal, uai string) bool {
	e, err := s.store.establishmentByUAI(ctx, s.db, strings.ToUpper(uai))
	return err == nil && s.inScope(ctx, p, auth.PermPeopleManage, e.ID)
}

// isMember reports whether the user belongs to the establishment.
func (s *Service) isMember(ctx context.Context, userID, estID int64) bool {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM establishment_members WHERE establishment_id = ? AND user_id = ?`, estID, userID).Scan(&n)
	return err == nil && n > 0
}

// establishmentFor finds an establishment by UAI and checks that the caller
// may act on it with perm: outside every scope of theirs it does not exist
// (404); inside their reading scope but without perm it is 403.
func (s *Service) establishmentFor(ctx context.Context, p *auth.Principal, uai string, perm auth.Permission) (establishment, error) {
	e, err := s.store.establishmentByUAI(ctx, s.db, strings.ToUpper(strings.TrimSpace(uai)))
	if errors.Is(err, sql.ErrNoRows) {
		return e, problem.NotFound("Établissement")
	}
	if err != nil {
		return e, err
	}
	if s.inScope(ctx, p, perm, e.ID) {
		return e, nil
	}
	if s.inScope(ctx, p, auth.PermOrgRead, e.ID) {
		return e, problem.Forbidden()
	}
	return e, problem.NotFound("Établissement")
}

// mayRead reports whether the caller may look into an establishment's
// directory: with the people.read permission there, or as one of its
// members (pupils and parents read it through the communication rules).
func (s *Service) mayRead(ctx context.Context, p *auth.Principal, estID int64) bool {
	return s.inScope(ctx, p, auth.PermPeopleRead, estID) || (!p.IsAnonymous() && s.isMember(ctx, p.User.ID, estID))
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// ---- the contract with the other ENT domains ----

// GroupsOfUser lists the classes and groups a person is an active member
// of (not ended, not archived).
func (s *Service) GroupsOfUser(ctx context.Context, userID int64) ([]GroupRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.name, g.kind, g.school_year, g.establishment_id FROM group_members gm
		JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = ? AND gm.ended_at IS NULL AND g.archived_at IS NULL
		ORDER BY g.school_year DESC, g.kind, g.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of %d: %w", userID, err)
	}
	defer rows.Close()
	out := []GroupRef{}
	for rows.Next() {
		var g GroupRef
		if err := rows.Scan(&g.ID, &g.Name, &g.Kind, &g.SchoolYear, &g.EstablishmentID); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// MembersOfGroup lists the user ids of a group's active members.
func (s *Service) MembersOfGroup(ctx context.Context, groupID int64) ([]int64, error) {
	return s.store.ids(ctx, s.db, `SELECT gm.user_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
		WHERE gm.group_id = ? AND gm.ended_at IS NULL AND g.archived_at IS NULL ORDER BY gm.user_id`, groupID)
}

// IsGuardian reports whether parentID is a legal guardian of childID (a
// parent link of the feed or of an administrator), for data protection:
// a guardian exports and follows a minor's data.
func (s *Service) IsGuardian(ctx context.Context, parentID, childID int64) (bool, error) {
	ids, err := s.store.ids(ctx, s.db, `SELECT parent_id FROM parent_links WHERE parent_id = ? AND child_id = ?`, parentID, childID)
	return len(ids) > 0, err
}

// EstablishmentsOf lists the establishments a person belongs to through
// the directory, so the administrators of a pupil's school can act for them.
func (s *Service) EstablishmentsOf(ctx context.Context, userID int64) ([]int64, error) {
	return s.store.ids(ctx, s.db, `SELECT establishment_id FROM establishment_members WHERE user_id = ? ORDER BY establishment_id`, userID)
}

// CanReach reports whether one person may reach another (share with,
// write to, assign to) under the communication rules. It is symmetric.
func (s *Service) CanReach(ctx context.Context, fromUserID, toUserID int64) (bool, error) {
	if fromUserID == toUserID {
		return true, nil
	}
	rd, err := s.loadReach(ctx, `SELECT id FROM users WHERE id IN (?, ?)`, fromUserID, toUserID)
	if err != nil {
		return false, err
	}
	return rd.reach(fromUserID, toUserID), nil
}

// ---- directory ----

// DirectoryFilter narrows a directory.
type DirectoryFilter struct {
	Query   string
	Profile Profile
}

// Directory lists the people of an establishment the caller may see: all
// of them for those who manage its people, otherwise only the people the
// communication rules let the caller reach.
func (s *Service) Directory(ctx context.Context, p *auth.Principal, uai string, f DirectoryFilter) ([]Person, error) {
	e, err := s.store.establishmentByUAI(ctx, s.db, strings.ToUpper(strings.TrimSpace(uai)))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.mayRead(ctx, p, e.ID)) {
		return nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return nil, err
	}
	where := `p.user_id IN (SELECT user_id FROM establishment_members WHERE establishment_id = ?)`
	args := []any{e.ID}
	if f.Profile != "" {
		where += ` AND p.user_id IN (SELECT user_id FROM establishment_members WHERE establishment_id = ? AND profile = ?)`
		args = append(args, e.ID, string(f.Profile))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where += ` AND (LOWER(p.last_name) LIKE ? OR LOWER(p.first_name) LIKE ?)`
		like := "%" + strings.ToLower(q) + "%"
		args = append(args, like, like)
	}
	all, err := s.store.people(ctx, s.db, where, args...)
	if err != nil {
		return nil, err
	}
	if s.inScope(ctx, p, auth.PermPeopleManage, e.ID) {
		return all, nil
	}
	rd, err := s.loadReach(ctx, `SELECT user_id FROM establishment_members WHERE establishment_id = ? UNION SELECT CAST(? AS BIGINT)`, e.ID, p.User.ID)
	if err != nil {
		return nil, err
	}
	out := []Person{}
	for _, x := range all {
		if rd.reach(p.User.ID, x.UserID) {
			// Only those who manage the school read INE and birth dates.
			x.INE, x.BirthDate = "", ""
			out = append(out, x)
		}
	}
	return out, nil
}

// PersonDetail is a person with their memberships, groups and family.
type PersonDetail struct {
	Person
	Memberships []Membership `json:"memberships"`
	Groups      []Group      `json:"groups"`
	Parents     []Person     `json:"parents"`
	Children    []Person     `json:"children"`
}

// Person returns a person the caller may see: themself, someone they may
// reach, or anyone of an establishment whose people they manage. Reading a
// pupil's record is written to the access log.
func (s *Service) Person(ctx context.Context, p *auth.Principal, userID int64) (PersonDetail, error) {
	var d PersonDetail
	per, err := s.store.person(ctx, s.db, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return d, problem.NotFound("Personne")
	}
	if err != nil {
		return d, err
	}
	ms, err := s.store.memberships(ctx, s.db, userID)
	if err != nil {
		return d, err
	}
	manager := p.Global(auth.PermPeopleManage)
	for _, m := range ms {
		manager = manager || s.inScope(ctx, p, auth.PermPeopleManage, m.EstablishmentID)
	}
	if !manager && p.User.ID != userID {
		ok, err := s.CanReach(ctx, p.User.ID, userID)
		if err != nil {
			return d, err
		}
		if !ok || p.IsAnonymous() {
			return d, problem.NotFound("Personne")
		}
		per.INE, per.BirthDate = "", ""
	}
	d.Person, d.Memberships = per, ms
	if d.Groups, err = s.userGroups(ctx, userID); err != nil {
		return d, err
	}
	if d.Parents, err = s.store.people(ctx, s.db, `p.user_id IN (SELECT parent_id FROM parent_links WHERE child_id = ?)`, userID); err != nil {
		return d, err
	}
	if d.Children, err = s.store.people(ctx, s.db, `p.user_id IN (SELECT child_id FROM parent_links WHERE parent_id = ?)`, userID); err != nil {
		return d, err
	}
	if !manager && p.User.ID != userID {
		for i := range d.Parents {
			d.Parents[i].INE, d.Parents[i].BirthDate = "", ""
		}
		for i := range d.Children {
			d.Children[i].INE, d.Children[i].BirthDate = "", ""
		}
	}
	if per.Profile == ProfilePupil && p.User.ID != userID && s.opts.AccessLogger != nil && !p.IsAnonymous() {
		if err := s.opts.AccessLogger.RecordAccess(ctx, p.User.ID, userID, "fiche annuaire"); err != nil {
			return d, fmt.Errorf("record access: %w", err)
		}
	}
	return d, nil
}

func (s *Service) userGroups(ctx context.Context, userID int64) ([]Group, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g JOIN establishments e ON e.org_id = g.establishment_id
		JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? AND m.ended_at IS NULL AND g.archived_at IS NULL
		ORDER BY g.kind, g.name`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Establishments lists the establishments whose directory the caller may
// open among those they belong to or hold people.read on, by name.
func (s *Service) Establishments(ctx context.Context, p *auth.Principal) ([]Membership, error) {
	if p.IsAnonymous() {
		return nil, problem.Unauthenticated()
	}
	scope, args := p.ScopeSQL(auth.PermPeopleRead, "o.id")
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, e.uai, o.name FROM establishments e JOIN organizations o ON o.id = e.org_id
		WHERE (o.id IN (SELECT establishment_id FROM establishment_members WHERE user_id = ?)
		   OR (`+scope+` AND o.id IN (SELECT establishment_id FROM establishment_members)))
		ORDER BY o.name LIMIT 200`, append([]any{p.User.ID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Membership{}
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.EstablishmentID, &m.UAI, &m.Name); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Groups lists the classes and groups of an establishment for a school
// year ("" for the current one; archived ones included when asked).
func (s *Service) Groups(ctx context.Context, p *auth.Principal, uai, year string, archived bool) ([]Group, error) {
	e, err := s.store.establishmentByUAI(ctx, s.db, strings.ToUpper(strings.TrimSpace(uai)))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.mayRead(ctx, p, e.ID)) {
		return nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return nil, err
	}
	if year != "" && !ValidSchoolYear(year) {
		return nil, problem.Invalid("invalid_parameter", "Année scolaire invalide (attendu : 2025-2026).").Field("year", "Année invalide.")
	}
	return s.store.groups(ctx, s.db, e.ID, year, archived)
}

// GroupDetail is a class or group with its members.
type GroupDetail struct {
	Group
	Teachers []Member `json:"teachers"`
	Pupils   []Member `json:"pupils"`
}

// Group returns a class or group: to those who read the establishment's
// people, and to its own members. Others do not see it exist.
func (s *Service) Group(ctx context.Context, p *auth.Principal, id int64) (GroupDetail, error) {
	var d GroupDetail
	g, err := s.store.group(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, problem.NotFound("Classe ou groupe")
	}
	if err != nil {
		return d, err
	}
	ms, err := s.store.groupMembers(ctx, s.db, id)
	if err != nil {
		return d, err
	}
	allowed := s.inScope(ctx, p, auth.PermPeopleRead, g.EstablishmentID)
	for _, m := range ms {
		allowed = allowed || (!p.IsAnonymous() && m.UserID == p.User.ID)
	}
	if !allowed && !p.IsAnonymous() {
		// A parent sees their child's classes.
		var n int
		_ = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM parent_links l JOIN group_members gm ON gm.user_id = l.child_id
			WHERE l.parent_id = ? AND gm.group_id = ? AND gm.ended_at IS NULL`, p.User.ID, id).Scan(&n)
		allowed = n > 0
	}
	if !allowed {
		return d, problem.NotFound("Classe ou groupe")
	}
	d.Group = g
	d.Teachers, d.Pupils = []Member{}, []Member{}
	for _, m := range ms {
		if m.Role == RoleTeacher {
			d.Teachers = append(d.Teachers, m)
		} else {
			d.Pupils = append(d.Pupils, m)
		}
	}
	return d, nil
}

// Roles in a group.
const (
	RoleMember  = "member"
	RoleTeacher = "teacher"
)

// NewPerson is a person entered by hand.
type NewPerson struct {
	Establishment string   `json:"establishment"`
	Profile       Profile  `json:"profile"`
	Function      Function `json:"function"`
	LastName      string   `json:"last_name"`
	FirstName     string   `json:"first_name"`
	BirthDate     string   `json:"birth_date"`
	INE           string   `json:"ine"`
	Email         string   `json:"email"`
}

// CreatePerson enters a person by hand in an establishment (people.manage
// there). The account has no password until it is activated.
func (s *Service) CreatePerson(ctx context.Context, p *auth.Principal, in NewPerson) (PersonDetail, error) {
	e, err := s.establishmentFor(ctx, p, in.Establishment, auth.PermPeopleManage)
	if err != nil {
		return PersonDetail{}, err
	}
	if !in.Profile.Valid() {
		return PersonDetail{}, problem.Invalid("invalid_profile", "Profil inconnu.").Field("profile", "Profil inconnu.")
	}
	if !in.Function.Valid() || (in.Function != "" && in.Profile != ProfileStaff) {
		return PersonDetail{}, problem.Invalid("invalid_function", "Fonction inconnue ou réservée aux personnels.").Field("function", "Fonction invalide.")
	}
	per := Person{Profile: in.Profile, Function: in.Function, LastName: strings.TrimSpace(in.LastName), FirstName: strings.TrimSpace(in.FirstName)}
	if per.LastName == "" || per.FirstName == "" {
		return PersonDetail{}, problem.Invalid("missing_name", "Nom et prénom sont obligatoires.").Field("last_name", "Obligatoire.")
	}
	if in.BirthDate != "" {
		d, msg := parseDate(in.BirthDate, s.now())
		if msg != "" {
			return PersonDetail{}, problem.Invalid("invalid_date", msg).Field("birth_date", msg)
		}
		per.BirthDate = d
	}
	if in.INE != "" {
		ine, ok := normalizeINE(in.INE)
		if !ok {
			return PersonDetail{}, problem.Invalid("invalid_ine", "INE invalide (11 caractères).").Field("ine", "INE invalide.")
		}
		per.INE = ine
	}
	email := ""
	if in.Email != "" {
		if email, err = auth.NormalizeEmail(in.Email); err != nil {
			return PersonDetail{}, err
		}
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		w := s.newWriter(tx, e.ID)
		var err error
		id, err = w.createPerson(ctx, per, email)
		if err != nil {
			return err
		}
		_, err = w.attach(ctx, id, per.Profile, per.Function, "manual")
		return err
	})
	if err != nil {
		if db.IsUniqueViolation(err) {
			return PersonDetail{}, problem.Conflict("ine_taken", "Une personne porte déjà cet INE.")
		}
		return PersonDetail{}, err
	}
	return s.Person(ctx, p, id)
}

// NewGroup is a group created by hand.
type NewGroup struct {
	Establishment string `json:"establishment"`
	SchoolYear    string `json:"school_year"`
	Kind          string `json:"kind"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Level         string `json:"level"`
	// Establishments are the other establishments a cross-school group
	// spans (UAIs); the caller must manage the people of each.
	Establishments []string `json:"establishments"`
}

// CreateGroup creates a class or a group (people.manage on every
// establishment it spans).
func (s *Service) CreateGroup(ctx context.Context, p *auth.Principal, in NewGroup) (GroupDetail, error) {
	e, err := s.establishmentFor(ctx, p, in.Establishment, auth.PermPeopleManage)
	if err != nil {
		return GroupDetail{}, err
	}
	g := Group{EstablishmentID: e.ID, SchoolYear: in.SchoolYear, Kind: in.Kind, Type: in.Type, Name: strings.TrimSpace(in.Name)}
	if g.SchoolYear == "" {
		g.SchoolYear = SchoolYearOf(s.now())
	}
	if !ValidSchoolYear(g.SchoolYear) {
		return GroupDetail{}, problem.Invalid("invalid_year", "Année scolaire invalide (attendu : 2025-2026).").Field("school_year", "Année invalide.")
	}
	if g.Name == "" {
		return GroupDetail{}, problem.Invalid("missing_name", "Le nom est obligatoire.").Field("name", "Obligatoire.")
	}
	switch g.Kind {
	case KindClass:
		g.Type = ""
		lvl, ok := ParseLevel(in.Level)
		if !ok {
			if lvl, ok = ParseLevel(g.Name); !ok {
				return GroupDetail{}, problem.Invalid("invalid_level", "Niveau de classe inconnu (PS à CM2, 6e à 3e, 2nde à Tle).").Field("level", "Niveau inconnu.")
			}
		}
		g.Level = lvl
	case KindGroup:
		valid := false
		for _, t := range GroupTypes {
			valid = valid || t == g.Type
		}
		if !valid {
			return GroupDetail{}, problem.Invalid("invalid_type", "Type de groupe inconnu (subject, project, club, cross-school).").Field("type", "Type inconnu.")
		}
	default:
		return GroupDetail{}, problem.Invalid("invalid_kind", "Genre inconnu (class ou group).").Field("kind", "Genre inconnu.")
	}
	var others []int64
	if len(in.Establishments) > 0 && g.Type != TypeCrossSchool {
		return GroupDetail{}, problem.Invalid("not_cross_school", "Seul un groupe inter-établissements réunit plusieurs établissements.").Field("establishments", "Réservé aux groupes inter-établissements.")
	}
	for _, u := range in.Establishments {
		o, err := s.establishmentFor(ctx, p, u, auth.PermPeopleManage)
		if err != nil {
			return GroupDetail{}, err
		}
		if o.ID != e.ID {
			others = append(others, o.ID)
		}
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var created bool
		var err error
		id, created, err = s.store.ensureGroup(ctx, tx, g, "manual", s.now().UTC())
		if err != nil {
			return err
		}
		if !created {
			return problem.Conflict("group_exists", "Une classe ou un groupe porte déjà ce nom cette année.")
		}
		for _, o := range others {
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_establishments (group_id, establishment_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return GroupDetail{}, err
	}
	return s.Group(ctx, p, id)
}

// AddGroupMembers puts people in a group (people.manage on the group's
// establishment). Each person must belong to one of the establishments
// the group spans: nobody from outside the schools joins a group.
func (s *Service) AddGroupMembers(ctx context.Context, p *auth.Principal, groupID int64, userIDs []int64, role, subject string) (GroupDetail, error) {
	g, err := s.store.group(ctx, s.db, groupID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.mayRead(ctx, p, g.EstablishmentID)) {
		return GroupDetail{}, problem.NotFound("Classe ou groupe")
	}
	if err != nil {
		return GroupDetail{}, err
	}
	if !s.inScope(ctx, p, auth.PermPeopleManage, g.EstablishmentID) {
		return GroupDetail{}, problem.Forbidden()
	}
	if g.ArchivedAt != nil {
		return GroupDetail{}, problem.Conflict("group_archived", "Ce groupe est archivé : il appartient à une année passée.")
	}
	if role == "" {
		role = RoleMember
	}
	if role != RoleMember && role != RoleTeacher {
		return GroupDetail{}, problem.Invalid("invalid_role", "Rôle inconnu (member ou teacher).").Field("role", "Rôle inconnu.")
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, uid := range userIDs {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM establishment_members WHERE user_id = ? AND (establishment_id = ?
				OR establishment_id IN (SELECT establishment_id FROM group_establishments WHERE group_id = ?))`, uid, g.EstablishmentID, groupID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return problem.Invalid("not_a_member", fmt.Sprintf("La personne %d n'appartient à aucun des établissements du groupe.", uid)).Field("user_ids", "Personne hors des établissements du groupe.")
			}
			if _, err := s.store.addGroupMember(ctx, tx, groupID, uid, role, subject, "manual"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return GroupDetail{}, err
	}
	return s.Group(ctx, p, groupID)
}

// LinkParent links a parent to a child of an establishment whose people
// the caller manages.
func (s *Service) LinkParent(ctx context.Context, p *auth.Principal, parentID, childID int64) error {
	child, err := s.store.person(ctx, s.db, childID)
	if errors.Is(err, sql.ErrNoRows) {
		return problem.NotFound("Personne")
	}
	if err != nil {
		return err
	}
	ms, err := s.store.memberships(ctx, s.db, childID)
	if err != nil {
		return err
	}
	var est int64
	for _, m := range ms {
		if s.inScope(ctx, p, auth.PermPeopleManage, m.EstablishmentID) {
			est = m.EstablishmentID
		}
	}
	if est == 0 {
		return problem.NotFound("Personne")
	}
	parent, err := s.store.person(ctx, s.db, parentID)
	if errors.Is(err, sql.ErrNoRows) {
		return problem.NotFound("Personne")
	}
	if err != nil {
		return err
	}
	if child.Profile != ProfilePupil || parent.Profile != ProfileParent {
		return problem.Invalid("invalid_link", "Un lien relie un parent à un élève.")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		w := s.newWriter(tx, est)
		if _, err := w.attach(ctx, parentID, ProfileParent, "", "manual"); err != nil {
			return err
		}
		_, err := s.store.addParentLink(ctx, tx, parentID, childID, s.now().UTC())
		return err
	})
}

// ---- suspension and deletion ----

// PurgeSuspended deletes, through the Deleter, the people suspended for
// longer than the grace period; it returns how many. Without a Deleter it
// deletes nobody. A pupil an administrator has still to recognise (a
// pending match) is kept until the decision.
func (s *Service) PurgeSuspended(ctx context.Context) (int, error) {
	limit := s.now().Add(-s.opts.GracePeriod).UTC()
	ids, err := s.store.ids(ctx, s.db, `SELECT user_id FROM people WHERE suspended_at IS NOT NULL AND suspended_at < ?
		AND user_id NOT IN (SELECT candidate_id FROM pending_matches WHERE status = 'pending') ORDER BY user_id`, limit)
	if err != nil || s.opts.Deleter == nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.opts.Deleter.DeletePerson(ctx, id); err != nil {
			return 0, fmt.Errorf("delete person %d: %w", id, err)
		}
	}
	if len(ids) > 0 {
		s.log.Info("suspended people deleted after the grace period", "count", len(ids))
	}
	return len(ids), nil
}

// Name names this contributor to the data-protection export.
func (s *Service) Name() string { return "people" }

// personExport is the directory's part of a person's data export.
type personExport struct {
	Person      Person       `json:"personne"`
	Memberships []Membership `json:"etablissements"`
	Groups      []Group      `json:"classes_et_groupes"`
	Parents     []Person     `json:"parents"`
	Children    []Person     `json:"enfants"`
}

// ExportPerson writes what the directory holds on a person into their
// data export (annuaire.json).
func (s *Service) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	per, err := s.store.person(ctx, s.db, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	x := personExport{Person: per}
	if x.Memberships, err = s.store.memberships(ctx, s.db, userID); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g JOIN establishments e ON e.org_id = g.establishment_id
		JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.school_year, g.name`, userID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return err
		}
		x.Groups = append(x.Groups, g)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if x.Parents, err = s.store.people(ctx, s.db, `p.user_id IN (SELECT parent_id FROM parent_links WHERE child_id = ?)`, userID); err != nil {
		return err
	}
	if x.Children, err = s.store.people(ctx, s.db, `p.user_id IN (SELECT child_id FROM parent_links WHERE parent_id = ?)`, userID); err != nil {
		return err
	}
	f, err := zw.Create("annuaire.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// ErasePerson removes the person from the directory (profile,
// memberships, groups, family links and grants). The account itself is
// removed by whoever deletes the person.
func (s *Service) ErasePerson(ctx context.Context, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE user_id = ?
			AND org_id IN (SELECT establishment_id FROM establishment_members WHERE user_id = ?)`, userID, userID); err != nil {
			return fmt.Errorf("erase grants of %d: %w", userID, err)
		}
		for _, q := range []string{
			`DELETE FROM pending_matches WHERE candidate_id = ?`,
			`DELETE FROM parent_links WHERE parent_id = ? OR child_id = ?`,
			`DELETE FROM group_members WHERE user_id = ?`,
			`DELETE FROM establishment_members WHERE user_id = ?`,
			`DELETE FROM people WHERE user_id = ?`,
		} {
			args := []any{userID}
			if strings.Count(q, "?") == 2 {
				args = append(args, userID)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("erase person %d: %w", userID, err)
			}
		}
		return nil
	})
}

// AccountDeleter is the Deleter to use when no data-protection service is
// wired: it erases the person from the directory and deletes the account
// (sessions, tokens and grants go with it).
type AccountDeleter struct{ People *Service }

// DeletePerson implements Deleter.
func (a AccountDeleter) DeletePerson(ctx context.Context, userID int64) error {
	if err := a.People.ErasePerson(ctx, userID); err != nil {
		return err
	}
	_, err := a.People.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
	return err
}
