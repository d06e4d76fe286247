package people_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"socle/internal/demo"
	"socle/internal/ent/people"
	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// The demo territory has people, classes, parent links and last year's
// classes ready for a rollover whose CM2 pupils go to a collège of the
// carte scolaire.
func TestDemoPeople(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), people.Migrations())
	log := slog.New(slog.DiscardHandler)
	a := auth.NewService(d, auth.DefaultSettings(), log)
	svc := people.NewService(d, a, log, people.Options{})
	start := time.Now()
	if _, created, err := demo.Seed(ctx, d, a, territory.NewService(d, a, log), log, demo.WithPeople(svc)); err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	t.Logf("demo with people seeded in %s", time.Since(start))
	var n int
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM people WHERE profile = 'pupil'`:                                                  47,
		`SELECT COUNT(*) FROM parent_links`:                                                                    24,
		`SELECT COUNT(*) FROM groups WHERE kind = 'class'`:                                                     3,
		`SELECT COUNT(*) FROM people p JOIN users u ON u.id = p.user_id WHERE u.email = 'eleve@demo.socle.fr'`: 1,
	} {
		if err := d.QueryRowContext(ctx, q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	head, err := a.UserByEmail(ctx, "direction.ecole@demo.socle.fr")
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Principal(ctx, head.ID)
	if err != nil {
		t.Fatal(err)
	}
	ests, err := svc.Establishments(ctx, p)
	if err != nil || len(ests) != 1 {
		t.Fatalf("head's establishments %+v %v", ests, err)
	}
	plan, err := svc.Rollover(ctx, p, ests[0].UAI, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Applied || len(plan.Archive) != 2 || len(plan.Leaving) != 14 || len(plan.Leaving[0].Expected) == 0 {
		t.Errorf("demo rollover preview %+v", plan)
	}
	lea, err := a.UserByEmail(ctx, "eleve@demo.socle.fr")
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := a.UserByEmail(ctx, "enseignant@demo.socle.fr")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := svc.CanReach(ctx, lea.ID, teacher.ID); err != nil || !ok {
		t.Errorf("demo pupil cannot reach her teacher: %v", err)
	}
}
