package people

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Rule is one communication rule: a relation between people of one
// establishment (or one group) that lets them reach each other. Rules only
// ever connect people who share an establishment or a group: there is no
// rule, and so no setting, by which a pupil reaches an adult from outside
// their schools. Locked rules are what the school cannot work without; an
// establishment head may switch the others on or off.
type Rule struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Default bool   `json:"default"`
	Locked  bool   `json:"locked"`
}

// Rule keys.
const (
	RulePupilTeachers       = "pupil-teachers"
	RulePupilClassmates     = "pupil-classmates"
	RuleParentTeachers      = "parent-teachers"
	RuleParentStaff         = "parent-staff"
	RuleStaffAll            = "staff-all"
	RuleColleagues          = "colleagues"
	RuleCrossSchool         = "cross-school"
	RuleSchoolPupils        = "school-pupils"
	RuleTeacherSchoolPupils = "teacher-school-pupils"
	RuleClassParents        = "class-parents"
	RuleAgentStaff          = "agent-staff"
)

// Rules are the communication rules with their defaults, which protect
// minors: a pupil reaches their teachers, their classmates, the staff and
// their parents, and nobody else unless the school widens it.
var Rules = []Rule{
	{RulePupilTeachers, "Élèves ↔ enseignants de leurs classes et groupes", true, true},
	{RulePupilClassmates, "Élèves ↔ élèves de leurs classes et groupes", true, false},
	{RuleParentTeachers, "Parents ↔ enseignants de leurs enfants", true, true},
	{RuleParentStaff, "Parents ↔ personnels de l'établissement de leurs enfants", true, false},
	{RuleStaffAll, "Personnels (direction, administration, vie scolaire) ↔ tout l'établissement", true, true},
	{RuleColleagues, "Enseignants ↔ enseignants et personnels de l'établissement", true, false},
	{RuleCrossSchool, "Membres d'un groupe inter-établissements ↔ entre eux", true, false},
	{RuleSchoolPupils, "Élèves ↔ tous les élèves de l'établissement", false, false},
	{RuleTeacherSchoolPupils, "Enseignants ↔ tous les élèves de l'établissement", false, false},
	{RuleClassParents, "Parents ↔ parents des élèves de la classe de leurs enfants", false, false},
	{RuleAgentStaff, "Agents de collectivité ↔ personnels et enseignants de l'établissement", true, false},
}

func ruleByKey(k string) (Rule, bool) {
	for _, r := range Rules {
		if r.Key == k {
			return r, true
		}
	}
	return Rule{}, false
}

// RuleSetting is a rule as one establishment has it.
type RuleSetting struct {
	Rule
	Allowed bool `json:"allowed"`
}

// CommunicationRules returns an establishment's rules (people.read there,
// or membership).
func (s *Service) CommunicationRules(ctx context.Context, p *auth.Principal, uai string) ([]RuleSetting, error) {
	e, err := s.store.establishmentByUAI(ctx, s.db, strings.ToUpper(strings.TrimSpace(uai)))
	if err != nil || !s.mayRead(ctx, p, e.ID) {
		if err == nil || isNoRows(err) {
			return nil, problem.NotFound("Établissement")
		}
		return nil, err
	}
	return s.ruleSettings(ctx, e.ID)
}

func (s *Service) ruleSettings(ctx context.Context, estID int64) ([]RuleSetting, error) {
	set, err := s.loadRules(ctx, s.db, []int64{estID})
	if err != nil {
		return nil, err
	}
	out := make([]RuleSetting, 0, len(Rules))
	for _, r := range Rules {
		out = append(out, RuleSetting{Rule: r, Allowed: set.allowed(estID, r.Key)})
	}
	return out, nil
}

// SetCommunicationRules adjusts an establishment's rules (people.manage
// there). A locked rule cannot be switched off; an unknown key is refused.
func (s *Service) SetCommunicationRules(ctx context.Context, p *auth.Principal, uai string, values map[string]bool) ([]RuleSetting, error) {
	e, err := s.establishmentFor(ctx, p, uai, auth.PermPeopleManage)
	if err != nil {
		return nil, err
	}
	for k, v := range values {
		r, ok := ruleByKey(k)
		if !ok {
			return nil, problem.Invalid("unknown_rule", fmt.Sprintf("Règle inconnue : %s.", k)).Field(k, "Règle inconnue.")
		}
		if r.Locked && !v {
			return nil, problem.Invalid("locked_rule", fmt.Sprintf("La règle « %s » ne peut pas être désactivée.", r.Label)).Field(k, "Règle obligatoire.")
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for k, v := range values {
			r, _ := ruleByKey(k)
			if v == r.Default {
				if _, err := tx.ExecContext(ctx, `DELETE FROM communication_rules WHERE establishment_id = ? AND rule = ?`, e.ID, k); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO communication_rules (establishment_id, rule, allowed) VALUES (?, ?, ?)
				ON CONFLICT (establishment_id, rule) DO UPDATE SET allowed = excluded.allowed`, e.ID, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("communication rules adjusted", "establishment", e.UAI, "by", p.User.ID)
	return s.ruleSettings(ctx, e.ID)
}

// ruleSet is the adjusted rules of some establishments.
type ruleSet map[int64]map[string]bool

func (rs ruleSet) allowed(estID int64, key string) bool {
	if v, ok := rs[estID][key]; ok {
		return v
	}
	r, _ := ruleByKey(key)
	return r.Default
}

func (s *Service) loadRules(ctx context.Context, q db.Querier, ests []int64) (ruleSet, error) {
	rs := ruleSet{}
	if len(ests) == 0 {
		return rs, nil
	}
	args := make([]any, len(ests))
	for i, e := range ests {
		args[i] = e
	}
	rows, err := q.QueryContext(ctx, `SELECT establishment_id, rule, allowed FROM communication_rules WHERE establishment_id IN (`+db.Placeholders(len(ests))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e int64
		var k string
		var v bool
		if err := rows.Scan(&e, &k, &v); err != nil {
			return nil, err
		}
		if rs[e] == nil {
			rs[e] = map[string]bool{}
		}
		rs[e][k] = v
	}
	return rs, rows.Err()
}

// facts are what the rules look at for one person: only active
// memberships count (an archived class connects nobody).
type facts struct {
	disabled bool
	ests     map[int64]Profile // establishment → profile there
	groups   map[int64]string  // group → role
	children []int64
}

type groupInfo struct {
	est  int64
	kind string
	typ  string
}

// reachData is everything the rules need about a set of people, loaded in
// a few queries so that a directory of a thousand people is filtered in
// memory rather than with a thousand round trips.
type reachData struct {
	people map[int64]*facts
	groups map[int64]groupInfo
	rules  ruleSet
}

// loadReach loads the facts of the people a subquery selects (user ids),
// and of their children.
func (s *Service) loadReach(ctx context.Context, sub string, args ...any) (*reachData, error) {
	rd := &reachData{people: map[int64]*facts{}, groups: map[int64]groupInfo{}}
	if err := s.loadFacts(ctx, rd, sub, args); err != nil {
		return nil, err
	}
	if err := s.loadFacts(ctx, rd, `SELECT child_id FROM parent_links WHERE parent_id IN (`+sub+`)`, args); err != nil {
		return nil, err
	}
	ests := map[int64]bool{}
	for _, f := range rd.people {
		for e := range f.ests {
			ests[e] = true
		}
	}
	for _, g := range rd.groups {
		ests[g.est] = true
	}
	list := make([]int64, 0, len(ests))
	for e := range ests {
		list = append(list, e)
	}
	var err error
	rd.rules, err = s.loadRules(ctx, s.db, list)
	return rd, err
}

func (s *Service) loadFacts(ctx context.Context, rd *reachData, sub string, args []any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT p.user_id, u.disabled FROM people p JOIN users u ON u.id = p.user_id WHERE p.user_id IN (`+sub+`)`, args...)
	if err != nil {
		return fmt.Errorf("load reach facts: %w", err)
	}
	fresh := map[int64]*facts{}
	for rows.Next() {
		var id int64
		var dis bool
		if err := rows.Scan(&id, &dis); err != nil {
			rows.Close()
			return err
		}
		if _, seen := rd.people[id]; !seen {
			f := &facts{disabled: dis, ests: map[int64]Profile{}, groups: map[int64]string{}}
			rd.people[id], fresh[id] = f, f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(fresh) == 0 {
		return nil
	}
	rows, err = s.db.QueryContext(ctx, `SELECT user_id, establishment_id, profile FROM establishment_members WHERE user_id IN (`+sub+`)`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, e int64
		var prof string
		if err := rows.Scan(&id, &e, &prof); err != nil {
			rows.Close()
			return err
		}
		if f := fresh[id]; f != nil {
			f.ests[e] = Profile(prof)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT gm.user_id, gm.group_id, gm.role, g.establishment_id, g.kind, g.group_type
		FROM group_members gm JOIN groups g ON g.id = gm.group_id
		WHERE gm.ended_at IS NULL AND g.archived_at IS NULL AND gm.user_id IN (`+sub+`)`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, g, e int64
		var role, kind, typ string
		if err := rows.Scan(&id, &g, &role, &e, &kind, &typ); err != nil {
			rows.Close()
			return err
		}
		if f := fresh[id]; f != nil {
			f.groups[g] = role
		}
		rd.groups[g] = groupInfo{est: e, kind: kind, typ: typ}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT parent_id, child_id FROM parent_links WHERE parent_id IN (`+sub+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, cid int64
		if err := rows.Scan(&pid, &cid); err != nil {
			return err
		}
		if f := fresh[pid]; f != nil {
			f.children = append(f.children, cid)
		}
	}
	return rows.Err()
}

// reach applies the rules both ways: every rule is a symmetric relation,
// written once from the side that names it.
func (rd *reachData) reach(a, b int64) bool {
	if a == b {
		return true
	}
	fa, fb := rd.people[a], rd.people[b]
	if fa == nil || fb == nil || fa.disabled || fb.disabled {
		return false
	}
	return rd.oneWay(a, fa, b, fb) || rd.oneWay(b, fb, a, fa)
}

func (rd *reachData) oneWay(aID int64, a *facts, bID int64, b *facts) bool {
	// A parent and their own child always reach each other.
	if slices.Contains(a.children, bID) {
		return true
	}
	// Shared groups: pupils with their teachers and classmates; anybody in
	// a cross-school group with the others.
	for g, role := range a.groups {
		brole, ok := b.groups[g]
		if !ok {
			continue
		}
		gi := rd.groups[g]
		if gi.typ == TypeCrossSchool {
			if rd.rules.allowed(gi.est, RuleCrossSchool) {
				return true
			}
			continue
		}
		if role == RoleMember && brole == RoleTeacher && rd.rules.allowed(gi.est, RulePupilTeachers) {
			return true
		}
		if role == RoleMember && brole == RoleMember && a.ests[gi.est] == ProfilePupil && b.ests[gi.est] == ProfilePupil &&
			rd.rules.allowed(gi.est, RulePupilClassmates) {
			return true
		}
	}
	// The establishment: staff with everyone; teachers with colleagues;
	// agents with staff; and the rules a school may widen.
	for e, pa := range a.ests {
		pb, ok := b.ests[e]
		if !ok {
			continue
		}
		switch {
		case pa == ProfileStaff && rd.rules.allowed(e, RuleStaffAll):
			return true
		case pa == ProfileTeacher && (pb == ProfileTeacher || pb == ProfileStaff) && rd.rules.allowed(e, RuleColleagues):
			return true
		case pa == ProfileAgent && (pb == ProfileTeacher || pb == ProfileStaff) && rd.rules.allowed(e, RuleAgentStaff):
			return true
		case pa == ProfilePupil && pb == ProfilePupil && rd.rules.allowed(e, RuleSchoolPupils):
			return true
		case pa == ProfileTeacher && pb == ProfilePupil && rd.rules.allowed(e, RuleTeacherSchoolPupils):
			return true
		}
	}
	// Parents, through their children.
	for _, c := range a.children {
		fc := rd.people[c]
		if fc == nil || fc.disabled {
			continue
		}
		for g := range fc.groups {
			gi := rd.groups[g]
			if b.groups[g] == RoleTeacher && rd.rules.allowed(gi.est, RuleParentTeachers) {
				return true
			}
			if gi.kind == KindClass && rd.rules.allowed(gi.est, RuleClassParents) {
				for _, bc := range b.children {
					if fbc := rd.people[bc]; fbc != nil && fbc.groups[g] == RoleMember {
						return true
					}
				}
			}
		}
		for e, pc := range fc.ests {
			if pc == ProfilePupil && b.ests[e] == ProfileStaff && rd.rules.allowed(e, RuleParentStaff) {
				return true
			}
		}
	}
	return false
}
