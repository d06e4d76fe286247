package production

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"socle/internal/ent/collab"
	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service holds the rules of the productions: every permission check is
// here; what lies outside the caller's reach answers 404.
type Service struct {
	db    *db.DB
	store *store
	dir   Directory
	notif Notifier
	docs  Documents
	media MediaStore // where uploaded medias live (SetMediaStore)
	log   *slog.Logger
	now   func() time.Time
}

// NewService builds the service.
func NewService(d *db.DB, dir Directory, notif Notifier, docs Documents, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, store: &store{db: d}, dir: dir, notif: notif, docs: docs, log: log, now: time.Now}
}

// SetClock replaces the clock (tests, demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func docID(id int64) string { return strconv.FormatInt(id, 10) }

func cleanTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" || utf8.RuneCountInString(t) > 200 {
		return "", errBadTitle
	}
	return t, nil
}

// wide reports whether the caller may share beyond the communication rules:
// teachers and staff who set work (assignment.create), not pupils.
func wide(p *auth.Principal) bool { return p.Has(auth.PermAssignmentCreate) }

func requireUser(p *auth.Principal) error {
	if p.IsAnonymous() {
		return problem.Unauthenticated()
	}
	return nil
}

// Create makes an empty production owned by the caller.
func (s *Service) Create(ctx context.Context, p *auth.Principal, in NewProduction) (Production, error) {
	if err := requireUser(p); err != nil {
		return Production{}, err
	}
	if !in.Kind.Valid() {
		return Production{}, errBadKind
	}
	title, err := cleanTitle(in.Title)
	if err != nil {
		return Production{}, err
	}
	id, err := s.store.insert(ctx, s.db, in.Kind, title, p.User.ID, nil, s.now().UTC())
	if err != nil {
		return Production{}, err
	}
	s.log.Info("production created", "production", id, "kind", in.Kind)
	return s.Get(ctx, p, id)
}

// groupIDs lists the current classes and groups of a person.
func (s *Service) groupIDs(ctx context.Context, userID int64) ([]int64, error) {
	gs, err := s.dir.GroupsOfUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user: %w", err)
	}
	ids := make([]int64, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids, nil
}

// role is a person's access to a production ("" for none).
func (s *Service) role(ctx context.Context, pr Production, userID int64) (Role, error) {
	if pr.OwnerID == userID {
		return RoleOwner, nil
	}
	groups, err := s.groupIDs(ctx, userID)
	if err != nil {
		return "", err
	}
	roles, err := s.store.roles(ctx, pr.ID, userID, groups)
	if err != nil {
		return "", err
	}
	best := Role("")
	for _, r := range roles {
		if r.rank() > best.rank() {
			best = r
		}
	}
	return best, nil
}

// load finds a production the caller reaches with at least min.
func (s *Service) load(ctx context.Context, p *auth.Principal, id int64, min Role) (Production, error) {
	if err := requireUser(p); err != nil {
		return Production{}, err
	}
	pr, err := s.store.get(ctx, id)
	if err != nil {
		return pr, err
	}
	r, err := s.role(ctx, pr, p.User.ID)
	if err != nil {
		return pr, err
	}
	// A trashed production is only the owner's, to restore it.
	if r == "" || (pr.Trashed && r != RoleOwner) {
		return pr, errNotFound
	}
	if r.rank() < min.rank() {
		return pr, problem.Forbidden()
	}
	pr.Role = r
	return pr, nil
}

// Get returns a production the caller reaches.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id int64) (Production, error) {
	return s.load(ctx, p, id, RoleRead)
}

// Detail returns a production with its shares, named.
func (s *Service) Detail(ctx context.Context, p *auth.Principal, id int64) (Detail, error) {
	pr, err := s.Get(ctx, p, id)
	if err != nil {
		return Detail{}, err
	}
	shares, err := s.store.shares(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	for i := range shares {
		shares[i].TargetName = s.targetName(ctx, shares[i].TargetKind, shares[i].TargetID)
	}
	return Detail{Production: pr, Shares: shares}, nil
}

func (s *Service) targetName(ctx context.Context, kind string, id int64) string {
	if kind == TargetUser {
		n, err := s.dir.DisplayName(ctx, id)
		if err == nil && n != "" {
			return n
		}
	} else if g, err := s.dir.Group(ctx, id); err == nil {
		return g.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

// List returns the caller's own productions and those shared with them;
// trashed ones only with trash set.
func (s *Service) List(ctx context.Context, p *auth.Principal, trash bool) (Lists, error) {
	if err := requireUser(p); err != nil {
		return Lists{}, err
	}
	if trash {
		mine, err := s.store.list(ctx, `p.owner_id = ? AND p.trashed_at IS NOT NULL`, p.User.ID)
		return Lists{Mine: mine, SharedWith: []Production{}}, err
	}
	mine, err := s.store.list(ctx, `p.owner_id = ? AND p.trashed_at IS NULL`, p.User.ID)
	if err != nil {
		return Lists{}, err
	}
	for i := range mine {
		mine[i].Role = RoleOwner
	}
	groups, err := s.groupIDs(ctx, p.User.ID)
	if err != nil {
		return Lists{}, err
	}
	shared, err := s.store.sharedWith(ctx, p.User.ID, groups)
	if err != nil {
		return Lists{}, err
	}
	for i := range shared {
		if shared[i].Role, err = s.role(ctx, shared[i], p.User.ID); err != nil {
			return Lists{}, err
		}
	}
	return Lists{Mine: mine, SharedWith: shared}, nil
}

// Rename changes the title (contributors and up).
func (s *Service) Rename(ctx context.Context, p *auth.Principal, id int64, title string) (Production, error) {
	if _, err := s.load(ctx, p, id, RoleContribute); err != nil {
		return Production{}, err
	}
	t, err := cleanTitle(title)
	if err != nil {
		return Production{}, err
	}
	if err := s.store.rename(ctx, id, t, s.now().UTC()); err != nil {
		return Production{}, err
	}
	return s.Get(ctx, p, id)
}

// Trash moves a production to its owner's trash (owner only); Restore
// brings it back. Nothing is destroyed: productions are kept for life.
func (s *Service) Trash(ctx context.Context, p *auth.Principal, id int64) error {
	if _, err := s.load(ctx, p, id, RoleOwner); err != nil {
		return err
	}
	now := s.now().UTC()
	if err := s.store.trash(ctx, id, &now); err != nil {
		return err
	}
	s.docs.Reauthorize(docID(id))
	return nil
}

// Restore takes a production out of the trash.
func (s *Service) Restore(ctx context.Context, p *auth.Principal, id int64) (Production, error) {
	if _, err := s.load(ctx, p, id, RoleOwner); err != nil {
		return Production{}, err
	}
	if err := s.store.trash(ctx, id, nil); err != nil {
		return Production{}, err
	}
	return s.Get(ctx, p, id)
}

// Share gives a person, a class or a group a role. A pupil shares within
// the communication rules and with the classes and groups they belong to;
// a teacher more widely.
func (s *Service) Share(ctx context.Context, p *auth.Principal, id int64, in NewShare) (Detail, error) {
	pr, err := s.load(ctx, p, id, RoleManage)
	if err != nil {
		return Detail{}, err
	}
	if in.Role != RoleRead && in.Role != RoleContribute && in.Role != RoleManage {
		return Detail{}, errBadRole
	}
	var notifyIDs []int64
	switch in.TargetKind {
	case TargetUser:
		if in.TargetID == pr.OwnerID {
			return Detail{}, errCannotShareSelf
		}
		name, err := s.dir.DisplayName(ctx, in.TargetID)
		if err != nil {
			return Detail{}, err
		}
		if name == "" {
			return Detail{}, errBadTarget
		}
		if !wide(p) {
			ok, err := s.dir.CanReach(ctx, p.User.ID, in.TargetID)
			if err != nil {
				return Detail{}, err
			}
			if !ok {
				return Detail{}, errOutsideRules
			}
		}
		notifyIDs = []int64{in.TargetID}
	case TargetClass, TargetGroup:
		g, err := s.dir.Group(ctx, in.TargetID)
		if err != nil {
			if errors.Is(err, ErrNoGroup) {
				return Detail{}, errBadTarget
			}
			return Detail{}, err
		}
		if g.Archived {
			return Detail{}, errArchivedGroup
		}
		in.TargetKind = TargetGroup
		if g.Kind == "class" {
			in.TargetKind = TargetClass
		}
		if !wide(p) {
			mine, err := s.groupIDs(ctx, p.User.ID)
			if err != nil {
				return Detail{}, err
			}
			if !slices.Contains(mine, g.ID) {
				return Detail{}, errNotMember
			}
		}
		if notifyIDs, err = s.dir.MembersOfGroup(ctx, g.ID); err != nil {
			return Detail{}, err
		}
	default:
		return Detail{}, errBadTarget
	}
	if err := s.store.upsertShare(ctx, s.db, id, in, p.User.ID, s.now().UTC()); err != nil {
		return Detail{}, err
	}
	s.docs.Reauthorize(docID(id))
	notifyIDs = slices.DeleteFunc(notifyIDs, func(u int64) bool { return u == p.User.ID })
	if len(notifyIDs) > 0 && s.notif != nil {
		// The share stands even if the notification fails: it is logged.
		if err := s.notif.Notify(ctx, notifyIDs, Notification{Type: "share", Title: "Production partagée : " + pr.Title,
			Body: p.User.DisplayName + " partage « " + pr.Title + " » (" + in.Role.Label() + ").", Link: "/productions/" + docID(id)}); err != nil {
			s.log.Warn("share notification failed", "production", id, "err", err)
		}
	}
	return s.Detail(ctx, p, id)
}

// Revoke removes a share; open connections lose their access at once.
func (s *Service) Revoke(ctx context.Context, p *auth.Principal, id, shareID int64) error {
	if _, err := s.load(ctx, p, id, RoleManage); err != nil {
		return err
	}
	ok, err := s.store.deleteShare(ctx, id, shareID)
	if err != nil {
		return err
	}
	if !ok {
		return problem.NotFound("Partage")
	}
	s.docs.Reauthorize(docID(id))
	return nil
}

// Authorize is the collaboration engine's hook: owner, managers and
// contributors write, readers read, anybody else gets nothing.
func (s *Service) Authorize(ctx context.Context, p *auth.Principal, doc string) (collab.Access, error) {
	id, err := strconv.ParseInt(doc, 10, 64)
	if err != nil || id <= 0 || p.IsAnonymous() {
		return collab.AccessNone, nil
	}
	pr, err := s.load(ctx, p, id, RoleRead)
	if err != nil {
		if _, ok := problem.As(err); ok {
			return collab.AccessNone, nil
		}
		return collab.AccessNone, err
	}
	switch {
	case pr.Kind == Blog && pr.Role == RoleRead:
		// The document holds drafts and refused posts: a blog's readers
		// get the published copies, on the production's page.
		return collab.AccessNone, nil
	case pr.Trashed, pr.Role == RoleRead:
		return collab.AccessRead, nil
	}
	return collab.AccessWrite, nil
}

// Content reads a production's content (readers and up). Readers of a blog
// see what moderation published, as it was approved.
func (s *Service) Content(ctx context.Context, p *auth.Principal, id int64) (Production, Content, error) {
	pr, err := s.Get(ctx, p, id)
	if err != nil {
		return pr, Content{}, err
	}
	c, err := s.content(ctx, pr)
	if err != nil {
		return pr, c, err
	}
	if pr.Kind == Blog && pr.Role == RoleRead {
		err = s.published(ctx, pr.ID, &c)
	}
	return pr, c, err
}

func (s *Service) content(ctx context.Context, pr Production) (Content, error) {
	var c Content
	err := s.docs.Read(ctx, pr.DocID(), func(d *yjs.Doc) error {
		c = readContent(d, pr.Kind)
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("read production %d: %w", pr.ID, err)
	}
	return c, nil
}

// Write replaces nothing: it appends content to an empty production's
// document (imports, demo, tests); contributors and up.
func (s *Service) Write(ctx context.Context, p *auth.Principal, id int64, c Content) error {
	pr, err := s.load(ctx, p, id, RoleContribute)
	if err != nil {
		return err
	}
	c.Kind = pr.Kind
	sanitize(&c)
	// A blog's published items stand only when a manager writes them.
	if pr.Kind == Blog {
		now := s.now().UTC()
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			return recordImported(ctx, tx, pr.ID, &c, p.User.ID, pr.Role.rank() >= RoleManage.rank(), now)
		})
		if err != nil {
			return err
		}
	}
	if err := s.docs.Apply(ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error { return writeContent(d, tx, c) }); err != nil {
		return fmt.Errorf("write production %d: %w", id, err)
	}
	s.refreshSearch(ctx, pr)
	return s.store.touch(ctx, id, s.now().UTC())
}
