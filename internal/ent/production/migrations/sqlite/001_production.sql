-- Assignments: a teacher asks pupils for productions.
CREATE TABLE production_assignments (
    id INTEGER PRIMARY KEY,
    teacher_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL,
    due TEXT NOT NULL DEFAULT '',
    group_id INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX production_assignments_teacher ON production_assignments(teacher_id);

-- A production belongs to its owner for life: no establishment column, so
-- that the rollover and the move from école to collège leave it in place.
CREATE TABLE productions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assignment_id INTEGER REFERENCES production_assignments(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    trashed_at TIMESTAMP
);
CREATE INDEX productions_owner ON productions(owner_id);
CREATE INDEX productions_created ON productions(created_at);

-- Shares point to a person, a class or a group of the directory by id:
-- a class archived by the rollover keeps its shares, but its former
-- members no longer reach the production through it.
CREATE TABLE production_shares (
    id INTEGER PRIMARY KEY,
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (production_id, target_kind, target_id)
);
CREATE INDEX production_shares_target ON production_shares(target_kind, target_id);

CREATE TABLE production_teams (
    id INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES production_assignments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    production_id INTEGER REFERENCES productions(id) ON DELETE SET NULL
);
CREATE INDEX production_teams_assignment ON production_teams(assignment_id);

CREATE TABLE production_team_members (
    team_id INTEGER NOT NULL REFERENCES production_teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX production_team_members_user ON production_team_members(user_id);
