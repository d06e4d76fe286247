-- Share links: a manager hands out a link inside the ENT; whoever signed
-- in follows it (within the communication rules of a pupil's link) gets a
-- share of their own, tied to the link: revoking the link removes them.
CREATE TABLE production_links (
    id INTEGER PRIMARY KEY,
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    -- a teacher's link reaches the whole ENT, a pupil's only those the
    -- communication rules let the pupil reach
    wide INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX production_links_production ON production_links(production_id);

ALTER TABLE production_shares ADD COLUMN link_id INTEGER REFERENCES production_links(id) ON DELETE CASCADE;
CREATE INDEX production_shares_link ON production_shares(link_id);
