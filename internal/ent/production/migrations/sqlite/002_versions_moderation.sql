-- Versions: snapshots of a production's Yjs document (its whole state as
-- one update), taken automatically while it is edited and on request, so
-- that an earlier state can be read and restored.
CREATE TABLE production_versions (
    id INTEGER PRIMARY KEY,
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    created_by INTEGER,
    label TEXT NOT NULL DEFAULT '',
    state BLOB NOT NULL
);
CREATE INDEX production_versions_production ON production_versions(production_id, created_at);

-- Blog moderation: what the owner or a teacher published (or refused), with
-- the copy they approved. Readers see these copies only, whatever a
-- contributor writes in the document afterwards.
CREATE TABLE production_publications (
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    post_id TEXT NOT NULL,
    comment_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    image TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL DEFAULT '',
    decided_by INTEGER NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    PRIMARY KEY (production_id, post_id, comment_id)
);

-- Follow-up comments: the teacher (and the team) discuss a production
-- while it is made; private to those who contribute to it.
CREATE TABLE production_comments (
    id INTEGER PRIMARY KEY,
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX production_comments_production ON production_comments(production_id, created_at);
CREATE INDEX production_comments_author ON production_comments(author_id);
