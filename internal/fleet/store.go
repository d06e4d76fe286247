package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"socle/internal/platform/db"
	"socle/internal/platform/text"
)

// Store is the fleet's SQL, nothing else. Every method takes the querier
// it runs on, so that the service composes them inside one transaction.
type Store struct {
	db *db.DB
	// commonWord is the number of matches from which a search word is
	// looked for row by row rather than through the FTS5 table (tests
	// lower it).
	commonWord int
}

// NewStore returns a store.
func NewStore(d *db.DB) *Store { return &Store{db: d, commonWord: 2000} }

const assetColumns = `a.id, a.establishment_id, e.uai, a.type, a.name, a.manufacturer, a.model, a.serial,
	a.hardware_uuid, a.inventory_number, a.building, a.room, a.assigned_use, a.state, a.purchase_date,
	a.supplier, a.order_ref, a.price_cents, a.funding, a.warranty_start, a.warranty_months,
	a.warranty_supplier, a.os_name, a.os_version, a.source, a.last_inventory_at, a.created_at, a.updated_at,
	a.software_count`

const assetFrom = ` FROM assets a JOIN establishments e ON e.org_id = a.establishment_id`

func scanAsset(sc interface{ Scan(...any) error }) (Asset, error) {
	var a Asset
	var last sql.NullTime
	err := sc.Scan(&a.ID, &a.EstablishmentID, &a.UAI, &a.Type, &a.Name, &a.Manufacturer, &a.Model, &a.Serial,
		&a.HardwareUUID, &a.InventoryNumber, &a.Building, &a.Room, &a.Use, &a.State, &a.PurchaseDate,
		&a.Supplier, &a.OrderRef, &a.PriceCents, &a.Funding, &a.WarrantyStart, &a.WarrantyMonths,
		&a.WarrantySupplier, &a.OSName, &a.OSVersion, &a.Source, &last, &a.CreatedAt, &a.UpdatedAt, &a.SoftwareCount)
	if last.Valid {
		t := last.Time
		a.LastInventoryAt = &t
	}
	return a, err
}

// EstablishmentByUAI returns the organization id of an establishment.
func (s *Store) EstablishmentByUAI(ctx context.Context, q db.Querier, uai string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT org_id FROM establishments WHERE uai = ?`, uai).Scan(&id)
	return id, err
}

// Asset returns one asset within a scope condition on a.establishment_id.
func (s *Store) Asset(ctx context.Context, q db.Querier, id int64, scope string, args []any) (Asset, error) {
	row := q.QueryRowContext(ctx, `SELECT `+assetColumns+assetFrom+` WHERE a.id = ? AND `+scope, append([]any{id}, args...)...)
	return scanAsset(row)
}

// Filter selects assets for a list.
type Filter struct {
	UAI    string
	Type   Type
	State  State
	Query  string
	Limit  int
	Offset int
	// orgID is UAI resolved by the service, so that the list filters on
	// the asset's own column.
	orgID int64
}

// ListCountCap bounds the count of a list: past it, the total says "more
// than ten thousand" (TotalCapped) rather than counting a whole territory
// on every page.
const ListCountCap = 10_000

// RowByRowCountCap is the cap of a search whose words are too common for
// the trigram index ("dell", "4"): each row is read to check them.
const RowByRowCountCap = 1_000

// SearchText is what free-text search looks in, folded as the query is;
// code that writes assets in bulk (the demo) stores it too.
func SearchText(a Asset) string {
	return text.SearchKey(a.Name, a.Serial, a.InventoryNumber, a.Manufacturer, a.Model)
}

// textFilter is the condition of a free-text search: each word of the
// query must appear somewhere in the asset's search text, as a substring.
// SQLite finds the words of three letters or more through its trigram FTS5
// table; PostgreSQL through the trigram index under the LIKE itself.
//
// Neither planner can tell a rare word from a common one: a word found in
// most of the fleet ("dell", or "4", too short for trigrams) would have it
// fetch every match from the trigram index before the other filters. Such
// a word, probed first, is checked row by row on the rows the other
// conditions select ((search_text || ”) hides the column from the index).
func (s *Store) textFilter(ctx context.Context, query string) (cond string, args []any, rowByRow bool, err error) {
	var phrases, conds []string
	sqlite := s.db.Dialect() == db.SQLite
	for _, tok := range strings.Fields(text.SearchKey(query)) {
		// SearchKey leaves letters, digits and spaces: nothing to escape
		// in a phrase or a LIKE pattern.
		like := "%" + tok + "%"
		if utf8.RuneCountInString(tok) >= 3 {
			probe := `SELECT COUNT(*) FROM (SELECT 1 FROM assets a WHERE a.search_text LIKE ? LIMIT ?) m`
			arg := like
			if sqlite {
				probe, arg = `SELECT COUNT(*) FROM (SELECT rowid FROM assets_search WHERE assets_search MATCH ? LIMIT ?) m`, `"`+tok+`"`
			}
			var n int
			if err := s.db.QueryRowContext(ctx, probe, arg, s.commonWord).Scan(&n); err != nil {
				return "", nil, false, fmt.Errorf("probe search word: %w", err)
			}
			if n < s.commonWord {
				if sqlite {
					phrases = append(phrases, `"`+tok+`"`)
				} else {
					conds, args = append(conds, "a.search_text LIKE ?"), append(args, like)
				}
				continue
			}
		}
		conds, args = append(conds, "(a.search_text || '') LIKE ?"), append(args, like)
		rowByRow = true
	}
	if len(phrases) > 0 {
		conds = append([]string{"a.id IN (SELECT rowid FROM assets_search WHERE assets_search MATCH ?)"}, conds...)
		args = append([]any{strings.Join(phrases, " ")}, args...)
	}
	if len(conds) == 0 {
		return "1=1", nil, false, nil
	}
	return strings.Join(conds, " AND "), args, rowByRow, nil
}

// List returns a page of assets and the total count (capped at
// ListCountCap, capped saying so). Pages are ordered by establishment,
// type and name, the order of an index, so that no page sorts the fleet.
func (s *Store) List(ctx context.Context, f Filter, scope string, scopeArgs []any) (total int, capped bool, items []Asset, err error) {
	where := []string{scope}
	args := append([]any{}, scopeArgs...)
	if f.orgID != 0 {
		where, args = append(where, "a.establishment_id = ?"), append(args, f.orgID)
	}
	if f.Type != "" {
		where, args = append(where, "a.type = ?"), append(args, string(f.Type))
	}
	if f.State != "" {
		where, args = append(where, "a.state = ?"), append(args, string(f.State))
	}
	countCap := ListCountCap
	if f.Query != "" {
		cond, targs, rowByRow, err := s.textFilter(ctx, f.Query)
		if err != nil {
			return 0, false, nil, err
		}
		where, args = append(where, cond), append(args, targs...)
		if rowByRow {
			// Words too common for the index are checked on each row:
			// the count stops sooner, the page says "more than".
			countCap = RowByRowCountCap
		}
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM assets a`+cond+` LIMIT ?) c`,
		append(args, countCap+1)...).Scan(&total); err != nil {
		return 0, false, nil, fmt.Errorf("count assets: %w", err)
	}
	if total > countCap {
		total, capped = countCap, true
	}
	items = []Asset{}
	if f.Offset >= total && !capped {
		return total, capped, items, nil
	}
	// The page's ids first, from the index alone; the wide rows and their
	// software counts are read for those fifty only, not for every row an
	// offset skips.
	const order = ` ORDER BY a.establishment_id, a.type, a.name, a.id`
	rows, err := s.db.QueryContext(ctx, `SELECT `+assetColumns+assetFrom+` WHERE a.id IN (SELECT a.id FROM assets a`+cond+order+
		` LIMIT ? OFFSET ?)`+order, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return 0, false, nil, fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return 0, false, nil, err
		}
		items = append(items, a)
	}
	return total, capped, items, rows.Err()
}

// InsertAsset creates an asset and returns its id.
func (s *Store) InsertAsset(ctx context.Context, q db.Querier, a Asset) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO assets (establishment_id, type, name, manufacturer, model, serial,
		hardware_uuid, inventory_number, building, room, assigned_use, state, purchase_date, supplier, order_ref,
		price_cents, funding, warranty_start, warranty_months, warranty_supplier, os_name, os_version, source,
		last_inventory_at, created_at, updated_at, search_text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.EstablishmentID, a.Type, a.Name, a.Manufacturer, a.Model, a.Serial, a.HardwareUUID, a.InventoryNumber,
		a.Building, a.Room, a.Use, a.State, a.PurchaseDate, a.Supplier, a.OrderRef, a.PriceCents, a.Funding,
		a.WarrantyStart, a.WarrantyMonths, a.WarrantySupplier, a.OSName, a.OSVersion, a.Source,
		a.LastInventoryAt, a.CreatedAt, a.UpdatedAt, SearchText(a)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert asset: %w", err)
	}
	return id, nil
}

// UpdateInventoried writes what an agent reports about a known asset.
func (s *Store) UpdateInventoried(ctx context.Context, q db.Querier, a Asset) error {
	_, err := q.ExecContext(ctx, `UPDATE assets SET establishment_id = ?, name = ?, manufacturer = ?, model = ?,
		serial = ?, hardware_uuid = ?, os_name = ?, os_version = ?, last_inventory_at = ?, updated_at = ?, search_text = ? WHERE id = ?`,
		a.EstablishmentID, a.Name, a.Manufacturer, a.Model, a.Serial, a.HardwareUUID, a.OSName, a.OSVersion,
		a.LastInventoryAt, a.UpdatedAt, SearchText(a), a.ID)
	if err != nil {
		return fmt.Errorf("update asset %d: %w", a.ID, err)
	}
	return nil
}

// AddEvent appends a line to an asset's history.
func (s *Store) AddEvent(ctx context.Context, q db.Querier, assetID int64, at time.Time, actor, kind, detail string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO asset_events (asset_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?)`,
		assetID, at, actor, kind, detail)
	if err != nil {
		return fmt.Errorf("add event to asset %d: %w", assetID, err)
	}
	return nil
}

// Events returns an asset's history, oldest first.
func (s *Store) Events(ctx context.Context, assetID int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, kind, detail FROM asset_events WHERE asset_id = ? ORDER BY id`, assetID)
	if err != nil {
		return nil, fmt.Errorf("events of asset %d: %w", assetID, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Actor, &e.Kind, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MatchAsset finds the asset an inventory describes: by serial, then
// hardware UUID, then any MAC address. When several rows match (a serial
// entered twice by hand), the oldest asset wins, so the answer never
// depends on the engine's row order.
func (s *Store) MatchAsset(ctx context.Context, q db.Querier, inv Inventory) (int64, error) {
	try := func(query string, args ...any) (int64, error) {
		var id int64
		err := q.QueryRowContext(ctx, query, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return id, err
	}
	if inv.Serial != "" {
		if id, err := try(`SELECT id FROM assets WHERE serial = ? ORDER BY id LIMIT 1`, inv.Serial); id != 0 || err != nil {
			return id, err
		}
	}
	if inv.UUID != "" {
		if id, err := try(`SELECT id FROM assets WHERE hardware_uuid = ? ORDER BY id LIMIT 1`, inv.UUID); id != 0 || err != nil {
			return id, err
		}
	}
	if len(inv.MACs) > 0 {
		args := make([]any, len(inv.MACs))
		for i, m := range inv.MACs {
			args[i] = m
		}
		return try(`SELECT asset_id FROM asset_macs WHERE mac IN (`+db.Placeholders(len(args))+`) ORDER BY asset_id LIMIT 1`, args...)
	}
	return 0, nil
}

// ReplaceMACs sets the network addresses of an asset. An address
// identifies one machine at a time: a network card or USB adapter moved to
// another machine belongs to the latest report, so the same statement
// releases it from any other asset.
func (s *Store) ReplaceMACs(ctx context.Context, tx *db.Tx, assetID int64, macs []string) error {
	args := make([]any, 0, 1+2*len(macs))
	args = append(args, assetID)
	q := `DELETE FROM asset_macs WHERE asset_id = ?`
	if len(macs) > 0 {
		for _, m := range macs {
			args = append(args, m)
		}
		q += ` OR mac IN (` + db.Placeholders(len(macs)) + `)`
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("clear MACs of asset %d: %w", assetID, err)
	}
	if len(macs) == 0 {
		return nil
	}
	args = args[:0]
	for _, m := range macs {
		args = append(args, assetID, m)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO asset_macs (asset_id, mac) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?), ", len(macs)), ", "), args...); err != nil {
		return fmt.Errorf("add MACs to asset %d: %w", assetID, err)
	}
	return nil
}

// Software returns an asset's installations, sorted by name.
func (s *Store) Software(ctx context.Context, q db.Querier, assetID int64) ([]Software, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, version, publisher FROM asset_software WHERE asset_id = ? ORDER BY name, version, publisher`, assetID)
	if err != nil {
		return nil, fmt.Errorf("software of asset %d: %w", assetID, err)
	}
	defer rows.Close()
	out := []Software{}
	for rows.Next() {
		var sw Software
		if err := rows.Scan(&sw.Name, &sw.Version, &sw.Publisher); err != nil {
			return nil, err
		}
		out = append(out, sw)
	}
	return out, rows.Err()
}

// SyncSoftware makes the asset's installations equal to want, touching only
// the rows that changed (a weekly inventory changes a handful of the
// hundreds of packages), and returns how many were added and removed. Rows
// are written a hundred per statement: with the embedded engine the cost of
// a statement, not of a row, dominates.
func (s *Store) SyncSoftware(ctx context.Context, tx *db.Tx, assetID int64, want []Software) (added, removed int, err error) {
	have, err := s.Software(ctx, tx, assetID)
	if err != nil {
		return 0, 0, err
	}
	wantSet := make(map[Software]struct{}, len(want))
	for _, w := range want {
		wantSet[w] = struct{}{}
	}
	haveSet := make(map[Software]struct{}, len(have))
	var gone, fresh []Software
	for _, h := range have {
		haveSet[h] = struct{}{}
		if _, ok := wantSet[h]; !ok {
			gone = append(gone, h)
		}
	}
	for _, w := range want {
		if _, ok := haveSet[w]; !ok {
			fresh = append(fresh, w)
		}
	}
	const per = 100
	for start := 0; start < len(gone); start += per {
		batch := gone[start:min(start+per, len(gone))]
		args := make([]any, 0, 1+3*len(batch))
		args = append(args, assetID)
		for _, g := range batch {
			args = append(args, g.Name, g.Version, g.Publisher)
		}
		q := `DELETE FROM asset_software WHERE asset_id = ? AND (name, version, publisher) IN (` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(batch)), ", ") + `)`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return 0, 0, fmt.Errorf("remove software of asset %d: %w", assetID, err)
		}
	}
	for start := 0; start < len(fresh); start += per {
		batch := fresh[start:min(start+per, len(fresh))]
		args := make([]any, 0, 4*len(batch))
		for _, w := range batch {
			args = append(args, assetID, w.Name, w.Version, w.Publisher)
		}
		q := `INSERT INTO asset_software (asset_id, name, version, publisher) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(batch)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return 0, 0, fmt.Errorf("add software to asset %d: %w", assetID, err)
		}
	}
	if len(fresh)+len(gone) > 0 || len(have) == 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET software_count = ? WHERE id = ?`, len(have)-len(gone)+len(fresh), assetID); err != nil {
			return 0, 0, fmt.Errorf("count software of asset %d: %w", assetID, err)
		}
	}
	return len(fresh), len(gone), nil
}

// Quarantine keeps an inventory that could not be placed.
func (s *Store) Quarantine(ctx context.Context, q db.Querier, e QuarantineEntry, summary string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO fleet_quarantine (received_at, tag, device_id, name, serial, reason, summary) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ReceivedAt, e.Tag, e.DeviceID, e.Name, e.Serial, e.Reason, summary)
	if err != nil {
		return fmt.Errorf("quarantine inventory: %w", err)
	}
	return nil
}

// QuarantineList returns the quarantined inventories, newest first.
func (s *Store) QuarantineList(ctx context.Context, limit int) ([]QuarantineEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, received_at, tag, device_id, name, serial, reason FROM fleet_quarantine ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	defer rows.Close()
	out := []QuarantineEntry{}
	for rows.Next() {
		var e QuarantineEntry
		if err := rows.Scan(&e.ID, &e.ReceivedAt, &e.Tag, &e.DeviceID, &e.Name, &e.Serial, &e.Reason); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EstablishmentSoftware is the software catalogue of one establishment,
// each line with the newest version of the same name and publisher seen in
// the whole territory.
func (s *Store) EstablishmentSoftware(ctx context.Context, orgID int64) ([]SoftwareUse, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.name, s.publisher, s.version, COUNT(DISTINCT s.asset_id)
		FROM asset_software s JOIN assets a ON a.id = s.asset_id
		WHERE a.establishment_id = ? GROUP BY s.name, s.publisher, s.version ORDER BY s.name, s.publisher, s.version`, orgID)
	if err != nil {
		return nil, fmt.Errorf("software of establishment %d: %w", orgID, err)
	}
	out := []SoftwareUse{}
	for rows.Next() {
		var u SoftwareUse
		if err := rows.Scan(&u.Name, &u.Publisher, &u.Version, &u.Machines); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Versions are compared in Go (CompareVersions), not in SQL: neither
	// engine orders "10.2" after "9.8" as text.
	vrows, err := s.db.QueryContext(ctx, `SELECT DISTINCT s.name, s.publisher, s.version FROM asset_software s
		WHERE EXISTS (SELECT 1 FROM asset_software m JOIN assets a ON a.id = m.asset_id
		              WHERE a.establishment_id = ? AND m.name = s.name AND m.publisher = s.publisher)`, orgID)
	if err != nil {
		return nil, fmt.Errorf("territory versions: %w", err)
	}
	defer vrows.Close()
	latest := map[[2]string]string{}
	for vrows.Next() {
		var n, p, v string
		if err := vrows.Scan(&n, &p, &v); err != nil {
			return nil, err
		}
		k := [2]string{n, p}
		if cur, ok := latest[k]; !ok || CompareVersions(v, cur) > 0 {
			latest[k] = v
		}
	}
	if err := vrows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Latest = latest[[2]string{out[i].Name, out[i].Publisher}]
		out[i].Outdated = CompareVersions(out[i].Version, out[i].Latest) < 0
	}
	return out, nil
}

// UpdateManual writes the fields a person maintains (import, forms).
func (s *Store) UpdateManual(ctx context.Context, q db.Querier, a Asset) error {
	_, err := q.ExecContext(ctx, `UPDATE assets SET establishment_id = ?, type = ?, name = ?, manufacturer = ?, model = ?, serial = ?,
		inventory_number = ?, building = ?, room = ?, assigned_use = ?, state = ?, purchase_date = ?, supplier = ?,
		order_ref = ?, price_cents = ?, funding = ?, warranty_start = ?, warranty_months = ?, warranty_supplier = ?,
		updated_at = ?, search_text = ? WHERE id = ?`,
		a.EstablishmentID, a.Type, a.Name, a.Manufacturer, a.Model, a.Serial, a.InventoryNumber, a.Building, a.Room, a.Use, a.State,
		a.PurchaseDate, a.Supplier, a.OrderRef, a.PriceCents, a.Funding, a.WarrantyStart, a.WarrantyMonths,
		a.WarrantySupplier, a.UpdatedAt, SearchText(a), a.ID)
	if err != nil {
		return fmt.Errorf("update asset %d: %w", a.ID, err)
	}
	return nil
}
