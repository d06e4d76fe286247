package production

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Assign asks a class, a group or chosen pupils for productions. Each team
// gets its production at once when the kind is imposed (owned by its first
// member, contribute for the others, manage for the teacher); when the kind
// is left to the pupils, a member starts it with StartTeamProduction.
func (s *Service) Assign(ctx context.Context, p *auth.Principal, in NewAssignment) (Assignment, error) {
	if err := requireUser(p); err != nil {
		return Assignment{}, err
	}
	if !p.Has(auth.PermAssignmentCreate) {
		return Assignment{}, problem.Forbidden()
	}
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > 200 {
		return Assignment{}, errBadTitle
	}
	if utf8.RuneCountInString(in.Instructions) > 20000 {
		return Assignment{}, problem.Invalid("assignment_instructions_too_long", "La consigne dépasse 20 000 caractères.")
	}
	if in.Kind != "" && !in.Kind.Valid() {
		return Assignment{}, errBadKind
	}
	if in.Due != "" {
		if _, err := time.Parse("2006-01-02", in.Due); err != nil {
			return Assignment{}, errBadDue
		}
	}
	if in.Mode == "" {
		in.Mode = "individual"
	}
	if in.Mode != "individual" && in.Mode != "teams" {
		return Assignment{}, problem.Invalid("assignment_invalid_mode", "Choisissez un travail individuel ou par équipes.")
	}
	pupils, err := s.assignees(ctx, p, in)
	if err != nil {
		return Assignment{}, err
	}
	teams, err := makeTeams(in, pupils)
	if err != nil {
		return Assignment{}, err
	}
	now := s.now().UTC()
	var aid int64
	var created []int64
	err = s.db.InTx(ctx, func(tx dbTx) error {
		var err error
		if aid, err = s.store.insertAssignment(ctx, tx, p.User.ID, in, now); err != nil {
			return err
		}
		for i, members := range teams {
			name := "Équipe " + strconv.Itoa(i+1)
			if in.Mode == "individual" {
				name = s.targetName(ctx, TargetUser, members[0])
			}
			var prod *int64
			if in.Kind != "" {
				id, err := s.teamProduction(ctx, tx, p.User.ID, aid, in.Kind, in.Title+" — "+name, members, now)
				if err != nil {
					return err
				}
				prod = &id
				created = append(created, id)
			}
			if _, err := s.store.insertTeam(ctx, tx, aid, name, members, prod); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Assignment{}, err
	}
	s.log.Info("assignment created", "assignment", aid, "teams", len(teams), "productions", len(created))
	if s.notif != nil {
		body := in.Instructions
		if utf8.RuneCountInString(body) > 300 {
			body = string([]rune(body)[:300]) + "…"
		}
		if in.Due != "" {
			body = "À rendre le " + frDate(in.Due) + ". " + body
		}
		if err := s.notif.Notify(ctx, pupils, Notification{Type: "assignment", Title: "Nouveau travail : " + in.Title,
			Body: body, Link: "/productions/travaux/" + strconv.FormatInt(aid, 10)}); err != nil {
			// The work stands; the pupils still find it in their list.
			s.log.Warn("assignment notification failed", "assignment", aid, "err", err)
		}
	}
	return s.Assignment(ctx, p, aid)
}

func frDate(iso string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return t.Format("02/01/2006")
}

// AssignableGroups are the classes and groups a teacher may ask for work:
// those they belong to this year, cross-school groups included.
func (s *Service) AssignableGroups(ctx context.Context, p *auth.Principal) ([]Group, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	if !p.Has(auth.PermAssignmentCreate) {
		return nil, problem.Forbidden()
	}
	gs, err := s.dir.GroupsOfUser(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(gs, func(g Group) bool { return g.Archived }), nil
}

// assignees resolves who is asked, with the checks of the directory: a
// group archived by the rollover is refused with a clear message.
func (s *Service) assignees(ctx context.Context, p *auth.Principal, in NewAssignment) ([]int64, error) {
	var pupils []int64
	if in.GroupID != 0 {
		g, err := s.dir.Group(ctx, in.GroupID)
		if err != nil {
			if errors.Is(err, ErrNoGroup) {
				return nil, problem.NotFound("Classe ou groupe")
			}
			return nil, err
		}
		if g.Archived {
			return nil, errArchivedGroup
		}
		mine, err := s.groupIDs(ctx, p.User.ID)
		if err != nil {
			return nil, err
		}
		// A teacher asks the classes and groups they teach in.
		if !slices.Contains(mine, g.ID) {
			return nil, problem.NotFound("Classe ou groupe")
		}
		pupils = append(pupils, g.Pupils...)
	}
	for _, id := range in.PupilIDs {
		ok, err := s.dir.CanReach(ctx, p.User.ID, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errOutsideRules
		}
		pupils = append(pupils, id)
	}
	slices.Sort(pupils)
	pupils = slices.Compact(pupils)
	pupils = slices.DeleteFunc(pupils, func(id int64) bool { return id == p.User.ID })
	if len(pupils) == 0 {
		return nil, errNoAssignee
	}
	return pupils, nil
}

func makeTeams(in NewAssignment, pupils []int64) ([][]int64, error) {
	if in.Mode == "individual" {
		out := make([][]int64, 0, len(pupils))
		for _, id := range pupils {
			out = append(out, []int64{id})
		}
		return out, nil
	}
	if len(in.Teams) > 0 {
		placed := map[int64]bool{}
		var out [][]int64
		for _, t := range in.Teams {
			var team []int64
			for _, id := range t {
				if !slices.Contains(pupils, id) || placed[id] {
					return nil, problem.Invalid("assignment_invalid_team", "Une équipe contient un élève absent de la liste ou déjà placé.")
				}
				placed[id] = true
				team = append(team, id)
			}
			if len(team) > 0 {
				out = append(out, team)
			}
		}
		for _, id := range pupils {
			if !placed[id] {
				return nil, problem.Invalid("assignment_invalid_team", "Chaque élève doit appartenir à une équipe.")
			}
		}
		return out, nil
	}
	size := in.TeamSize
	if size <= 0 {
		size = 3
	}
	var out [][]int64
	for i := 0; i < len(pupils); i += size {
		out = append(out, slices.Clone(pupils[i:min(i+size, len(pupils))]))
	}
	return out, nil
}

func (s *Service) teamProduction(ctx context.Context, tx dbTx, teacher, aid int64, kind Kind, title string, members []int64, now time.Time) (int64, error) {
	if utf8.RuneCountInString(title) > 200 {
		title = string([]rune(title)[:200])
	}
	id, err := s.store.insert(ctx, tx, kind, title, members[0], &aid, now)
	if err != nil {
		return 0, err
	}
	for _, m := range members[1:] {
		if err := s.store.upsertShare(ctx, tx, id, NewShare{TargetKind: TargetUser, TargetID: m, Role: RoleContribute}, teacher, now); err != nil {
			return 0, err
		}
	}
	if err := s.store.upsertShare(ctx, tx, id, NewShare{TargetKind: TargetUser, TargetID: teacher, Role: RoleManage}, teacher, now); err != nil {
		return 0, err
	}
	return id, nil
}

// StartTeamProduction creates the production of a team whose kind was left
// to the pupils' choice; any member may start it, once.
func (s *Service) StartTeamProduction(ctx context.Context, p *auth.Principal, aid, teamID int64, kind Kind) (Production, error) {
	a, err := s.Assignment(ctx, p, aid)
	if err != nil {
		return Production{}, err
	}
	if a.Kind != "" {
		kind = a.Kind
	}
	if !kind.Valid() {
		return Production{}, errBadKind
	}
	var team *Team
	for i := range a.Teams {
		if a.Teams[i].ID == teamID && slices.Contains(a.Teams[i].Members, p.User.ID) {
			team = &a.Teams[i]
		}
	}
	if team == nil {
		return Production{}, problem.NotFound("Équipe")
	}
	if team.ProductionID != nil {
		return s.Get(ctx, p, *team.ProductionID)
	}
	var id int64
	err = s.db.InTx(ctx, func(tx dbTx) error {
		members := append([]int64{p.User.ID}, slices.DeleteFunc(slices.Clone(team.Members), func(m int64) bool { return m == p.User.ID })...)
		var err error
		if id, err = s.teamProduction(ctx, tx, a.TeacherID, aid, kind, a.Title+" — "+team.Name, members, s.now().UTC()); err != nil {
			return err
		}
		ok, err := s.store.setTeamProduction(ctx, tx, teamID, id)
		if err != nil {
			return err
		}
		if !ok {
			return problem.Conflict("team_production_exists", "Votre équipe a déjà commencé sa production.")
		}
		return nil
	})
	if err != nil {
		return Production{}, err
	}
	return s.Get(ctx, p, id)
}

// Assignment returns an assignment to its teacher (with every team) or to
// a pupil asked for it (with their own team only).
func (s *Service) Assignment(ctx context.Context, p *auth.Principal, id int64) (Assignment, error) {
	if err := requireUser(p); err != nil {
		return Assignment{}, err
	}
	a, err := s.store.assignment(ctx, id)
	if err != nil {
		return a, err
	}
	if a.TeacherID == p.User.ID {
		return a, nil
	}
	mine := slices.DeleteFunc(a.Teams, func(t Team) bool { return !slices.Contains(t.Members, p.User.ID) })
	if len(mine) == 0 {
		return Assignment{}, errAssignNotFound
	}
	a.Teams = mine
	return a, nil
}

// Assignments lists what the caller set or is asked for.
func (s *Service) Assignments(ctx context.Context, p *auth.Principal) ([]Assignment, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	return s.store.assignmentsOf(ctx, p.User.ID)
}

// Collect writes to w a zip of every team's production of an assignment,
// each in its kind's first format (the teacher only).
func (s *Service) Collect(ctx context.Context, p *auth.Principal, id int64, w io.Writer) error {
	a, err := s.Assignment(ctx, p, id)
	if err != nil {
		return err
	}
	if a.TeacherID != p.User.ID {
		return errAssignNotFound
	}
	zw := zip.NewWriter(w)
	for i, t := range a.Teams {
		if t.ProductionID == nil {
			continue
		}
		pr, err := s.store.get(ctx, *t.ProductionID)
		if err != nil {
			return err
		}
		c, err := s.content(ctx, pr)
		if err != nil {
			return err
		}
		ex, err := s.export(ctx, pr, c, kindFormats[pr.Kind][0])
		if err != nil {
			return err
		}
		f, err := zw.Create(fmt.Sprintf("%02d-%s-%s", i+1, slug(t.Name), ex.Filename))
		if err != nil {
			return err
		}
		if _, err := f.Write(ex.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
