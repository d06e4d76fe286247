package space

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"socle/internal/platform/db"
)

// Store is the SQL of the spaces, nothing else.
type Store struct{ db *db.DB }

// NewStore builds the store.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const nodeCols = `id, space_id, COALESCE(parent_id, 0), name, is_dir, size, sha256, content_type, storage_key, etag,
	created_at, updated_at, deleted_at, COALESCE(trashed_with, 0)`

func scanNode(row interface{ Scan(...any) error }) (Node, error) {
	var n Node
	var del sql.NullTime
	err := row.Scan(&n.ID, &n.SpaceID, &n.ParentID, &n.Name, &n.IsDir, &n.Size, &n.SHA256, &n.ContentType,
		&n.StorageKey, &n.ETag, &n.CreatedAt, &n.UpdatedAt, &del, &n.TrashedWith)
	if del.Valid {
		t := del.Time
		n.DeletedAt = &t
	}
	return n, err
}

func scanNodes(rows *sql.Rows, err error) ([]Node, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Space returns the space of an owner (sql.ErrNoRows when none yet).
func (s *Store) Space(ctx context.Context, q db.Querier, kind OwnerKind, ownerID int64) (Space, *int64, error) {
	var sp Space
	var quota sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, owner_kind, owner_id, name, quota_bytes FROM space_spaces WHERE owner_kind = ? AND owner_id = ?`,
		string(kind), ownerID).Scan(&sp.ID, &sp.OwnerKind, &sp.OwnerID, &sp.Name, &quota)
	if quota.Valid {
		return sp, &quota.Int64, err
	}
	return sp, nil, err
}

// SpaceByID returns a space by id (its quota override is not needed by
// the callers, which load the space again through its owner).
func (s *Store) SpaceByID(ctx context.Context, id int64) (Space, error) {
	var sp Space
	err := s.db.QueryRowContext(ctx, `SELECT id, owner_kind, owner_id, name FROM space_spaces WHERE id = ?`, id).
		Scan(&sp.ID, &sp.OwnerKind, &sp.OwnerID, &sp.Name)
	return sp, err
}

// RenameSpace follows the name of its class or group.
func (s *Store) RenameSpace(ctx context.Context, id int64, name string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE space_spaces SET name = ? WHERE id = ?`, name, id)
	return err
}

// CreateSpace creates an owner's space, or does nothing when another
// request created it first.
func (s *Store) CreateSpace(ctx context.Context, kind OwnerKind, ownerID int64, name string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO space_spaces (owner_kind, owner_id, name, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner_kind, owner_id) DO NOTHING`, string(kind), ownerID, name, now)
	return err
}

// SetQuota overrides (or with nil, resets to the profile's) a space's quota.
func (s *Store) SetQuota(ctx context.Context, spaceID int64, quota *int64) error {
	var v any
	if quota != nil {
		v = *quota
	}
	_, err := s.db.ExecContext(ctx, `UPDATE space_spaces SET quota_bytes = ? WHERE id = ?`, v, spaceID)
	return err
}

// Usage is what a space holds: files, trash included, and their versions.
func (s *Store) Usage(ctx context.Context, q db.Querier, spaceID int64) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT SUM(size) FROM space_nodes WHERE space_id = ?), 0) +
		COALESCE((SELECT SUM(v.size) FROM space_versions v JOIN space_nodes n ON n.id = v.node_id WHERE n.space_id = ?), 0)`,
		spaceID, spaceID).Scan(&n)
	return n, err
}

// Child returns the live node named name in a folder (0: the root).
func (s *Store) Child(ctx context.Context, q db.Querier, spaceID, parentID int64, name string) (Node, error) {
	return scanNode(q.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM space_nodes
		WHERE space_id = ? AND COALESCE(parent_id, 0) = ? AND name = ? AND deleted_at IS NULL`, spaceID, parentID, name))
}

// Node returns a node of a space, live or in the trash.
func (s *Store) Node(ctx context.Context, q db.Querier, spaceID, id int64) (Node, error) {
	return scanNode(q.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM space_nodes WHERE space_id = ? AND id = ?`, spaceID, id))
}

// Children lists the live content of a folder, folders first.
func (s *Store) Children(ctx context.Context, spaceID, parentID int64) ([]Node, error) {
	return scanNodes(s.db.QueryContext(ctx, `SELECT `+nodeCols+` FROM space_nodes
		WHERE space_id = ? AND COALESCE(parent_id, 0) = ? AND deleted_at IS NULL ORDER BY is_dir DESC, name`, spaceID, parentID))
}

// Trash lists what the person deleted (not what went along inside folders).
func (s *Store) Trash(ctx context.Context, spaceID int64) ([]Node, error) {
	return scanNodes(s.db.QueryContext(ctx, `SELECT `+nodeCols+` FROM space_nodes
		WHERE space_id = ? AND trashed_with = id ORDER BY deleted_at DESC, id DESC`, spaceID))
}

// InsertNode creates a node and fills in its id.
func (s *Store) InsertNode(ctx context.Context, q db.Querier, n *Node) error {
	return q.QueryRowContext(ctx, `INSERT INTO space_nodes (space_id, parent_id, name, is_dir, size, sha256, content_type,
		storage_key, etag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.SpaceID, db.NullID(n.ParentID), n.Name, n.IsDir, n.Size, n.SHA256, n.ContentType, n.StorageKey, n.ETag,
		n.CreatedAt, n.UpdatedAt).Scan(&n.ID)
}

// SetContent replaces a file's content.
func (s *Store) SetContent(ctx context.Context, q db.Querier, n Node) error {
	_, err := q.ExecContext(ctx, `UPDATE space_nodes SET size = ?, sha256 = ?, content_type = ?, storage_key = ?, etag = ?,
		updated_at = ? WHERE id = ?`, n.Size, n.SHA256, n.ContentType, n.StorageKey, n.ETag, n.UpdatedAt, n.ID)
	return err
}

// Move changes a node's folder and name.
func (s *Store) Move(ctx context.Context, q db.Querier, id, parentID int64, name, etag string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE space_nodes SET parent_id = ?, name = ?, etag = ?, updated_at = ? WHERE id = ?`,
		db.NullID(parentID), name, etag, now, id)
	return err
}

// TrashTree moves a node and its live descendants to the trash.
func (s *Store) TrashTree(ctx context.Context, q db.Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `WITH RECURSIVE sub(id) AS (
			SELECT id FROM space_nodes WHERE id = ?
			UNION ALL
			SELECT n.id FROM space_nodes n JOIN sub ON n.parent_id = sub.id WHERE n.deleted_at IS NULL)
		UPDATE space_nodes SET deleted_at = ?, trashed_with = ? WHERE id IN (SELECT id FROM sub)`, id, now, id)
	return err
}

// RestoreTree brings back what was deleted with a trash entry, under a
// folder and name that the service chose.
func (s *Store) RestoreTree(ctx context.Context, q db.Querier, id, parentID int64, name string) error {
	// Renamed first, while still out of the live names' unique index.
	if _, err := q.ExecContext(ctx, `UPDATE space_nodes SET parent_id = ?, name = ? WHERE id = ?`, db.NullID(parentID), name, id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE space_nodes SET deleted_at = NULL, trashed_with = NULL WHERE trashed_with = ?`, id)
	return err
}

// Purge deletes a trash entry and returns the storage keys of its files
// and versions, to delete once the transaction is committed.
func (s *Store) Purge(ctx context.Context, q db.Querier, id int64) ([]string, error) {
	// The whole subtree, including what was trashed earlier on its own
	// inside it: the rows cascade, so their contents must go too.
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE sub(id) AS (
			SELECT id FROM space_nodes WHERE id = ?
			UNION ALL
			SELECT n.id FROM space_nodes n JOIN sub ON n.parent_id = sub.id)
		SELECT storage_key FROM space_nodes WHERE id IN (SELECT id FROM sub) AND storage_key <> ''
		UNION ALL SELECT storage_key FROM space_versions WHERE node_id IN (SELECT id FROM sub)`, id)
	if err != nil {
		return nil, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Children cascade from the entry.
	_, err = q.ExecContext(ctx, `DELETE FROM space_nodes WHERE id = ?`, id)
	return keys, err
}

// AddVersion archives a file's current content.
func (s *Store) AddVersion(ctx context.Context, q db.Querier, n Node, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO space_versions (node_id, size, sha256, content_type, storage_key, written_at, archived_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, n.ID, n.Size, n.SHA256, n.ContentType, n.StorageKey, n.UpdatedAt, now)
	return err
}

// Versions lists a file's earlier contents, newest first.
func (s *Store) Versions(ctx context.Context, q db.Querier, nodeID int64) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, node_id, size, sha256, content_type, storage_key, written_at, archived_at
		FROM space_versions WHERE node_id = ? ORDER BY id DESC`, nodeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.ID, &v.NodeID, &v.Size, &v.SHA256, &v.ContentType, &v.StorageKey, &v.WrittenAt, &v.ArchivedAt); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteVersion removes a version row.
func (s *Store) DeleteVersion(ctx context.Context, q db.Querier, id int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM space_versions WHERE id = ?`, id)
	return err
}

// Prop is a stored WebDAV dead property.
type Prop struct {
	NS, Name, Lang, Value string
}

// Props returns a node's dead properties.
func (s *Store) Props(ctx context.Context, nodeID int64) ([]Prop, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ns, name, lang, value FROM space_props WHERE node_id = ? ORDER BY ns, name`, nodeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Prop
	for rows.Next() {
		var p Prop
		if err := rows.Scan(&p.NS, &p.Name, &p.Lang, &p.Value); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetProp stores or replaces a dead property.
func (s *Store) SetProp(ctx context.Context, q db.Querier, nodeID int64, p Prop) error {
	_, err := q.ExecContext(ctx, `INSERT INTO space_props (node_id, ns, name, lang, value) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id, ns, name) DO UPDATE SET lang = excluded.lang, value = excluded.value`, nodeID, p.NS, p.Name, p.Lang, p.Value)
	return err
}

// RemoveProp deletes a dead property.
func (s *Store) RemoveProp(ctx context.Context, q db.Querier, nodeID int64, ns, name string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM space_props WHERE node_id = ? AND ns = ? AND name = ?`, nodeID, ns, name)
	return err
}

// AllNodes lists every node of a space, live or in the trash.
func (s *Store) AllNodes(ctx context.Context, spaceID int64) ([]Node, error) {
	return scanNodes(s.db.QueryContext(ctx, `SELECT `+nodeCols+` FROM space_nodes WHERE space_id = ? ORDER BY id`, spaceID))
}

// SpaceKeys returns the storage keys of every content of a space, current
// and earlier versions.
func (s *Store) SpaceKeys(ctx context.Context, q db.Querier, spaceID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT storage_key FROM space_nodes WHERE space_id = ? AND storage_key <> ''
		UNION ALL SELECT v.storage_key FROM space_versions v JOIN space_nodes n ON n.id = v.node_id WHERE n.space_id = ?`, spaceID, spaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// DeleteSpace removes a space and everything in it.
func (s *Store) DeleteSpace(ctx context.Context, q db.Querier, spaceID int64) error {
	for _, stmt := range []string{
		`DELETE FROM space_versions WHERE node_id IN (SELECT id FROM space_nodes WHERE space_id = ?)`,
		`DELETE FROM space_props WHERE node_id IN (SELECT id FROM space_nodes WHERE space_id = ?)`,
		`DELETE FROM space_nodes WHERE space_id = ?`,
		`DELETE FROM space_spaces WHERE id = ?`,
	} {
		if _, err := q.ExecContext(ctx, stmt, spaceID); err != nil {
			return err
		}
	}
	return nil
}

func notFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
