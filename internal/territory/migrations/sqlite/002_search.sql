-- Search of establishments at the scale of the whole country (70,000).
--
-- Free text: the words of a search are looked for anywhere in
-- organizations.search_text (substrings, so that "moul" finds "Jean
-- Moulin"). LIKE '%...%' can use no index and reads every row; a trigram
-- FTS5 index answers the same question from the trigrams of the word. It
-- indexes organizations.search_text in place (external content) and the
-- triggers keep it in step with every write, whoever makes it.
CREATE VIRTUAL TABLE organizations_search USING fts5(
    search_text,
    content = 'organizations',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO organizations_search (organizations_search) VALUES ('rebuild');

CREATE TRIGGER organizations_search_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO organizations_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER organizations_search_delete AFTER DELETE ON organizations BEGIN
    INSERT INTO organizations_search (organizations_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER organizations_search_update AFTER UPDATE OF search_text ON organizations BEGIN
    INSERT INTO organizations_search (organizations_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO organizations_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- "The écoles of a commune": one index answers both filters, where the
-- planner, with no statistics, would otherwise pick the type index and
-- read every école of the country. Like every index here it carries the
-- rowid, which is the establishment's id, so a search collects the ids of
-- its matches from the index alone.
DROP INDEX establishments_commune;
CREATE INDEX establishments_commune_type ON establishments (commune_code, type);

-- "What a collectivité maintains", answered from the index alone.
DROP INDEX responsibilities_authority;
CREATE INDEX responsibilities_authority ON responsibilities (authority_id, domain, establishment_id);

-- Listing by name: walked in order for pages of a large scope, and
-- covering the (name, id) of each match when the page sorts them.
CREATE INDEX organizations_name ON organizations (name, id);
