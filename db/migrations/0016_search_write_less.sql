-- civreg schema 16: the search index writes less per record (a draft of
-- `record import` wrote about a dozen B-tree entries into it).
--
-- search_index without the indexes nothing reads.
-- Migration 0007 indexed search_index by dob, regno and uin, but no query
-- reads the table by them: results and duplicate scoring read a row by its
-- rowid (registry/search.c), the index writer and the audit by record_id
-- (its UNIQUE index stays); a date, a UIN or a registration number is
-- searched through search_fts (the dates and ids columns) and duplicate
-- candidates through search_name_keys. Each of the three took a B-tree
-- insert per record indexed (the dob one at a random place: a page dirtied
-- and written to the WAL per draft of a large import) and nothing else.
-- No row changes; the audit compares rows, not indexes.
DROP INDEX search_index_dob;
DROP INDEX search_index_regno;
DROP INDEX search_index_uin;

-- The FTS5 tables, rebuilt from their stored rows with options that write
-- less per record (SQLite 3.40 has no ALTER for them):
-- - columnsize=0: no %_docsize row per record. Only bm25 (the ranked
--   passes of `civreg search`) asks a row's column sizes, and FTS5 then
--   counts them by tokenizing the row's stored text: the same sizes, so the
--   same ranking; duplicate detection's passes are unranked.
-- - detail=column on search_fts: each term's position list becomes a list
--   of columns. Every query civreg builds for search_fts is made of
--   single-word phrases, optionally under a column filter (registry/search.c
--   quotes each folded A-Z/0-9 word alone, a registration number without
--   its slashes); neither needs positions. bm25 then counts a word
--   repeated within one column once.
--   search_tri keeps detail=full (its LIKE/GLOB support and any phrase of
--   several trigrams need positions).
-- The rows (the texts the audit compares) are copied unchanged, rowid for
-- rowid; automerge as set by migration 0014.
CREATE VIRTUAL TABLE search_fts_new USING fts5(
    names, names_ph, parents, parents_ph, place, dates, ids,
    tokenize = 'unicode61 remove_diacritics 2', columnsize = 0, detail = column
);
INSERT INTO search_fts_new(search_fts_new, rank) VALUES ('automerge', 2);
INSERT INTO search_fts_new(rowid, names, names_ph, parents, parents_ph, place, dates, ids)
SELECT rowid, names, names_ph, parents, parents_ph, place, dates, ids FROM search_fts;
DROP TABLE search_fts;
ALTER TABLE search_fts_new RENAME TO search_fts;

CREATE VIRTUAL TABLE search_tri_new USING fts5(names, tokenize = 'trigram', columnsize = 0);
INSERT INTO search_tri_new(search_tri_new, rank) VALUES ('automerge', 2);
INSERT INTO search_tri_new(rowid, names) SELECT rowid, names FROM search_tri;
DROP TABLE search_tri;
ALTER TABLE search_tri_new RENAME TO search_tri;
