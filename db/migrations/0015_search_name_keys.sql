-- civreg schema 15: duplicate candidates by name key. Duplicate detection
-- asked the FTS5 index three queries per draft, each phrase looked up in
-- every index segment: half of `record import`. This table holds, per
-- record of search_index (REC, its rowid) with a birth date, each distinct
-- phonetic key of its name words (the words of search_fts.names_ph) and
-- the date as YYYYMMDD (0 for a part not known): a draft's candidates are
-- one B-tree range per key of its names over the years around its date.
-- Derived like the rest of the index (registry/search_index.c writes it
-- with search_fts), recomputed and compared by `audit verify`.
CREATE TABLE search_name_keys (
    key TEXT NOT NULL,
    dob INTEGER NOT NULL,
    rec INTEGER NOT NULL,
    PRIMARY KEY (key, dob, rec)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_name_keys_rec ON search_name_keys(rec);

-- the rows of the records already indexed: the words of names_ph, the
-- date as reg_pdate_parse_stored reads it (YYYY, YYYY-MM or YYYY-MM-DD)
WITH RECURSIVE
    d(rec, dob, ph) AS (
        SELECT i.rowid,
               CAST(substr(i.dob, 1, 4) AS INTEGER) * 10000
               + CASE WHEN length(i.dob) >= 7 THEN CAST(substr(i.dob, 6, 2) AS INTEGER) * 100
                 ELSE 0 END
               + CASE WHEN length(i.dob) = 10 THEN CAST(substr(i.dob, 9, 2) AS INTEGER)
                 ELSE 0 END,
               f.names_ph
        FROM search_index i JOIN search_fts f ON f.rowid = i.rowid
        WHERE i.dob GLOB '[0-9][0-9][0-9][0-9]'
           OR i.dob GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'
           OR i.dob GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    w(rec, dob, key, rest) AS (
        SELECT rec, dob, NULL, ph || ' ' FROM d
        UNION ALL
        SELECT rec, dob, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
        FROM w WHERE rest <> '')
INSERT OR IGNORE INTO search_name_keys(key, dob, rec)
SELECT key, dob, rec FROM w WHERE key IS NOT NULL AND key <> '';
