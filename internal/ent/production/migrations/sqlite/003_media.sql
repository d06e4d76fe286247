-- Medias (images, sounds, videos) put in productions. The file itself lives
-- in the production owner's personal space (quota applies); this row binds
-- it to the production, under a random reference, so that a media is only
-- ever served through the production it belongs to.
CREATE TABLE production_media (
    id INTEGER PRIMARY KEY,
    production_id INTEGER NOT NULL REFERENCES productions(id) ON DELETE CASCADE,
    ref TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_by INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX production_media_production ON production_media(production_id);
