-- A space holds folders and files. Its owner is a person today ('user',
-- owner_id = users.id); class and group spaces ('class', 'group') will come
-- with the ENT people model, hence no foreign key on owner_id.
CREATE TABLE space_spaces (
    id INTEGER PRIMARY KEY,
    owner_kind TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    quota_bytes INTEGER,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (owner_kind, owner_id)
);

-- A folder or a file. parent_id NULL: at the space's root. deleted_at marks
-- the trash; trashed_with is the id of the node the person deleted (itself
-- for the trash entry, the deleted folder for what it contained), so that a
-- restore brings back exactly what went together.
CREATE TABLE space_nodes (
    id INTEGER PRIMARY KEY,
    space_id INTEGER NOT NULL REFERENCES space_spaces(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES space_nodes(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_dir BOOLEAN NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    storage_key TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    trashed_with INTEGER
);
CREATE UNIQUE INDEX space_nodes_live_name ON space_nodes(space_id, COALESCE(parent_id, 0), name) WHERE deleted_at IS NULL;
CREATE INDEX space_nodes_parent ON space_nodes(parent_id);
CREATE INDEX space_nodes_trash ON space_nodes(space_id, trashed_with);

-- Earlier contents of a file, kept when it is overwritten.
CREATE TABLE space_versions (
    id INTEGER PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES space_nodes(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    written_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP NOT NULL
);
CREATE INDEX space_versions_node ON space_versions(node_id);

-- WebDAV dead properties (PROPPATCH).
CREATE TABLE space_props (
    node_id INTEGER NOT NULL REFERENCES space_nodes(id) ON DELETE CASCADE,
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL,
    PRIMARY KEY (node_id, ns, name)
);
