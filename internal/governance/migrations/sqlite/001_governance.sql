-- Governance: bodies (instances) and their meetings, decisions traceable to
-- what they changed, projects, roadmaps with indicators whose values are a
-- history (never overwritten), declaration campaigns, the pseudonymized
-- audience of the ENT and the transparency settings of collectivités.
CREATE TABLE gov_bodies (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    chair TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '',
    min_per_year INTEGER NOT NULL DEFAULT 1,
    required_data TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX gov_bodies_org ON gov_bodies(org_id);

CREATE TABLE gov_members (
    id INTEGER PRIMARY KEY,
    body_id INTEGER NOT NULL REFERENCES gov_bodies(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    member_org_id INTEGER REFERENCES organizations(id),
    role TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gov_members_body ON gov_members(body_id);

CREATE TABLE gov_meetings (
    id INTEGER PRIMARY KEY,
    body_id INTEGER NOT NULL REFERENCES gov_bodies(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    agenda TEXT NOT NULL DEFAULT '',
    minutes TEXT NOT NULL DEFAULT '',
    held BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX gov_meetings_body ON gov_meetings(body_id, starts_at);

CREATE TABLE gov_attendance (
    meeting_id INTEGER NOT NULL REFERENCES gov_meetings(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES gov_members(id) ON DELETE CASCADE,
    present BOOLEAN NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

CREATE TABLE gov_documents (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES gov_meetings(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT ''
);

CREATE TABLE gov_projects (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    proposer_org_id INTEGER NOT NULL REFERENCES organizations(id),
    proposer_kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    benefits TEXT NOT NULL DEFAULT '',
    cost_cents INTEGER NOT NULL DEFAULT 0,
    feasibility TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    indicator_id INTEGER,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX gov_projects_org ON gov_projects(org_id, status);
CREATE INDEX gov_projects_proposer ON gov_projects(proposer_org_id);

CREATE TABLE gov_decisions (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES gov_meetings(id),
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    project_id INTEGER REFERENCES gov_projects(id),
    indicator_id INTEGER,
    before_value TEXT NOT NULL DEFAULT '',
    after_value TEXT NOT NULL DEFAULT '',
    amount_cents INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX gov_decisions_meeting ON gov_decisions(meeting_id);
CREATE INDEX gov_decisions_project ON gov_decisions(project_id);

CREATE TABLE gov_project_history (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES gov_projects(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL,
    decision_id INTEGER REFERENCES gov_decisions(id),
    note TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gov_project_history_project ON gov_project_history(project_id, at);

CREATE TABLE gov_roadmaps (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    title TEXT NOT NULL,
    first_year INTEGER NOT NULL,
    last_year INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Ambitions, targets (cibles) and objectives in one tree.
CREATE TABLE gov_roadmap_items (
    id INTEGER PRIMARY KEY,
    roadmap_id INTEGER NOT NULL REFERENCES gov_roadmaps(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES gov_roadmap_items(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    year INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gov_roadmap_items_roadmap ON gov_roadmap_items(roadmap_id, position);

CREATE TABLE gov_indicators (
    id INTEGER PRIMARY KEY,
    objective_id INTEGER NOT NULL REFERENCES gov_roadmap_items(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    target_value REAL,
    higher_is_better BOOLEAN NOT NULL DEFAULT 1,
    frequency TEXT NOT NULL
);
CREATE INDEX gov_indicators_objective ON gov_indicators(objective_id);

-- Every measure or declaration is a new row: the latest row of a period is
-- its value, the earlier ones stay as the record of what was known when.
CREATE TABLE gov_indicator_values (
    id INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES gov_indicators(id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    value REAL,
    no_data_reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '',
    flagged BOOLEAN NOT NULL DEFAULT 0,
    recorded_by TEXT NOT NULL DEFAULT '',
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX gov_indicator_values_indicator ON gov_indicator_values(indicator_id, period, id);

-- Target value changes, each tied to the decision that made it.
CREATE TABLE gov_target_history (
    id INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES gov_indicators(id) ON DELETE CASCADE,
    decision_id INTEGER REFERENCES gov_decisions(id),
    before_value REAL,
    after_value REAL,
    at TIMESTAMP NOT NULL
);

-- A campaign asks the holders of a role on an organization to declare an
-- indicator at its frequency.
CREATE TABLE gov_campaigns (
    id INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES gov_indicators(id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    respondent_role TEXT NOT NULL,
    frequency TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Audience of the day being counted: one row per pseudonymous visitor,
-- service, profile and establishment. The visitor is a keyed hash whose
-- key changes every day and is deleted with these rows when the day is
-- rolled up into gov_audience_daily.
CREATE TABLE gov_audience_today (
    day TEXT NOT NULL,
    service TEXT NOT NULL,
    profile TEXT NOT NULL,
    uai TEXT NOT NULL,
    visitor TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (day, service, profile, uai, visitor)
);
CREATE TABLE gov_audience_keys (
    day TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
CREATE TABLE gov_audience_daily (
    day TEXT NOT NULL,
    service TEXT NOT NULL,
    profile TEXT NOT NULL,
    uai TEXT NOT NULL,
    visits INTEGER NOT NULL,
    visitors INTEGER NOT NULL,
    PRIMARY KEY (day, service, profile, uai)
);
CREATE INDEX gov_audience_daily_uai ON gov_audience_daily(uai, day);

CREATE TABLE gov_transparency (
    org_id INTEGER PRIMARY KEY REFERENCES organizations(id),
    public BOOLEAN NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);
