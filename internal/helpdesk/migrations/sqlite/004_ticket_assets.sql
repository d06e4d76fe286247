-- The assets a ticket names (an incident's faulty device, the devices an
-- IMAC request moves or changes) and the change solving the request
-- applies to the fleet. asset_id has no foreign key: the fleet's tables are
-- created after the helpdesk's, and assets are never deleted (they end
-- "disposed"), so the reference stays valid.
CREATE TABLE ticket_assets (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, asset_id)
);
-- The asset page lists its tickets.
CREATE INDEX ticket_assets_asset ON ticket_assets(asset_id, ticket_id);

-- The change an IMAC request applies when solved; applied_at is set in the
-- transaction that solves it, so it is applied once.
CREATE TABLE ticket_imac (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    operation TEXT NOT NULL DEFAULT '',
    building TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    new_type TEXT NOT NULL DEFAULT '',
    new_name TEXT NOT NULL DEFAULT '',
    new_manufacturer TEXT NOT NULL DEFAULT '',
    new_model TEXT NOT NULL DEFAULT '',
    new_serial TEXT NOT NULL DEFAULT '',
    applied_at TIMESTAMP,
    created_asset_id INTEGER
);
