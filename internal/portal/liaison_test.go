package portal_test

import (
	"context"
	"strings"
	"testing"

	"socle/internal/ent/production"
)

// The demo's cycle 3 liaison: one assignment of the collège teacher to the
// cross-school group reaches pupils of the école and of the collège, who
// are notified and share a team production (mixed teams); the teacher of
// the école finds the group in the assignment form.
func TestDemoLiaisonAssignmentSpansTwoSchools(t *testing.T) {
	s := newDemoServer(t)
	ctx := context.Background()
	const title = "Carte mentale : ce qui change en 6e"
	team := map[string]int64{}
	for _, email := range []string{"eleve@demo.socle.fr", "eleve.college@demo.socle.fr"} {
		id := s.userID(t, email)
		var n int
		if err := s.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_timeline WHERE user_id = ? AND type = 'assignment' AND title LIKE ?`,
			id, "%"+title+"%").Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d notifications of the liaison assignment (%v), want 1", email, n, err)
		}
		p, err := s.app.Auth.Principal(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.app.Production.List(ctx, p, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range append(l.Mine, l.SharedWith...) {
			if strings.HasPrefix(pr.Title, title) && pr.Kind == production.MindMap {
				team[email] = pr.ID
			}
		}
	}
	if team["eleve@demo.socle.fr"] == 0 || team["eleve@demo.socle.fr"] != team["eleve.college@demo.socle.fr"] {
		t.Errorf("the école and the collège pupils should share one team production: %v", team)
	}
	teacher, err := s.app.Auth.Principal(ctx, s.userID(t, "enseignant@demo.socle.fr"))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := s.app.Production.AssignableGroups(ctx, teacher)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
	}
	if joined := strings.Join(names, " | "); !strings.Contains(joined, "CM1 A") || !strings.Contains(joined, "Liaison cycle 3") {
		t.Errorf("the école teacher may ask %q, want the CM1 A and the liaison group", joined)
	}
}
