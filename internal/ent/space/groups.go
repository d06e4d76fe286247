package space

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// The WebDAV folders below /dav/ that hold the shared spaces. They are
// reserved names at the root of every personal space, so that a personal
// folder can never hide them nor be hidden by them.
const (
	ClassesFolder = "Classes"
	GroupsFolder  = "Groupes"
)

// kindFolder is the WebDAV folder of a kind of shared space.
func kindFolder(k OwnerKind) string {
	if k == OwnerClass {
		return ClassesFolder
	}
	return GroupsFolder
}

var errReservedName = problem.Invalid("reserved_name",
	"« Classes » et « Groupes » sont réservés à la racine de votre espace : ils mènent aux espaces partagés de vos classes et groupes.").
	Field("name", "Nom réservé à la racine.")

// reservedAtRoot reports whether name may not be used at the root of sp.
// Case does not matter: Windows and macOS clients see "classes" and
// "Classes" as the same folder.
func reservedAtRoot(sp Space, parentID int64, name string) bool {
	return sp.OwnerKind == OwnerUser && parentID == 0 &&
		(strings.EqualFold(name, ClassesFolder) || strings.EqualFold(name, GroupsFolder))
}

// FolderName turns a class or group name into a valid folder name: the
// characters a file system refuses become "_", and a name left empty or
// reserved by Windows gets the group's number.
func FolderName(name string, id int64) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(name) {
		switch {
		case unicode.IsControl(r), strings.ContainsRune(`/\<>:"|?*`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimRight(b.String(), " .")
	if len(out) > 200 {
		out = strings.ToValidUTF8(out[:200], "")
	}
	if out == "" {
		return "Groupe " + strconv.FormatInt(id, 10)
	}
	if ValidateName(out) != nil {
		out += " (" + strconv.FormatInt(id, 10) + ")"
	}
	return out
}

// folderNames gives each shared space its folder name, unique within its
// kind: two groups with the same name are told apart by their number.
func folderNames(gs []GroupSpace) map[int]string {
	out := make(map[int]string, len(gs))
	count := map[string]int{}
	for i, g := range gs {
		n := FolderName(g.Name, g.ID)
		out[i] = n
		count[string(normKind(g.Kind))+"/"+strings.ToLower(n)]++
	}
	for i, g := range gs {
		if count[string(normKind(g.Kind))+"/"+strings.ToLower(out[i])] > 1 {
			out[i] = FolderName(fmt.Sprintf("%s (%d)", out[i], g.ID), g.ID)
		}
	}
	return out
}

func normKind(k OwnerKind) OwnerKind {
	if k == OwnerClass {
		return OwnerClass
	}
	return OwnerGroup
}

// mayPurgeShared: in a shared space, only adults (teachers, staff) empty
// the trash for good; pupils and parents may trash and restore.
func mayPurgeShared(p *auth.Principal) bool {
	for _, g := range p.Grants {
		if g.Role != auth.RolePupil && g.Role != auth.RoleParent {
			return true
		}
	}
	return false
}

// memberships asks who the person is a member of, sorted classes first,
// then by name, so that pages and WebDAV listings are stable.
func (s *Service) memberships(ctx context.Context, p *auth.Principal) ([]GroupSpace, error) {
	if p.IsAnonymous() {
		return nil, problem.Unauthenticated()
	}
	if s.cfg.Memberships == nil {
		return nil, nil
	}
	gs, err := s.cfg.Memberships.SpacesOf(ctx, p.User.ID)
	if err != nil {
		return nil, fmt.Errorf("memberships of user %d: %w", p.User.ID, err)
	}
	gs = slices.Clone(gs)
	for i := range gs {
		gs[i].Kind = normKind(gs[i].Kind)
	}
	slices.SortStableFunc(gs, func(a, b GroupSpace) int {
		if a.Kind != b.Kind {
			if a.Kind == OwnerClass {
				return -1
			}
			return 1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return slices.CompactFunc(gs, func(a, b GroupSpace) bool { return a.ID == b.ID && a.Kind == b.Kind }), nil
}

// sharedSpace loads (creating it on first use) the space of a class or
// group the caller was found to be a member of.
func (s *Service) sharedSpace(ctx context.Context, p *auth.Principal, g GroupSpace, folder string) (Space, error) {
	sp, quota, err := s.store.Space(ctx, s.db, g.Kind, g.ID)
	if notFound(err) {
		if err := s.store.CreateSpace(ctx, g.Kind, g.ID, g.Name, s.now()); err != nil {
			return Space{}, fmt.Errorf("create space of %s %d: %w", g.Kind, g.ID, err)
		}
		sp, quota, err = s.store.Space(ctx, s.db, g.Kind, g.ID)
	}
	if err != nil {
		return Space{}, fmt.Errorf("load space of %s %d: %w", g.Kind, g.ID, err)
	}
	if sp.Name != g.Name && g.Name != "" {
		// The class was renamed in the people model.
		if err := s.store.RenameSpace(ctx, sp.ID, g.Name); err != nil {
			return Space{}, err
		}
		sp.Name = g.Name
	}
	if quota != nil {
		sp.Quota = *quota
	} else {
		sp.Quota = s.cfg.GroupQuota[g.Kind]
		if sp.Quota == 0 {
			sp.Quota = s.cfg.DefaultQuota
		}
	}
	if sp.Used, err = s.store.Usage(ctx, s.db, sp.ID); err != nil {
		return Space{}, fmt.Errorf("usage of space %d: %w", sp.ID, err)
	}
	sp.Folder = kindFolder(g.Kind) + "/" + folder
	sp.mayPurge = mayPurgeShared(p)
	return sp, nil
}

// GroupSpaces returns the class and group spaces of the caller, classes
// first, with their quota and usage.
func (s *Service) GroupSpaces(ctx context.Context, p *auth.Principal) ([]Space, error) {
	gs, err := s.memberships(ctx, p)
	if err != nil {
		return nil, err
	}
	names := folderNames(gs)
	out := make([]Space, 0, len(gs))
	for i, g := range gs {
		sp, err := s.sharedSpace(ctx, p, g, names[i])
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// Spaces returns every space the caller may open: the personal one first.
func (s *Service) Spaces(ctx context.Context, p *auth.Principal) ([]Space, error) {
	own, err := s.UserSpace(ctx, p)
	if err != nil {
		return nil, err
	}
	shared, err := s.GroupSpaces(ctx, p)
	if err != nil {
		return nil, err
	}
	return append([]Space{own}, shared...), nil
}

var errNoSpace = problem.NotFound("Espace")

// SpaceByID returns a space the caller may open: 0 or their own id for the
// personal space, else a class or group space they are a member of right
// now. Any other space is not found (never "forbidden": its existence is
// not revealed).
func (s *Service) SpaceByID(ctx context.Context, p *auth.Principal, id int64) (Space, error) {
	own, err := s.UserSpace(ctx, p)
	if err != nil || id == 0 || id == own.ID {
		return own, err
	}
	sp, err := s.store.SpaceByID(ctx, id)
	if notFound(err) {
		return Space{}, errNoSpace
	}
	if err != nil {
		return Space{}, err
	}
	gs, err := s.memberships(ctx, p)
	if err != nil {
		return Space{}, err
	}
	names := folderNames(gs)
	for i, g := range gs {
		if g.Kind == sp.OwnerKind && g.ID == sp.OwnerID {
			return s.sharedSpace(ctx, p, g, names[i])
		}
	}
	return Space{}, errNoSpace
}

// SpaceByFolder returns the shared space WebDAV shows at "Classes/<name>"
// or "Groupes/<name>", if the caller is a member.
func (s *Service) SpaceByFolder(ctx context.Context, p *auth.Principal, kindDir, name string) (Space, error) {
	gs, err := s.memberships(ctx, p)
	if err != nil {
		return Space{}, err
	}
	names := folderNames(gs)
	for i, g := range gs {
		if kindFolder(g.Kind) == kindDir && names[i] == name {
			return s.sharedSpace(ctx, p, g, names[i])
		}
	}
	return Space{}, errNoSpace
}

// sharedFolders lists the names WebDAV shows in "Classes" or "Groupes".
func (s *Service) sharedFolders(ctx context.Context, p *auth.Principal, kindDir string) ([]string, error) {
	gs, err := s.memberships(ctx, p)
	if err != nil {
		return nil, err
	}
	names := folderNames(gs)
	var out []string
	for i, g := range gs {
		if kindFolder(g.Kind) == kindDir {
			out = append(out, names[i])
		}
	}
	return out, nil
}

// SetSpaceQuota overrides the quota of a space (nil: back to the default
// of its profile or kind). Platform administrators only.
func (s *Service) SetSpaceQuota(ctx context.Context, p *auth.Principal, spaceID int64, quota *int64) error {
	if p.IsAnonymous() {
		return problem.Unauthenticated()
	}
	if !p.Global(auth.PermUserManage) {
		return problem.Forbidden()
	}
	if quota != nil && *quota < 0 {
		return problem.Invalid("invalid_quota", "Le quota doit être positif.")
	}
	if _, err := s.store.SpaceByID(ctx, spaceID); notFound(err) {
		return errNoSpace
	} else if err != nil {
		return err
	}
	return s.store.SetQuota(ctx, spaceID, quota)
}

var errPurgeDenied = problem.New(http.StatusForbidden, "purge_denied",
	"Dans un espace de classe ou de groupe, seuls les adultes suppriment définitivement. Un élément mis à la corbeille peut être restauré.")
