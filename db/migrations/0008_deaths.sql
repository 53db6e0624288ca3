-- civreg: deaths and certified extracts (registry/deaths.c, registry/extracts.c).

-- A registered death, one per person (UN Principles and Recommendations for a
-- Vital Statistics System, Rev. 3: date and place of occurrence, certifier,
-- informant, date of registration). DATA is the canonical JSON of the
-- normalized death fields, HASH its SHA-256 (what the death.register event
-- signs). Rows are never updated or deleted.
CREATE TABLE deaths (
    id                  TEXT PRIMARY KEY,
    uin                 TEXT NOT NULL UNIQUE REFERENCES persons(uin),
    office              TEXT NOT NULL REFERENCES offices(code),
    registration_number TEXT NOT NULL UNIQUE,
    date_of_death       TEXT NOT NULL,
    data                TEXT NOT NULL,
    hash                TEXT NOT NULL CHECK (length(hash) = 64),
    registered_by       TEXT NOT NULL REFERENCES users(username),
    registered_at       TEXT NOT NULL,
    event_seq           INTEGER NOT NULL REFERENCES events(seq)
) STRICT;

-- Death registration numbers OFFICE/D/YEAR/NNNNNN: one counter per office and
-- year, only ever incremented inside the registering transaction.
CREATE TABLE death_counters (
    office TEXT NOT NULL REFERENCES offices(code),
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL CHECK (last >= 0),
    PRIMARY KEY (office, year)
) STRICT;

-- Certified extracts issued: the sealed payload (VDS-NC JSON as printed in
-- the QR code) and its SHA-256, as signed into the extract.issue event.
CREATE TABLE extracts (
    id           TEXT PRIMARY KEY,
    record_id    TEXT NOT NULL REFERENCES birth_records(id),
    uin          TEXT NOT NULL,
    seal         TEXT NOT NULL,
    seal_hash    TEXT NOT NULL CHECK (length(seal_hash) = 64),
    signer       TEXT NOT NULL,
    issued_by    TEXT NOT NULL REFERENCES users(username),
    issued_at    TEXT NOT NULL,
    event_seq    INTEGER NOT NULL REFERENCES events(seq)
) STRICT;
CREATE INDEX extracts_record ON extracts(record_id);
