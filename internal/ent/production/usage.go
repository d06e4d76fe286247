package production

import (
	"context"
	"slices"
)

// Cycle3Levels are the levels of cycle 3 (CM1, CM2 at the école, 6e at
// the collège): the académie's indicator "nombre de productions collectives
// cycle 3" counts collective productions with a participant of these levels.
var Cycle3Levels = []string{"CM1", "CM2", "6e"}

// Usage counts the live productions for governance: per kind, per month of
// creation, per level of participants, collective (more than one
// participant) and cross-school (participants from more than one
// establishment). Counts only, never names.
func (s *Service) Usage(ctx context.Context) (Usage, error) {
	u := Usage{ByKind: map[string]int{}, ByMonth: map[string]int{}, ByLevel: map[string]int{}}
	rows, err := s.store.allLive(ctx)
	if err != nil {
		return u, err
	}
	type person struct {
		estabs []int64
		levels []string
	}
	people := map[int64]person{}
	members := map[int64][]int64{}
	personOf := func(id int64) (person, error) {
		if p, ok := people[id]; ok {
			return p, nil
		}
		var p person
		var err error
		if p.estabs, err = s.dir.EstablishmentsOf(ctx, id); err != nil {
			return p, err
		}
		gs, err := s.dir.GroupsOfUser(ctx, id)
		if err != nil {
			return p, err
		}
		for _, g := range gs {
			if g.Level != "" && !slices.Contains(p.levels, g.Level) {
				p.levels = append(p.levels, g.Level)
			}
		}
		people[id] = p
		return p, nil
	}
	for _, r := range rows {
		shares, err := s.store.shares(ctx, r.id)
		if err != nil {
			return u, err
		}
		participants := []int64{r.owner}
		for _, sh := range shares {
			if sh.Role == RoleRead {
				continue // readers do not produce
			}
			if sh.TargetKind == TargetUser {
				participants = append(participants, sh.TargetID)
				continue
			}
			ms, ok := members[sh.TargetID]
			if !ok {
				if ms, err = s.dir.MembersOfGroup(ctx, sh.TargetID); err != nil {
					return u, err
				}
				members[sh.TargetID] = ms
			}
			participants = append(participants, ms...)
		}
		slices.Sort(participants)
		participants = slices.Compact(participants)
		var estabs []int64
		var levels []string
		for _, id := range participants {
			p, err := personOf(id)
			if err != nil {
				return u, err
			}
			estabs = append(estabs, p.estabs...)
			levels = append(levels, p.levels...)
		}
		slices.Sort(estabs)
		estabs = slices.Compact(estabs)
		slices.Sort(levels)
		levels = slices.Compact(levels)
		u.Total++
		u.ByKind[string(r.kind)]++
		u.ByMonth[r.createdAt.UTC().Format("2006-01")]++
		if len(participants) < 2 {
			continue
		}
		u.Collective++
		if len(estabs) > 1 {
			u.CrossSchool++
		}
		for _, l := range levels {
			u.ByLevel[l]++
		}
		for _, l := range levels {
			if slices.Contains(Cycle3Levels, l) {
				u.Cycle3++
				break
			}
		}
	}
	return u, nil
}
