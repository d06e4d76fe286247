package people

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// RolloverPlan is what a school-year rollover of an establishment changes,
// exactly: the preview shows it, the application does it and returns it.
// Accounts are never deleted by a rollover: a pupil's work stays theirs.
type RolloverPlan struct {
	Establishment string `json:"establishment"`
	FromYear      string `json:"from_year"`
	ToYear        string `json:"to_year"`
	// Applied is true once the rollover has been done; a preview then
	// lists nothing left to change.
	Applied bool `json:"applied"`
	// Archive are the classes and groups of FromYear to archive; their
	// memberships end.
	Archive          []RolloverGroup `json:"archive"`
	MembershipsEnded int             `json:"memberships_ended"`
	// Leaving are the pupils of the last level (CM2, 3e, Tle) who leave the
	// establishment, with the collèges the carte scolaire proposes.
	Leaving []Leaver `json:"leaving"`
	// Shares are the shares that point to the groups archived (reported so
	// that their owners can re-share with next year's groups).
	Shares []string `json:"shares"`
}

// RolloverGroup is a class or group the rollover archives.
type RolloverGroup struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Level   string `json:"level,omitempty"`
	Members int    `json:"members"`
}

// Leaver is a pupil who leaves the establishment at the rollover.
type Leaver struct {
	UserID      int64    `json:"id"`
	DisplayName string   `json:"display_name"`
	Class       string   `json:"class"`
	Expected    []School `json:"expected_colleges"`
}

// School names an establishment.
type School struct {
	UAI  string `json:"uai"`
	Name string `json:"name"`
}

// Rollover previews (apply false) or applies the rollover of an
// establishment from one school year to the next (people.manage there).
// fromYear "" is the oldest year that still has classes. It is repeatable
// and idempotent: what is done is not done again.
func (s *Service) Rollover(ctx context.Context, p *auth.Principal, uai, fromYear string, apply bool) (RolloverPlan, error) {
	e, err := s.establishmentFor(ctx, p, uai, auth.PermPeopleManage)
	if err != nil {
		return RolloverPlan{}, err
	}
	if fromYear == "" {
		var y sql.NullString
		if err := s.db.QueryRowContext(ctx, `SELECT MIN(school_year) FROM groups WHERE establishment_id = ? AND archived_at IS NULL`, e.ID).Scan(&y); err != nil {
			return RolloverPlan{}, err
		}
		fromYear = y.String
		if fromYear == "" {
			fromYear = SchoolYearOf(s.now().AddDate(0, -2, 0))
		}
	}
	if !ValidSchoolYear(fromYear) {
		return RolloverPlan{}, problem.Invalid("invalid_year", "Année scolaire invalide (attendu : 2025-2026).").Field("from", "Année invalide.")
	}
	var plan RolloverPlan
	if !apply {
		return s.rolloverPlan(ctx, s.db, e, fromYear)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if plan, err = s.rolloverPlan(ctx, tx, e, fromYear); err != nil {
			return err
		}
		return s.applyRollover(ctx, tx, e, p, &plan)
	})
	if err != nil {
		return RolloverPlan{}, err
	}
	s.log.Info("rollover applied", "establishment", e.UAI, "from", plan.FromYear, "archived", len(plan.Archive),
		"memberships_ended", plan.MembershipsEnded, "leaving", len(plan.Leaving))
	return plan, nil
}

func (s *Service) rolloverPlan(ctx context.Context, q db.Querier, e establishment, from string) (RolloverPlan, error) {
	plan := RolloverPlan{Establishment: e.UAI, FromYear: from, ToYear: NextSchoolYear(from), Archive: []RolloverGroup{},
		Leaving: []Leaver{}, Shares: []string{}}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollovers WHERE establishment_id = ? AND from_year = ?`, e.ID, from).Scan(&n); err != nil {
		return plan, err
	}
	plan.Applied = n > 0
	rows, err := q.QueryContext(ctx, `SELECT g.id, g.kind, g.name, g.level,
		(SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id AND gm.ended_at IS NULL)
		FROM groups g WHERE g.establishment_id = ? AND g.school_year = ? AND g.archived_at IS NULL ORDER BY g.kind, g.name`, e.ID, from)
	if err != nil {
		return plan, err
	}
	var ids []int64
	for rows.Next() {
		var g RolloverGroup
		if err := rows.Scan(&g.ID, &g.Kind, &g.Name, &g.Level, &g.Members); err != nil {
			rows.Close()
			return plan, err
		}
		plan.Archive = append(plan.Archive, g)
		plan.MembershipsEnded += g.Members
		ids = append(ids, g.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return plan, err
	}
	// Pupils of a last level (CM2, 3e, Tle) leave, unless a later class of the same
	// establishment already holds them (a pupil who repeats the year).
	rows, err = q.QueryContext(ctx, `SELECT DISTINCT gm.user_id, u.display_name, g.name FROM group_members gm
		JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.user_id
		JOIN establishment_members m ON m.user_id = gm.user_id AND m.establishment_id = g.establishment_id AND m.profile = 'pupil'
		WHERE g.establishment_id = ? AND g.school_year = ? AND g.kind = 'class' AND g.level IN ('CM2', '3e', 'Tle')
		  AND gm.role = 'member' AND gm.ended_at IS NULL AND g.archived_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM group_members gm2 JOIN groups g2 ON g2.id = gm2.group_id
		      WHERE gm2.user_id = gm.user_id AND g2.establishment_id = g.establishment_id AND g2.kind = 'class'
		        AND g2.school_year > g.school_year AND gm2.ended_at IS NULL)
		ORDER BY g.name, u.display_name`, e.ID, from)
	if err != nil {
		return plan, err
	}
	for rows.Next() {
		var l Leaver
		if err := rows.Scan(&l.UserID, &l.DisplayName, &l.Class); err != nil {
			rows.Close()
			return plan, err
		}
		plan.Leaving = append(plan.Leaving, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return plan, err
	}
	if len(plan.Leaving) > 0 && e.Type == "ecole" {
		expected, err := s.expectedColleges(ctx, q, e.CommuneCode)
		if err != nil {
			return plan, err
		}
		for i := range plan.Leaving {
			plan.Leaving[i].Expected = expected
		}
	}
	for i := range plan.Leaving {
		if plan.Leaving[i].Expected == nil {
			plan.Leaving[i].Expected = []School{}
		}
	}
	if len(ids) > 0 && s.opts.Shares != nil {
		shares, err := s.opts.Shares.SharesToGroups(ctx, ids)
		if err != nil {
			return plan, fmt.Errorf("shares to archived groups: %w", err)
		}
		plan.Shares = append(plan.Shares, shares...)
	}
	return plan, nil
}

// expectedColleges reads the carte scolaire of the école's commune: the
// public collège(s) that serve it (several when the commune is cut by
// streets; the pupil's address decides, which the directory does not hold).
func (s *Service) expectedColleges(ctx context.Context, q db.Querier, commune string) ([]School, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT ss.college_uai, COALESCE(o.name, '') FROM school_sectors ss
		LEFT JOIN establishments e ON e.uai = ss.college_uai LEFT JOIN organizations o ON o.id = e.org_id
		WHERE ss.commune_code = ? ORDER BY ss.college_uai`, commune)
	if err != nil {
		return nil, fmt.Errorf("carte scolaire of %s: %w", commune, err)
	}
	defer rows.Close()
	out := []School{}
	for rows.Next() {
		var sc School
		if err := rows.Scan(&sc.UAI, &sc.Name); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

func (s *Service) applyRollover(ctx context.Context, tx *db.Tx, e establishment, p *auth.Principal, plan *RolloverPlan) error {
	now := s.now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE group_members SET ended_at = ? WHERE ended_at IS NULL AND group_id IN
		(SELECT id FROM groups WHERE establishment_id = ? AND school_year = ? AND archived_at IS NULL)`, now, e.ID, plan.FromYear); err != nil {
		return fmt.Errorf("end memberships: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groups SET archived_at = ? WHERE establishment_id = ? AND school_year = ? AND archived_at IS NULL`,
		now, e.ID, plan.FromYear); err != nil {
		return fmt.Errorf("archive groups: %w", err)
	}
	for _, l := range plan.Leaving {
		if err := s.store.removeMembership(ctx, tx, e.ID, l.UserID, string(auth.RolePupil), now); err != nil {
			return err
		}
		if _, err := s.store.suspendIfOrphan(ctx, tx, l.UserID, now); err != nil {
			return err
		}
	}
	summary, err := json.Marshal(map[string]int{"archived": len(plan.Archive), "memberships_ended": plan.MembershipsEnded, "leaving": len(plan.Leaving)})
	if err != nil {
		return err
	}
	// A second application of the same year records nothing new: the
	// first row stays, with what it did.
	_, err = tx.ExecContext(ctx, `INSERT INTO rollovers (establishment_id, from_year, to_year, applied_at, user_id, summary)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (establishment_id, from_year) DO NOTHING`, e.ID, plan.FromYear, plan.ToYear, now,
		db.NullID(p.User.ID), string(summary))
	plan.Applied = true
	return err
}

// ---- pending matches ----

// PendingMatch is a feed line that looks like a pupil known elsewhere.
type PendingMatch struct {
	ID         int64  `json:"id"`
	SchoolYear string `json:"school_year"`
	LastName   string `json:"last_name"`
	FirstName  string `json:"first_name"`
	BirthDate  string `json:"birth_date"`
	INE        string `json:"ine,omitempty"`
	Class      string `json:"class,omitempty"`
	Status     string `json:"status"`
	// Candidate is the pupil already known, and where they were.
	CandidateID      int64    `json:"candidate_id"`
	CandidateName    string   `json:"candidate_name"`
	CandidateSchools []string `json:"candidate_schools"`
}

// PendingMatches lists an establishment's matches awaiting a decision
// (people.manage there).
func (s *Service) PendingMatches(ctx context.Context, p *auth.Principal, uai string) ([]PendingMatch, error) {
	e, err := s.establishmentFor(ctx, p, uai, auth.PermPeopleManage)
	if err != nil {
		return nil, err
	}
	return s.pendingMatches(ctx, `pm.establishment_id = ? AND pm.status = 'pending'`, e.ID)
}

func (s *Service) pendingMatches(ctx context.Context, where string, args ...any) ([]PendingMatch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pm.id, pm.school_year, pm.last_name, pm.first_name, pm.birth_date, pm.ine, pm.class_code,
		pm.status, pm.candidate_id, u.display_name,
		COALESCE((SELECT MIN(e.uai) FROM group_members gm JOIN groups g ON g.id = gm.group_id JOIN establishments e ON e.org_id = g.establishment_id
		          WHERE gm.user_id = pm.candidate_id), '')
		FROM pending_matches pm JOIN users u ON u.id = pm.candidate_id WHERE `+where+` ORDER BY pm.last_name, pm.first_name, pm.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PendingMatch{}
	for rows.Next() {
		var m PendingMatch
		var school string
		if err := rows.Scan(&m.ID, &m.SchoolYear, &m.LastName, &m.FirstName, &m.BirthDate, &m.INE, &m.Class, &m.Status,
			&m.CandidateID, &m.CandidateName, &school); err != nil {
			return nil, err
		}
		m.CandidateSchools = []string{}
		if school != "" {
			m.CandidateSchools = append(m.CandidateSchools, school)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DecideMatch settles a pending match (people.manage on its
// establishment): confirmed, the known pupil joins the establishment and
// the class with their account and everything they made; rejected, a new
// account is created for the line.
func (s *Service) DecideMatch(ctx context.Context, p *auth.Principal, id int64, confirm bool) (PendingMatch, error) {
	var estID int64
	err := s.db.QueryRowContext(ctx, `SELECT establishment_id FROM pending_matches WHERE id = ?`, id).Scan(&estID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.inScope(ctx, p, auth.PermPeopleManage, estID)) {
		if err == nil && s.inScope(ctx, p, auth.PermOrgRead, estID) {
			return PendingMatch{}, problem.Forbidden()
		}
		return PendingMatch{}, problem.NotFound("Rapprochement")
	}
	if err != nil {
		return PendingMatch{}, err
	}
	ms, err := s.pendingMatches(ctx, `pm.id = ?`, id)
	if err != nil || len(ms) == 0 {
		return PendingMatch{}, err
	}
	m := ms[0]
	if m.Status != "pending" {
		return m, problem.Conflict("already_decided", "Ce rapprochement a déjà été tranché.")
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		w := s.newWriter(tx, estID)
		uid := m.CandidateID
		per := Person{Profile: ProfilePupil, LastName: m.LastName, FirstName: m.FirstName, BirthDate: m.BirthDate, INE: m.INE}
		if confirm {
			if m.INE != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE people SET ine = ? WHERE user_id = ? AND ine IS NULL`, m.INE, uid); err != nil {
					return err
				}
			}
		} else {
			var err error
			if uid, err = w.createPerson(ctx, per, ""); err != nil {
				return err
			}
		}
		if _, err := w.attach(ctx, uid, ProfilePupil, "", "feed"); err != nil {
			return err
		}
		if m.Class != "" {
			var level string
			if err := tx.QueryRowContext(ctx, `SELECT level FROM pending_matches WHERE id = ?`, id).Scan(&level); err != nil {
				return err
			}
			g, err := w.class(ctx, m.SchoolYear, m.Class, level)
			if err != nil {
				return err
			}
			if _, err := s.store.addGroupMember(ctx, tx, g, uid, RoleMember, "", "feed"); err != nil {
				return err
			}
		}
		status := "rejected"
		if confirm {
			status = "confirmed"
		}
		_, err := tx.ExecContext(ctx, `UPDATE pending_matches SET status = ?, decided_at = ? WHERE id = ?`, status, w.now, id)
		return err
	})
	if err != nil {
		return PendingMatch{}, err
	}
	ms, err = s.pendingMatches(ctx, `pm.id = ?`, id)
	if err != nil || len(ms) == 0 {
		return PendingMatch{}, err
	}
	s.log.Info("pending match decided", "id", id, "confirmed", confirm)
	return ms[0], nil
}

// schoolYearsOf lists the years an establishment has classes for, newest
// first (for the rollover page).
func (s *Service) schoolYearsOf(ctx context.Context, estID int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT school_year FROM groups WHERE establishment_id = ? ORDER BY school_year DESC`, estID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var y string
		if err := rows.Scan(&y); err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(y))
	}
	return out, rows.Err()
}
