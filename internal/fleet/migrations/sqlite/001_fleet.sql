-- The equipment fleet (parc). An asset belongs to one establishment
-- (organizations.id of kind establishment); dates are ISO text (YYYY-MM-DD)
-- because they are calendar days, not instants.
CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL REFERENCES organizations(id),
    type TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    manufacturer TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    hardware_uuid TEXT NOT NULL DEFAULT '',
    inventory_number TEXT NOT NULL DEFAULT '',
    building TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    assigned_use TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    purchase_date TEXT NOT NULL DEFAULT '',
    supplier TEXT NOT NULL DEFAULT '',
    order_ref TEXT NOT NULL DEFAULT '',
    price_cents INTEGER NOT NULL DEFAULT 0,
    funding TEXT NOT NULL DEFAULT '',
    warranty_start TEXT NOT NULL DEFAULT '',
    warranty_months INTEGER NOT NULL DEFAULT 0,
    warranty_supplier TEXT NOT NULL DEFAULT '',
    os_name TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'manual',
    last_inventory_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assets_establishment ON assets(establishment_id, type, state);
CREATE INDEX assets_serial ON assets(serial);
CREATE INDEX assets_uuid ON assets(hardware_uuid);

-- Network addresses reported by agents, the last resort to recognise a
-- machine whose BIOS gives neither serial nor UUID.
CREATE TABLE asset_macs (
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    mac TEXT NOT NULL,
    PRIMARY KEY (asset_id, mac)
);
CREATE INDEX asset_macs_mac ON asset_macs(mac);

-- Every change of an asset, written in the same transaction as the change.
CREATE TABLE asset_events (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX asset_events_asset ON asset_events(asset_id, id);

CREATE TABLE asset_software (
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    publisher TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (asset_id, name, version, publisher)
);
CREATE INDEX asset_software_name ON asset_software(name, publisher);

-- Inventories whose TAG names no known establishment: kept for an
-- administrator to assign rather than dropped.
CREATE TABLE fleet_quarantine (
    id INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    tag TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
