package production

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/db"
)

// store is the SQL of the productions, nothing else.
type store struct{ db *db.DB }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const prodCols = `p.id, p.kind, p.title, p.owner_id, COALESCE(u.display_name, ''), p.created_at, p.updated_at, p.assignment_id, p.trashed_at`

func scanProd(sc interface{ Scan(...any) error }) (Production, error) {
	var p Production
	var aid sql.NullInt64
	var trashed sql.NullTime
	if err := sc.Scan(&p.ID, &p.Kind, &p.Title, &p.OwnerID, &p.OwnerName, &p.CreatedAt, &p.UpdatedAt, &aid, &trashed); err != nil {
		return p, err
	}
	if aid.Valid {
		v := aid.Int64
		p.AssignmentID = &v
	}
	p.Trashed = trashed.Valid
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.DocumentURL = "/collab/" + p.DocID()
	return p, nil
}

func (s *store) insert(ctx context.Context, q querier, kind Kind, title string, owner int64, assignment *int64, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO productions (kind, title, owner_id, assignment_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, string(kind), title, owner, assignment, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert production: %w", err)
	}
	return id, nil
}

func (s *store) get(ctx context.Context, id int64) (Production, error) {
	p, err := scanProd(s.db.QueryRowContext(ctx, `SELECT `+prodCols+` FROM productions p LEFT JOIN users u ON u.id = p.owner_id WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, errNotFound
	}
	return p, err
}

func (s *store) list(ctx context.Context, where string, args ...any) ([]Production, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+prodCols+` FROM productions p LEFT JOIN users u ON u.id = p.owner_id WHERE `+where+` ORDER BY p.updated_at DESC, p.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list productions: %w", err)
	}
	defer rows.Close()
	out := []Production{}
	for rows.Next() {
		p, err := scanProd(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// sharedWith lists the productions shared with a person directly or
// through one of groups.
func (s *store) sharedWith(ctx context.Context, userID int64, groups []int64) ([]Production, error) {
	cond, args := shareCond(userID, groups)
	return s.list(ctx, `p.trashed_at IS NULL AND p.owner_id <> ? AND p.id IN (SELECT sh.production_id FROM production_shares sh WHERE `+cond+`)`,
		append([]any{userID}, args...)...)
}

func shareCond(userID int64, groups []int64) (string, []any) {
	cond := `(sh.target_kind = 'user' AND sh.target_id = ?)`
	args := []any{userID}
	if len(groups) > 0 {
		cond = `(` + cond + ` OR (sh.target_kind IN ('class', 'group') AND sh.target_id IN (` + placeholders(len(groups)) + `)))`
		for _, g := range groups {
			args = append(args, g)
		}
	}
	return cond, args
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// roles returns the roles the shares of a production give a person.
func (s *store) roles(ctx context.Context, prodID, userID int64, groups []int64) ([]Role, error) {
	cond, args := shareCond(userID, groups)
	rows, err := s.db.QueryContext(ctx, `SELECT sh.role FROM production_shares sh WHERE sh.production_id = ? AND `+cond, append([]any{prodID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("share roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *store) shares(ctx context.Context, prodID int64) ([]Share, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, target_kind, target_id, role, created_by, created_at FROM production_shares
		WHERE production_id = ? ORDER BY id`, prodID)
	if err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	defer rows.Close()
	out := []Share{}
	for rows.Next() {
		var sh Share
		if err := rows.Scan(&sh.ID, &sh.TargetKind, &sh.TargetID, &sh.Role, &sh.CreatedBy, &sh.CreatedAt); err != nil {
			return nil, err
		}
		sh.CreatedAt = sh.CreatedAt.UTC()
		out = append(out, sh)
	}
	return out, rows.Err()
}

// upsertShare sets the role of a target, replacing an earlier share to it.
func (s *store) upsertShare(ctx context.Context, q querier, prodID int64, in NewShare, by int64, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM production_shares WHERE production_id = ? AND target_kind = ? AND target_id = ?`,
		prodID, in.TargetKind, in.TargetID); err != nil {
		return fmt.Errorf("replace share: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO production_shares (production_id, target_kind, target_id, role, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, prodID, in.TargetKind, in.TargetID, string(in.Role), by, now); err != nil {
		return fmt.Errorf("insert share: %w", err)
	}
	return nil
}

func (s *store) deleteShare(ctx context.Context, prodID, shareID int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM production_shares WHERE production_id = ? AND id = ?`, prodID, shareID)
	if err != nil {
		return false, fmt.Errorf("delete share: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (s *store) touch(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE productions SET updated_at = ? WHERE id = ?`, now, id)
	return err
}

func (s *store) rename(ctx context.Context, id int64, title string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE productions SET title = ?, updated_at = ? WHERE id = ?`, title, now, id)
	return err
}

func (s *store) trash(ctx context.Context, id int64, at *time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE productions SET trashed_at = ? WHERE id = ?`, at, id)
	return err
}

// ---- assignments ----

func (s *store) insertAssignment(ctx context.Context, q querier, teacher int64, in NewAssignment, now time.Time) (int64, error) {
	var gid any
	if in.GroupID != 0 {
		gid = in.GroupID
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO production_assignments (teacher_id, title, instructions, kind, mode, due, group_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, teacher, in.Title, in.Instructions, string(in.Kind), in.Mode, in.Due, gid, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert assignment: %w", err)
	}
	return id, nil
}

func (s *store) insertTeam(ctx context.Context, q querier, assignment int64, name string, members []int64, prod *int64) (int64, error) {
	var id int64
	if err := q.QueryRowContext(ctx, `INSERT INTO production_teams (assignment_id, name, production_id) VALUES (?, ?, ?) RETURNING id`,
		assignment, name, prod).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert team: %w", err)
	}
	for _, m := range members {
		if _, err := q.ExecContext(ctx, `INSERT INTO production_team_members (team_id, user_id) VALUES (?, ?)`, id, m); err != nil {
			return 0, fmt.Errorf("insert team member: %w", err)
		}
	}
	return id, nil
}

func (s *store) setTeamProduction(ctx context.Context, q querier, team, prod int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE production_teams SET production_id = ? WHERE id = ? AND production_id IS NULL`, prod, team)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

const assignmentCols = `a.id, a.teacher_id, a.title, a.instructions, a.kind, a.mode, a.due, a.created_at`

func scanAssignment(sc interface{ Scan(...any) error }) (Assignment, error) {
	var a Assignment
	err := sc.Scan(&a.ID, &a.TeacherID, &a.Title, &a.Instructions, &a.Kind, &a.Mode, &a.Due, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	a.Teams = []Team{}
	return a, err
}

func (s *store) assignment(ctx context.Context, id int64) (Assignment, error) {
	a, err := scanAssignment(s.db.QueryRowContext(ctx, `SELECT `+assignmentCols+` FROM production_assignments a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, errAssignNotFound
	}
	if err != nil {
		return a, err
	}
	a.Teams, err = s.teams(ctx, `t.assignment_id = ?`, id)
	return a, err
}

// assignmentsOf lists the assignments a person set or is asked for.
func (s *store) assignmentsOf(ctx context.Context, userID int64) ([]Assignment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+assignmentCols+` FROM production_assignments a WHERE a.teacher_id = ?
		OR a.id IN (SELECT t.assignment_id FROM production_teams t JOIN production_team_members m ON m.team_id = t.id WHERE m.user_id = ?)
		ORDER BY a.created_at DESC, a.id DESC`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *store) teams(ctx context.Context, where string, args ...any) ([]Team, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.name, t.production_id, p.updated_at, m.user_id FROM production_teams t
		LEFT JOIN productions p ON p.id = t.production_id
		LEFT JOIN production_team_members m ON m.team_id = t.id WHERE `+where+` ORDER BY t.id, m.user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var id int64
		var name string
		var prod, member sql.NullInt64
		var upd sql.NullTime
		if err := rows.Scan(&id, &name, &prod, &upd, &member); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != id {
			t := Team{ID: id, Name: name, Members: []int64{}}
			if prod.Valid {
				v := prod.Int64
				t.ProductionID = &v
			}
			if upd.Valid {
				u := upd.Time.UTC()
				t.UpdatedAt = &u
			}
			out = append(out, t)
		}
		if member.Valid {
			t := &out[len(out)-1]
			t.Members = append(t.Members, member.Int64)
			t.Size = len(t.Members)
		}
	}
	return out, rows.Err()
}

// ---- usage ----

type usageRow struct {
	id        int64
	kind      Kind
	owner     int64
	createdAt time.Time
}

func (s *store) allLive(ctx context.Context) ([]usageRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, owner_id, created_at FROM productions WHERE trashed_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		if err := rows.Scan(&r.id, &r.kind, &r.owner, &r.createdAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

type dbTx = *db.Tx
