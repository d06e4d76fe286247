-- The deployment plan: targets and their criteria, declared values, the
-- survey of the existing (questionnaires, campaigns, responses with their
-- history), priority weights, plans (waves, operations, dependencies), the
-- programme's budget lines and scenarios. Dates are ISO text (YYYY-MM-DD):
-- they are calendar days, not instants.
CREATE TABLE plan_targets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE plan_criteria (
    id INTEGER PRIMARY KEY,
    target_id INTEGER NOT NULL REFERENCES plan_targets(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    establishment_type TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    metric TEXT NOT NULL,
    param INTEGER NOT NULL DEFAULT 0,
    threshold REAL NOT NULL,
    unit_price_cents INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (target_id, key)
);
CREATE TABLE plan_declared (
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (establishment_id, metric)
);
CREATE TABLE plan_communes (
    commune_code TEXT PRIMARY KEY,
    rural INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE plan_prices (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
CREATE TABLE plan_questionnaires (
    id INTEGER PRIMARY KEY,
    builtin_key TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (builtin_key)
);
CREATE TABLE plan_questions (
    id INTEGER PRIMARY KEY,
    questionnaire_id INTEGER NOT NULL REFERENCES plan_questionnaires(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    domain TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    qtype TEXT NOT NULL,
    required INTEGER NOT NULL DEFAULT 0,
    options TEXT NOT NULL DEFAULT '[]',
    min_value INTEGER NOT NULL DEFAULT 0,
    max_value INTEGER NOT NULL DEFAULT 0,
    declares TEXT NOT NULL DEFAULT ''
);
CREATE INDEX plan_questions_questionnaire ON plan_questions (questionnaire_id, position);
CREATE TABLE plan_campaigns (
    id INTEGER PRIMARY KEY,
    questionnaire_id INTEGER NOT NULL REFERENCES plan_questionnaires(id),
    name TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE plan_campaign_schools (
    campaign_id INTEGER NOT NULL REFERENCES plan_campaigns(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (campaign_id, establishment_id)
);
-- Every submission is kept: answering again adds a row and marks the
-- previous one as no longer current, so the history stays readable.
CREATE TABLE plan_responses (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES plan_campaigns(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL DEFAULT 0,
    submitted_at TIMESTAMP NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 1,
    answers TEXT NOT NULL,
    scores TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX plan_responses_campaign ON plan_responses (campaign_id, establishment_id, is_current);
CREATE TABLE plan_weights (
    org_id INTEGER NOT NULL,
    factor TEXT NOT NULL,
    weight REAL NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, factor)
);
CREATE TABLE plan_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'phases',
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE plan_waves (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plan_plans(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    phase TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL
);
CREATE TABLE plan_wave_schools (
    wave_id INTEGER NOT NULL REFERENCES plan_waves(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (wave_id, establishment_id)
);
CREATE TABLE plan_operations (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plan_plans(id) ON DELETE CASCADE,
    wave_id INTEGER REFERENCES plan_waves(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'planned',
    asset_ids TEXT NOT NULL DEFAULT '',
    completed_at TIMESTAMP
);
CREATE TABLE plan_operation_deps (
    operation_id INTEGER NOT NULL REFERENCES plan_operations(id) ON DELETE CASCADE,
    depends_on_id INTEGER NOT NULL REFERENCES plan_operations(id) ON DELETE CASCADE,
    PRIMARY KEY (operation_id, depends_on_id)
);
CREATE TABLE plan_operation_schools (
    operation_id INTEGER NOT NULL REFERENCES plan_operations(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (operation_id, establishment_id)
);
CREATE TABLE plan_budget_lines (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    funder TEXT NOT NULL,
    nature TEXT NOT NULL,
    label TEXT NOT NULL,
    planned_cents INTEGER NOT NULL DEFAULT 0,
    committed_cents INTEGER NOT NULL DEFAULT 0,
    spent_cents INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE plan_scenarios (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    target_id INTEGER NOT NULL REFERENCES plan_targets(id) ON DELETE CASCADE,
    renew_years INTEGER NOT NULL,
    generalise_years INTEGER NOT NULL,
    start_year INTEGER NOT NULL,
    horizon INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
