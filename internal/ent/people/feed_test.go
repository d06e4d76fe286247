package people

import (
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

func TestFeedCreatesPeopleClassesLinksAndGrants(t *testing.T) {
	f := newFx(t)
	rep := f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	if rep.RejectedCount() != 0 || rep.Created != 9 || rep.Read != 9 {
		t.Fatalf("report %+v", rep)
	}
	lea := f.userByINE("1234567890A")
	// No password was hashed: the account waits for its activation.
	if h := f.id(`SELECT COUNT(*) FROM users WHERE id = ? AND password_hash = ''`, lea); h != 1 {
		t.Errorf("fed pupil has a password hash")
	}
	if n := f.count(`SELECT COUNT(*) FROM users WHERE email = 'lea.tanguy@ent.invalid'`); n != 1 {
		t.Errorf("login of Léa Tanguy not made from her name")
	}
	for _, c := range []struct {
		who  int64
		role auth.Role
	}{
		{lea, auth.RolePupil},
		{f.userByName("Gwenaëlle", "Tanguy"), auth.RoleParent},
		{f.userByName("Julien", "Rolland"), auth.RoleTeacher},
		{f.userByName("Marc", "Lefebvre"), auth.RoleEstablishmentHead},
	} {
		if n := f.count(`SELECT COUNT(*) FROM grants WHERE user_id = ? AND role = ? AND org_id = ?`, c.who, string(c.role), f.ecole); n != 1 {
			t.Errorf("user %d has no %s grant on the école", c.who, c.role)
		}
	}
	// The teacher's e-mail is their login.
	if n := f.count(`SELECT COUNT(*) FROM users WHERE email = 'j.rolland@exemple.fr'`); n != 1 {
		t.Errorf("teacher login is not their e-mail")
	}
	classes, err := f.svc.Groups(f.ctx, f.admin, uaiEcole, "2025-2026", false)
	if err != nil || len(classes) != 2 {
		t.Fatalf("classes %+v %v", classes, err)
	}
	cm2 := classes[1]
	if cm2.Name != "CM2 A" || cm2.Level != "CM2" || cm2.Kind != KindClass || cm2.Members != 4 {
		t.Errorf("CM2 A = %+v", cm2)
	}
	d, err := f.svc.Group(f.ctx, f.admin, cm2.ID)
	if err != nil || len(d.Teachers) != 1 || d.Teachers[0].Subject != "Polyvalent" || len(d.Pupils) != 3 {
		t.Fatalf("class detail %+v %v", d, err)
	}
	// The mother of two is linked to both.
	mother := f.userByName("Gwenaëlle", "Tanguy")
	if n := f.count(`SELECT COUNT(*) FROM parent_links WHERE parent_id = ?`, mother); n != 2 {
		t.Errorf("mother has %d children linked, want 2", n)
	}
	members, err := f.svc.MembersOfGroup(f.ctx, cm2.ID)
	if err != nil || len(members) != 4 {
		t.Errorf("MembersOfGroup = %v %v", members, err)
	}
	refs, err := f.svc.GroupsOfUser(f.ctx, lea)
	if err != nil || len(refs) != 1 || refs[0].Name != "CM2 A" || refs[0].SchoolYear != "2025-2026" || refs[0].EstablishmentID != f.ecole {
		t.Errorf("GroupsOfUser = %+v %v", refs, err)
	}
}

func TestFeedIsIdempotentThenSuspendsAndDeletesAfterGrace(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	users := f.count(`SELECT COUNT(*) FROM users`)
	rep := f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	if rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != 9 || rep.Deleted != 0 {
		t.Fatalf("second run %+v", rep)
	}
	if n := f.count(`SELECT COUNT(*) FROM users`); n != users {
		t.Errorf("second run created accounts: %d → %d", users, n)
	}
	// A changed name is an update, not a new person.
	rep = f.feed(uaiEcole, "2025-2026", strings.Replace(ecoleFeed, "Le Gall;Erwan", "Le Gall;Erwann", 1), false)
	if rep.Created != 0 || rep.Updated != 1 {
		t.Fatalf("rename %+v", rep)
	}
	// Chloé leaves: the next feed no longer lists her.
	chloe := f.userByName("Chloé", "Morvan")
	without := strings.Replace(ecoleFeed, "élève;Morvan;Chloé;21/11/2015;;CM2 A;;;;\n", "", 1)
	rep = f.feed(uaiEcole, "2025-2026", without, false)
	if rep.Deleted != 1 || rep.Created != 0 {
		t.Fatalf("disappearance %+v", rep)
	}
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ? AND disabled`, chloe); n != 1 {
		t.Errorf("Chloé's account is not disabled")
	}
	if n := f.count(`SELECT COUNT(*) FROM grants WHERE user_id = ?`, chloe); n != 0 {
		t.Errorf("Chloé keeps %d grants", n)
	}
	if ms, _ := f.svc.MembersOfGroup(f.ctx, f.id(`SELECT id FROM groups WHERE name = 'CM2 A'`)); len(ms) != 3 {
		t.Errorf("CM2 A still has %d members, want 3", len(ms))
	}
	// Within the grace period nothing is deleted.
	f.clock = f.clock.Add(29 * 24 * time.Hour)
	if n, err := f.svc.PurgeSuspended(f.ctx); err != nil || n != 0 {
		t.Fatalf("purge within grace: %d %v", n, err)
	}
	// Past it, the Deleter deletes the person and the account.
	f.clock = f.clock.Add(2 * 24 * time.Hour)
	if n, err := f.svc.PurgeSuspended(f.ctx); err != nil || n != 1 {
		t.Fatalf("purge after grace: %d %v", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ?`, chloe); n != 0 {
		t.Errorf("Chloé's account survived the grace period")
	}
	if n := f.count(`SELECT COUNT(*) FROM people`); n != 8 {
		t.Errorf("%d people left, want 8", n)
	}
	// A suspended person who comes back before the end is reactivated.
	noe := f.userByINE("1234567892C")
	withoutNoe := strings.Replace(without, "élève;Tanguy;Noé;05/01/2016;1234567892C;CM1 B;;;;\n", "", 1)
	withoutNoe = strings.Replace(withoutNoe, "1234567890A|1234567892C", "1234567890A", 1)
	f.feed(uaiEcole, "2025-2026", withoutNoe, false)
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ? AND disabled`, noe); n != 1 {
		t.Fatalf("Noé not suspended")
	}
	f.feed(uaiEcole, "2025-2026", without, false)
	if n := f.count(`SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled`, noe); n != 1 {
		t.Errorf("Noé not reactivated")
	}
	if n := f.count(`SELECT COUNT(*) FROM parent_links WHERE child_id = ?`, noe); n != 1 {
		t.Errorf("Noé lost his parent link")
	}
}

func TestFeedAllOrNothingAndSkipInvalid(t *testing.T) {
	f := newFx(t)
	bad := ecoleFeed + "élève;Sans;Date;;1234567899Z;CM2 A;;;;\nmage;Merlin;L'Enchanteur;;;;;;;\nparent;Inconnu;Papa;;;;9999999999X;;;\n"
	rep, err := f.svc.Feed(f.ctx, f.admin, uaiEcole, strings.NewReader(bad), FeedOptions{SchoolYear: "2025-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RejectedCount() != 3 || rep.Created != 0 || f.count(`SELECT COUNT(*) FROM people`) != 0 {
		t.Fatalf("all or nothing: %+v, %d people", rep, f.count(`SELECT COUNT(*) FROM people`))
	}
	lines := map[int]string{}
	for _, r := range rep.Rejected {
		lines[r.Line] = r.Column + ": " + r.Reason
	}
	if !strings.Contains(lines[11], "Date de naissance") || !strings.Contains(lines[12], "profil inconnu") || !strings.Contains(lines[13], "9999999999X") {
		t.Errorf("rejections %v", lines)
	}
	rep = f.feed(uaiEcole, "2025-2026", bad, true)
	if rep.Created != 9 || rep.RejectedCount() != 3 {
		t.Fatalf("skip invalid %+v", rep)
	}
	// With rejected lines, nobody is removed: Chloé's line is gone but
	// another is rejected.
	partial := strings.Replace(bad, "élève;Morvan;Chloé;21/11/2015;;CM2 A;;;;\n", "", 1)
	rep = f.feed(uaiEcole, "2025-2026", partial, true)
	if rep.Deleted != 0 || f.count(`SELECT COUNT(*) FROM establishment_members WHERE establishment_id = ?`, f.ecole) != 9 {
		t.Errorf("a feed with rejected lines removed people: %+v", rep)
	}
	// Not a feed at all.
	if _, err := f.svc.Feed(f.ctx, f.admin, uaiEcole, strings.NewReader("uai;nom\n1;2\n"), FeedOptions{}); err == nil ||
		!strings.Contains(err.Error(), "not_a_feed") {
		t.Errorf("annuaire-like file: %v", err)
	}
	if n := f.count(`SELECT COUNT(*) FROM feed_runs WHERE establishment_id = ?`, f.ecole); n != 4 {
		t.Errorf("%d feed runs recorded, want 4", n)
	}
}

// A teacher who is also a parent of the school: one account, one
// membership as teacher, and the link to the child.
func TestFeedTeacherWhoIsAParent(t *testing.T) {
	f := newFx(t)
	feed := ecoleFeed + "parent;Kerouac;Anne;;;;1234567891B;a.kerouac@exemple.fr;;\n"
	for run := 0; run < 2; run++ {
		rep := f.feed(uaiEcole, "2025-2026", feed, false)
		if rep.RejectedCount() != 0 || rep.Read != 10 {
			t.Fatalf("run %d: %+v", run, rep)
		}
		if run == 1 && (rep.Unchanged != 10 || rep.Updated != 0) {
			t.Errorf("second run %+v", rep)
		}
	}
	anne := f.userByName("Anne", "Kerouac")
	if n := f.count(`SELECT COUNT(*) FROM establishment_members WHERE user_id = ? AND profile = 'teacher'`, anne); n != 1 {
		t.Errorf("Anne is no longer a teacher of the school")
	}
	erwan := f.userByINE("1234567891B")
	if n := f.count(`SELECT COUNT(*) FROM parent_links WHERE parent_id = ? AND child_id = ?`, anne, erwan); n != 1 {
		t.Errorf("Anne is not linked to her son")
	}
	if ok, err := f.svc.CanReach(f.ctx, anne, erwan); err != nil || !ok {
		t.Errorf("Anne cannot reach her son: %v", err)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{"CM2 A": "CM2", "6EME B": "6e", "6e1": "6e", "5°2": "5e", "2NDE 3": "2nde",
		"1ERE S": "1re", "TERM G": "Tle", "Tle 2": "Tle", "CE1": "CE1", "ps": "PS", "4A": "4e", "3 B": "3e"} {
		if got, ok := ParseLevel(in); !ok || got != want {
			t.Errorf("ParseLevel(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Chorale", "35"} {
		if got, ok := ParseLevel(in); ok {
			t.Errorf("ParseLevel(%q) = %q, want none", in, got)
		}
	}
}
