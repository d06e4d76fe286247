package demo

import (
	"context"
	"fmt"

	"socle/internal/ent/people"
	"socle/internal/ent/production"
)

// WithProductions adds collaborative productions of all six kinds, shared
// across the demo école and collège (the cycle 3 liaison CM1-6e), and one
// assignment of the école's teacher to the CM1 class. It needs WithPeople
// (the classes come from the feed) and runs after it.
func WithProductions(s *production.Service, ppl *people.Service) Option {
	return func(w *seeder) {
		if s == nil || ppl == nil {
			return
		}
		w.extra = append(w.extra, step{name: "productions", after: func(ctx context.Context, w *seeder) error {
			return writeProductions(ctx, w, s, ppl)
		}})
	}
}

func (w *seeder) userByEmail(ctx context.Context, email string) (int64, error) {
	if id, ok := w.users[email]; ok {
		return id, nil
	}
	var id int64
	if err := w.db.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
		return 0, fmt.Errorf("demo user %s: %w", email, err)
	}
	return id, nil
}

func classOf(ctx context.Context, ppl *people.Service, userID int64) (int64, error) {
	gs, err := ppl.GroupsOfUser(ctx, userID)
	if err != nil {
		return 0, err
	}
	for _, g := range gs {
		if g.Kind == people.KindClass {
			return g.ID, nil
		}
	}
	return 0, fmt.Errorf("demo user %d has no class", userID)
}

func demoRuns(text string) []production.Run { return []production.Run{{Text: text}} }

func writeProductions(ctx context.Context, w *seeder, s *production.Service, ppl *people.Service) error {
	teacherID, err := w.userByEmail(ctx, "enseignant@demo.socle.fr")
	if err != nil {
		return err
	}
	pupilID, err := w.userByEmail(ctx, "eleve@demo.socle.fr")
	if err != nil {
		return err
	}
	collegeTeacherID, err := w.userByEmail(ctx, "paul.bernard@demo.socle.fr")
	if err != nil {
		return err
	}
	teacher, err := w.auth.Principal(ctx, teacherID)
	if err != nil {
		return err
	}
	pupil, err := w.auth.Principal(ctx, pupilID)
	if err != nil {
		return err
	}
	cm1, err := classOf(ctx, ppl, teacherID)
	if err != nil {
		return err
	}
	sixieme, err := classOf(ctx, ppl, collegeTeacherID)
	if err != nil {
		return err
	}
	type demoProd struct {
		kind    production.Kind
		title   string
		content production.Content
	}
	list := []demoProd{
		{production.Pad, "Liaison CM1-6e : notre journal", production.Content{Blocks: []production.Block{
			{Type: "heading", Level: 1, Runs: demoRuns("Notre visite au collège")},
			{Type: "paragraph", Runs: []production.Run{{Text: "Les CM1 ont découvert le "}, {Text: "CDI", Bold: true}, {Text: " et la cantine."}}},
			{Type: "bullet_list", Items: [][]production.Run{demoRuns("Questions des CM1"), demoRuns("Réponses des 6e")}},
		}}},
		{production.Wiki, "Wiki du cycle 3 : les volcans", production.Content{Pages: []production.Page{
			{ID: "p1", Title: "Accueil", Blocks: []production.Block{{Type: "paragraph", Runs: demoRuns("Bienvenue sur le wiki des volcans.")}}},
			{ID: "p2", Title: "Les volcans d'Auvergne", Blocks: []production.Block{{Type: "paragraph", Runs: demoRuns("La chaîne des Puys compte plus de 80 volcans.")}}},
		}}},
		{production.Blog, "Blog de la liaison école-collège", production.Content{Posts: []production.Post{
			{ID: "post1", Title: "Premier échange", Body: "Bonjour aux élèves de 6e A !\n\nNous préparons nos questions.", Author: "CM1 A",
				Status: "published", Created: "2025-10-06T10:00:00Z", Comments: []production.Comment{{Author: "6e A", Text: "Nous avons hâte !", Status: "published"}}},
		}}},
		{production.MindMap, "Carte mentale : le cycle de l'eau", production.Content{Nodes: []production.Node{
			{ID: "root", Text: "Le cycle de l'eau", Color: "#1565c0"},
			{ID: "n1", Text: "Évaporation", Parent: "root", X: 160, Y: -60},
			{ID: "n2", Text: "Condensation", Parent: "root", X: 160, Y: 0},
			{ID: "n3", Text: "Précipitations", Parent: "root", X: 160, Y: 60},
		}}},
		{production.Timeline, "Frise : de la Gaule à la Révolution", production.Content{Events: []production.Event{
			{Start: "-0052", Title: "Alésia", Text: "Défaite de Vercingétorix."},
			{Start: "0800-12-25", Title: "Sacre de Charlemagne"},
			{Start: "1789-07-14", Title: "Prise de la Bastille"},
		}}},
		{production.Wall, "Mur des idées pour la rentrée en 6e", production.Content{Cards: []production.Card{
			{Text: "Visiter le collège avant la rentrée", Column: "Idées"},
			{Text: "Un parrain de 6e pour chaque CM1", Column: "Idées"},
			{Text: "Le plan du collège", Link: "https://www.education.gouv.fr/", Column: "Ressources"},
		}}},
	}
	for i, d := range list {
		owner := teacher
		if i%2 == 1 {
			owner = pupil
		}
		pr, err := s.Create(ctx, owner, production.NewProduction{Kind: d.kind, Title: d.title})
		if err != nil {
			return fmt.Errorf("demo production %s: %w", d.kind, err)
		}
		if err := s.Write(ctx, owner, pr.ID, d.content); err != nil {
			return fmt.Errorf("demo production %s content: %w", d.kind, err)
		}
		// The pupil shares with her own class; the teacher brings the
		// collège's 6e A in (teachers share beyond the communication rules).
		if _, err := s.Share(ctx, owner, pr.ID, production.NewShare{TargetKind: production.TargetClass, TargetID: cm1, Role: production.RoleContribute}); err != nil {
			return fmt.Errorf("demo share %s: %w", d.kind, err)
		}
		if owner == pupil {
			if _, err := s.Share(ctx, owner, pr.ID, production.NewShare{TargetKind: production.TargetUser, TargetID: teacherID, Role: production.RoleManage}); err != nil {
				return fmt.Errorf("demo share %s: %w", d.kind, err)
			}
		}
		if _, err := s.Share(ctx, teacher, pr.ID, production.NewShare{TargetKind: production.TargetClass, TargetID: sixieme, Role: production.RoleContribute}); err != nil {
			return fmt.Errorf("demo share %s with the collège: %w", d.kind, err)
		}
	}
	if err := writeLiaison(ctx, w, s, ppl, cm1, sixieme, []int64{teacherID, collegeTeacherID}); err != nil {
		return err
	}
	_, err = s.Assign(ctx, teacher, production.NewAssignment{Title: "Frise chronologique de l'Antiquité",
		Instructions: "Par équipes de trois, placez cinq événements de l'Antiquité avec une image chacun.",
		Kind:         production.Timeline, Mode: "teams", TeamSize: 3, Due: w.now.AddDate(0, 0, 14).Format("2006-01-02"), GroupID: cm1})
	if err != nil {
		return fmt.Errorf("demo assignment: %w", err)
	}
	return nil
}

// writeLiaison creates the cycle 3 liaison group: a cross-school group of
// the école and the collège with both teachers and pupils of the CM1 A and
// the 6e A (the demo's two pupils with a password among them), then the
// collège teacher asks it for a mind map by mixed teams, so that one
// assignment reaches pupils of two schools.
func writeLiaison(ctx context.Context, w *seeder, s *production.Service, ppl *people.Service, cm1, sixieme int64, teachers []int64) error {
	adminID, err := w.userByEmail(ctx, "admin@demo.socle.fr")
	if err != nil {
		return err
	}
	admin, err := w.auth.Principal(ctx, adminID)
	if err != nil {
		return err
	}
	ecole, err := ppl.Group(ctx, admin, cm1)
	if err != nil {
		return err
	}
	college, err := ppl.Group(ctx, admin, sixieme)
	if err != nil {
		return err
	}
	g, err := ppl.CreateGroup(ctx, admin, people.NewGroup{Establishment: ecole.UAI, SchoolYear: ecole.SchoolYear,
		Kind: people.KindGroup, Type: people.TypeCrossSchool, Name: "Liaison cycle 3 : CM1 A et 6e A", Establishments: []string{college.UAI}})
	if err != nil {
		return fmt.Errorf("demo liaison group: %w", err)
	}
	if _, err := ppl.AddGroupMembers(ctx, admin, g.ID, teachers, people.RoleTeacher, ""); err != nil {
		return fmt.Errorf("demo liaison teachers: %w", err)
	}
	pick := func(d people.GroupDetail, email string) ([]int64, error) {
		me, err := w.userByEmail(ctx, email)
		if err != nil {
			return nil, err
		}
		out := []int64{me}
		for _, m := range d.Pupils {
			if len(out) == 4 {
				break
			}
			if m.UserID != me {
				out = append(out, m.UserID)
			}
		}
		return out, nil
	}
	fromEcole, err := pick(ecole, "eleve@demo.socle.fr")
	if err != nil {
		return err
	}
	fromCollege, err := pick(college, "eleve.college@demo.socle.fr")
	if err != nil {
		return err
	}
	if _, err := ppl.AddGroupMembers(ctx, admin, g.ID, append(fromEcole, fromCollege...), people.RoleMember, ""); err != nil {
		return fmt.Errorf("demo liaison pupils: %w", err)
	}
	// Mixed teams: each pairs a CM1 pupil with a 6e pupil.
	var teams [][]int64
	for i := range fromEcole {
		teams = append(teams, []int64{fromEcole[i], fromCollege[i]})
	}
	teacher, err := w.auth.Principal(ctx, teachers[1])
	if err != nil {
		return err
	}
	_, err = s.Assign(ctx, teacher, production.NewAssignment{Title: "Carte mentale : ce qui change en 6e",
		Instructions: "Par binômes CM1-6e, faites la carte mentale de ce qui change en arrivant au collège : l'emploi du temps, les professeurs, la cantine, le CDI…",
		Kind:         production.MindMap, Mode: "teams", Teams: teams, Due: w.now.AddDate(0, 0, 21).Format("2006-01-02"), GroupID: g.ID})
	if err != nil {
		return fmt.Errorf("demo liaison assignment: %w", err)
	}
	return nil
}
