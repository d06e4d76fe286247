-- The text of each production, folded for search (platform/text): what
-- its readers may see of it (a blog's published copies only).
CREATE TABLE production_search (
    production_id BIGINT PRIMARY KEY REFERENCES productions(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
