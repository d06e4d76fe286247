-- Secrets of the data-protection helpers, created on first use (the key of
-- pseudonyms). Kept in the database so that every process and every
-- restart give the same pseudonym to the same person.
CREATE TABLE privacy_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Who read a person's data (a pupil's, mostly): the person, their legal
-- guardians and their establishment's administrators can read it. No
-- foreign keys: the log outlives accounts it names.
CREATE TABLE privacy_access_log (
    id INTEGER PRIMARY KEY,
    reader_id INTEGER NOT NULL,
    subject_id INTEGER NOT NULL,
    what TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX privacy_access_log_subject ON privacy_access_log(subject_id, id);

-- Deletions asked for, with their grace period: scheduled until due_at,
-- then done (export archived, data erased), unless cancelled meanwhile.
CREATE TABLE privacy_deletions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    requested_by INTEGER NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    cancelled_by INTEGER,
    cancelled_at TIMESTAMP,
    done_at TIMESTAMP,
    archive TEXT NOT NULL DEFAULT ''
);
CREATE INDEX privacy_deletions_user ON privacy_deletions(user_id, id);
CREATE INDEX privacy_deletions_due ON privacy_deletions(status, due_at);
-- At most one deletion waits per person.
CREATE UNIQUE INDEX privacy_deletions_scheduled ON privacy_deletions(user_id) WHERE status = 'scheduled';
