package people

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/problem"
)

// fakeShares stands for the productions, which do not exist yet: it
// reports one share per group it is asked about.
type fakeShares struct{ asked []int64 }

func (s *fakeShares) SharesToGroups(_ context.Context, ids []int64) ([]string, error) {
	s.asked = append(s.asked, ids...)
	out := []string{}
	for range ids {
		out = append(out, "Blog de la classe partagé avec le groupe")
	}
	return out, nil
}

func TestRolloverPreviewApplyIdempotent(t *testing.T) {
	f := newFx(t)
	shares := &fakeShares{}
	f.svc.SetShareReporter(shares)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	preview, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if preview.FromYear != "2025-2026" || preview.ToYear != "2026-2027" || preview.Applied {
		t.Fatalf("preview years %+v", preview)
	}
	if len(preview.Archive) != 2 || preview.MembershipsEnded != 6 {
		t.Errorf("archive %+v, %d memberships", preview.Archive, preview.MembershipsEnded)
	}
	if len(preview.Leaving) != 3 {
		t.Fatalf("leaving %+v", preview.Leaving)
	}
	for _, l := range preview.Leaving {
		if l.Class != "CM2 A" || len(l.Expected) != 1 || l.Expected[0].UAI != uaiCollege || l.Expected[0].Name != "Collège Anne de Bretagne" {
			t.Errorf("leaver %+v", l)
		}
	}
	if len(preview.Shares) != 2 || len(shares.asked) != 2 {
		t.Errorf("shares %v (asked %v)", preview.Shares, shares.asked)
	}
	// The preview changed nothing.
	if n := f.count(`SELECT COUNT(*) FROM groups WHERE archived_at IS NOT NULL`); n != 0 {
		t.Fatalf("preview archived %d groups", n)
	}
	users := f.count(`SELECT COUNT(*) FROM users`)
	applied, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", true)
	if err != nil {
		t.Fatal(err)
	}
	if !applied.Applied || len(applied.Archive) != 2 || len(applied.Leaving) != 3 {
		t.Fatalf("applied %+v", applied)
	}
	if n := f.count(`SELECT COUNT(*) FROM groups WHERE archived_at IS NOT NULL`); n != 2 {
		t.Errorf("%d groups archived, want 2", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM group_members WHERE ended_at IS NULL`); n != 0 {
		t.Errorf("%d memberships still active", n)
	}
	// Accounts persist; the CM1 pupil stays in the école, CM2 pupils left it.
	if n := f.count(`SELECT COUNT(*) FROM users`); n != users {
		t.Errorf("rollover deleted accounts: %d → %d", users, n)
	}
	noe, lea := f.userByINE("1234567892C"), f.userByINE("1234567890A")
	if n := f.count(`SELECT COUNT(*) FROM establishment_members WHERE user_id = ? AND establishment_id = ?`, noe, f.ecole); n != 1 {
		t.Errorf("CM1 pupil left the école")
	}
	if n := f.count(`SELECT COUNT(*) FROM establishment_members WHERE user_id = ?`, lea); n != 0 {
		t.Errorf("CM2 pupil still in the école")
	}
	if refs, _ := f.svc.GroupsOfUser(f.ctx, noe); len(refs) != 0 {
		t.Errorf("archived class still listed: %+v", refs)
	}
	// Again: nothing left to do, and applying twice changes nothing.
	again, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", false)
	if err != nil || !again.Applied || len(again.Archive) != 0 || len(again.Leaving) != 0 || again.MembershipsEnded != 0 {
		t.Fatalf("preview after apply %+v %v", again, err)
	}
	if _, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", true); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT COUNT(*) FROM rollovers`); n != 1 {
		t.Errorf("%d rollover records", n)
	}
}

func TestPupilKeepsAccountFromCM2To6e(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	lea, chloe := f.userByINE("1234567890A"), f.userByName("Chloé", "Morvan")
	f.clock = time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC)
	if _, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", true); err != nil {
		t.Fatal(err)
	}
	f.clock = time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)
	collegeFeed := `Profil;Nom;Prénom;Date de naissance;INE;Division;Niveau;Courriel;Matières
ELEVE;TANGUY;Léa;2015-03-14;1234567890A;6A;6EME;;
ELEVE;MORVAN;Chloe;21/11/2015;;6A;6EME;;
ELEVE;Nouveau;Tom;01/01/2015;1234567893D;6A;6EME;;
ENSEIGNANT;Martin;Paul;;;6A;;p.martin@exemple.fr;Mathématiques|Physique
`
	rep := f.feed(uaiCollege, "", collegeFeed, false)
	if rep.Created != 2 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0].Reason, "en attente de confirmation") {
		t.Fatalf("collège feed %+v", rep)
	}
	// Léa, by INE: the same account, active again, in 6e A of 2026-2027.
	if got := f.userByINE("1234567890A"); got != lea {
		t.Fatalf("Léa has a new account %d, want %d", got, lea)
	}
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled`, lea); n != 1 {
		t.Errorf("Léa's account is not active")
	}
	refs, err := f.svc.GroupsOfUser(f.ctx, lea)
	if err != nil || len(refs) != 1 || refs[0].Name != "6A" || refs[0].SchoolYear != "2026-2027" || refs[0].EstablishmentID != f.college {
		t.Fatalf("Léa's groups %+v %v", refs, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM grants WHERE user_id = ? AND role = 'pupil' AND org_id = ?`, lea, f.college); n != 1 {
		t.Errorf("Léa has no pupil grant on the collège")
	}
	// Her parent link survived the move.
	if n := f.count(`SELECT COUNT(*) FROM parent_links WHERE child_id = ?`, lea); n != 1 {
		t.Errorf("Léa lost her parent link")
	}
	// Chloé had no INE: a pending match, nothing created for her.
	if n := f.count(`SELECT COUNT(*) FROM people WHERE last_name IN ('MORVAN', 'Morvan')`); n != 1 {
		t.Fatalf("Chloé duplicated: %d", n)
	}
	pending, err := f.svc.PendingMatches(f.ctx, f.admin, uaiCollege)
	if err != nil || len(pending) != 1 || pending[0].CandidateID != chloe || pending[0].Class != "6A" {
		t.Fatalf("pending %+v %v", pending, err)
	}
	// Running the feed again holds the same single pending match.
	f.feed(uaiCollege, "", collegeFeed, false)
	if n := f.count(`SELECT COUNT(*) FROM pending_matches`); n != 1 {
		t.Errorf("%d pending matches after a second feed", n)
	}
	m, err := f.svc.DecideMatch(f.ctx, f.admin, pending[0].ID, true)
	if err != nil || m.Status != "confirmed" {
		t.Fatalf("confirm %+v %v", m, err)
	}
	if refs, _ := f.svc.GroupsOfUser(f.ctx, chloe); len(refs) != 1 || refs[0].Name != "6A" {
		t.Errorf("Chloé's groups after confirmation %+v", refs)
	}
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled`, chloe); n != 1 {
		t.Errorf("Chloé's account not reactivated")
	}
	if _, err := f.svc.DecideMatch(f.ctx, f.admin, pending[0].ID, false); err == nil {
		t.Errorf("a decided match was decided again")
	}
	// The next feed finds her as a member: nothing new, nothing pending
	// (her name takes the collège's spelling once), then nothing at all.
	rep = f.feed(uaiCollege, "", collegeFeed, false)
	if rep.Created != 0 || len(rep.Notes) != 0 || rep.Updated != 1 {
		t.Errorf("feed after confirmation %+v", rep)
	}
	rep = f.feed(uaiCollege, "", collegeFeed, false)
	if rep.Created != 0 || len(rep.Notes) != 0 || rep.Unchanged != 4 {
		t.Errorf("feed after confirmation %+v", rep)
	}
}

func TestRejectedMatchCreatesANewPupil(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	chloe := f.userByName("Chloé", "Morvan")
	f.feed(uaiOther, "2025-2026", "Profil;Nom;Prénom;Date de naissance;Classe\nélève;Morvan;Chloé;21/11/2015;CM2\n", false)
	pending, err := f.svc.PendingMatches(f.ctx, f.admin, uaiOther)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %+v %v", pending, err)
	}
	if _, err := f.svc.DecideMatch(f.ctx, f.admin, pending[0].ID, false); err != nil {
		t.Fatal(err)
	}
	other := f.id(`SELECT user_id FROM establishment_members WHERE establishment_id = ?`, f.other)
	if other == chloe {
		t.Fatalf("rejected match merged the accounts")
	}
	rep := f.feed(uaiOther, "2025-2026", "Profil;Nom;Prénom;Date de naissance;Classe\nélève;Morvan;Chloé;21/11/2015;CM2\n", false)
	if rep.Created != 0 || rep.Unchanged != 1 || len(rep.Notes) != 0 {
		t.Errorf("feed after rejection %+v", rep)
	}
}

func TestScopeOfManagement(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	headOther := f.head("direction@port.test", f.other)
	teacher := f.principal(f.userByName("Julien", "Rolland"))
	for name, call := range map[string]func() error{
		"feed": func() error {
			_, err := f.svc.Feed(f.ctx, headOther, uaiEcole, strings.NewReader(ecoleFeed), FeedOptions{})
			return err
		},
		"rollover": func() error { _, err := f.svc.Rollover(f.ctx, headOther, uaiEcole, "", false); return err },
		"directory": func() error {
			_, err := f.svc.Directory(f.ctx, headOther, uaiEcole, DirectoryFilter{})
			return err
		},
		"person": func() error { _, err := f.svc.Person(f.ctx, headOther, f.userByINE("1234567890A")); return err },
		"group": func() error {
			_, err := f.svc.Group(f.ctx, headOther, f.id(`SELECT id FROM groups WHERE name = 'CM2 A'`))
			return err
		},
		"rules": func() error {
			_, err := f.svc.SetCommunicationRules(f.ctx, headOther, uaiEcole, map[string]bool{})
			return err
		},
	} {
		if err := call(); !isStatus(err, http.StatusNotFound) {
			t.Errorf("%s by the head of another school: %v, want 404", name, err)
		}
	}
	if _, err := f.svc.Feed(f.ctx, teacher, uaiEcole, strings.NewReader(ecoleFeed), FeedOptions{}); !isStatus(err, http.StatusForbidden) {
		t.Errorf("feed by a teacher of the school: %v, want 403", err)
	}
	// The school's own head manages it.
	head := f.principal(f.userByName("Marc", "Lefebvre"))
	if _, err := f.svc.Rollover(f.ctx, head, uaiEcole, "", false); err != nil {
		t.Errorf("rollover preview by the head: %v", err)
	}
	if _, err := f.svc.SetCommunicationRules(f.ctx, head, uaiEcole, map[string]bool{RulePupilTeachers: false}); !isStatus(err, http.StatusBadRequest) {
		t.Errorf("switching off a locked rule: %v", err)
	}
}

func isStatus(err error, status int) bool {
	var pe *problem.Error
	return errors.As(err, &pe) && pe.Status == status
}
