-- Tickets and their life: incidents, requests (IMAC included), problems and
-- changes from schools, with the history the SLA clocks are computed from.

-- GLPI's default urgency × impact → priority matrix is the starting point;
-- each organization may override it.
CREATE TABLE priority_matrix (
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    urgency INTEGER NOT NULL,
    impact INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    PRIMARY KEY (org_id, urgency, impact)
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    requester_id INTEGER REFERENCES users(id),
    requester_email TEXT NOT NULL DEFAULT '',
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    -- The collectivité that maintains the establishment when the ticket was
    -- opened: reports per collectivité read it without joining the tree.
    authority_id INTEGER REFERENCES organizations(id),
    commune_code TEXT NOT NULL DEFAULT '',
    service_id INTEGER REFERENCES services(id),
    request_type_id INTEGER REFERENCES request_types(id),
    urgency INTEGER NOT NULL DEFAULT 3,
    impact INTEGER NOT NULL DEFAULT 3,
    priority INTEGER NOT NULL DEFAULT 3,
    status TEXT NOT NULL DEFAULT 'new',
    pending_reason TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT 'N1',
    team_id INTEGER REFERENCES teams(id),
    technician_id INTEGER REFERENCES users(id),
    agreement_service_id INTEGER REFERENCES agreement_services(id),
    tto_due TIMESTAMP,
    ttr_due TIMESTAMP,
    owned_at TIMESTAMP,
    solved_at TIMESTAMP,
    closed_at TIMESTAMP,
    tto_met BOOLEAN,
    ttr_met BOOLEAN,
    resolve_open_seconds INTEGER,
    -- When CheckClocks must next look at the ticket (75 % or 100 % of a
    -- running clock); NULL while no clock runs, so the periodic check reads
    -- an index instead of recomputing every open ticket.
    sla_check_at TIMESTAMP,
    survey_enabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tickets_establishment ON tickets(establishment_id, created_at);
CREATE INDEX tickets_authority ON tickets(authority_id, created_at);
CREATE INDEX tickets_status ON tickets(status, created_at);
CREATE INDEX tickets_technician ON tickets(technician_id, status);
CREATE INDEX tickets_team ON tickets(team_id, status);
CREATE INDEX tickets_sla_check ON tickets(sla_check_at);

-- The last reference number given per year: incremented in the ticket's
-- insert transaction, so references are unique and without gaps.
CREATE TABLE ticket_sequences (
    year INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);

-- Every change of a ticket, in order: the SLA clocks and the history of who
-- held the ticket for how long are computed from it.
CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    type TEXT NOT NULL,
    from_value TEXT NOT NULL DEFAULT '',
    to_value TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at);

CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users(id),
    author_email TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    private BOOLEAN NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'web',
    message_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX followups_ticket ON followups(ticket_id, created_at);
-- A message delivered twice (an SMTP client retrying after a lost answer)
-- is recorded once.
CREATE UNIQUE INDEX followups_message ON followups(message_id) WHERE message_id <> '';

CREATE TABLE ticket_attachments (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    followup_id INTEGER REFERENCES followups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Links between tickets: 'related', 'duplicate', 'problem' (an incident
-- caused by a problem), 'change' (a problem solved by a change).
CREATE TABLE ticket_links (
    from_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    to_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, kind)
);

CREATE TABLE interventions (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    technician_id INTEGER REFERENCES users(id),
    starts_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    travel_minutes INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT ''
);

-- Assignment rules: the first matching rule (by position) gives the team.
CREATE TABLE assignment_rules (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    position INTEGER NOT NULL,
    service_id INTEGER REFERENCES services(id),
    establishment_id INTEGER REFERENCES organizations(id),
    request_type_id INTEGER REFERENCES request_types(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    technician_id INTEGER REFERENCES users(id)
);

CREATE TABLE satisfaction_surveys (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    score INTEGER,
    comment TEXT NOT NULL DEFAULT ''
);

-- Incoming e-mail that could not become a ticket or a follow-up (unknown
-- sender, malformed, too big): kept for an administrator, never lost.
CREATE TABLE mail_quarantine (
    id INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    sender TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    storage_key TEXT NOT NULL DEFAULT '',
    resolved_at TIMESTAMP
);
CREATE INDEX mail_quarantine_received ON mail_quarantine(received_at);

-- Every notification sent, with its Message-ID: a reply naming it in
-- In-Reply-To or References is a follow-up of its ticket.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    sent_at TIMESTAMP NOT NULL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_ticket ON notifications(ticket_id);
