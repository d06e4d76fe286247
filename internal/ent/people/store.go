package people

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
)

// Store is the SQL of the directory. Accounts live in the auth tables and
// change through the auth store (disabling, grants); only the creation of
// accounts without password for fed people is written here, in batches
// the auth service has no form of.
type Store struct {
	db       *db.DB
	accounts *auth.Store
}

// NewStore returns a store on d, changing accounts through accounts.
func NewStore(d *db.DB, accounts *auth.Store) *Store { return &Store{db: d, accounts: accounts} }

// establishment is what the directory needs of an establishment.
type establishment struct {
	ID          int64
	UAI         string
	Name        string
	Type        string
	CommuneCode string
}

func (s *Store) establishmentByUAI(ctx context.Context, q db.Querier, uai string) (establishment, error) {
	var e establishment
	err := q.QueryRowContext(ctx, `SELECT o.id, e.uai, o.name, e.type, e.commune_code FROM establishments e
		JOIN organizations o ON o.id = e.org_id WHERE e.uai = ?`, uai).Scan(&e.ID, &e.UAI, &e.Name, &e.Type, &e.CommuneCode)
	return e, err
}

func (s *Store) establishmentByID(ctx context.Context, q db.Querier, id int64) (establishment, error) {
	var e establishment
	err := q.QueryRowContext(ctx, `SELECT o.id, e.uai, o.name, e.type, e.commune_code FROM establishments e
		JOIN organizations o ON o.id = e.org_id WHERE o.id = ?`, id).Scan(&e.ID, &e.UAI, &e.Name, &e.Type, &e.CommuneCode)
	return e, err
}

// insertAccount creates an account without password (the person activates
// it later, or logs in through single sign-on), trying the login and then
// numbered variants (lea.martin2@...) until one is free. ON CONFLICT keeps
// the transaction usable on PostgreSQL, where a failed insert would abort it.
func (s *Store) insertAccount(ctx context.Context, q db.Querier, local, domain, name string, now time.Time) (int64, string, error) {
	for n := 1; n < 1000; n++ {
		login := local
		if n > 1 {
			login = fmt.Sprintf("%s%d", local, n)
		}
		email := login + "@" + domain
		var id int64
		err := q.QueryRowContext(ctx, `INSERT INTO users (email, display_name, password_hash, created_at) VALUES (?, ?, '', ?)
			ON CONFLICT (email) DO NOTHING RETURNING id`, email, name, now).Scan(&id)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return 0, "", fmt.Errorf("insert account: %w", err)
		}
		return id, email, nil
	}
	return 0, "", fmt.Errorf("no free login for %s@%s", local, domain)
}

// insertAccountEmail creates an account on a given e-mail, or returns 0 when
// the address is taken.
func (s *Store) insertAccountEmail(ctx context.Context, q db.Querier, email, name string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO users (email, display_name, password_hash, created_at) VALUES (?, ?, '', ?)
		ON CONFLICT (email) DO NOTHING RETURNING id`, email, name, now).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

func (s *Store) insertPerson(ctx context.Context, q db.Querier, p Person, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO people (user_id, profile, function, ine, last_name, first_name, birth_date, name_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.UserID, string(p.Profile), string(p.Function), nullString(p.INE),
		p.LastName, p.FirstName, p.BirthDate, NameKey(p.LastName, p.FirstName, p.BirthDate), now, now)
	if err != nil {
		return fmt.Errorf("insert person: %w", err)
	}
	return nil
}

func (s *Store) updatePerson(ctx context.Context, q db.Querier, p Person, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE people SET profile = ?, function = ?, ine = ?, last_name = ?, first_name = ?, birth_date = ?,
		name_key = ?, updated_at = ? WHERE user_id = ?`, string(p.Profile), string(p.Function), nullString(p.INE),
		p.LastName, p.FirstName, p.BirthDate, NameKey(p.LastName, p.FirstName, p.BirthDate), now, p.UserID)
	if err != nil {
		return fmt.Errorf("update person %d: %w", p.UserID, err)
	}
	_, err = q.ExecContext(ctx, `UPDATE users SET display_name = ? WHERE id = ?`, p.FirstName+" "+p.LastName, p.UserID)
	return err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const personCols = `p.user_id, u.email, u.display_name, p.profile, p.function, COALESCE(p.ine, ''), p.last_name, p.first_name,
	p.birth_date, u.disabled, p.suspended_at`

func scanPerson(row interface{ Scan(...any) error }) (Person, error) {
	var p Person
	var prof, fn string
	var susp sql.NullTime
	err := row.Scan(&p.UserID, &p.Email, &p.DisplayName, &prof, &fn, &p.INE, &p.LastName, &p.FirstName, &p.BirthDate, &p.Disabled, &susp)
	p.Profile, p.Function = Profile(prof), Function(fn)
	if susp.Valid {
		t := susp.Time
		p.SuspendedAt = &t
	}
	return p, err
}

func (s *Store) person(ctx context.Context, q db.Querier, userID int64) (Person, error) {
	return scanPerson(q.QueryRowContext(ctx, `SELECT `+personCols+` FROM people p JOIN users u ON u.id = p.user_id WHERE p.user_id = ?`, userID))
}

func (s *Store) people(ctx context.Context, q db.Querier, where string, args ...any) ([]Person, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+personCols+` FROM people p JOIN users u ON u.id = p.user_id WHERE `+where+
		` ORDER BY p.last_name, p.first_name, p.user_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Person{}
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) memberships(ctx context.Context, q db.Querier, userID int64) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.establishment_id, e.uai, o.name, m.profile, m.function FROM establishment_members m
		JOIN establishments e ON e.org_id = m.establishment_id JOIN organizations o ON o.id = m.establishment_id
		WHERE m.user_id = ? ORDER BY o.name`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Membership{}
	for rows.Next() {
		var m Membership
		var prof, fn string
		if err := rows.Scan(&m.EstablishmentID, &m.UAI, &m.Name, &prof, &fn); err != nil {
			return nil, err
		}
		m.Profile, m.Function = Profile(prof), Function(fn)
		out = append(out, m)
	}
	return out, rows.Err()
}

// addMembership inserts or updates a membership; it reports whether
// anything changed.
func (s *Store) addMembership(ctx context.Context, q db.Querier, estID, userID int64, prof Profile, fn Function, source string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO establishment_members (establishment_id, user_id, profile, function, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (establishment_id, user_id) DO UPDATE SET profile = excluded.profile, function = excluded.function
		WHERE establishment_members.profile <> excluded.profile OR establishment_members.function <> excluded.function`,
		estID, userID, string(prof), string(fn), source, now)
	if err != nil {
		return false, fmt.Errorf("add membership: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// removeMembership ends a person's place in an establishment: the
// membership, the grant it carried, and their memberships in the
// establishment's groups.
func (s *Store) removeMembership(ctx context.Context, q db.Querier, estID, userID int64, role string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM establishment_members WHERE establishment_id = ? AND user_id = ?`, estID, userID); err != nil {
		return fmt.Errorf("remove membership: %w", err)
	}
	if role != "" {
		if err := s.accounts.RemoveGrant(ctx, q, userID, estID, auth.Role(role)); err != nil {
			return err
		}
	}
	_, err := q.ExecContext(ctx, `UPDATE group_members SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL
		AND group_id IN (SELECT id FROM groups WHERE establishment_id = ?)`, now, userID, estID)
	return err
}

// suspendIfOrphan suspends (and disables) a person who belongs to no
// establishment any more; it reports whether it did.
func (s *Store) suspendIfOrphan(ctx context.Context, q db.Querier, userID int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE people SET suspended_at = ? WHERE user_id = ? AND suspended_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM establishment_members m WHERE m.user_id = ?)`, now, userID, userID)
	if err != nil {
		return false, fmt.Errorf("suspend %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, s.accounts.SetDisabled(ctx, q, userID, true)
}

// reactivate lifts a suspension this package set (an account disabled by
// an administrator for another reason has no suspended_at and stays so).
func (s *Store) reactivate(ctx context.Context, q db.Querier, userID int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE people SET suspended_at = NULL WHERE user_id = ? AND suspended_at IS NOT NULL`, userID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, s.accounts.SetDisabled(ctx, q, userID, false)
}

// ensureGroup returns the id of a group, creating it when missing; created
// reports a creation.
func (s *Store) ensureGroup(ctx context.Context, q db.Querier, g Group, source string, now time.Time) (int64, bool, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM groups WHERE establishment_id = ? AND school_year = ? AND kind = ? AND code = ?`,
		g.EstablishmentID, g.SchoolYear, g.Kind, strings.ToUpper(g.Name)).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if err != sql.ErrNoRows {
		return 0, false, err
	}
	err = q.QueryRowContext(ctx, `INSERT INTO groups (establishment_id, school_year, kind, group_type, code, name, level, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, g.EstablishmentID, g.SchoolYear, g.Kind, g.Type, strings.ToUpper(g.Name),
		g.Name, g.Level, source, now).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("insert group %s: %w", g.Name, err)
	}
	return id, true, nil
}

// addGroupMember inserts or revives a membership; it reports a change.
func (s *Store) addGroupMember(ctx context.Context, q db.Querier, groupID, userID int64, role, subject, source string) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, role, subject, source) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role, subject = excluded.subject, ended_at = NULL
		WHERE group_members.role <> excluded.role OR group_members.subject <> excluded.subject OR group_members.ended_at IS NOT NULL`,
		groupID, userID, role, subject, source)
	if err != nil {
		return false, fmt.Errorf("add group member: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (s *Store) addParentLink(ctx context.Context, q db.Querier, parentID, childID int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO parent_links (parent_id, child_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		parentID, childID, now)
	if err != nil {
		return false, fmt.Errorf("add parent link: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

const groupCols = `g.id, g.establishment_id, e.uai, g.school_year, g.kind, g.group_type, g.name, g.level, g.archived_at,
	(SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id AND gm.ended_at IS NULL)`

func scanGroup(row interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var arch sql.NullTime
	err := row.Scan(&g.ID, &g.EstablishmentID, &g.UAI, &g.SchoolYear, &g.Kind, &g.Type, &g.Name, &g.Level, &arch, &g.Members)
	if arch.Valid {
		t := arch.Time
		g.ArchivedAt = &t
	}
	return g, err
}

func (s *Store) group(ctx context.Context, q db.Querier, id int64) (Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g JOIN establishments e ON e.org_id = g.establishment_id
		WHERE g.id = ?`, id))
	if err != nil {
		return g, err
	}
	if g.Type == TypeCrossSchool {
		rows, err := q.QueryContext(ctx, `SELECT e.uai FROM group_establishments ge JOIN establishments e ON e.org_id = ge.establishment_id
			WHERE ge.group_id = ? ORDER BY e.uai`, id)
		if err != nil {
			return g, err
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return g, err
			}
			g.Establishments = append(g.Establishments, u)
		}
		return g, rows.Err()
	}
	return g, nil
}

// groups lists the groups of an establishment (owned, or spanned for a
// cross-school group) for a school year ("" for every year).
func (s *Store) groups(ctx context.Context, q db.Querier, estID int64, year string, archived bool) ([]Group, error) {
	where := `(g.establishment_id = ? OR g.id IN (SELECT group_id FROM group_establishments WHERE establishment_id = ?))`
	args := []any{estID, estID}
	if year != "" {
		where += ` AND g.school_year = ?`
		args = append(args, year)
	}
	if !archived {
		where += ` AND g.archived_at IS NULL`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g JOIN establishments e ON e.org_id = g.establishment_id
		WHERE `+where+` ORDER BY g.school_year DESC, g.kind, g.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *Store) groupMembers(ctx context.Context, q db.Querier, groupID int64) ([]Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT gm.user_id, u.display_name, p.profile, gm.role, gm.subject FROM group_members gm
		JOIN people p ON p.user_id = gm.user_id JOIN users u ON u.id = gm.user_id
		WHERE gm.group_id = ? AND gm.ended_at IS NULL ORDER BY gm.role DESC, p.last_name, p.first_name, gm.user_id`, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		var prof string
		if err := rows.Scan(&m.UserID, &m.DisplayName, &prof, &m.Role, &m.Subject); err != nil {
			return nil, err
		}
		m.Profile = Profile(prof)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *Store) ids(ctx context.Context, q db.Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Store) insertFeedRun(ctx context.Context, estID, userID int64, file string, started, finished time.Time, status string, rep *csvimport.Report) (int64, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return 0, err
	}
	var id int64
	// In a transaction: on SQLite, writes go through the write connection.
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO feed_runs (establishment_id, filename, user_id, started_at, finished_at, status, report)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, estID, file, db.NullID(userID), started, finished, status, string(body)).Scan(&id)
	})
	return id, err
}

// preparedQuerier prepares each distinct statement of a feed once: a feed
// of 50,000 people sends the same dozen statements hundreds of thousands
// of times.
type preparedQuerier struct {
	tx    *db.Tx
	stmts map[string]*sql.Stmt
}

func newPreparedQuerier(tx *db.Tx) *preparedQuerier {
	return &preparedQuerier{tx: tx, stmts: map[string]*sql.Stmt{}}
}

func (p *preparedQuerier) Dialect() db.Dialect { return p.tx.Dialect() }

func (p *preparedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.tx.Prepare(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	p.stmts[query] = st
	return st, nil
}

func (p *preparedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *preparedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *preparedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Close releases the statements.
func (p *preparedQuerier) Close() {
	for _, st := range p.stmts {
		_ = st.Close()
	}
	clear(p.stmts)
}
