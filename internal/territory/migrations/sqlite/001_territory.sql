-- Every organization of the territory, of every kind: State services
-- (académie, DSDEN, DANE), collectivités (région, département, EPCI,
-- commune) and establishments. code is the natural key within a kind: the
-- académie code, the INSEE code of a commune or département, the UAI of an
-- establishment.
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES organizations(id),
    search_text TEXT NOT NULL DEFAULT '',
    holiday_zone TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (kind, code)
);
CREATE INDEX organizations_parent ON organizations(parent_id);

CREATE TABLE establishments (
    org_id INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    uai TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL DEFAULT '',
    nature_code TEXT NOT NULL DEFAULT '',
    nature_label TEXT NOT NULL DEFAULT '',
    sector TEXT NOT NULL DEFAULT '',
    private_contract TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    address1 TEXT NOT NULL DEFAULT '',
    address2 TEXT NOT NULL DEFAULT '',
    address3 TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    commune_code TEXT NOT NULL DEFAULT '',
    commune_name TEXT NOT NULL DEFAULT '',
    departement_code TEXT NOT NULL DEFAULT '',
    academy_code TEXT NOT NULL DEFAULT '',
    latitude REAL,
    longitude REAL,
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    siret TEXT NOT NULL DEFAULT '',
    circonscription TEXT NOT NULL DEFAULT '',
    opened_on TEXT NOT NULL DEFAULT '',
    directory_pupils INTEGER,
    source_updated_on TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX establishments_commune ON establishments(commune_code);
CREATE INDEX establishments_type ON establishments(type, sector);
CREATE INDEX establishments_priority ON establishments(priority);

-- Extra sites of an establishment published on several lines of the
-- directory (etablissement_multi_lignes).
CREATE TABLE establishment_sites (
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    commune_code TEXT NOT NULL DEFAULT '',
    commune_name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, name)
);

-- Who is responsible for what: domain 'maintenance' names the collectivité
-- that maintains the establishment, 'pedagogy' the académie. Rows derived by
-- rule (source 'rule') are recomputed by imports; 'manual' ones are kept.
CREATE TABLE responsibilities (
    establishment_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    authority_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT 'rule',
    PRIMARY KEY (establishment_id, domain)
);
CREATE INDEX responsibilities_authority ON responsibilities(authority_id, domain);

-- Pupils and classes per establishment and school year, per source file
-- (the école, collège and second-degré files overlap). Keyed by UAI, not by
-- organization: closed schools appear in enrolment files but not in the
-- directory, and are kept (and reported) rather than dropped.
CREATE TABLE enrolments (
    uai TEXT NOT NULL,
    school_year TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    commune_name TEXT NOT NULL DEFAULT '',
    sector TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    pupils INTEGER NOT NULL,
    classes INTEGER,
    levels TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (uai, school_year, source)
);

-- The national school calendar: holiday periods per académie and zone. A
-- period ends on the day classes resume (ends_on is that day).
CREATE TABLE school_holidays (
    id INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    population TEXT NOT NULL DEFAULT '',
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    academy TEXT NOT NULL,
    zone TEXT NOT NULL,
    school_year TEXT NOT NULL DEFAULT '',
    UNIQUE (description, population, academy, zone, starts_at)
);
CREATE INDEX school_holidays_zone ON school_holidays(zone, starts_at);

-- The carte scolaire: which public collège serves a commune, or a street
-- range within it.
CREATE TABLE school_sectors (
    id INTEGER PRIMARY KEY,
    sector_key TEXT NOT NULL UNIQUE,
    commune_code TEXT NOT NULL,
    commune_name TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    locality TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    number_from TEXT NOT NULL DEFAULT '',
    number_to TEXT NOT NULL DEFAULT '',
    parity TEXT NOT NULL DEFAULT '',
    college_uai TEXT NOT NULL,
    single_sector BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX school_sectors_commune ON school_sectors(commune_code);
CREATE INDEX school_sectors_college ON school_sectors(college_uai);

-- Imports run from the command line or the web UI, with their report.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    user_id INTEGER,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    report TEXT NOT NULL
);
