-- The offer of services a collectivité (or the académie) delivers to its
-- schools, the conventions that promise service levels, and the business
-- calendars those levels run on.

CREATE TABLE service_families (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (owner_id, name)
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    family_id INTEGER NOT NULL REFERENCES service_families(id),
    owner_id INTEGER NOT NULL REFERENCES organizations(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'study',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (owner_id, code)
);

-- Request types under a service: kind 'incident' or 'request'; requests may
-- be IMAC operations (install, move, add, change).
CREATE TABLE request_types (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    imac TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    UNIQUE (service_id, name)
);

-- Business calendars: weekly opening hours (JSON: weekday → ranges),
-- public holidays, closures, and whether school holidays of a zone close it.
CREATE TABLE business_calendars (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'Europe/Paris',
    weekly_hours TEXT NOT NULL,
    public_holidays BOOLEAN NOT NULL DEFAULT 1,
    whit_monday_open BOOLEAN NOT NULL DEFAULT 0,
    alsace_moselle BOOLEAN NOT NULL DEFAULT 0,
    school_holiday_zone TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE calendar_closures (
    id INTEGER PRIMARY KEY,
    calendar_id INTEGER NOT NULL REFERENCES business_calendars(id) ON DELETE CASCADE,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calendar_closures_calendar ON calendar_closures(calendar_id);

-- Support teams: the hotline (N1), proximity technicians (N2), contractors
-- (N3).
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    contractor BOOLEAN NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

-- Conventions: kind 'framework' (convention-cadre) or 'service', between
-- two organizations: party A delivers the services and owns the convention,
-- party B receives them; a service convention may sit under a framework one.
-- coverage 'listed' covers the establishments in agreement_establishments;
-- 'maintained' covers every establishment that coverage_authority_id
-- maintains, including the ones added later.
CREATE TABLE agreements (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    party_a_id INTEGER NOT NULL REFERENCES organizations(id),
    party_b_id INTEGER NOT NULL REFERENCES organizations(id),
    framework_id INTEGER REFERENCES agreements(id),
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    coverage TEXT NOT NULL DEFAULT 'listed',
    coverage_authority_id INTEGER REFERENCES organizations(id),
    survey_enabled BOOLEAN NOT NULL DEFAULT 1,
    -- The signed document: document_path is relative to the files root
    -- (never a user-supplied name), document_name the sanitized original.
    document_name TEXT NOT NULL DEFAULT '',
    document_path TEXT NOT NULL DEFAULT '',
    document_content_type TEXT NOT NULL DEFAULT '',
    document_sha256 TEXT NOT NULL DEFAULT '',
    document_size INTEGER NOT NULL DEFAULT 0,
    signed_on TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (reference)
);
CREATE INDEX agreements_parties ON agreements(party_a_id, party_b_id);

CREATE TABLE agreement_establishments (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (agreement_id, establishment_id)
);
CREATE INDEX agreement_establishments_est ON agreement_establishments(establishment_id);

-- A service covered by a convention, with the calendar its levels run on
-- and the delivery model (which team is N1, N2, N3).
CREATE TABLE agreement_services (
    id INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id),
    calendar_id INTEGER REFERENCES business_calendars(id),
    n1_team_id INTEGER REFERENCES teams(id),
    n2_team_id INTEGER REFERENCES teams(id),
    n3_team_id INTEGER REFERENCES teams(id),
    UNIQUE (agreement_id, service_id)
);

-- Service levels: time to own (TTO) and time to resolve (TTR) as delays of
-- open time ("4h", "1h30m", "3d" business days), per priority (1 very high
-- .. 5 very low) and request kind.
CREATE TABLE service_levels (
    id INTEGER PRIMARY KEY,
    agreement_service_id INTEGER NOT NULL REFERENCES agreement_services(id) ON DELETE CASCADE,
    request_kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    tto TEXT NOT NULL,
    ttr TEXT NOT NULL,
    UNIQUE (agreement_service_id, request_kind, priority)
);
