-- Search of a territory's fleet (hundreds of thousands of assets).
--
-- Free text: the words of a search are looked for anywhere in
-- assets.search_text (name, serial, inventory number, manufacturer and
-- model, folded by the application: lower case, no accents), as substrings,
-- so that "7700" finds the serial "SN77001". LIKE '%...%' can use no index;
-- a trigram FTS5 table indexes search_text in place (external content) and
-- the triggers keep it in step with every write.
ALTER TABLE assets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE assets SET search_text = LOWER(name || ' ' || serial || ' ' || inventory_number || ' ' || manufacturer || ' ' || model);

CREATE VIRTUAL TABLE assets_search USING fts5(
    search_text,
    content = 'assets',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO assets_search (assets_search) VALUES ('rebuild');

CREATE TRIGGER assets_search_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER assets_search_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_search (assets_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER assets_search_update AFTER UPDATE OF search_text ON assets BEGIN
    INSERT INTO assets_search (assets_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO assets_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

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
