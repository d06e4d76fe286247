package demo

import (
	"context"
	"fmt"
	"strings"

	"socle/internal/ent/people"
	"socle/internal/platform/auth"
)

// WithPeople adds the ENT's people through the feed, as a school would:
// the demo école (a CM1 and a CM2 class, the demo pupil, parent, teacher
// and head among them, parent links) and the demo collège (a 6e class),
// both for last school year and not yet rolled over, so that the head can
// preview and apply the rollover and see the CM2 pupils leave for the
// collège the carte scolaire proposes.
func WithPeople(s *people.Service) Option {
	return func(w *seeder) {
		if s == nil {
			return
		}
		w.extra = append(w.extra, step{name: "people", after: func(ctx context.Context, w *seeder) error {
			return writePeople(ctx, w, s)
		}})
	}
}

var demoFirstNames = []string{"Lucas", "Emma", "Gabriel", "Jade", "Louis", "Louise", "Raphaël", "Alice", "Jules", "Chloé",
	"Arthur", "Lina", "Maël", "Rose", "Adam", "Anna", "Hugo", "Mila", "Noah", "Léna", "Tom", "Inès", "Nolan", "Manon"}

var demoLastNames = []string{"Le Gall", "Le Goff", "Guillou", "Morvan", "Le Roux", "Hamon", "Tanguy", "Le Bihan", "Kerhervé",
	"Riou", "Cadiou", "Le Corre", "Gourvès", "Quéré", "Jaouen", "Prigent", "Salaün", "Toullec"}

// feedLines writes the pupils (and one parent each, every other pupil) of
// a class.
func feedLines(b *strings.Builder, class string, n, first int, born int, seed int) {
	for i := 0; i < n; i++ {
		k := seed + i
		fn, ln := demoFirstNames[(k*7)%len(demoFirstNames)], demoLastNames[(k*5+i/len(demoLastNames))%len(demoLastNames)]
		ine := fmt.Sprintf("%010dD", 990000000+first+i)
		fmt.Fprintf(b, "élève;%s;%s;%02d/%02d/%d;%s;%s;;\n", ln, fn, 1+k%28, 1+k%12, born, ine, class)
		if i%2 == 0 {
			fmt.Fprintf(b, "parent;%s;%s;;;;%s;\n", ln, demoFirstNames[(k*11+3)%len(demoFirstNames)], ine)
		}
	}
}

func writePeople(ctx context.Context, w *seeder, s *people.Service) error {
	past := people.SchoolYearOf(w.now.AddDate(-1, 0, 0))
	start := 0
	fmt.Sscanf(past, "%d-", &start)
	const header = "Profil;Nom;Prénom;Date de naissance;INE;Classe;INE enfant;Courriel\n"
	var ecole strings.Builder
	ecole.WriteString(header)
	// The demo accounts, matched by their e-mail.
	fmt.Fprintf(&ecole, "élève;Tanguy;Léa;14/03/%d;0990000999D;CM1 A;;eleve@demo.socle.fr\n", start-9)
	fmt.Fprintf(&ecole, "parent;Tanguy;Gwenaëlle;;;;0990000999D;parent@demo.socle.fr\n")
	fmt.Fprintf(&ecole, "enseignant;Rolland;Julien;;;CM1 A;;enseignant@demo.socle.fr\n")
	fmt.Fprintf(&ecole, "enseignant;Le Floch;Annaïg;;;CM2 A;;annaig.lefloch@demo.socle.fr\n")
	fmt.Fprintf(&ecole, "personnel;Lefebvre;Marc;;;;;direction.ecole@demo.socle.fr\n")
	feedLines(&ecole, "CM1 A", 11, 0, start-9, 1)
	feedLines(&ecole, "CM2 A", 14, 100, start-10, 40)
	ecoleUAI, collegeUAI := w.plan.demoEcole().UAI, w.plan.demoCollege().UAI
	if err := demoFeed(ctx, s, ecoleUAI, past, ecole.String()); err != nil {
		return err
	}
	var college strings.Builder
	college.WriteString(header)
	fmt.Fprintf(&college, "personnel;Moreau;Isabelle;;;;;principal.college@demo.socle.fr\n")
	fmt.Fprintf(&college, "enseignant;Bernard;Paul;;;6e A;;paul.bernard@demo.socle.fr\n")
	// One 6e pupil with an e-mail and the demo password, so that a person
	// (and the browser tests) can log in on the collège side of the liaison.
	fmt.Fprintf(&college, "élève;Riou;Nathan;02/09/%d;0990000998D;6e A;;eleve.college@demo.socle.fr\n", start-11)
	feedLines(&college, "6e A", 20, 200, start-11, 80)
	if err := demoFeed(ctx, s, collegeUAI, past, college.String()); err != nil {
		return err
	}
	// The 6e A teacher too, so that both sides of the liaison can assign.
	for _, email := range []string{"eleve.college@demo.socle.fr", "paul.bernard@demo.socle.fr"} {
		id, err := w.userByEmail(ctx, email)
		if err != nil {
			return err
		}
		if err := w.auth.SetPassword(ctx, id, Password); err != nil {
			return err
		}
	}
	return nil
}

func demoFeed(ctx context.Context, s *people.Service, uai, year, csv string) error {
	rep, err := s.Feed(ctx, auth.System(), uai, strings.NewReader(csv), people.FeedOptions{SchoolYear: year, Filename: "demo-" + uai + ".csv"})
	if err != nil {
		return fmt.Errorf("feed %s: %w", uai, err)
	}
	if n := rep.RejectedCount(); n > 0 {
		return fmt.Errorf("feed %s: %d lines rejected, first: line %d %s", uai, n, rep.Rejected[0].Line, rep.Rejected[0].Reason)
	}
	return nil
}
