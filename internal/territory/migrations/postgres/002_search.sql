-- Search of establishments at the scale of the whole country (70,000).
--
-- Free text: the words of a search are looked for anywhere in
-- organizations.search_text with LIKE '%...%' (substrings, so that "moul"
-- finds "Jean Moulin"), which a B-tree cannot serve. A trigram index
-- (pg_trgm) can. The extension is installed in the public schema, where
-- every schema finds it by its qualified name; where the database account
-- may not create it and nobody else did, the search works the same, without
-- the index, and the migration says so rather than failing.
DO $$
DECLARE
    ext_schema text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
        RAISE NOTICE 'pg_trgm unavailable (%): text search runs without its index', SQLERRM;
    END;
    SELECT n.nspname INTO ext_schema FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
        WHERE x.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX organizations_search_trgm ON organizations USING gin (search_text %I.gin_trgm_ops)', ext_schema);
    END IF;
END
$$;

-- The filters' indexes carry the establishment's id, as SQLite's carry the
-- rowid: a search collects the ids of its matches from the index alone,
-- without reading the table's wide rows. "The écoles of a commune": one
-- index answers both filters.
DROP INDEX establishments_commune;
CREATE INDEX establishments_commune_type ON establishments (commune_code, type) INCLUDE (org_id);
DROP INDEX establishments_type;
CREATE INDEX establishments_type ON establishments (type, sector) INCLUDE (org_id);
DROP INDEX establishments_priority;
CREATE INDEX establishments_priority ON establishments (priority) INCLUDE (org_id);
DROP INDEX responsibilities_authority;
CREATE INDEX responsibilities_authority ON responsibilities (authority_id, domain) INCLUDE (establishment_id);

-- Listing by name: walked in order for pages of a large scope, and
-- covering the (name, id) of each match when the page sorts them.
CREATE INDEX organizations_name ON organizations (name, id);
