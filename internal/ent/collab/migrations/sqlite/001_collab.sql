-- The update log of every collaborative document: one row per accepted Yjs
-- v1 update, written before the update is broadcast. seq is global and
-- increasing, so a (doc_id, seq) pair names one row for cross-process
-- notifications.
CREATE TABLE collab_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX collab_updates_doc ON collab_updates (doc_id, seq);

-- The compacted state of a document: the merge of its former log rows.
-- A document's content is its snapshot plus its remaining log rows.
CREATE TABLE collab_snapshots (
    doc_id TEXT PRIMARY KEY,
    state BLOB NOT NULL,
    seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
