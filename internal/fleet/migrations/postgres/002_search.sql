-- Search of a territory's fleet (hundreds of thousands of assets).
--
-- Free text: the words of a search are looked for anywhere in
-- assets.search_text (name, serial, inventory number, manufacturer and
-- model, folded by the application: lower case, no accents), as substrings,
-- so that "7700" finds the serial "SN77001". LIKE '%...%' needs a trigram
-- index (pg_trgm), installed as the territory's search installs it: where
-- the account may not create the extension and nobody else did, the search
-- works the same without the index, and the migration says so.
ALTER TABLE assets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE assets SET search_text = LOWER(name || ' ' || serial || ' ' || inventory_number || ' ' || manufacturer || ' ' || model);

DO $$
DECLARE
    ext_schema text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
        RAISE NOTICE 'pg_trgm unavailable (%): fleet search runs without its index', SQLERRM;
    END;
    SELECT n.nspname INTO ext_schema FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
        WHERE x.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX assets_search_trgm ON assets USING gin (search_text %I.gin_trgm_ops)', ext_schema);
    END IF;
END
$$;

-- Lists are ordered by establishment, type, name: this index walks them in
-- that order, so that a page of a territory-wide list reads its fifty rows
-- instead of sorting two hundred thousand; it also serves the filters by
-- establishment and type.
CREATE INDEX assets_list_order ON assets(establishment_id, type, name, id);
-- The territory-wide filters by type, and by type and state, walked in the
-- lists' order too (an equality on the leading columns keeps the order of
-- the next ones), so that even a page far down a list reads index entries,
-- not rows.
CREATE INDEX assets_type_order ON assets(type, establishment_id, name, id);
CREATE INDEX assets_type_state ON assets(type, state, establishment_id, name, id);

-- The number of software installations of each asset, kept by the
-- inventory that writes them: lists show it for every row, and counting it
-- from five million installations on every page would read their index
-- for each of the fifty rows.
ALTER TABLE assets ADD COLUMN software_count INTEGER NOT NULL DEFAULT 0;
UPDATE assets SET software_count = (SELECT COUNT(*) FROM asset_software s WHERE s.asset_id = assets.id);
