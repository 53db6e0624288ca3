-- civreg schema 7: finding people. The search index (derived from the
-- current version of each birth record, rewritten in the same transaction
-- as every draft, verification, registration and correction), its FTS5
-- tables, and duplicate candidates with their signed resolutions.

-- One row per record: the keyed values shown in results and the folded
-- keys the ranking compares (uppercase A-Z words, see registry/namekey.c).
-- The FTS5 tables below use this table's rowid as theirs.
CREATE TABLE search_index (
    rowid      INTEGER PRIMARY KEY,
    record_id  TEXT NOT NULL UNIQUE,
    office     TEXT NOT NULL,
    status     TEXT NOT NULL,
    given      TEXT NOT NULL,
    family     TEXT NOT NULL,
    sex        TEXT NOT NULL,
    dob        TEXT NOT NULL,
    place      TEXT NOT NULL,
    mother     TEXT NOT NULL,
    father     TEXT NOT NULL,
    given_key  TEXT NOT NULL,
    family_key TEXT NOT NULL,
    place_key  TEXT NOT NULL,
    mother_key TEXT NOT NULL,
    father_key TEXT NOT NULL,
    regno      TEXT,
    uin        TEXT
) STRICT;
CREATE INDEX search_index_dob ON search_index(dob);
CREATE INDEX search_index_regno ON search_index(regno);
CREATE INDEX search_index_uin ON search_index(uin);

-- Word index: folded names, their phonetic keys, parents, place, date
-- tokens (Y1985 M198503 D19850314) and identifiers.
CREATE VIRTUAL TABLE search_fts USING fts5(
    names, names_ph, parents, parents_ph, place, dates, ids,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Trigram index of the folded names: the fallback for misspellings that
-- change both the word and its phonetic key.
CREATE VIRTUAL TABLE search_tri USING fts5(names, tokenize = 'trigram');

-- Possible duplicates: RECORD_ID was found to resemble OTHER_ID when it was
-- drafted, verified or registered. A registrar resolves each pair (event
-- record.duplicate); registration waits while one is open.
CREATE TABLE dup_candidates (
    record_id   TEXT NOT NULL REFERENCES birth_records(id),
    other_id    TEXT NOT NULL REFERENCES birth_records(id),
    score       INTEGER NOT NULL CHECK (score BETWEEN 0 AND 1000),
    why         TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'duplicate', 'distinct')),
    found_at    TEXT NOT NULL,
    resolved_by TEXT,
    resolved_at TEXT,
    reason      TEXT,
    event_seq   INTEGER REFERENCES events(seq),
    PRIMARY KEY (record_id, other_id),
    CHECK (record_id <> other_id)
) STRICT;
CREATE INDEX dup_candidates_other ON dup_candidates(other_id);
CREATE INDEX dup_candidates_open ON dup_candidates(status);
