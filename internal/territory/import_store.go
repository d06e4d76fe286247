package territory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/db"
	"socle/internal/platform/text"
)

// preparedQuerier runs the store's queries inside an import transaction,
// preparing each distinct SQL text once and reusing the statement: an
// import sends the same few statements tens of thousands of times, and
// SQLite would otherwise compile each of them anew. The store methods are
// called unchanged, so the import writes exactly what they would write.
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
		// sql.Row cannot carry an error built here: running the query
		// unprepared gives the caller the same failure through Scan.
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Close releases the statements (the transaction's end would too; this
// frees them early on PostgreSQL).
func (p *preparedQuerier) Close() {
	for _, st := range p.stmts {
		_ = st.Close()
	}
	clear(p.stmts)
}

// orgState is an organization as an annuaire run knows it.
type orgState struct {
	id          int64
	name        string
	parent      int64
	holidayZone string
	// For establishments: the content hash of the establishments row, and
	// whether that row exists (an organization may exist alone).
	hash   string
	hasRow bool
}

// directoryWriter is Store.EnsureOrg, Store.UpsertEstablishment and
// Store.SetResponsibility for an import of tens of thousands of rows: the
// organizations are loaded once instead of read row by row, statements
// are prepared once (q is a preparedQuerier), the rows of new
// establishments and of their responsibilities are inserted a few hundred
// per statement, and the search text is folded by one reusable
// transformer. It writes the same columns and the same content hash as
// the store (a test checks that the store sees nothing to change after an
// import), with one difference: the search text of an establishment always
// covers its commune, even when only its parent changed.
type directoryWriter struct {
	q    db.Querier
	fold *text.Folder
	orgs map[orgKey]*orgState
	ests map[string]*orgState
	// New establishments wait in pending until a hundred of them get
	// their organizations in one INSERT; their rows and responsibilities
	// then wait in newEsts and newResps for theirs. flush writes them all.
	pending  []pendingEstablishment
	newEsts  *insertBatch
	newResps *insertBatch
}

// pendingBatch is how many new establishments get their organizations in
// one statement.
const pendingBatch = 100

// pendingEstablishment is a new establishment waiting for its
// organization's id.
type pendingEstablishment struct {
	code, name, search string
	parent             any
	args               []any // establishmentArgs, org_id to be set
	resps              []respAssignment
	onID               func(int64)
}

// respAssignment is the authority (0 for none) an establishment has in a
// domain of responsibility.
type respAssignment struct {
	domain    string
	authority int64
}

// establishmentColumns are the columns of an establishments row, in the
// order of establishmentArgs.
const establishmentColumns = `type, nature_code, nature_label, sector, private_contract, priority, status,
	address1, address2, address3, postal_code, commune_code, commune_name, departement_code, academy_code, latitude, longitude,
	phone, email, website, siret, circonscription, opened_on, directory_pupils, content_hash, org_id, uai`

func establishmentArgs(e *Establishment, hash string, orgID int64) []any {
	return []any{string(e.Type), e.NatureCode, e.NatureLabel, string(e.Sector), e.PrivateContract, string(e.Priority), string(e.Status),
		e.Address1, e.Address2, e.Address3, e.PostalCode, e.CommuneCode, e.CommuneName, e.DepartementCode, e.AcademyCode,
		e.Latitude, e.Longitude, e.Phone, e.Email, e.Website, e.SIRET, e.Circonscription, e.OpenedOn, e.DirectoryPupils, hash, orgID, e.UAI}
}

func (s *Store) newDirectoryWriter(ctx context.Context, q db.Querier, fold *text.Folder) (*directoryWriter, error) {
	rows, err := q.QueryContext(ctx, `SELECT o.id, o.kind, o.code, o.name, o.parent_id, o.holiday_zone, e.content_hash
		FROM organizations o LEFT JOIN establishments e ON e.org_id = o.id`)
	if err != nil {
		return nil, fmt.Errorf("load organizations: %w", err)
	}
	defer rows.Close()
	w := &directoryWriter{q: q, fold: fold, orgs: map[orgKey]*orgState{}, ests: map[string]*orgState{},
		// 27 values a row: 100 rows stay far below both engines' limits
		// on the number of parameters of a statement.
		newEsts:  &insertBatch{q: q, head: `INSERT INTO establishments (` + establishmentColumns + `) VALUES `, width: 27, max: 100},
		newResps: &insertBatch{q: q, head: `INSERT INTO responsibilities (establishment_id, domain, authority_id, source) VALUES `, width: 4, max: 500},
	}
	for rows.Next() {
		var kind Kind
		var code string
		var parent sql.NullInt64
		var hash sql.NullString
		st := &orgState{}
		if err := rows.Scan(&st.id, &kind, &code, &st.name, &parent, &st.holidayZone, &hash); err != nil {
			return nil, err
		}
		st.parent, st.hash, st.hasRow = parent.Int64, hash.String, hash.Valid
		if kind == KindEstablishment {
			w.ests[code] = st
		} else {
			w.orgs[orgKey{kind, code}] = st
		}
	}
	return w, rows.Err()
}

// key is the search text of the parts, as SearchKey computes it.
func (w *directoryWriter) key(parts ...string) string {
	if k, ok := asciiSearchKey(parts); ok {
		return k
	}
	return w.fold.Key(parts...)
}

// asciiSearchKey is SearchKey for ASCII text, which Unicode folding leaves
// as it is: lower-case runs of letters and digits joined by one space. It
// is several times faster than the transformer, and most codes and many
// names are ASCII. ok is false when a part is not ASCII.
func asciiSearchKey(parts []string) (string, bool) {
	n := 0
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			if p[i] >= 0x80 {
				return "", false
			}
		}
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	pending := false
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			default:
				pending = true
				continue
			}
			if pending && len(b) > 0 {
				b = append(b, ' ')
			}
			pending = false
			b = append(b, c)
		}
		pending = true
	}
	return string(b), true
}

// ensureOrg creates the organization (kind, code), named name or, when
// name is empty, fallback; or updates its name and parent. An empty name
// or a zero parent keeps the stored one (as Store.EnsureOrg).
func (w *directoryWriter) ensureOrg(ctx context.Context, kind Kind, code, name, fallback string, parentID int64) (*orgState, Outcome, error) {
	now := time.Now().UTC()
	st := w.orgs[orgKey{kind, code}]
	if st == nil {
		if name == "" {
			name = fallback
		}
		code = strings.Clone(code) // kept as a map key: do not keep the whole line alive
		st = &orgState{name: strings.Clone(name), parent: parentID}
		var parent any
		if parentID != 0 {
			parent = parentID
		}
		var err error
		if st.id, err = w.insertOrg(ctx, kind, code, name, parent, w.key(name, code), now); err != nil {
			return nil, Unchanged, fmt.Errorf("insert %s %s: %w", kind, code, err)
		}
		w.orgs[orgKey{kind, code}] = st
		return st, Created, nil
	}
	if name == "" {
		name = st.name
	}
	if parentID == 0 {
		parentID = st.parent
	}
	if name == st.name && parentID == st.parent {
		return st, Unchanged, nil
	}
	var parent any
	if parentID != 0 {
		parent = parentID
	}
	if _, err := w.q.ExecContext(ctx, `UPDATE organizations SET name = ?, parent_id = ?, search_text = ?, updated_at = ? WHERE id = ?`,
		name, parent, w.key(name, code), now, st.id); err != nil {
		return nil, Unchanged, fmt.Errorf("update %s %s: %w", kind, code, err)
	}
	st.name, st.parent = strings.Clone(name), parentID
	return st, Updated, nil
}

// insertOrg inserts an organization and returns its id. SQLite gives the
// id of the row just inserted without a result set, which saves a good
// part of the cost of a row; PostgreSQL's driver has no such thing.
func (w *directoryWriter) insertOrg(ctx context.Context, kind Kind, code, name string, parent any, search string, now time.Time) (int64, error) {
	const insert = `INSERT INTO organizations (kind, code, name, parent_id, search_text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	if w.q.Dialect() == db.SQLite {
		res, err := w.q.ExecContext(ctx, insert, string(kind), code, name, parent, search, now, now)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	var id int64
	err := w.q.QueryRowContext(ctx, insert+` RETURNING id`, string(kind), code, name, parent, search, now, now).Scan(&id)
	return id, err
}

// upsertEstablishment writes an establishment and its organization under
// parentID (0: keep the stored parent), keyed by UAI, and returns the
// organization's id. When the organization is new, fresh is true: the id
// is given later to onID, when the batch it waits in is written, and the
// responsibilities go with it. Otherwise the caller sets the
// responsibilities, since some may have been set by hand.
func (w *directoryWriter) upsertEstablishment(ctx context.Context, e *Establishment, parentID int64, resps []respAssignment,
	onID func(int64)) (id int64, o Outcome, fresh bool, err error) {
	hash := establishmentHash(e)
	// The search text also covers the commune, so that a search for
	// "Rennes" finds the schools of Rennes.
	search := w.key(e.Name, e.UAI, e.CommuneName, e.PostalCode)
	now := time.Now().UTC()
	var parent any
	if parentID != 0 {
		parent = parentID
	}
	st := w.ests[e.UAI]
	if st == nil {
		// A UAI comes once per run (its later lines are sites), so the new
		// establishment is not added to the map.
		w.pending = append(w.pending, pendingEstablishment{code: e.UAI, name: e.Name, search: search, parent: parent,
			args: establishmentArgs(e, hash, 0), resps: resps, onID: onID})
		if len(w.pending) >= pendingBatch {
			if err := w.flushPending(ctx); err != nil {
				return 0, Unchanged, false, err
			}
		}
		return 0, Created, true, nil
	}
	if parentID == 0 {
		parentID = st.parent
	}
	if st.hasRow && st.hash == hash && st.name == e.Name && st.parent == parentID {
		return st.id, Unchanged, false, nil
	}
	if parentID != 0 {
		parent = parentID
	}
	if _, err := w.q.ExecContext(ctx, `UPDATE organizations SET name = ?, parent_id = ?, search_text = ?, updated_at = ? WHERE id = ?`,
		e.Name, parent, search, now, st.id); err != nil {
		return 0, Unchanged, false, fmt.Errorf("update organization of %s: %w", e.UAI, err)
	}
	st.name, st.parent = strings.Clone(e.Name), parentID
	switch {
	case st.hasRow && st.hash == hash:
		return st.id, Updated, false, nil
	case st.hasRow:
		_, err := w.q.ExecContext(ctx, `UPDATE establishments SET type = ?, nature_code = ?, nature_label = ?, sector = ?, private_contract = ?,
			priority = ?, status = ?, address1 = ?, address2 = ?, address3 = ?, postal_code = ?, commune_code = ?, commune_name = ?,
			departement_code = ?, academy_code = ?, latitude = ?, longitude = ?, phone = ?, email = ?, website = ?, siret = ?,
			circonscription = ?, opened_on = ?, directory_pupils = ?, content_hash = ? WHERE org_id = ? AND uai = ?`, establishmentArgs(e, hash, st.id)...)
		if err != nil {
			return 0, Unchanged, false, fmt.Errorf("update establishment %s: %w", e.UAI, err)
		}
		st.hash = hash
		return st.id, Updated, false, nil
	}
	// The organization existed without its establishments row.
	if _, err := w.q.ExecContext(ctx, `INSERT INTO establishments (`+establishmentColumns+`)
		VALUES (`+db.Placeholders(27)+`)`, establishmentArgs(e, hash, st.id)...); err != nil {
		return 0, Unchanged, false, fmt.Errorf("insert establishment %s: %w", e.UAI, err)
	}
	st.hash, st.hasRow = hash, true
	return st.id, Created, false, nil
}

// flushPending inserts the organizations of the pending establishments in
// one statement, then queues their rows and responsibilities. The ids come
// back with their codes: neither engine promises the order of RETURNING.
func (w *directoryWriter) flushPending(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	now := time.Now().UTC()
	var q strings.Builder
	args := make([]any, 0, 7*len(w.pending))
	q.WriteString(`INSERT INTO organizations (kind, code, name, parent_id, search_text, created_at, updated_at) VALUES `)
	for i, p := range w.pending {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, string(KindEstablishment), p.code, p.name, p.parent, p.search, now, now)
	}
	q.WriteString(` RETURNING id, code`)
	rows, err := w.q.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("insert organizations of establishments: %w", err)
	}
	ids := make(map[string]int64, len(w.pending))
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			rows.Close()
			return err
		}
		ids[code] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert organizations of establishments: %w", err)
	}
	for _, p := range w.pending {
		id, ok := ids[p.code]
		if !ok {
			return fmt.Errorf("insert organization of %s: no id returned", p.code)
		}
		p.args[25] = id // org_id, see establishmentColumns
		if err := w.newEsts.add(ctx, p.args...); err != nil {
			return fmt.Errorf("insert establishments: %w", err)
		}
		for _, r := range p.resps {
			if r.authority == 0 {
				continue
			}
			if err := w.newResps.add(ctx, id, r.domain, r.authority, "rule"); err != nil {
				return fmt.Errorf("insert responsibilities: %w", err)
			}
		}
		if p.onID != nil {
			p.onID(id)
		}
	}
	clear(w.pending)
	w.pending = w.pending[:0]
	return nil
}

// flush writes everything waiting; it must run before anything reads
// organizations, establishments or responsibilities written by this run.
func (w *directoryWriter) flush(ctx context.Context) error {
	if err := w.flushPending(ctx); err != nil {
		return err
	}
	if err := w.newEsts.flush(ctx); err != nil {
		return fmt.Errorf("insert establishments: %w", err)
	}
	if err := w.newResps.flush(ctx); err != nil {
		return fmt.Errorf("insert responsibilities: %w", err)
	}
	return nil
}

// insertBatch gathers the rows of one INSERT and writes them max at a
// time, in one statement each: one statement per row is most of the cost
// of a large import.
type insertBatch struct {
	q     db.Querier
	head  string // "INSERT INTO t (a, b) VALUES "
	width int    // values per row
	max   int    // rows per statement
	args  []any
	rows  int
}

func (b *insertBatch) add(ctx context.Context, values ...any) error {
	b.args = append(b.args, values...)
	b.rows++
	if b.rows >= b.max {
		return b.flush(ctx)
	}
	return nil
}

func (b *insertBatch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	row := "(" + db.Placeholders(b.width) + ")"
	var q strings.Builder
	q.Grow(len(b.head) + b.rows*(len(row)+2))
	q.WriteString(b.head)
	for i := 0; i < b.rows; i++ {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	_, err := b.q.ExecContext(ctx, q.String(), b.args...)
	clear(b.args) // let the values go
	b.args, b.rows = b.args[:0], 0
	return err
}

// respKey names one responsibility of an establishment.
type respKey struct {
	establishmentID int64
	domain          string
}

// respState is a responsibility as stored.
type respState struct {
	authorityID int64
	manual      bool
}

// responsibilities loads every responsibility once, so that an import
// only writes those that change instead of upserting two rows per
// establishment.
func (s *Store) responsibilities(ctx context.Context, q db.Querier) (map[respKey]respState, error) {
	rows, err := q.QueryContext(ctx, `SELECT establishment_id, domain, authority_id, source FROM responsibilities`)
	if err != nil {
		return nil, fmt.Errorf("load responsibilities: %w", err)
	}
	defer rows.Close()
	out := map[respKey]respState{}
	for rows.Next() {
		var k respKey
		var st respState
		var source string
		if err := rows.Scan(&k.establishmentID, &k.domain, &st.authorityID, &source); err != nil {
			return nil, err
		}
		st.manual = source != "rule"
		out[k] = st
	}
	return out, rows.Err()
}

// orgsWithSites lists the establishments that have extra sites, so that an
// import clears the sites of those no longer published on several lines
// without reading the sites of every establishment.
func (s *Store) orgsWithSites(ctx context.Context, q db.Querier) (map[int64]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT org_id FROM establishment_sites`)
	if err != nil {
		return nil, fmt.Errorf("load sites: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// storedEstablishment reads an establishment inside the import's
// transaction, for a directory vintage that lacks some columns: the stored
// values of those columns are kept.
func (s *Store) storedEstablishment(ctx context.Context, q db.Querier, uai string) (Establishment, bool, error) {
	e, err := scanEstablishment(q.QueryRowContext(ctx, `SELECT `+estCols+estFrom+` WHERE e.uai = ?`, uai))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("read establishment %s: %w", uai, err)
	}
	return e, true, nil
}

// upsertHoliday writes a holiday period keyed by (description, population,
// academy, zone, starts_at); only its end and school year can change.
func (s *Store) upsertHoliday(ctx context.Context, q db.Querier, h Holiday) (Outcome, error) {
	start, end := h.StartsAt.UTC().Format(time.RFC3339), h.EndsAt.UTC().Format(time.RFC3339)
	var id int64
	var oldEnd, oldYear string
	err := q.QueryRowContext(ctx, `SELECT id, ends_at, school_year FROM school_holidays
		WHERE description = ? AND population = ? AND academy = ? AND zone = ? AND starts_at = ?`,
		h.Description, h.Population, h.Academy, h.Zone, start).Scan(&id, &oldEnd, &oldYear)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = q.ExecContext(ctx, `INSERT INTO school_holidays (description, population, starts_at, ends_at, academy, zone, school_year)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, h.Description, h.Population, start, end, h.Academy, h.Zone, h.SchoolYear)
		if err != nil {
			return Unchanged, fmt.Errorf("insert holiday: %w", err)
		}
		return Created, nil
	case err != nil:
		return Unchanged, fmt.Errorf("find holiday: %w", err)
	case oldEnd == end && oldYear == h.SchoolYear:
		return Unchanged, nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE school_holidays SET ends_at = ?, school_year = ? WHERE id = ?`, end, h.SchoolYear, id); err != nil {
		return Unchanged, fmt.Errorf("update holiday: %w", err)
	}
	return Updated, nil
}

// academyZones returns the holiday zone of each académie of the calendar
// (by academyKey of its name), from its latest school year.
func (s *Store) academyZones(ctx context.Context, q db.Querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT academy, zone, MAX(school_year) FROM school_holidays GROUP BY academy, zone`)
	if err != nil {
		return nil, fmt.Errorf("academy zones: %w", err)
	}
	defer rows.Close()
	zones, latest := map[string]string{}, map[string]string{}
	for rows.Next() {
		var academy, zone, year string
		if err := rows.Scan(&academy, &zone, &year); err != nil {
			return nil, err
		}
		k := academyKey(academy)
		if year >= latest[k] {
			zones[k], latest[k] = zone, year
		}
	}
	return zones, rows.Err()
}

// orgsOfKind lists the organizations of one kind, inside a transaction.
func (s *Store) orgsOfKind(ctx context.Context, q db.Querier, kind Kind) ([]Organization, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, code, name, parent_id, holiday_zone FROM organizations WHERE kind = ?`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Organization
	for rows.Next() {
		var o Organization
		var parent sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Kind, &o.Code, &o.Name, &parent, &o.HolidayZone); err != nil {
			return nil, err
		}
		o.ParentID = parent.Int64
		out = append(out, o)
	}
	return out, rows.Err()
}

// upsertSector writes a line of the carte scolaire keyed by sectorKey
// (which covers the area and the collège); the commune's name, postal code
// and the single-sector flag can change.
func (s *Store) upsertSector(ctx context.Context, q db.Querier, key string, sc SchoolSector, postalCode string) (Outcome, error) {
	var id int64
	var name, postal string
	var single bool
	err := q.QueryRowContext(ctx, `SELECT id, commune_name, postal_code, single_sector FROM school_sectors WHERE sector_key = ?`, key).
		Scan(&id, &name, &postal, &single)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = q.ExecContext(ctx, `INSERT INTO school_sectors (sector_key, commune_code, commune_name, postal_code, locality, street,
			number_from, number_to, parity, college_uai, single_sector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key, sc.CommuneCode, sc.CommuneName, postalCode, sc.Locality, sc.Street, sc.NumberFrom, sc.NumberTo, sc.Parity, sc.CollegeUAI, sc.SingleSector)
		if err != nil {
			return Unchanged, fmt.Errorf("insert sector: %w", err)
		}
		return Created, nil
	case err != nil:
		return Unchanged, fmt.Errorf("find sector: %w", err)
	case name == sc.CommuneName && postal == postalCode && single == sc.SingleSector:
		return Unchanged, nil
	}
	_, err = q.ExecContext(ctx, `UPDATE school_sectors SET commune_name = ?, postal_code = ?, single_sector = ? WHERE id = ?`,
		sc.CommuneName, postalCode, sc.SingleSector, id)
	if err != nil {
		return Unchanged, fmt.Errorf("update sector: %w", err)
	}
	return Updated, nil
}

// deleteStaleSectors removes the lines of a commune's carte scolaire whose
// key is not in keep, and returns how many it removed.
func (s *Store) deleteStaleSectors(ctx context.Context, q db.Querier, communeCode string, keep map[string]bool) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, sector_key FROM school_sectors WHERE commune_code = ?`, communeCode)
	if err != nil {
		return 0, fmt.Errorf("sectors of %s: %w", communeCode, err)
	}
	var stale []int64
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return 0, err
		}
		if !keep[key] {
			stale = append(stale, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range stale {
		if _, err := q.ExecContext(ctx, `DELETE FROM school_sectors WHERE id = ?`, id); err != nil {
			return 0, fmt.Errorf("delete sector: %w", err)
		}
	}
	return len(stale), nil
}

// SchoolSectors lists the carte scolaire of a commune: the commune-wide
// lines (single sector) first, then street by street.
func (s *Store) SchoolSectors(ctx context.Context, communeCode string) ([]SchoolSector, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT commune_code, commune_name, locality, street, number_from, number_to, parity, college_uai, single_sector
		FROM school_sectors WHERE commune_code = ? ORDER BY single_sector DESC, locality, street, number_from, college_uai`, communeCode)
	if err != nil {
		return nil, fmt.Errorf("sectors of %s: %w", communeCode, err)
	}
	defer rows.Close()
	out := []SchoolSector{}
	for rows.Next() {
		var sc SchoolSector
		if err := rows.Scan(&sc.CommuneCode, &sc.CommuneName, &sc.Locality, &sc.Street, &sc.NumberFrom, &sc.NumberTo, &sc.Parity,
			&sc.CollegeUAI, &sc.SingleSector); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// InsertImportRun records an import and its report; it returns the run's id.
func (s *Store) InsertImportRun(ctx context.Context, r ImportRunRecord) (int64, error) {
	report, err := json.Marshal(r.Report)
	if err != nil {
		return 0, fmt.Errorf("encode import report: %w", err)
	}
	var user any
	if r.UserID != 0 {
		user = r.UserID
	}
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO import_runs (kind, filename, user_id, started_at, finished_at, status, report)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, string(r.Kind), r.Filename, user, r.StartedAt.UTC(), r.FinishedAt.UTC(), r.Status, string(report)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert import run: %w", err)
	}
	return id, nil
}

const importRunCols = `id, kind, filename, user_id, started_at, finished_at, status, report`

func scanImportRun(row interface{ Scan(...any) error }) (ImportRunRecord, error) {
	var r ImportRunRecord
	var user sql.NullInt64
	var report string
	if err := row.Scan(&r.ID, &r.Kind, &r.Filename, &user, &r.StartedAt, &r.FinishedAt, &r.Status, &report); err != nil {
		return r, err
	}
	r.UserID = user.Int64
	if err := json.Unmarshal([]byte(report), &r.Report); err != nil {
		return r, fmt.Errorf("decode report of import run %d: %w", r.ID, err)
	}
	return r, nil
}

// ImportRun returns one recorded import, or sql.ErrNoRows.
func (s *Store) ImportRun(ctx context.Context, id int64) (ImportRunRecord, error) {
	return scanImportRun(s.db.QueryRowContext(ctx, `SELECT `+importRunCols+` FROM import_runs WHERE id = ?`, id))
}

// ImportRuns lists the latest imports, newest first.
func (s *Store) ImportRuns(ctx context.Context, limit int) ([]ImportRunRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+importRunCols+` FROM import_runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list import runs: %w", err)
	}
	defer rows.Close()
	out := []ImportRunRecord{}
	for rows.Next() {
		r, err := scanImportRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
