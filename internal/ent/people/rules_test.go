package people

import (
	"context"
	"testing"
)

func TestCanReachMatrix(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	f.feed(uaiOther, "2025-2026", "Profil;Nom;Prénom;Classe;Courriel\nenseignant;Inconnu;Adulte;CM2;adulte@exemple.fr\n", false)
	f.feed(uaiCollege, "2025-2026", "Profil;Nom;Prénom;Date de naissance;INE;Classe;Courriel\n"+
		"enseignant;Project;Prof;;;;prof.projet@exemple.fr\nélève;Collégien;Hugo;01/02/2013;2234567890A;4A;\n", false)
	lea, erwan, noe := f.userByINE("1234567890A"), f.userByINE("1234567891B"), f.userByINE("1234567892C")
	mother, yann := f.userByName("Gwenaëlle", "Tanguy"), f.userByName("Yann", "Le Gall")
	julien, anne, marc := f.userByName("Julien", "Rolland"), f.userByName("Anne", "Kerouac"), f.userByName("Marc", "Lefebvre")
	outsider, prof, hugo := f.userByName("Adulte", "Inconnu"), f.userByName("Prof", "Project"), f.userByINE("2234567890A")

	type pair struct {
		name string
		a, b int64
		want bool
	}
	check := func(label string, cases []pair) {
		t.Helper()
		for _, c := range cases {
			for _, dir := range [][2]int64{{c.a, c.b}, {c.b, c.a}} {
				got, err := f.svc.CanReach(f.ctx, dir[0], dir[1])
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s: %s (%d→%d) = %v, want %v", label, c.name, dir[0], dir[1], got, c.want)
				}
			}
		}
	}
	check("defaults", []pair{
		{"pupil ↔ classmate", lea, erwan, true},
		{"pupil ↔ pupil of another class", lea, noe, false},
		{"pupil ↔ own teacher", lea, julien, true},
		{"pupil ↔ other class's teacher", lea, anne, false},
		{"pupil ↔ head", lea, marc, true},
		{"pupil ↔ own parent", lea, mother, true},
		{"pupil ↔ another child's parent", lea, yann, false},
		{"pupil ↔ adult of another school", lea, outsider, false},
		{"pupil ↔ collège teacher", lea, prof, false},
		{"pupil ↔ collège pupil", lea, hugo, false},
		{"parent ↔ child's teacher", mother, julien, true},
		{"parent ↔ other child's teacher", mother, anne, true},
		{"parent ↔ teacher of no child of theirs", yann, anne, false},
		{"parent ↔ head", yann, marc, true},
		{"parent ↔ parent", mother, yann, false},
		{"teacher ↔ colleague", julien, anne, true},
		{"teacher ↔ teacher of another school", julien, outsider, false},
		{"head ↔ every pupil", marc, noe, true},
		{"self", lea, lea, true},
	})

	// A head widens and narrows within the limits.
	head := f.principal(marc)
	if _, err := f.svc.SetCommunicationRules(f.ctx, head, uaiEcole, map[string]bool{RuleClassParents: true, RulePupilClassmates: false,
		RuleSchoolPupils: true}); err != nil {
		t.Fatal(err)
	}
	check("adjusted", []pair{
		{"parents of one class", mother, yann, true},
		{"classmates switched off", lea, erwan, true}, // school-pupils still joins them
		{"pupils of the school", lea, noe, true},
		{"pupil ↔ another child's parent, still", lea, yann, false},
		{"pupil ↔ adult of another school, still", lea, outsider, false},
	})
	if _, err := f.svc.SetCommunicationRules(f.ctx, head, uaiEcole, map[string]bool{RuleSchoolPupils: false}); err != nil {
		t.Fatal(err)
	}
	check("classmates off", []pair{{"classmates switched off", lea, erwan, false}})
	rules, err := f.svc.CommunicationRules(f.ctx, head, uaiEcole)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		want := r.Default
		switch r.Key {
		case RuleClassParents:
			want = true
		case RulePupilClassmates:
			want = false
		}
		if r.Allowed != want {
			t.Errorf("rule %s allowed = %v, want %v", r.Key, r.Allowed, want)
		}
	}

	// A cross-school project: the école's pupil and the collège's teacher.
	g, err := f.svc.CreateGroup(f.ctx, f.admin, NewGroup{Establishment: uaiEcole, SchoolYear: "2025-2026", Kind: KindGroup,
		Type: TypeCrossSchool, Name: "Liaison CM2-6e", Establishments: []string{uaiCollege}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddGroupMembers(f.ctx, f.admin, g.ID, []int64{lea, hugo}, RoleMember, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddGroupMembers(f.ctx, f.admin, g.ID, []int64{prof}, RoleTeacher, "Sciences"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddGroupMembers(f.ctx, f.admin, g.ID, []int64{outsider}, RoleTeacher, ""); err == nil {
		t.Errorf("an adult of a school outside the group joined it")
	}
	check("cross-school", []pair{
		{"pupil ↔ project teacher of the collège", lea, prof, true},
		{"pupil ↔ collège pupil of the project", lea, hugo, true},
		{"classmate outside the project ↔ project teacher", erwan, prof, false},
	})

	// A suspended person reaches nobody.
	f.feed(uaiEcole, "2025-2026", ecoleFeed[:len(ecoleFeed)-len("personnel;Lefebvre;Marc;;;;;m.lefebvre@exemple.fr;;direction\n")], false)
	check("suspended", []pair{{"pupil ↔ former head", lea, marc, false}})
}

func TestDirectoryFollowsTheRules(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	lea := f.principal(f.userByINE("1234567890A"))
	people, err := f.svc.Directory(f.ctx, lea, uaiEcole, DirectoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range people {
		names = append(names, p.FirstName+" "+p.LastName)
		if p.INE != "" || p.BirthDate != "" {
			t.Errorf("a pupil reads %s's INE or birth date", p.FirstName)
		}
	}
	want := []string{"Chloé Morvan", "Erwan Le Gall", "Julien Rolland", "Léa Tanguy", "Marc Lefebvre", "Gwenaëlle Tanguy"}
	if len(names) != len(want) {
		t.Fatalf("Léa's directory %v, want %v", names, want)
	}
	for _, w := range want {
		found := false
		for _, n := range names {
			found = found || n == w
		}
		if !found {
			t.Errorf("Léa's directory %v lacks %s", names, w)
		}
	}
	all, err := f.svc.Directory(f.ctx, f.principal(f.userByName("Marc", "Lefebvre")), uaiEcole, DirectoryFilter{Profile: ProfilePupil})
	if err != nil || len(all) != 4 || all[0].INE == "" && all[0].LastName != "Morvan" {
		t.Errorf("head's pupil directory %+v %v", all, err)
	}
	// Reading a pupil's record is logged.
	log := &accessLog{}
	f.svc.SetAccessLogger(log)
	teacher := f.principal(f.userByName("Julien", "Rolland"))
	if _, err := f.svc.Person(f.ctx, teacher, lea.User.ID); err != nil {
		t.Fatal(err)
	}
	if len(log.entries) != 1 || log.entries[0] != [2]int64{teacher.User.ID, lea.User.ID} {
		t.Errorf("access log %v", log.entries)
	}
	if _, err := f.svc.Person(f.ctx, f.principal(f.userByName("Anne", "Kerouac")), lea.User.ID); !isStatus(err, 404) {
		t.Errorf("a teacher who may not reach Léa reads her record: %v", err)
	}
}

type accessLog struct{ entries [][2]int64 }

func (l *accessLog) RecordAccess(_ context.Context, reader, subject int64, _ string) error {
	l.entries = append(l.entries, [2]int64{reader, subject})
	return nil
}
