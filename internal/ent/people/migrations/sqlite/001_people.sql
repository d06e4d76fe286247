-- A person is the ENT profile of an account (users): pupil, teacher,
-- parent, staff (with a function) or collectivité agent. name_key folds
-- last name, first name and birth date, to recognise a pupil whose INE is
-- unknown. suspended_at is set when the person belongs to no establishment
-- any more (the account is disabled); past the grace period the person is
-- deleted.
CREATE TABLE people (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    function TEXT NOT NULL DEFAULT '',
    ine TEXT UNIQUE,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_date TEXT NOT NULL DEFAULT '',
    name_key TEXT NOT NULL DEFAULT '',
    suspended_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX people_name_key ON people(name_key);
CREATE INDEX people_suspended ON people(suspended_at);

-- Who belongs to which establishment, and as what. source 'feed' rows are
-- owned by the establishment's feed (removed when a feed no longer lists
-- the person); 'manual' ones by the people who entered them.
CREATE TABLE establishment_members (
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    function TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'feed',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (establishment_id, user_id)
);
CREATE INDEX establishment_members_user ON establishment_members(user_id);

-- Classes (kind 'class', with a level) and groups (kind 'group': subject,
-- project, club, cross-school) of one school year. A cross-school group
-- also lists the other establishments it spans in group_establishments.
-- archived_at is set by the rollover.
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    school_year TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_type TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'feed',
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (establishment_id, school_year, kind, code)
);

CREATE TABLE group_establishments (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, establishment_id)
);
CREATE INDEX group_establishments_establishment ON group_establishments(establishment_id);

-- role 'member' (pupils) or 'teacher'; ended_at closes the membership
-- (rollover, class change) while keeping the history.
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT 'member',
    subject TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'feed',
    ended_at TIMESTAMP,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE parent_links (
    parent_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX parent_links_child ON parent_links(child_id);

-- An establishment's adjustments of the communication rules; a rule
-- without a row has its default.
CREATE TABLE communication_rules (
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    PRIMARY KEY (establishment_id, rule)
);

-- A feed row that looks like a pupil already known elsewhere (same name
-- and birth date, no INE to be sure): it waits for an administrator's
-- decision instead of creating a duplicate or merging on a guess.
CREATE TABLE pending_matches (
    id INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    candidate_id INTEGER NOT NULL REFERENCES people(user_id) ON DELETE CASCADE,
    school_year TEXT NOT NULL,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    ine TEXT NOT NULL DEFAULT '',
    class_code TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    UNIQUE (establishment_id, candidate_id, school_year)
);

-- Rollovers applied, per establishment and school year left.
CREATE TABLE rollovers (
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    from_year TEXT NOT NULL,
    to_year TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    user_id INTEGER,
    summary TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (establishment_id, from_year)
);

-- Feed runs with their report.
CREATE TABLE feed_runs (
    id INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    filename TEXT NOT NULL DEFAULT '',
    user_id INTEGER,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX feed_runs_establishment ON feed_runs(establishment_id, id);
