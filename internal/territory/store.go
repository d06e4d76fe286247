package territory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// Store is the SQL of the territory.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// Outcome says what an upsert did.
type Outcome int

const (
	Unchanged Outcome = iota
	Created
	Updated
)

// EnsureOrg creates the organization (kind, code) or updates its name and
// parent; parentID 0 leaves the parent as it is.
func (s *Store) EnsureOrg(ctx context.Context, q db.Querier, kind Kind, code, name string, parentID int64) (int64, Outcome, error) {
	var id int64
	var oldName string
	var oldParent sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, name, parent_id FROM organizations WHERE kind = ? AND code = ?`, string(kind), code).Scan(&id, &oldName, &oldParent)
	now := time.Now().UTC()
	var parent any
	if parentID != 0 {
		parent = parentID
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = q.QueryRowContext(ctx, `INSERT INTO organizations (kind, code, name, parent_id, search_text, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, string(kind), code, name, parent, SearchKey(name, code), now, now).Scan(&id)
		if err != nil {
			return 0, Unchanged, fmt.Errorf("insert %s %s: %w", kind, code, err)
		}
		return id, Created, nil
	case err != nil:
		return 0, Unchanged, fmt.Errorf("find %s %s: %w", kind, code, err)
	}
	if name == "" {
		name = oldName
	}
	if parentID == 0 {
		parentID = oldParent.Int64
	}
	if name == oldName && parentID == oldParent.Int64 {
		return id, Unchanged, nil
	}
	if parentID == 0 {
		parent = nil
	} else {
		parent = parentID
	}
	_, err = q.ExecContext(ctx, `UPDATE organizations SET name = ?, parent_id = ?, search_text = ?, updated_at = ? WHERE id = ?`,
		name, parent, SearchKey(name, code), now, id)
	if err != nil {
		return 0, Unchanged, fmt.Errorf("update %s %s: %w", kind, code, err)
	}
	return id, Updated, nil
}

// SetHolidayZone records an académie's holiday zone, spelt as the national
// calendar spells it ("Zone B"), so that it matches school_holidays.zone.
func (s *Store) SetHolidayZone(ctx context.Context, q db.Querier, academyID int64, zone string) error {
	_, err := q.ExecContext(ctx, `UPDATE organizations SET holiday_zone = ? WHERE id = ?`, NormalizeZone(zone), academyID)
	return err
}

// OrgByKindCode finds an organization by its natural key.
func (s *Store) OrgByKindCode(ctx context.Context, q db.Querier, kind Kind, code string) (Organization, error) {
	var o Organization
	var parent sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, kind, code, name, parent_id, holiday_zone FROM organizations WHERE kind = ? AND code = ?`,
		string(kind), code).Scan(&o.ID, &o.Kind, &o.Code, &o.Name, &parent, &o.HolidayZone)
	o.ParentID = parent.Int64
	return o, err
}

// establishmentHash is what decides whether an imported row changes an
// establishment: its exported fields.
func establishmentHash(e *Establishment) string {
	c := *e
	c.ID, c.Responsible, c.Academy, c.Sites = 0, nil, nil, nil
	b, _ := json.Marshal(c)
	return contentHash(b)
}

// UpsertEstablishment writes an establishment (and its organization row
// under parentID) keyed by UAI.
func (s *Store) UpsertEstablishment(ctx context.Context, q db.Querier, e *Establishment, parentID int64) (int64, Outcome, error) {
	hash := establishmentHash(e)
	id, orgOutcome, err := s.EnsureOrg(ctx, q, KindEstablishment, e.UAI, e.Name, parentID)
	if err != nil {
		return 0, Unchanged, err
	}
	var old string
	err = q.QueryRowContext(ctx, `SELECT content_hash FROM establishments WHERE org_id = ?`, id).Scan(&old)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, Unchanged, err
	}
	if exists && old == hash && orgOutcome == Unchanged {
		return id, Unchanged, nil
	}
	// The organization's search text also covers the commune, so that a
	// search for "Rennes" finds the schools of Rennes (EnsureOrg only
	// knows the name and code).
	if _, err := q.ExecContext(ctx, `UPDATE organizations SET search_text = ? WHERE id = ?`,
		SearchKey(e.Name, e.UAI, e.CommuneName, e.PostalCode), id); err != nil {
		return 0, Unchanged, err
	}
	if exists && old == hash {
		return id, Updated, nil
	}
	args := []any{string(e.Type), e.NatureCode, e.NatureLabel, string(e.Sector), e.PrivateContract, string(e.Priority), string(e.Status),
		e.Address1, e.Address2, e.Address3, e.PostalCode, e.CommuneCode, e.CommuneName, e.DepartementCode, e.AcademyCode,
		e.Latitude, e.Longitude, e.Phone, e.Email, e.Website, e.SIRET, e.Circonscription, e.OpenedOn, e.DirectoryPupils, hash}
	if exists {
		_, err = q.ExecContext(ctx, `UPDATE establishments SET type = ?, nature_code = ?, nature_label = ?, sector = ?, private_contract = ?,
			priority = ?, status = ?, address1 = ?, address2 = ?, address3 = ?, postal_code = ?, commune_code = ?, commune_name = ?,
			departement_code = ?, academy_code = ?, latitude = ?, longitude = ?, phone = ?, email = ?, website = ?, siret = ?,
			circonscription = ?, opened_on = ?, directory_pupils = ?, content_hash = ? WHERE org_id = ?`, append(args, id)...)
		if err != nil {
			return 0, Unchanged, fmt.Errorf("update establishment %s: %w", e.UAI, err)
		}
		return id, Updated, nil
	}
	_, err = q.ExecContext(ctx, `INSERT INTO establishments (type, nature_code, nature_label, sector, private_contract, priority, status,
		address1, address2, address3, postal_code, commune_code, commune_name, departement_code, academy_code, latitude, longitude,
		phone, email, website, siret, circonscription, opened_on, directory_pupils, content_hash, org_id, uai)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, id, e.UAI)...)
	if err != nil {
		return 0, Unchanged, fmt.Errorf("insert establishment %s: %w", e.UAI, err)
	}
	return id, Created, nil
}

// ReplaceSites sets the extra sites of an establishment; it reports whether
// anything changed.
func (s *Store) ReplaceSites(ctx context.Context, q db.Querier, orgID int64, sites []Site) (bool, error) {
	old, err := s.sites(ctx, q, orgID)
	if err != nil {
		return false, err
	}
	if sitesEqual(old, sites) {
		return false, nil
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM establishment_sites WHERE org_id = ?`, orgID); err != nil {
		return false, err
	}
	for _, st := range sites {
		if _, err := q.ExecContext(ctx, `INSERT INTO establishment_sites (org_id, name, address, postal_code, commune_code, commune_name)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, orgID, st.Name, st.Address, st.PostalCode, st.CommuneCode, st.CommuneName); err != nil {
			return false, err
		}
	}
	return true, nil
}

func sitesEqual(a, b []Site) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[Site]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

func (s *Store) sites(ctx context.Context, q db.Querier, orgID int64) ([]Site, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, address, postal_code, commune_code, commune_name FROM establishment_sites WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		if err := rows.Scan(&st.Name, &st.Address, &st.PostalCode, &st.CommuneCode, &st.CommuneName); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// SetResponsibility records who is responsible for an establishment in a
// domain, unless a person set it by hand. authorityID 0 removes a
// rule-derived responsibility.
func (s *Store) SetResponsibility(ctx context.Context, q db.Querier, establishmentID int64, domain string, authorityID int64) error {
	if authorityID == 0 {
		_, err := q.ExecContext(ctx, `DELETE FROM responsibilities WHERE establishment_id = ? AND domain = ? AND source = 'rule'`, establishmentID, domain)
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO responsibilities (establishment_id, domain, authority_id, source) VALUES (?, ?, ?, 'rule')
		ON CONFLICT (establishment_id, domain) DO UPDATE SET authority_id = excluded.authority_id
		WHERE responsibilities.source = 'rule' AND responsibilities.authority_id <> excluded.authority_id`, establishmentID, domain, authorityID)
	return err
}

// SyncScopeTree rebuilds the scope tree from the organizations' parents and
// the maintenance responsibilities, so that a recursive grant on a
// collectivité reaches the establishments it maintains, and one on an
// académie or DSDEN the establishments under it.
func (s *Store) SyncScopeTree(ctx context.Context, q db.Querier) error {
	return auth.ReplaceEdges(ctx, q, `SELECT parent_id AS p, id AS c FROM organizations WHERE parent_id IS NOT NULL
		UNION SELECT authority_id AS p, establishment_id AS c FROM responsibilities WHERE domain = 'maintenance'`)
}

// UpsertEnrolment writes one enrolment row keyed by (uai, year, source).
func (s *Store) UpsertEnrolment(ctx context.Context, q db.Querier, e Enrolment, name, commune, sector string) (Outcome, error) {
	levels, _ := json.Marshal(e.Levels)
	hash := contentHash([]byte(fmt.Sprint(e.Pupils, "|", deref(e.Classes), "|", string(levels), "|", e.Priority, "|", name, "|", commune, "|", sector)))
	var old string
	err := q.QueryRowContext(ctx, `SELECT content_hash FROM enrolments WHERE uai = ? AND school_year = ? AND source = ?`, e.UAI, e.SchoolYear, e.Source).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = q.ExecContext(ctx, `INSERT INTO enrolments (uai, school_year, source, name, commune_name, sector, priority, pupils, classes, levels, content_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.UAI, e.SchoolYear, e.Source, name, commune, sector, string(e.Priority), e.Pupils, e.Classes, string(levels), hash)
		if err != nil {
			return Unchanged, fmt.Errorf("insert enrolment %s %s: %w", e.UAI, e.SchoolYear, err)
		}
		return Created, nil
	case err != nil:
		return Unchanged, err
	case old == hash:
		return Unchanged, nil
	}
	_, err = q.ExecContext(ctx, `UPDATE enrolments SET name = ?, commune_name = ?, sector = ?, priority = ?, pupils = ?, classes = ?, levels = ?, content_hash = ?
		WHERE uai = ? AND school_year = ? AND source = ?`, name, commune, sector, string(e.Priority), e.Pupils, e.Classes, string(levels), hash, e.UAI, e.SchoolYear, e.Source)
	if err != nil {
		return Unchanged, fmt.Errorf("update enrolment %s %s: %w", e.UAI, e.SchoolYear, err)
	}
	return Updated, nil
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// EstablishmentUAIs returns the set of UAIs present in the directory.
func (s *Store) EstablishmentUAIs(ctx context.Context, q db.Querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT uai FROM establishments`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, rows.Err()
}

// Filter selects establishments.
type Filter struct {
	Query       string
	Type        Type
	TypeSet     bool // filter on Type even when empty (unknown type)
	CommuneCode string
	Responsible int64
	Priority    string // "REP", "REP+", "any" (REP or REP+), "none"
	Sector      Sector
	Limit       int
	Offset      int
}

// SearchResult is a page of establishments and the total.
type SearchResult struct {
	Total int             `json:"total"`
	Items []Establishment `json:"items"`
}

const estCols = `o.id, e.uai, o.name, e.type, e.nature_code, e.nature_label, e.sector, e.private_contract, e.priority, e.status,
	e.address1, e.address2, e.address3, e.postal_code, e.commune_code, e.commune_name, e.departement_code, e.academy_code,
	e.latitude, e.longitude, e.phone, e.email, e.website, e.siret, e.circonscription, e.opened_on, e.directory_pupils,
	ra.id, ra.kind, ra.code, ra.name`

const estFrom = ` FROM establishments e JOIN organizations o ON o.id = e.org_id
	LEFT JOIN responsibilities r ON r.establishment_id = e.org_id AND r.domain = 'maintenance'
	LEFT JOIN organizations ra ON ra.id = r.authority_id`

func scanEstablishment(row interface{ Scan(...any) error }) (Establishment, error) {
	var e Establishment
	var lat, lon sql.NullFloat64
	var pupils sql.NullInt64
	var rID sql.NullInt64
	var rKind, rCode, rName sql.NullString
	err := row.Scan(&e.ID, &e.UAI, &e.Name, &e.Type, &e.NatureCode, &e.NatureLabel, &e.Sector, &e.PrivateContract, &e.Priority, &e.Status,
		&e.Address1, &e.Address2, &e.Address3, &e.PostalCode, &e.CommuneCode, &e.CommuneName, &e.DepartementCode, &e.AcademyCode,
		&lat, &lon, &e.Phone, &e.Email, &e.Website, &e.SIRET, &e.Circonscription, &e.OpenedOn, &pupils,
		&rID, &rKind, &rCode, &rName)
	if lat.Valid && lon.Valid {
		e.Latitude, e.Longitude = &lat.Float64, &lon.Float64
	}
	if pupils.Valid {
		n := int(pupils.Int64)
		e.DirectoryPupils = &n
	}
	if rID.Valid {
		e.Responsible = &OrgRef{ID: rID.Int64, Kind: Kind(rKind.String), Code: rCode.String, Name: rName.String}
	}
	return e, err
}

// searchSource is what Search filters: the establishments keyed by their
// organization id and named o, because the caller's scope condition is
// written on o.id. Filtering this narrow row, rather than the join with
// the organizations' names and texts, lets a count read indexes only.
const searchSource = `(SELECT org_id AS id, type, commune_code, priority, sector FROM establishments) o`

// sortedScanMin is the number of results above which a page listing the
// whole scope walks the names in index order rather than sorting them all:
// with n of the N establishments kept, the walk reads about limit×N/n
// names, the sort n.
const sortedScanMin = 2000

// Search lists establishments matching f within a scope condition (from
// auth.Principal.ScopeSQL on column o.id), ordered by name, then id.
//
// It runs two queries, each shaped so that both engines' planners, SQLite's
// without statistics included, find a good plan: the count, on the
// establishments alone; then the page, whose shape depends on that count.
// Most filters are tied to the name (écoles are named "École…"), so walking
// the name index until enough rows pass could read most of it; the page
// therefore collects the matches, then sorts them. Only a listing of a
// large scope without filters walks the name index, where the rows kept
// are spread evenly. The rows of the page alone are read in full, last.
func (s *Store) Search(ctx context.Context, f Filter, scope string, scopeArgs []any) (SearchResult, error) {
	where := []string{scope}
	args := append([]any{}, scopeArgs...)
	filtered := false
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
		filtered = true
	}
	if cond, a := textFilter(s.db.Dialect(), f.Query); cond != "" {
		add(cond, a...)
	}
	if f.Type != "" || f.TypeSet {
		add("o.type = ?", string(f.Type))
	}
	if f.CommuneCode != "" {
		add("o.commune_code = ?", f.CommuneCode)
	}
	if f.Responsible != 0 {
		add("o.id IN (SELECT establishment_id FROM responsibilities WHERE domain = 'maintenance' AND authority_id = ?)", f.Responsible)
	}
	switch f.Priority {
	case "REP", "REP+":
		add("o.priority = ?", f.Priority)
	case "any":
		add("o.priority <> ''")
	case "none":
		add("o.priority = ''")
	}
	if f.Sector != "" {
		add("o.sector = ?", string(f.Sector))
	}
	cond := strings.Join(where, " AND ")
	res := SearchResult{Items: []Establishment{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+searchSource+` WHERE `+cond, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count establishments: %w", err)
	}
	if res.Total == 0 || f.Offset >= res.Total {
		return res, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var err error
	res.Items, err = s.searchPage(ctx, cond, args, !filtered && res.Total > sortedScanMin, limit, f.Offset)
	return res, err
}

// searchPage reads one page of the establishments matching cond, by name:
// walking the name index when walkNames is set, else sorting the matches.
func (s *Store) searchPage(ctx context.Context, cond string, args []any, walkNames bool, limit, offset int) ([]Establishment, error) {
	var page string
	if walkNames {
		page = `SELECT n.id FROM organizations n JOIN ` + searchSource + ` ON o.id = n.id WHERE ` + cond +
			` ORDER BY n.name, n.id LIMIT ? OFFSET ?`
	} else {
		// MATERIALIZED keeps the planners from turning the sort back into
		// a walk of the name index.
		page = `WITH m AS MATERIALIZED (SELECT o.id, n.name FROM ` + searchSource + ` JOIN organizations n ON n.id = o.id WHERE ` + cond + `)
			SELECT id FROM m ORDER BY name, id LIMIT ? OFFSET ?`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+estCols+` FROM (`+page+`) p JOIN establishments e ON e.org_id = p.id
		JOIN organizations o ON o.id = e.org_id
		LEFT JOIN responsibilities r ON r.establishment_id = e.org_id AND r.domain = 'maintenance'
		LEFT JOIN organizations ra ON ra.id = r.authority_id
		ORDER BY o.name, o.id`, append(append([]any{}, args...), limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("search establishments: %w", err)
	}
	defer rows.Close()
	items := []Establishment{}
	for rows.Next() {
		e, err := scanEstablishment(rows)
		if err != nil {
			return nil, fmt.Errorf("search establishments: %w", err)
		}
		items = append(items, e)
	}
	return items, rows.Err()
}

// textFilter is the condition on o.id of a free-text search: each word of
// the query must appear somewhere in the organization's search text (a
// substring: "moul" finds "Jean Moulin"). The engines index substrings
// differently: SQLite through a trigram FTS5 table, for words of three
// letters or more, which it alone can index; PostgreSQL through a trigram
// index under the LIKE itself.
func textFilter(dialect db.Dialect, query string) (string, []any) {
	var phrases, likes []string
	var args []any
	for _, tok := range strings.Fields(SearchKey(query)) {
		if dialect == db.SQLite && utf8.RuneCountInString(tok) >= 3 {
			// SearchKey leaves letters and digits only: nothing to escape.
			phrases = append(phrases, `"`+tok+`"`)
			continue
		}
		likes = append(likes, "search_text LIKE ?")
		args = append(args, "%"+tok+"%")
	}
	var conds []string
	if len(phrases) > 0 {
		conds = append(conds, "o.id IN (SELECT rowid FROM organizations_search WHERE organizations_search MATCH ?)")
		args = append([]any{strings.Join(phrases, " ")}, args...)
	}
	if len(likes) > 0 {
		conds = append(conds, "o.id IN (SELECT id FROM organizations WHERE "+strings.Join(likes, " AND ")+")")
	}
	return strings.Join(conds, " AND "), args
}

// EstablishmentByUAI returns one establishment within a scope, or
// sql.ErrNoRows.
func (s *Store) EstablishmentByUAI(ctx context.Context, uai, scope string, scopeArgs []any) (Establishment, error) {
	e, err := scanEstablishment(s.db.QueryRowContext(ctx, `SELECT `+estCols+estFrom+` WHERE e.uai = ? AND `+scope, append([]any{uai}, scopeArgs...)...))
	if err != nil {
		return e, err
	}
	e.Sites, err = s.sites(ctx, s.db, e.ID)
	if err != nil {
		return e, err
	}
	var aID sql.NullInt64
	var aKind, aCode, aName sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT a.id, a.kind, a.code, a.name FROM responsibilities r JOIN organizations a ON a.id = r.authority_id
		WHERE r.establishment_id = ? AND r.domain = 'pedagogy'`, e.ID).Scan(&aID, &aKind, &aCode, &aName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	if aID.Valid {
		e.Academy = &OrgRef{ID: aID.Int64, Kind: Kind(aKind.String), Code: aCode.String, Name: aName.String}
	}
	return e, nil
}

// Enrolments returns an establishment's enrolments, newest year first.
func (s *Store) Enrolments(ctx context.Context, uai string) ([]Enrolment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT uai, school_year, source, pupils, classes, levels, priority FROM enrolments WHERE uai = ?
		ORDER BY school_year DESC, source`, uai)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Enrolment
	for rows.Next() {
		var e Enrolment
		var classes sql.NullInt64
		var levels, prio string
		if err := rows.Scan(&e.UAI, &e.SchoolYear, &e.Source, &e.Pupils, &classes, &levels, &prio); err != nil {
			return nil, err
		}
		if classes.Valid {
			n := int(classes.Int64)
			e.Classes = &n
		}
		e.Priority = Priority(prio)
		_ = json.Unmarshal([]byte(levels), &e.Levels)
		out = append(out, e)
	}
	return out, rows.Err()
}

// OrgByID returns an organization within a scope, or sql.ErrNoRows.
func (s *Store) OrgByID(ctx context.Context, id int64, scope string, scopeArgs []any) (Organization, error) {
	var o Organization
	var parent sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT o.id, o.kind, o.code, o.name, o.parent_id, o.holiday_zone FROM organizations o WHERE o.id = ? AND `+scope,
		append([]any{id}, scopeArgs...)...).Scan(&o.ID, &o.Kind, &o.Code, &o.Name, &parent, &o.HolidayZone)
	o.ParentID = parent.Int64
	return o, err
}

// Orgs lists organizations of some kinds within a scope, by name.
func (s *Store) Orgs(ctx context.Context, kinds []Kind, scope string, scopeArgs []any) ([]Organization, error) {
	args := []any{}
	for _, k := range kinds {
		args = append(args, string(k))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.kind, o.code, o.name, o.parent_id, o.holiday_zone FROM organizations o
		WHERE o.kind IN (`+db.Placeholders(len(kinds))+`) AND `+scope+` ORDER BY o.name`, append(args, scopeArgs...)...)
	if err != nil {
		return nil, err
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

// CountEstablishmentsMaintained counts the establishments an authority
// maintains.
func (s *Store) CountEstablishmentsMaintained(ctx context.Context, authorityID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM responsibilities WHERE authority_id = ? AND domain = 'maintenance'`, authorityID).Scan(&n)
	return n, err
}
