CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

-- A role held on an organization (or on the whole platform when org_id is
-- NULL); recursive grants reach the organization's subtree (org_closure).
CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    org_id INTEGER,
    recursive BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX grants_user ON grants(user_id);
CREATE UNIQUE INDEX grants_unique ON grants(user_id, role, COALESCE(org_id, 0));

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Failed logins per key (account e-mail and client address), for throttling
-- that holds across several server processes.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL
);

-- The organization tree as the scope checks see it: plain edges between
-- organization ids (an organization may have several parents: its
-- académie's services and the collectivité that maintains it), and their
-- transitive closure (depth >= 1).
CREATE TABLE org_edges (
    parent_id INTEGER NOT NULL,
    child_id INTEGER NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX org_edges_child ON org_edges(child_id);

CREATE TABLE org_closure (
    ancestor_id INTEGER NOT NULL,
    descendant_id INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX org_closure_descendant ON org_closure(descendant_id, ancestor_id);
